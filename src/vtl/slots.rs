//! Variable slots: every variable name in a template gets a number once,
//! as it is parsed, so rendering finds a variable by index instead of by
//! hashing its name. Slots 0 to 3 are the bound objects.

use rustc_hash::FxHashMap;

use super::ast::Name;

pub const INPUT: usize = 0;
pub const UTIL: usize = 1;
pub const STAGE_VARIABLES: usize = 2;
pub const CONTEXT: usize = 3;
const BOUND: [&str; 4] = ["input", "util", "stageVariables", "context"];

/// The names seen so far, by slot.
pub struct Slots {
    names: Vec<Name>,
    /// Fx: names are short and come from the template, not from requests.
    slots: FxHashMap<Name, usize>,
}

impl Default for Slots {
    fn default() -> Slots {
        Slots {
            names: BOUND.iter().map(|name| Name::new_static(name)).collect(),
            slots: BOUND
                .iter()
                .enumerate()
                .map(|(i, name)| (Name::new_static(name), i))
                .collect(),
        }
    }
}

impl Slots {
    /// The slot of `name`, numbering it if it is new, and the name itself,
    /// made once per template (a copy of the stored one after that).
    pub fn slot(&mut self, name: &str) -> (usize, Name) {
        if let Some(slot) = self.slots.get(name) {
            return (*slot, self.names[*slot].clone());
        }
        let slot = self.names.len();
        let name = super::ast::name(name);
        self.names.push(name.clone());
        self.slots.insert(name.clone(), slot);
        (slot, name)
    }

    /// The names by slot.
    pub fn into_names(self) -> Vec<Name> {
        self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_names_keep_their_slots_and_new_names_are_numbered_once() {
        let mut slots = Slots::default();
        assert_eq!(slots.slot("context"), (CONTEXT, Name::new("context")));
        assert_eq!(slots.slot("input").0, INPUT);
        let (item, name) = slots.slot("item");
        assert_eq!((item, name.as_str()), (4, "item"));
        assert_eq!(slots.slot("other").0, 5);
        assert_eq!(slots.slot("item"), (item, name));
        assert_eq!(slots.into_names()[item], "item");
    }
}
