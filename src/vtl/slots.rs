//! Variable slots: every variable name in a template gets a number once,
//! after parsing, so rendering finds a variable by index instead of by
//! hashing its name. Slots 0 to 3 are the bound objects.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::ast::{Expr, Macro, Node, Part, Reference};

pub const INPUT: usize = 0;
pub const UTIL: usize = 1;
pub const STAGE_VARIABLES: usize = 2;
pub const CONTEXT: usize = 3;
const BOUND: [&str; 4] = ["input", "util", "stageVariables", "context"];

/// Numbers the variables of `nodes` and `macros`; gives the names by slot.
pub fn resolve(nodes: &mut [Node], macros: &mut HashMap<String, Macro>) -> Vec<String> {
    let mut resolver = Resolver {
        names: BOUND.iter().map(|name| name.to_string()).collect(),
        slots: BOUND
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_string(), i))
            .collect(),
    };
    resolver.nodes(nodes);
    for definition in macros.values_mut() {
        definition.slots = definition
            .parameters
            .iter()
            .map(|name| resolver.slot(name))
            .collect();
        resolver.nodes(&mut definition.body);
    }
    resolver.names
}

struct Resolver {
    names: Vec<String>,
    /// Fx: names are short and come from the template, not from requests.
    slots: FxHashMap<String, usize>,
}

impl Resolver {
    fn slot(&mut self, name: &str) -> usize {
        if let Some(slot) = self.slots.get(name) {
            return *slot;
        }
        let slot = self.names.len();
        self.names.push(name.to_string());
        self.slots.insert(name.to_string(), slot);
        slot
    }

    fn nodes(&mut self, nodes: &mut [Node]) {
        for node in nodes {
            self.node(node);
        }
    }

    fn node(&mut self, node: &mut Node) {
        match node {
            Node::Text(_) | Node::Literal(_) | Node::Break | Node::Stop => {}
            Node::Reference(reference) | Node::EscapedReference { reference, .. } => {
                self.reference(reference)
            }
            Node::Set { target, value, .. } => {
                self.reference(target);
                self.expr(value);
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (condition, body) in branches {
                    self.expr(condition);
                    self.nodes(body);
                }
                if let Some(body) = otherwise {
                    self.nodes(body);
                }
            }
            Node::Foreach {
                variable,
                slot,
                iterable,
                body,
                ..
            } => {
                *slot = self.slot(variable);
                self.expr(iterable);
                self.nodes(body);
            }
            Node::MacroCall { arguments, .. } => {
                for argument in arguments {
                    self.expr(argument);
                }
            }
            Node::Define { body, .. } => self.nodes(body),
        }
    }

    fn reference(&mut self, reference: &mut Reference) {
        reference.slot = self.slot(&reference.name);
        for part in &mut reference.parts {
            match part {
                Part::Property(..) => {}
                Part::Method(_, arguments) => {
                    for argument in arguments {
                        self.expr(argument);
                    }
                }
                Part::Index(index) => self.expr(index),
            }
        }
    }

    fn expr(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Double(_) | Expr::Str(_) => {}
            Expr::Interpolated(nodes) => self.nodes(nodes),
            Expr::Reference(reference) => self.reference(reference),
            Expr::List(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            Expr::Range(first, last) => {
                self.expr(first);
                self.expr(last);
            }
            Expr::Map(entries) => {
                for (key, value) in entries {
                    self.expr(key);
                    self.expr(value);
                }
            }
            Expr::Not(inner) | Expr::Group(inner) => self.expr(inner),
            Expr::Binary(_, left, right, _) => {
                self.expr(left);
                self.expr(right);
            }
        }
    }
}
