//! Source text -> syntax tree, following Apache Velocity 1.7's grammar and
//! its quirks (checked against Velocity 1.7 itself, see
//! `tests/vtl_differential.rs`):
//! - identifiers start with a letter or `_` and may contain `-`
//!   (`$a-b` is one reference);
//! - `#set`, `#if`, `#elseif`, `#else`, `#end`, `#foreach`, `#macro`,
//!   `#define`, `#break`, `#stop` swallow the spaces and the one newline
//!   that end their line; the indentation before them stays;
//! - spaces between a reference and a following `#set` are swallowed;
//! - a `$` or `#` that does not start a reference or directive is text.
//!
//! Byte-oriented, no allocation per character; nesting is bounded so no
//! input can overflow the stack.

use std::collections::HashMap;
use std::ops::Range;

use super::ast::{Expr, Macro, Name, Node, Part, Reference};
use super::slots::Slots;

/// Directive names (an escaped `\\#name` of one of these is printed).
const DIRECTIVES: [&str; 10] = [
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define",
];

/// How deeply blocks and expressions may nest.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

pub(super) type Result<T> = std::result::Result<T, ParseError>;

pub struct Parsed {
    pub nodes: Vec<Node>,
    pub macros: HashMap<String, Macro>,
    /// Variable names by slot.
    pub names: Vec<Name>,
}

pub fn parse(source: &str) -> Result<Parsed> {
    let mut parser = Parser {
        source,
        bytes: source.as_bytes(),
        pos: 0,
        end: source.len(),
        depth: 0,
        macros: HashMap::new(),
        // The top level's buffer, sized for a node per 32 bytes of source
        // (templates run a node per 30 to 60 bytes): it seldom regrows.
        buffers: vec![Vec::with_capacity(source.len() / 32)],
        slots: Slots::default(),
    };
    let (nodes, terminator) = parser.block()?;
    if let Some((terminator, at)) = terminator {
        return Err(ParseError {
            offset: at,
            message: format!("{} without a matching #if or #foreach", terminator.name()),
        });
    }
    Ok(Parsed {
        nodes,
        macros: parser.macros,
        names: parser.slots.into_names(),
    })
}

/// The directive that ended a block.
pub(super) enum Terminator {
    End,
    Else,
    ElseIf(Expr),
}

impl Terminator {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Terminator::End => "#end",
            Terminator::Else => "#else",
            Terminator::ElseIf(_) => "#elseif",
        }
    }
}

/// A block's nodes and the terminator that ended it, with its offset.
pub(super) type Block = (Vec<Node>, Option<(Terminator, usize)>);

pub(super) struct Parser<'a> {
    pub(super) source: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) depth: usize,
    pub(super) macros: HashMap<String, Macro>,
    /// Spare node buffers, one per nesting level in use ([`Parser::block`]).
    pub(super) buffers: Vec<Vec<Node>>,
    /// Variable slots, numbered as references are read.
    pub(super) slots: Slots,
}

pub(super) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(super) fn is_ident(b: u8) -> bool {
    IDENT[b as usize]
}

/// By byte: whether it may continue an identifier (letters, digits, `_`,
/// `-`); a table, because identifiers are most of what the parser scans.
static IDENT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

impl<'a> Parser<'a> {
    pub(super) fn error<T>(&self, offset: usize, message: impl Into<String>) -> Result<T> {
        Err(ParseError {
            offset,
            message: message.into(),
        })
    }

    pub(super) fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.bytes[self.pos])
    }

    pub(super) fn peek_at(&self, offset: usize) -> Option<u8> {
        let at = self.pos + offset;
        (at < self.end).then(|| self.bytes[at])
    }

    pub(super) fn starts_with(&self, text: &str) -> bool {
        self.bytes[self.pos..self.end].starts_with(text.as_bytes())
    }

    pub(super) fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(
                self.pos,
                format!("the template nests deeper than {MAX_DEPTH} levels"),
            );
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Parses text and directives until the end of input or a terminator
    /// (`#end`, `#else`, `#elseif`), which is returned with its offset.
    pub(super) fn block(&mut self) -> Result<Block> {
        self.enter()?;
        // A block's nodes gather in a buffer kept from an earlier block and
        // move to a vector of their exact size at the end: no regrowth of
        // each block's vector node by node.
        let mut nodes = self.buffers.pop().unwrap_or_default();
        let terminator = self.block_into(&mut nodes);
        let block = if self.depth == 1 {
            // The top level's buffer is not needed again: it is the block
            // (copying the template's largest block would cost more than
            // its spare capacity).
            std::mem::take(&mut nodes)
        } else {
            let mut block = Vec::with_capacity(nodes.len());
            block.append(&mut nodes);
            self.buffers.push(nodes);
            block
        };
        self.leave();
        Ok((block, terminator?))
    }

    fn block_into(&mut self, nodes: &mut Vec<Node>) -> Result<Option<(Terminator, usize)>> {
        while self.pos < self.end {
            match self.bytes[self.pos] {
                b'$' => match self.reference()? {
                    Some(reference) => nodes.push(Node::Reference(reference)),
                    None => self.text(nodes, self.pos, self.pos + 1),
                },
                b'#' => {
                    if let Some(terminator) = self.hash(nodes)? {
                        return Ok(Some(terminator));
                    }
                }
                b'\\' => self.backslashes(nodes)?,
                _ => {
                    let start = self.pos;
                    let stop = self.bytes[start..self.end]
                        .iter()
                        .position(|b| matches!(b, b'$' | b'#' | b'\\'))
                        .map_or(self.end, |i| start + i);
                    self.text(nodes, start, stop);
                }
            }
        }
        Ok(None)
    }

    /// Appends source text, merging with a preceding text node.
    fn text(&mut self, nodes: &mut Vec<Node>, start: usize, stop: usize) {
        self.pos = stop;
        if let Some(Node::Text(range)) = nodes.last_mut()
            && range.end == start
        {
            range.end = stop;
            return;
        }
        nodes.push(Node::Text(start..stop));
    }

    /// Velocity's lexer reads `[ \t]*#set(` as one token, so spaces before
    /// a `#set` vanish, unless they belong to a run of text (`a  #set`
    /// keeps them): only a text node made of nothing but spaces, right
    /// before the `#set`, is dropped.
    fn drop_spaces_before_set(nodes: &mut Vec<Node>, source: &str, at: usize) {
        if let Some(Node::Text(range)) = nodes.last()
            && range.end == at
            && source[range.clone()]
                .bytes()
                .all(|b| b == b' ' || b == b'\t')
        {
            nodes.pop();
        }
    }

    /// After a directive: spaces then one newline are swallowed; spaces
    /// followed by anything else stay.
    fn swallow_line_end(&mut self) {
        let mut at = self.pos;
        while at < self.end && matches!(self.bytes[at], b' ' | b'\t') {
            at += 1;
        }
        if at < self.end && self.bytes[at] == b'\n' {
            self.pos = at + 1;
        } else if self.bytes[at..self.end].starts_with(b"\r\n") {
            self.pos = at + 2;
        } else if at < self.end && self.bytes[at] == b'\r' {
            self.pos = at + 1;
        }
    }

    pub(super) fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    pub(super) fn identifier(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let rest = &self.bytes[start + 1..self.end];
        let length = rest
            .iter()
            .position(|b| !IDENT[*b as usize])
            .unwrap_or(rest.len());
        self.pos = start + 1 + length;
        Some(start..self.pos)
    }

    /// A reference at `$`, or `None` (position unchanged) when the text
    /// there is not one.
    pub(super) fn reference(&mut self) -> Result<Option<Reference>> {
        let start = self.pos;
        self.pos += 1;
        let quiet = self.peek() == Some(b'!');
        if quiet {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.identifier() else {
            self.pos = start;
            return Ok(None);
        };
        let (slot, name) = self.slots.slot(&self.source[name]);
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.pos += 1;
                    let member = self.identifier().map(|r| super::ast::name(&self.source[r]));
                    let member = member.unwrap_or_default();
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let arguments = self.arguments(b')')?;
                        parts.push(Part::Method(member, arguments));
                    } else {
                        parts.push(Part::Property(member, Default::default()));
                    }
                }
                // Velocity 1.7 reads `[` right after a reference as an index
                // and fails on anything that is not one.
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    let index = self.expression()?;
                    self.skip_whitespace();
                    if self.peek() != Some(b']') {
                        return self.error(self.pos, "expected ']' to close the index");
                    }
                    self.pos += 1;
                    parts.push(Part::Index(index));
                }
                _ => break,
            }
        }
        if braced {
            if self.peek() == Some(b'}') {
                self.pos += 1;
            } else {
                return self.error(start, "expected '}' to close '${'");
            }
        }
        Ok(Some(Reference::new(
            name,
            slot,
            parts,
            start..self.pos,
            quiet,
        )))
    }

    /// Comma- or space-separated expressions up to `close`.
    fn arguments(&mut self, close: u8) -> Result<Vec<Expr>> {
        let mut arguments = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(arguments);
                }
                Some(b',') => self.pos += 1,
                Some(_) => arguments.push(self.expression()?),
                None => {
                    return self.error(
                        self.pos,
                        format!(
                            "expected '{}' before the end of the template",
                            close as char
                        ),
                    );
                }
            }
        }
    }

    /// Backslashes before `$` or `#`.
    fn backslashes(&mut self, nodes: &mut Vec<Node>) -> Result<()> {
        let start = self.pos;
        while self.peek() == Some(b'\\') {
            self.pos += 1;
        }
        let count = self.pos - start;
        match self.peek() {
            Some(b'$') => {
                if let Some(reference) = self.reference()? {
                    nodes.push(Node::EscapedReference {
                        backslashes: count,
                        reference,
                    });
                } else {
                    self.text(nodes, start, self.pos);
                }
            }
            Some(b'#')
                if self
                    .directive_name_here()
                    .is_some_and(|(name, _)| DIRECTIVES.contains(&name)) =>
            {
                nodes.push(Node::Literal("\\".repeat(count / 2)));
                if count % 2 == 1 {
                    let (_, length) = self.directive_name_here().unwrap_or_default();
                    let text_start = self.pos;
                    self.pos += length;
                    nodes.push(Node::Literal(self.source[text_start..self.pos].to_string()));
                }
            }
            _ => self.text(nodes, start, self.pos),
        }
        Ok(())
    }

    /// At `#`: the directive name (`if`, or `if` of `#{if}`) and the length
    /// of `#name` / `#{name}`, when a letter follows.
    fn directive_name_here(&self) -> Option<(&'a str, usize)> {
        let rest = &self.bytes[self.pos..self.end];
        let (offset, braced) = if rest.get(1) == Some(&b'{') {
            (2, true)
        } else {
            (1, false)
        };
        if !rest.get(offset).copied().is_some_and(is_ident_start) {
            return None;
        }
        let mut stop = offset + 1;
        while rest
            .get(stop)
            .copied()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            stop += 1;
        }
        // ASCII only, so `offset..stop` lies on character boundaries.
        let name = &self.source[self.pos + offset..self.pos + stop];
        if braced {
            if rest.get(stop) != Some(&b'}') {
                return None;
            }
            stop += 1;
        }
        Some((name, stop))
    }

    /// At `#`: a comment, unparsed block, directive or macro call. Returns a
    /// terminator when one ends the current block.
    fn hash(&mut self, nodes: &mut Vec<Node>) -> Result<Option<(Terminator, usize)>> {
        let start = self.pos;
        if self.starts_with("##") {
            let stop = self.bytes[start..self.end]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(self.end, |i| start + i + 1);
            self.pos = stop;
            return Ok(None);
        }
        if self.starts_with("#*") {
            let stop = self.source[start + 2..self.end]
                .find("*#")
                .map_or(self.end, |i| start + 2 + i + 2);
            self.pos = stop;
            return Ok(None);
        }
        if self.starts_with("#[[") {
            if let Some(i) = self.source[start + 3..self.end].find("]]#") {
                let content = &self.source[start + 3..start + 3 + i];
                nodes.push(Node::Literal(content.to_string()));
                self.pos = start + 3 + i + 3;
            } else {
                self.text(nodes, start, start + 1);
            }
            return Ok(None);
        }
        let Some((name, length)) = self.directive_name_here() else {
            if start + 1 == self.end {
                return self.error(
                    start,
                    "a '#' cannot end the template (Velocity 1.7 expects a directive)",
                );
            }
            self.text(nodes, start, start + 1);
            return Ok(None);
        };
        self.pos = start + length;
        match name {
            "set" => {
                Self::drop_spaces_before_set(nodes, self.source, start);
                self.open_paren(name)?;
                self.skip_whitespace();
                if self.peek() != Some(b'$') {
                    return self.error(self.pos, "#set expects a reference on its left side");
                }
                let Some(target) = self.reference()? else {
                    return self.error(self.pos, "#set expects a reference on its left side");
                };
                self.skip_whitespace();
                if self.peek() != Some(b'=') {
                    return self.error(self.pos, "expected '=' in #set");
                }
                self.pos += 1;
                self.skip_whitespace();
                let value = self.expression()?;
                self.close_paren(name)?;
                self.swallow_line_end();
                nodes.push(Node::Set {
                    target,
                    value: Box::new(value),
                    at: start,
                });
            }
            "if" => {
                let condition = self.condition(name)?;
                self.swallow_line_end();
                let mut branches = Vec::new();
                let mut condition = condition;
                let otherwise = loop {
                    let (body, terminator) = self.block()?;
                    branches.push((condition, body));
                    match terminator {
                        Some((Terminator::End, _)) => break None,
                        Some((Terminator::ElseIf(next), _)) => condition = next,
                        Some((Terminator::Else, _)) => {
                            let (body, terminator) = self.block()?;
                            match terminator {
                                Some((Terminator::End, _)) => break Some(body),
                                Some((other, at)) => {
                                    return self.error(at, format!("{} after #else", other.name()));
                                }
                                None => return self.error(start, "#if without #end"),
                            }
                        }
                        None => return self.error(start, "#if without #end"),
                    }
                };
                nodes.push(Node::If {
                    branches,
                    otherwise,
                });
            }
            "elseif" => {
                let condition = self.condition(name)?;
                self.swallow_line_end();
                return Ok(Some((Terminator::ElseIf(condition), start)));
            }
            "else" => {
                self.swallow_line_end();
                return Ok(Some((Terminator::Else, start)));
            }
            "end" => {
                self.swallow_line_end();
                return Ok(Some((Terminator::End, start)));
            }
            "foreach" => {
                self.open_paren(name)?;
                self.skip_whitespace();
                let slot = match self.reference()? {
                    Some(reference) if reference.parts.is_empty() => reference.slot(),
                    _ => return self.error(self.pos, "#foreach expects a variable like $item"),
                };
                self.skip_whitespace();
                if !self.starts_with("in") || self.peek_at(2).is_some_and(is_ident) {
                    return self.error(self.pos, "expected 'in' in #foreach");
                }
                self.pos += 2;
                self.skip_whitespace();
                let iterable = self.expression()?;
                self.close_paren(name)?;
                self.swallow_line_end();
                let body = self.body_until_end(start, "#foreach")?;
                nodes.push(Node::Foreach {
                    slot,
                    iterable: Box::new(iterable),
                    body,
                    at: start,
                });
            }
            "break" => {
                self.swallow_line_end();
                nodes.push(Node::Break);
            }
            "stop" => {
                self.swallow_line_end();
                nodes.push(Node::Stop);
            }
            "macro" => {
                self.open_paren(name)?;
                self.skip_whitespace();
                let Some(macro_name) = self.identifier() else {
                    return self.error(self.pos, "#macro expects a name");
                };
                let macro_name = self.source[macro_name].to_string();
                let mut slots = Vec::new();
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') => self.pos += 1,
                        Some(b'$') => match self.reference()? {
                            Some(reference) if reference.parts.is_empty() => {
                                slots.push(reference.slot())
                            }
                            _ => {
                                return self.error(
                                    self.pos,
                                    "#macro parameters are plain references like $name",
                                );
                            }
                        },
                        _ => return self.error(self.pos, "expected a parameter or ')' in #macro"),
                    }
                }
                self.swallow_line_end();
                // Registered before its body is read, so it can call itself.
                self.macros.insert(
                    macro_name.clone(),
                    Macro {
                        slots: slots.clone(),
                        body: Vec::new(),
                    },
                );
                let body = self.body_until_end(start, "#macro")?;
                self.macros.insert(macro_name, Macro { slots, body });
            }
            "define" => {
                self.open_paren(name)?;
                self.skip_whitespace();
                let variable = match self.reference()? {
                    Some(reference) if reference.parts.is_empty() => reference.name,
                    _ => return self.error(self.pos, "#define expects a variable like $block"),
                };
                self.close_paren(name)?;
                self.swallow_line_end();
                let body = self.body_until_end(start, "#define")?;
                nodes.push(Node::Define {
                    name: variable,
                    body,
                });
            }
            _ => {
                // A macro call when followed by '(', otherwise plain text.
                // Velocity 1.7 knows only the macros defined above the call;
                // any other `#name(...)` is text.
                let after_name = self.pos;
                self.skip_inline_spaces();
                if self.peek() == Some(b'(') && self.macros.contains_key(name) {
                    self.pos += 1;
                    let arguments = self.arguments(b')')?;
                    nodes.push(Node::MacroCall {
                        name: super::ast::name(name),
                        arguments,
                        source: start..self.pos,
                        at: start,
                    });
                    self.swallow_line_end();
                } else {
                    self.pos = after_name;
                    self.text(nodes, start, after_name);
                }
            }
        }
        Ok(None)
    }

    fn skip_inline_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn body_until_end(&mut self, start: usize, what: &str) -> Result<Vec<Node>> {
        let (body, terminator) = self.block()?;
        match terminator {
            Some((Terminator::End, _)) => Ok(body),
            Some((other, at)) => self.error(at, format!("{} inside {what}", other.name())),
            None => self.error(start, format!("{what} without #end")),
        }
    }

    fn open_paren(&mut self, directive: &str) -> Result<()> {
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return self.error(self.pos, format!("expected '(' after #{directive}"));
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self, directive: &str) -> Result<()> {
        self.skip_whitespace();
        if self.peek() != Some(b')') {
            return self.error(self.pos, format!("expected ')' to close #{directive}"));
        }
        self.pos += 1;
        Ok(())
    }

    fn condition(&mut self, directive: &str) -> Result<Expr> {
        self.open_paren(directive)?;
        self.skip_whitespace();
        let condition = self.expression()?;
        self.close_paren(directive)?;
        Ok(condition)
    }
}
