//! The syntax tree of a template. Spans are byte offsets into the source;
//! a reference keeps its source range because Velocity prints an
//! undefined reference as the text it was written with.

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// A variable, property, method or macro name: short, so kept inline
/// (no allocation for names up to 23 bytes).
pub type Name = smol_str::SmolStr;

/// A name from the source: copied inline byte by byte when it fits (most
/// do), which profiles quicker than `SmolStr::new`'s slice copy.
pub fn name(text: &str) -> Name {
    if text.len() <= 23 {
        Name::new_inline(text)
    } else {
        Name::new(text)
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(Range<usize>),
    /// Text that differs from the source (escapes, `#[[ ]]#`).
    Literal(String),
    Reference(Reference),
    /// `\$ref`: `backslashes` backslashes before a reference (Velocity
    /// prints half of them, then the reference literally when their number
    /// is odd, but only when the reference is defined).
    EscapedReference {
        backslashes: usize,
        reference: Reference,
    },
    Set {
        target: Reference,
        /// Boxed: a node stays small, and blocks of them cheap to grow.
        value: Box<Expr>,
        at: usize,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        /// The variable's slot (`slots.rs`).
        slot: usize,
        /// Boxed, as `#set` values are.
        iterable: Box<Expr>,
        body: Vec<Node>,
        at: usize,
    },
    Break,
    Stop,
    MacroCall {
        name: Name,
        arguments: Vec<Expr>,
        source: Range<usize>,
        at: usize,
    },
    Define {
        name: Name,
        body: Vec<Node>,
    },
}

/// `$a.b.c(1)[0]`, `$!a`, `${a.b}`. Kept small (64 bytes): templates hold
/// many, and a smaller tree is quicker to build and to walk.
#[derive(Debug, Clone)]
pub struct Reference {
    pub name: Name,
    pub parts: Vec<Part>,
    /// The whole reference as written (byte offsets; templates are far
    /// below 4 GB), printed when it is undefined.
    start: u32,
    end: u32,
    /// The variable's slot (`slots.rs`).
    slot: u32,
    pub quiet: bool,
    /// `$foreach`, `$velocityCount`, `$velocityHasNext`, resolved once.
    pub builtin: Option<Builtin>,
}

impl Reference {
    pub fn new(
        name: Name,
        slot: usize,
        parts: Vec<Part>,
        source: Range<usize>,
        quiet: bool,
    ) -> Reference {
        let builtin = Builtin::of(&name);
        Reference {
            name,
            parts,
            start: source.start as u32,
            end: source.end as u32,
            slot: slot as u32,
            quiet,
            builtin,
        }
    }

    /// The reference as written.
    pub fn source(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Where it starts, for errors.
    pub fn at(&self) -> usize {
        self.start as usize
    }

    pub fn slot(&self) -> usize {
        self.slot as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Foreach,
    VelocityCount,
    VelocityHasNext,
}

impl Builtin {
    pub fn of(name: &str) -> Option<Builtin> {
        match name {
            "foreach" => Some(Builtin::Foreach),
            "velocityCount" => Some(Builtin::VelocityCount),
            "velocityHasNext" => Some(Builtin::VelocityHasNext),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Part {
    /// `.name`, with where the name was last found in a map.
    Property(Name, Hint),
    Method(Name, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    /// A single-quoted or plain double-quoted string.
    Str(String),
    /// A double-quoted string with references or directives in it.
    Interpolated(Vec<Node>),
    Reference(Reference),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>, usize),
    /// `( expr )`.
    Group(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// `#macro(name $a $b) body #end`.
#[derive(Debug, Clone)]
pub struct Macro {
    /// The parameters' slots (`slots.rs`).
    pub slots: Vec<usize>,
    pub body: Vec<Node>,
}

/// Where a property was last found among a map's entries: maps of one
/// shape (the items of a JSON array) keep their keys in the same places,
/// so the next lookup tries there first. Only a hint: any value is safe.
#[derive(Debug, Default)]
pub struct Hint(AtomicU32);

impl Hint {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed) as usize
    }

    pub fn set(&self, position: usize) {
        self.0.store(position as u32, Ordering::Relaxed);
    }
}

impl Clone for Hint {
    fn clone(&self) -> Hint {
        Hint(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}
