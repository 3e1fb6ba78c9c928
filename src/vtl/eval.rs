//! Rendering a parsed template: Velocity 1.7's evaluation rules (checked
//! against Velocity 1.7 itself, see `tests/vtl_differential.rs`):
//! - an undefined reference, or one whose last step yields null, prints as
//!   written (`$nope.x`); `$!` prints nothing instead;
//! - `#set` to a null value leaves the target as it was;
//! - in `#if`, only references (non-null, or a true Boolean), boolean
//!   literals and logical or comparison operators count: a literal `1` or
//!   `"x"` is false;
//! - `#foreach` over a map walks its values, over null nothing; `#break`
//!   outside a loop ends the template like `#stop`;
//! - macros take arguments by value in a frame of their own.

use std::collections::HashMap;

use super::ast::{BinaryOp, Builtin, Expr, Macro, Node, Part, Reference};
use super::budget::{Budget, Exceeded};
use super::input::InputState;
use super::slots;
use super::value::{ENTRY_BYTES, ITEM_BYTES, LoopState, Value};
use super::{Bindings, MAX_FOREACH_ITERATIONS, MAX_OUTPUT_BYTES, Overrides};

/// A render failure at a byte offset of the source.
#[derive(Debug)]
pub struct EvalError {
    pub offset: usize,
    pub message: String,
}

/// The offset of an error not yet placed: the node that was evaluating
/// when it happened places it.
pub const UNPLACED: usize = usize::MAX;

impl From<Exceeded> for Box<EvalError> {
    fn from(exceeded: Exceeded) -> Box<EvalError> {
        Box::new(EvalError {
            offset: UNPLACED,
            message: exceeded.message(),
        })
    }
}

/// Boxed, so that results are small to pass back.
type Result<T> = std::result::Result<T, Box<EvalError>>;

fn fail<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(Box::new(EvalError {
        offset,
        message: message.into(),
    }))
}

enum Flow {
    Normal,
    Break,
    Stop,
}

/// Velocity 1.7's `velocimacro.max.depth` default.
const MAX_MACRO_DEPTH: usize = 20;

pub struct Renderer<'t, 'b> {
    source: &'t str,
    macros: &'t HashMap<String, Macro>,
    /// Variables by slot ([`super::slots`]); `None` is undefined.
    globals: Vec<Option<Value>>,
    /// A macro call's parameters, by slot: they shadow the globals.
    frames: Vec<Vec<(usize, Value)>>,
    builtins: &'t [Option<Builtin>],
    defines: HashMap<&'t str, &'t [Node]>,
    loops: Vec<LoopState>,
    macro_depth: usize,
    pub input: InputState<'b>,
    context: Value,
    out: String,
    /// Declared last: dropped after the values, it empties what may be in
    /// a cycle ([`Budget`]).
    budget: Budget,
}

impl<'t, 'b> Renderer<'t, 'b> {
    pub fn new(
        source: &'t str,
        macros: &'t HashMap<String, Macro>,
        builtins: &'t [Option<Builtin>],
        bindings: &Bindings<'b>,
        output_capacity: usize,
        limits: super::RenderLimits,
    ) -> Self {
        let mut globals = vec![None; builtins.len()];
        globals[slots::INPUT] = Some(Value::Input);
        globals[slots::UTIL] = Some(Value::Util);
        let stage_variables: super::value::Entries = bindings
            .stage_variables
            .iter()
            .map(|(k, v)| (super::value::Key::from(k.as_str()), Value::str(v)))
            .collect();
        globals[slots::STAGE_VARIABLES] = Some(Value::map(stage_variables));
        let context = if bindings.context.is_object() {
            Value::from_context(bindings.context)
        } else {
            // `{"requestOverride": {"header": {}, "path": {}, "querystring": {}},
            //   "responseOverride": {"header": {}}}`
            let empty = || Value::map(super::value::Entries::default());
            let section = |names: &[&str]| {
                Value::map(names.iter().map(|name| ((*name).into(), empty())).collect())
            };
            Value::map(
                [
                    (
                        "requestOverride".into(),
                        section(&["header", "path", "querystring"]),
                    ),
                    ("responseOverride".into(), section(&["header"])),
                ]
                .into_iter()
                .collect(),
            )
        };
        globals[slots::CONTEXT] = Some(context.clone());
        Renderer {
            source,
            macros,
            globals,
            frames: Vec::new(),
            builtins,
            defines: HashMap::new(),
            loops: Vec::new(),
            macro_depth: 0,
            input: InputState::new(bindings),
            context,
            out: String::with_capacity(output_capacity),
            budget: Budget::new(limits.steps, limits.bytes),
        }
    }

    /// Renders `nodes`; a failure says whether the budget ran out (steps
    /// or bytes), for a caller that rendered with a slice of it.
    pub fn run(
        mut self,
        nodes: &'t [Node],
    ) -> std::result::Result<(String, Overrides), (Box<EvalError>, bool)> {
        let result = self.nodes(nodes).and_then(|_| {
            let overrides = super::input::overrides(&self.context, &mut self.budget)?;
            Ok((std::mem::take(&mut self.out), overrides))
        });
        result.map_err(|error| {
            let exhausted = self.budget.steps_left() == 0 || self.budget.bytes_left() == 0;
            (error, exhausted)
        })
    }

    fn nodes(&mut self, nodes: &'t [Node]) -> Result<Flow> {
        for node in nodes {
            match self.node(node) {
                Ok(Flow::Normal) => {}
                Ok(other) => return Ok(other),
                Err(mut error) => {
                    if error.offset == UNPLACED {
                        error.offset = node_offset(node);
                    }
                    return Err(error);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn write(&mut self, text: &str, at: usize) -> Result<()> {
        if self.out.len() + text.len() > MAX_OUTPUT_BYTES {
            return fail(at, format!("the output exceeds {MAX_OUTPUT_BYTES} bytes"));
        }
        self.budget.alloc(text.len())?;
        self.out.push_str(text);
        Ok(())
    }

    /// Appends `value` as Java prints it, within the output limit.
    fn write_value(&mut self, value: &Value, at: usize) -> Result<()> {
        value.write_java(&mut self.out, &mut self.budget)?;
        if self.out.len() > MAX_OUTPUT_BYTES {
            return fail(at, format!("the output exceeds {MAX_OUTPUT_BYTES} bytes"));
        }
        Ok(())
    }

    fn node(&mut self, node: &'t Node) -> Result<Flow> {
        self.budget.step()?;
        match node {
            Node::Text(range) => {
                let text = &self.source[range.clone()];
                self.write(text, range.start)?;
            }
            Node::Literal(text) => self.write(text, 0)?,
            Node::Reference(reference) => self.print_reference(reference)?,
            Node::EscapedReference {
                backslashes,
                reference,
            } => {
                let defined = !self.reference(reference)?.is_null()
                    || (reference.parts.is_empty()
                        && self.defines.contains_key(reference.name.as_str()));
                let literal = &self.source[reference.source()];
                if defined {
                    let half = "\\".repeat(backslashes / 2);
                    self.write(&half, reference.at())?;
                    if backslashes % 2 == 1 {
                        self.write(literal, reference.at())?;
                    } else {
                        self.print_reference(reference)?;
                    }
                } else {
                    // Undefined: pairs of backslashes print one each, and an
                    // odd one stays (Velocity 1.7: `\\\$nope` -> `\\$nope`).
                    let count = if backslashes % 2 == 0 {
                        *backslashes
                    } else {
                        backslashes / 2 + 1
                    };
                    let all = "\\".repeat(count);
                    self.write(&all, reference.at())?;
                    self.write(literal, reference.at())?;
                }
            }
            Node::Set { target, value, at } => {
                let value = self.expr(value)?;
                self.assign(target, value, *at)?;
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (condition, body) in branches {
                    if self.condition(condition)? {
                        return self.nodes(body);
                    }
                }
                if let Some(body) = otherwise {
                    return self.nodes(body);
                }
            }
            Node::Foreach {
                slot,
                iterable,
                body,
                at,
            } => return self.foreach(*slot, iterable, body, *at),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::MacroCall {
                name,
                arguments,
                source,
                at,
            } => return self.call_macro(name, arguments, source.clone(), *at),
            Node::Define { name, body } => {
                self.defines.insert(name.as_str(), body);
            }
        }
        Ok(Flow::Normal)
    }

    fn print_reference(&mut self, reference: &'t Reference) -> Result<()> {
        if reference.parts.is_empty()
            && !self.defines.is_empty()
            && self.lookup(reference.slot()).is_none()
            && let Some(body) = self.defines.get(reference.name.as_str()).copied()
        {
            self.macro_depth += 1;
            if self.macro_depth > MAX_MACRO_DEPTH {
                return fail(reference.at(), "#define blocks nest too deeply");
            }
            let flow = self.nodes(body);
            self.macro_depth -= 1;
            flow?;
            return Ok(());
        }
        // A walk through maps, printed from where it ends without cloning.
        if self.frames.is_empty()
            && reference.builtin.is_none()
            && (self.defines.is_empty() || !reference.parts.is_empty())
        {
            let walk = match &self.globals[reference.slot()] {
                None => Walk::Null,
                Some(root) => write_path(root, &reference.parts, &mut self.out, &mut self.budget)?,
            };
            match walk {
                Walk::Written if self.out.len() > MAX_OUTPUT_BYTES => {
                    return fail(
                        reference.at(),
                        format!("the output exceeds {MAX_OUTPUT_BYTES} bytes"),
                    );
                }
                Walk::Written => return Ok(()),
                Walk::Null if reference.quiet => return Ok(()),
                Walk::Null => {
                    let literal = &self.source[reference.source()];
                    return self.write(literal, reference.at());
                }
                Walk::Other => {}
            }
        }
        let value = self.reference(reference)?;
        match value {
            Value::Null if reference.quiet => Ok(()),
            Value::Null => {
                let literal = &self.source[reference.source()];
                self.write(literal, reference.at())
            }
            value => self.write_value(&value, reference.at()),
        }
    }

    /// The variable in `slot`: a macro parameter, a loop builtin, else a
    /// global.
    fn lookup(&self, slot: usize) -> Option<Value> {
        if let Some(frame) = self.frames.last()
            && let Some((_, value)) = frame.iter().find(|(s, _)| *s == slot)
        {
            return Some(value.clone());
        }
        match self.builtins[slot] {
            Some(Builtin::Foreach) => self.loops.last().map(|state| Value::Loop(*state)),
            Some(Builtin::VelocityCount) => self
                .loops
                .last()
                .map(|state| Value::integer(i64::from(state.count))),
            Some(Builtin::VelocityHasNext) => {
                self.loops.last().map(|state| Value::Bool(state.has_next))
            }
            None => self.globals[slot].clone(),
        }
    }

    fn set_variable(&mut self, slot: usize, value: Value) {
        if let Some(frame) = self.frames.last_mut()
            && let Some((_, parameter)) = frame.iter_mut().find(|(s, _)| *s == slot)
        {
            *parameter = value;
            return;
        }
        self.globals[slot] = Some(value);
    }

    /// The value of a reference; `Null` when any step is undefined.
    pub fn reference(&mut self, reference: &'t Reference) -> Result<Value> {
        // The common cases without cloning what lies on the way: a walk
        // through maps, and `$foreach.hasNext` and friends.
        if self.frames.is_empty() {
            match reference.builtin {
                None => match &self.globals[reference.slot()] {
                    None => return Ok(Value::Null),
                    Some(root) => {
                        if let Some(value) = map_path(root, &reference.parts) {
                            return Ok(value);
                        }
                    }
                },
                Some(Builtin::Foreach) => {
                    if let (Some(state), [Part::Property(name, _)]) =
                        (self.loops.last(), reference.parts.as_slice())
                    {
                        return Ok(loop_property(state, name));
                    }
                }
                Some(_) => {}
            }
        }
        let found = match reference.builtin {
            None if self.frames.is_empty() => self.globals[reference.slot()].clone(),
            _ => self.lookup(reference.slot()),
        };
        let Some(mut value) = found else {
            return Ok(Value::Null);
        };
        for part in &reference.parts {
            if value.is_null() {
                return Ok(Value::Null);
            }
            value = self.step(value, part, reference.at())?;
        }
        Ok(value)
    }

    fn step(&mut self, value: Value, part: &'t Part, at: usize) -> Result<Value> {
        self.budget.step()?;
        match part {
            Part::Property(name, _) => self.property(&value, name, at),
            Part::Method(name, arguments) => {
                let mut values = Vec::with_capacity(arguments.len());
                for argument in arguments {
                    values.push(self.expr(argument)?);
                }
                self.method(&value, name, &values, at)
            }
            Part::Index(index) => {
                let index = self.expr(index)?;
                match (&value, &index) {
                    (Value::List(..), _) => self.method(&value, "get", &[index], at),
                    (Value::Map(..), _) => self.method(&value, "get", &[index], at),
                    _ => Ok(Value::Null),
                }
            }
        }
    }

    /// `$a.name`: a map's entry, else the `getName()` / `isName()` method,
    /// as Velocity's introspection tries them.
    fn property(&mut self, value: &Value, name: &str, at: usize) -> Result<Value> {
        match value {
            Value::Map(entries) => {
                return Ok(entries.borrow().get(name).cloned().unwrap_or_default());
            }
            // `$foreach.hasNext` and friends, without building method names.
            Value::Loop(state) => return Ok(loop_property(state, name)),
            Value::Entry(entry) => {
                return Ok(match name {
                    "key" => Value::str(&entry.0),
                    "value" => entry.1.clone(),
                    _ => Value::Null,
                });
            }
            _ => {}
        }
        let capitalized = capitalize(name);
        for method in [format!("get{capitalized}"), format!("is{capitalized}")] {
            if super::methods::has_method(value, &method) {
                return self.method(value, &method, &[], at);
            }
        }
        Ok(Value::Null)
    }

    fn method(
        &mut self,
        value: &Value,
        name: &str,
        arguments: &[Value],
        at: usize,
    ) -> Result<Value> {
        self.budget.step()?;
        let budget = &mut self.budget;
        let result = match value {
            Value::Input => self.input.call(name, arguments, budget),
            Value::Util => super::input::util(name, arguments, budget),
            _ => super::methods::call(value, name, arguments, budget),
        };
        result.map_err(|message| {
            Box::new(EvalError {
                offset: at,
                message,
            })
        })
    }

    fn assign(&mut self, target: &'t Reference, value: Value, at: usize) -> Result<()> {
        if value.is_null() {
            return Ok(());
        }
        let Some((last, path)) = target.parts.split_last() else {
            self.set_variable(target.slot(), value);
            return Ok(());
        };
        let Some(mut base) = self.lookup(target.slot()) else {
            return Ok(());
        };
        for part in path {
            if base.is_null() {
                return Ok(());
            }
            base = self.step(base, part, at)?;
        }
        match (last, &base) {
            (Part::Property(name, _), Value::Map(entries)) => {
                self.budget.alloc(ENTRY_BYTES + name.len())?;
                self.budget.nest(&base, &value)?;
                entries
                    .borrow_mut()
                    .insert(super::value::Key::from(name.as_str()), value);
            }
            (Part::Index(index), _) => {
                let index = self.expr(index)?;
                self.method(&base, "set_or_put", &[index, value], at)?;
            }
            (Part::Property(name, _), _) => {
                let setter = format!("set{}", capitalize(name));
                if super::methods::has_method(&base, &setter) {
                    self.method(&base, &setter, &[value], at)?;
                }
            }
            (Part::Method(..), _) => {}
        }
        Ok(())
    }

    fn foreach(
        &mut self,
        variable: usize,
        iterable: &'t Expr,
        body: &'t [Node],
        at: usize,
    ) -> Result<Flow> {
        // A copy of the first items (the loop may change the collection).
        let items: Vec<Value> = match self.expr(iterable)? {
            Value::List(items, _) => {
                let items = items.borrow();
                self.budget
                    .alloc(items.len().min(MAX_FOREACH_ITERATIONS) * ITEM_BYTES)?;
                items.iter().take(MAX_FOREACH_ITERATIONS).cloned().collect()
            }
            Value::Map(entries) => {
                let entries = entries.borrow();
                self.budget
                    .alloc(entries.len().min(MAX_FOREACH_ITERATIONS) * ITEM_BYTES)?;
                entries
                    .values()
                    .take(MAX_FOREACH_ITERATIONS)
                    .cloned()
                    .collect()
            }
            _ => Vec::new(),
        };
        let saved = self.lookup(variable).filter(|_| self.frames.is_empty());
        let total = items.len();
        // The copy is freed when the loop ends.
        let copied = total * ITEM_BYTES;
        let mut flow = Flow::Normal;
        for (index, item) in items.into_iter().enumerate() {
            self.budget.step()?;
            self.loops.push(LoopState {
                index: index as u32,
                count: index as u32 + 1,
                has_next: index + 1 < total,
            });
            if item.is_null() {
                self.remove_variable(variable);
            } else {
                self.set_variable(variable, item);
            }
            let result = self.nodes(body);
            self.loops.pop();
            match result? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        let _ = at;
        self.budget.release(copied);
        match saved {
            Some(value) => self.set_variable(variable, value),
            None => self.remove_variable(variable),
        }
        Ok(flow)
    }

    fn remove_variable(&mut self, slot: usize) {
        if let Some(frame) = self.frames.last_mut()
            && let Some((_, parameter)) = frame.iter_mut().find(|(s, _)| *s == slot)
        {
            *parameter = Value::Null;
            return;
        }
        self.globals[slot] = None;
    }

    fn call_macro(
        &mut self,
        name: &str,
        arguments: &'t [Expr],
        source: std::ops::Range<usize>,
        at: usize,
    ) -> Result<Flow> {
        let Some(definition) = self.macros.get(name) else {
            let literal = &self.source[source];
            self.write(literal, at)?;
            return Ok(Flow::Normal);
        };
        if self.macro_depth >= MAX_MACRO_DEPTH {
            return fail(
                at,
                format!("macro #{name} recurses deeper than {MAX_MACRO_DEPTH} calls"),
            );
        }
        let mut frame: Vec<(usize, Value)> = Vec::with_capacity(definition.slots.len());
        let mut bind = |slot: usize, value: Value| match frame.iter_mut().find(|(s, _)| *s == slot)
        {
            // A repeated parameter name takes the last value.
            Some((_, parameter)) => *parameter = value,
            None => frame.push((slot, value)),
        };
        for (slot, argument) in definition.slots.iter().zip(arguments) {
            let value = self.expr(argument)?;
            bind(*slot, value);
        }
        for slot in definition.slots.iter().skip(arguments.len()) {
            bind(*slot, Value::Null);
        }
        self.frames.push(frame);
        self.macro_depth += 1;
        let result = self.nodes(&definition.body);
        self.macro_depth -= 1;
        self.frames.pop();
        match result? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Normal),
        }
    }

    /// Velocity 1.7's truth of an `#if` condition (see the module comment).
    fn condition(&mut self, expr: &'t Expr) -> Result<bool> {
        Ok(match expr {
            Expr::Reference(reference) => match self.reference(reference)? {
                Value::Null => false,
                Value::Bool(b) => b,
                _ => true,
            },
            Expr::Bool(b) => *b,
            Expr::Group(inner) => self.condition(inner)?,
            Expr::Not(inner) => !self.condition(inner)?,
            Expr::Binary(BinaryOp::And, left, right, _) => {
                self.condition(left)? && self.condition(right)?
            }
            Expr::Binary(BinaryOp::Or, left, right, _) => {
                self.condition(left)? || self.condition(right)?
            }
            Expr::Binary(
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge,
                ..,
            ) => matches!(self.expr(expr)?, Value::Bool(true)),
            _ => false,
        })
    }

    pub fn expr(&mut self, expr: &'t Expr) -> Result<Value> {
        self.budget.step()?;
        Ok(match expr {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(n) => Value::integer(*n),
            Expr::Double(d) => Value::Double(*d),
            Expr::Str(text) => {
                self.budget.alloc(text.len())?;
                Value::str(text)
            }
            Expr::Interpolated(nodes) => {
                let saved = std::mem::take(&mut self.out);
                let result = self.nodes(nodes);
                let text = std::mem::replace(&mut self.out, saved);
                result?;
                self.budget.alloc(text.len())?;
                Value::str(&text)
            }
            Expr::Reference(reference) => self.reference(reference)?,
            Expr::List(items) => {
                self.budget.alloc(items.len() * ITEM_BYTES)?;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.expr(item)?);
                }
                Value::list(values)
            }
            Expr::Range(first, last) => {
                let (first_value, last_value) = (self.expr(first)?, self.expr(last)?);
                let (Some(from), Some(to)) = (first_value.as_i64(), last_value.as_i64()) else {
                    return Ok(Value::Null);
                };
                let length = from.abs_diff(to) + 1;
                if length > MAX_FOREACH_ITERATIONS as u64 * 10 {
                    return fail(0, format!("the range [{from}..{to}] is too large"));
                }
                self.budget.alloc(length as usize * ITEM_BYTES)?;
                let values: Vec<Value> = if from <= to {
                    (from..=to).map(Value::integer).collect()
                } else {
                    (to..=from).rev().map(Value::integer).collect()
                };
                Value::list(values)
            }
            Expr::Map(entries) => {
                let mut map = super::value::Entries::default();
                for (key, value) in entries {
                    let key = self.expr(key)?.to_java_string(&mut self.budget)?;
                    self.budget.alloc(ENTRY_BYTES + key.len())?;
                    let value = self.expr(value)?;
                    map.insert(super::value::Key::from(key), value);
                }
                Value::map(map)
            }
            Expr::Not(inner) => Value::Bool(!self.condition(inner)?),
            Expr::Group(inner) => self.expr(inner)?,
            Expr::Binary(op, left, right, at) => match op {
                BinaryOp::And => Value::Bool(self.condition(left)? && self.condition(right)?),
                BinaryOp::Or => Value::Bool(self.condition(left)? || self.condition(right)?),
                _ => {
                    let left_value = self.expr(left)?;
                    let right_value = self.expr(right)?;
                    // Velocity 1.7 concatenates an undefined reference as
                    // written: `"a" + $nope` is `a$nope`.
                    if *op == BinaryOp::Add
                        && (matches!(left_value, Value::Str(_))
                            || matches!(right_value, Value::Str(_)))
                    {
                        let literal = |expr: &Expr, value: Value| match (expr, value) {
                            (Expr::Reference(r), Value::Null) => {
                                Value::str(&self.source[r.source()])
                            }
                            (_, value) => value,
                        };
                        let (left_value, right_value) =
                            (literal(left, left_value), literal(right, right_value));
                        binary(*op, &left_value, &right_value, *at, &mut self.budget)?
                    } else {
                        binary(*op, &left_value, &right_value, *at, &mut self.budget)?
                    }
                }
            },
        })
    }
}

/// `$a.b.c` below `value` when each step is an entry of a map (or the walk
/// reaches null), as [`Renderer::reference`] steps through
/// [`Renderer::property`], but borrowing the maps on the way. `None` when a
/// step is anything else.
fn map_path(value: &Value, parts: &[Part]) -> Option<Value> {
    let Some((first, rest)) = parts.split_first() else {
        return Some(value.clone());
    };
    match (first, value) {
        (_, Value::Null) => Some(Value::Null),
        (Part::Property(name, hint), Value::Map(entries)) => {
            match entries.borrow().get_hinted(name, hint) {
                Some(next) => map_path(next, rest),
                None => Some(Value::Null),
            }
        }
        _ => None,
    }
}

enum Walk {
    Written,
    Null,
    /// A step that is not a map's entry: the walk did nothing.
    Other,
}

/// [`map_path`] that writes the value it reaches instead of cloning it.
fn write_path(
    value: &Value,
    parts: &[Part],
    out: &mut String,
    budget: &mut Budget,
) -> std::result::Result<Walk, Exceeded> {
    let write = |value: &Value, out: &mut String, budget: &mut Budget| {
        if value.is_null() {
            return Ok(Walk::Null);
        }
        value.write_java(out, budget)?;
        Ok(Walk::Written)
    };
    let Some((first, rest)) = parts.split_first() else {
        return write(value, out, budget);
    };
    match (first, value) {
        // `$item.field`, the common case, without recursing.
        (Part::Property(name, hint), Value::Map(entries)) if rest.is_empty() => {
            match entries.borrow().get_hinted(name, hint) {
                Some(next) => write(next, out, budget),
                None => Ok(Walk::Null),
            }
        }
        (_, Value::Null) => Ok(Walk::Null),
        (Part::Property(name, hint), Value::Map(entries)) => {
            match entries.borrow().get_hinted(name, hint) {
                Some(next) => write_path(next, rest, out, budget),
                None => Ok(Walk::Null),
            }
        }
        _ => Ok(Walk::Other),
    }
}

/// Where a node starts, to place an error raised while evaluating it.
fn node_offset(node: &Node) -> usize {
    match node {
        Node::Text(range) => range.start,
        Node::Reference(reference) | Node::EscapedReference { reference, .. } => reference.at(),
        Node::Set { at, .. } | Node::Foreach { at, .. } | Node::MacroCall { at, .. } => *at,
        Node::Literal(_) | Node::If { .. } | Node::Break | Node::Stop | Node::Define { .. } => {
            UNPLACED
        }
    }
}

/// `$foreach.name`, without building method names.
fn loop_property(state: &LoopState, name: &str) -> Value {
    match name {
        "index" => Value::integer(i64::from(state.index)),
        "count" => Value::integer(i64::from(state.count)),
        "hasNext" => Value::Bool(state.has_next),
        "first" => Value::Bool(state.index == 0),
        "last" => Value::Bool(!state.has_next),
        _ => Value::Null,
    }
}

/// Arithmetic and comparison with Java's rules; a division by zero or an
/// operand that is not a number gives null, as Velocity 1.7 does.
fn binary(
    op: BinaryOp,
    left: &Value,
    right: &Value,
    at: usize,
    budget: &mut Budget,
) -> Result<Value> {
    binary_within(op, left, right, budget).map_err(|exceeded| {
        Box::new(EvalError {
            offset: at,
            message: exceeded.message(),
        })
    })
}

fn binary_within(
    op: BinaryOp,
    left: &Value,
    right: &Value,
    budget: &mut Budget,
) -> std::result::Result<Value, Exceeded> {
    Ok(match op {
        BinaryOp::Eq => Value::Bool(left.java_equals(right, budget)?),
        BinaryOp::Ne => Value::Bool(!left.java_equals(right, budget)?),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ordering = match (left, right) {
                (a, b) if a.is_number() && b.is_number() => match (a, b) {
                    (Value::Double(_), _) | (_, Value::Double(_)) => {
                        a.as_f64().partial_cmp(&b.as_f64())
                    }
                    _ => a.as_i64().partial_cmp(&b.as_i64()),
                },
                (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
                _ => None,
            };
            let Some(ordering) = ordering else {
                return Ok(Value::Bool(false));
            };
            Value::Bool(match op {
                BinaryOp::Lt => ordering.is_lt(),
                BinaryOp::Le => ordering.is_le(),
                BinaryOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        BinaryOp::Add if matches!(left, Value::Str(_)) || matches!(right, Value::Str(_)) => {
            if left.is_null() || right.is_null() {
                return Ok(Value::Null);
            }
            let mut text = left.to_java_string(budget)?;
            right.write_java(&mut text, budget)?;
            budget.alloc(text.len())?;
            Value::str(&text)
        }
        _ => {
            if !(left.is_number() && right.is_number()) {
                return Ok(Value::Null);
            }
            if matches!(left, Value::Double(_)) || matches!(right, Value::Double(_)) {
                let (a, b) = (left.as_f64().unwrap_or(0.0), right.as_f64().unwrap_or(0.0));
                match op {
                    BinaryOp::Add => Value::Double(a + b),
                    BinaryOp::Sub => Value::Double(a - b),
                    BinaryOp::Mul => Value::Double(a * b),
                    BinaryOp::Div if b == 0.0 => Value::Null,
                    BinaryOp::Div => Value::Double(a / b),
                    BinaryOp::Mod if b == 0.0 => Value::Null,
                    BinaryOp::Mod => Value::Double(a % b),
                    _ => Value::Null,
                }
            } else {
                let (a, b) = (left.as_i64().unwrap_or(0), right.as_i64().unwrap_or(0));
                let result = match op {
                    BinaryOp::Add => a.checked_add(b),
                    BinaryOp::Sub => a.checked_sub(b),
                    BinaryOp::Mul => a.checked_mul(b),
                    BinaryOp::Div if b == 0 => None,
                    BinaryOp::Div => a.checked_div(b),
                    BinaryOp::Mod if b == 0 => None,
                    BinaryOp::Mod => a.checked_rem(b),
                    _ => None,
                };
                result.map_or(Value::Null, Value::integer)
            }
        }
    })
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
