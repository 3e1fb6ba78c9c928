//! What one render may consume: steps (CPU) and bytes (memory), counted
//! down as the render goes, so that no template, however hostile, can hold
//! a serving thread or allocate without bound ([`super::MAX_RENDER_STEPS`],
//! [`super::MAX_RENDER_BYTES`]). Checks are counter decrements.
//!
//! Also owns the end of a render's values: a template can make a list or
//! map hold itself (`$l.add($l)`), a reference cycle that `Rc` never frees;
//! every container that was given a container is noted here and emptied
//! when the render ends.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::value::{Entries, Items, Value};

/// Bytes of work (scanned or written) that cost one step.
const BYTES_PER_STEP: u64 = 64;

/// Which budget a render ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Steps,
    Memory,
    /// Lists and maps nested deeper than [`super::MAX_VALUE_DEPTH`] (or a
    /// cycle through several of them), which Java's recursive `toString` /
    /// `equals` would overflow its stack on.
    Depth,
}

impl Exceeded {
    pub fn message(self) -> String {
        match self {
            Exceeded::Steps => format!(
                "the template exceeded its step budget of {} steps per render (MAX_RENDER_STEPS)",
                super::MAX_RENDER_STEPS
            ),
            Exceeded::Memory => format!(
                "the template exceeded its memory budget of {} bytes per render (MAX_RENDER_BYTES)",
                super::MAX_RENDER_BYTES
            ),
            Exceeded::Depth => format!(
                "java.lang.StackOverflowError: lists and maps nest deeper than {} levels, or through a cycle (MAX_VALUE_DEPTH)",
                super::MAX_VALUE_DEPTH
            ),
        }
    }
}

impl From<Exceeded> for String {
    fn from(exceeded: Exceeded) -> String {
        exceeded.message()
    }
}

enum Container {
    List(Weak<RefCell<Items>>),
    Map(Weak<RefCell<Entries>>),
}

impl Container {
    fn same(&self, value: &Value) -> bool {
        match (self, value) {
            (Container::List(weak), Value::List(list, _)) => {
                std::ptr::eq(weak.as_ptr(), Rc::as_ptr(list))
            }
            (Container::Map(weak), Value::Map(map)) => std::ptr::eq(weak.as_ptr(), Rc::as_ptr(map)),
            _ => false,
        }
    }
}

/// The steps and bytes left to one render.
pub struct Budget {
    steps: u64,
    bytes: u64,
    /// Containers that were given a container (see the module comment).
    nesting: Vec<Container>,
    /// Regular expressions compiled in this render, by pattern.
    regexes: Vec<(Box<str>, regex::Regex)>,
}

/// Distinct patterns a render keeps compiled.
const KEPT_REGEXES: usize = 16;

impl Budget {
    pub fn new(steps: u64, bytes: u64) -> Budget {
        Budget {
            steps,
            bytes,
            nesting: Vec::new(),
            regexes: Vec::new(),
        }
    }

    /// A regular expression this render compiled already.
    pub fn regex(&self, pattern: &str) -> Option<regex::Regex> {
        self.regexes
            .iter()
            .find(|(kept, _)| **kept == *pattern)
            .map(|(_, regex)| regex.clone())
    }

    pub fn keep_regex(&mut self, pattern: &str, regex: &regex::Regex) -> Result<(), Exceeded> {
        self.alloc(pattern.len())?;
        if self.regexes.len() >= KEPT_REGEXES {
            self.regexes.remove(0);
        }
        self.regexes.push((pattern.into(), regex.clone()));
        Ok(())
    }

    /// One step of evaluation.
    #[inline]
    pub fn step(&mut self) -> Result<(), Exceeded> {
        match self.steps.checked_sub(1) {
            Some(left) => {
                self.steps = left;
                Ok(())
            }
            None => Err(Exceeded::Steps),
        }
    }

    #[inline]
    pub fn steps(&mut self, count: u64) -> Result<(), Exceeded> {
        match self.steps.checked_sub(count) {
            Some(left) => {
                self.steps = left;
                Ok(())
            }
            None => {
                self.steps = 0;
                Err(Exceeded::Steps)
            }
        }
    }

    /// Work over `bytes` that exist already (a scan, a comparison).
    #[inline]
    pub fn scan(&mut self, bytes: usize) -> Result<(), Exceeded> {
        self.steps(bytes as u64 / BYTES_PER_STEP)
    }

    /// Charges `bytes` about to be allocated (and the work of writing
    /// them); callers charge before they allocate.
    #[inline]
    pub fn alloc(&mut self, bytes: usize) -> Result<(), Exceeded> {
        let bytes = bytes as u64;
        match self.bytes.checked_sub(bytes) {
            Some(left) => {
                self.bytes = left;
                self.steps(bytes / BYTES_PER_STEP)
            }
            None => {
                self.bytes = 0;
                Err(Exceeded::Memory)
            }
        }
    }

    /// Gives back bytes charged for a temporary that is freed (the steps
    /// stay spent).
    #[inline]
    pub fn release(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes as u64);
    }

    /// Bytes left: an operation whose result could be larger computes its
    /// exact size first.
    pub fn bytes_left(&self) -> usize {
        usize::try_from(self.bytes).unwrap_or(usize::MAX)
    }

    pub fn steps_left(&self) -> u64 {
        self.steps
    }

    /// Notes that `container` is being given `item`: when `item` is itself
    /// a container, the two may now form a cycle, broken when the render
    /// ends.
    pub fn nest(&mut self, container: &Value, item: &Value) -> Result<(), Exceeded> {
        if !matches!(item, Value::List(..) | Value::Map(_) | Value::Entry(_)) {
            return Ok(());
        }
        if self.nesting.last().is_some_and(|last| last.same(container)) {
            return Ok(());
        }
        let noted = match container {
            Value::List(list, _) => Container::List(Rc::downgrade(list)),
            Value::Map(map) => Container::Map(Rc::downgrade(map)),
            _ => return Ok(()),
        };
        self.alloc(std::mem::size_of::<Container>())?;
        self.nesting.push(noted);
        Ok(())
    }
}

impl Drop for Budget {
    /// Empties the containers that may be in a cycle: the render is over,
    /// and none of its values is used again.
    fn drop(&mut self) {
        let mut emptied: Vec<Value> = Vec::new();
        for container in self.nesting.drain(..) {
            match container {
                Container::List(weak) => {
                    if let Some(list) = weak.upgrade()
                        && let Ok(mut items) = list.try_borrow_mut()
                    {
                        emptied.append(&mut items);
                    }
                }
                Container::Map(weak) => {
                    if let Some(map) = weak.upgrade()
                        && let Ok(mut entries) = map.try_borrow_mut()
                    {
                        entries.drain_values_into(&mut emptied);
                    }
                }
            }
        }
        // Dropped as a list, which frees nested values without recursing.
        drop(Items::from(emptied));
    }
}
