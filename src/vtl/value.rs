//! Runtime values of the Velocity engine, with the Java semantics AWS's
//! templates see: `Integer` arithmetic that widens to `Long`, `Double`
//! printed as Java prints it, `List` / `Map` printed by `toString`
//! (`[1, 2]`, `{a=1, b=2}`), and JSON arrays from `$input.path` printed as
//! JSON (they are json-smart `JSONArray`s on AWS).
//!
//! Also a map's entries ([`Entries`]): insertion order (Java's
//! `LinkedHashMap`) with `IndexMap`'s semantics (inserting an existing key
//! replaces its value in place; removing shifts the later entries). Maps
//! in templates are mostly small JSON objects (a few fields per array
//! item), where a linear scan over the keys beats hashing them; a map that
//! grows past [`LINEAR`] entries gets a hash index of positions.
//!
//! How values print, compare and convert to and from JSON under the render
//! budget is `java.rs`; this module imports neither it nor `budget`, which
//! both build on it.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::ast::Hint;

pub type List = Rc<RefCell<Items>>;
/// Map keys: shared strings, so the keys repeated across a JSON array's
/// objects are allocated once per document.
pub type Key = Rc<str>;
pub type Map = Rc<RefCell<Entries>>;

/// A list's items. Dropping them frees nested lists and maps without
/// recursing (a template can nest lists a million deep, `#set($l = [$l])`
/// in loops, which a recursive drop would overflow the stack on).
#[derive(Clone, Default)]
pub struct Items(pub Vec<Value>);

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Items {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl From<Vec<Value>> for Items {
    fn from(items: Vec<Value>) -> Items {
        Items(items)
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if self.0.iter().any(is_last_container) {
            drop_iteratively(std::mem::take(&mut self.0));
        }
    }
}

/// Shallow: a list may hold itself.
impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} items]", self.0.len())
    }
}

/// A list, map or entry that dropping `value` frees.
#[inline]
pub fn is_last_container(value: &Value) -> bool {
    match value {
        Value::List(list, _) => Rc::strong_count(list) == 1,
        Value::Map(map) => Rc::strong_count(map) == 1,
        Value::Entry(entry) => Rc::strong_count(entry) == 1,
        _ => false,
    }
}

/// Drops `values`, taking the contents out of each container it frees
/// first, so no drop recurses more than a level.
pub fn drop_iteratively(mut stack: Vec<Value>) {
    while let Some(value) = stack.pop() {
        match value {
            Value::List(list, _) => {
                if let Ok(cell) = Rc::try_unwrap(list) {
                    let mut items = cell.into_inner();
                    stack.append(&mut items.0);
                }
            }
            Value::Map(map) => {
                if let Ok(cell) = Rc::try_unwrap(map) {
                    cell.into_inner().drain_values_into(&mut stack);
                }
            }
            Value::Entry(entry) => {
                if let Ok((_, value)) = Rc::try_unwrap(entry) {
                    stack.push(value);
                }
            }
            _ => {}
        }
    }
}

/// A value during rendering.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Str(Rc<str>),
    Char(char),
    /// A list; `json` marks a JSON array from a payload (printed as JSON).
    List(List, bool),
    Map(Map),
    /// A `Map.Entry` from `entrySet()`.
    Entry(Rc<(Key, Value)>),
    /// `$foreach` inside a loop.
    Loop(LoopState),
    /// `$input`, `$util`: bound objects whose methods the engine knows.
    Input,
    Util,
}

/// Small, so that a [`Value`] stays three words: a loop has at most
/// [`super::MAX_FOREACH_ITERATIONS`] turns.
#[derive(Debug, Clone, Copy)]
pub struct LoopState {
    pub index: u32,
    pub count: u32,
    pub has_next: bool,
}

/// Bytes a list item takes (a [`Value`]), for the memory budget.
pub const ITEM_BYTES: usize = std::mem::size_of::<Value>();
/// Bytes a map entry takes besides its key's text.
pub const ENTRY_BYTES: usize = std::mem::size_of::<(Key, Value)>() + 16;

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Rc::from(text))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(Items(items))), false)
    }

    pub fn json_list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(Items(items))), true)
    }

    pub fn map(entries: Entries) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// An integer of Java's width: `Integer` when it fits, else `Long`.
    pub fn integer(n: i64) -> Value {
        match i32::try_from(n) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::Long(n),
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(i64::from(*n)),
            Value::Long(n) => Some(*n),
            Value::Double(d) if d.fract() == 0.0 => Some(*d as i64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(f64::from(*n)),
            Value::Long(n) => Some(*n as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Long(_) | Value::Double(_))
    }

    /// A JSON scalar's value; a container gives null.
    pub(super) fn json_scalar(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::integer(i)
                } else {
                    Value::Double(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::str(s),
            _ => Value::Null,
        }
    }

    /// A `$context`-style tree: like JSON, but arrays print Java style.
    /// (The gateway builds `$context`; it is small and not charged.)
    pub fn from_context(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (Key::from(k.as_str()), Value::from_context(v)))
                    .collect(),
            ),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_context).collect())
            }
            other => Value::json_scalar(other),
        }
    }
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);

/// Entries in insertion order (Java's `LinkedHashMap`).
/// Up to this many entries, lookups scan the keys.
const LINEAR: usize = 8;

/// Entries kept in the map's own allocation (a JSON object of up to this
/// many fields costs one allocation).
const INLINE: usize = 4;

#[derive(Clone, Default)]
pub struct Entries {
    items: SmallVec<[(Key, Value); INLINE]>,
    /// Key -> position in `items`, once there are more than [`LINEAR`].
    index: Option<Box<FxHashMap<Key, usize>>>,
}

impl Entries {
    pub fn with_capacity(capacity: usize) -> Entries {
        Entries {
            items: SmallVec::with_capacity(capacity),
            index: None,
        }
    }

    #[inline]
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.items.iter().position(|(k, _)| same_key(k, key)),
        }
    }

    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.items[i].1)
    }

    /// [`Entries::get`] that tries the position in `hint` first, and
    /// leaves there where it found `key`.
    #[inline]
    pub fn get_hinted(&self, key: &str, hint: &Hint) -> Option<&Value> {
        if self.index.is_some() {
            return self.get(key);
        }
        if let Some((k, value)) = self.items.get(hint.get())
            && same_key(k, key)
        {
            return Some(value);
        }
        let i = self.position(key)?;
        hint.set(i);
        Some(&self.items[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key`; an existing key keeps its place and gives back its value.
    pub fn insert(&mut self, key: Key, value: Value) -> Option<Value> {
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.items[i].1, value));
        }
        if let Some(index) = &mut self.index {
            index.insert(Key::clone(&key), self.items.len());
        }
        self.items.push((key, value));
        if self.index.is_none() && self.items.len() > LINEAR {
            self.reindex();
        }
        None
    }

    /// [`Entries::insert`] of a key that, if the map has an equal key, is
    /// that same allocation (keys shared while reading a document): the
    /// check for it compares pointers.
    pub fn insert_shared(&mut self, key: Key, value: Value) -> Option<Value> {
        if self.index.is_some() {
            return self.insert(key, value);
        }
        if let Some(i) = self.items.iter().position(|(k, _)| Rc::ptr_eq(k, &key)) {
            return Some(std::mem::replace(&mut self.items[i].1, value));
        }
        debug_assert!(!self.contains_key(&key));
        self.items.push((key, value));
        if self.items.len() > LINEAR {
            self.reindex();
        }
        None
    }

    fn reindex(&mut self) {
        self.index = Some(Box::new(
            self.items
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (Key::clone(k), i))
                .collect(),
        ));
    }

    /// Removes `key`, keeping the order of the others.
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        let (_, value) = self.items.remove(i);
        if self.index.is_some() {
            self.reindex();
        }
        Some(value)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.index = None;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.items.iter().map(|(_, v)| v)
    }

    /// Empties the map, moving its values to `out`.
    pub fn drain_values_into(&mut self, out: &mut Vec<Value>) {
        self.index = None;
        out.extend(std::mem::take(&mut self.items).into_iter().map(|(_, v)| v));
    }
}

/// Frees nested lists and maps without recursing (see `Items`).
impl Drop for Entries {
    fn drop(&mut self) {
        if self.items.iter().any(|(_, v)| is_last_container(v)) {
            let mut values = Vec::with_capacity(self.items.len());
            self.drain_values_into(&mut values);
            drop_iteratively(values);
        }
    }
}

/// `a == b`, comparing short keys with a few word loads rather than
/// through `memcmp` (keys are mostly short field names).
#[inline]
pub fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word4 =
        |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap_or_default());
    let word8 =
        |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap_or_default());
    match n {
        0 => true,
        // The first, middle and last bytes are all of them.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        // Two windows that overlap cover the whole key.
        4..=8 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        9..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

impl Extend<(Key, Value)> for Entries {
    fn extend<I: IntoIterator<Item = (Key, Value)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

impl IntoIterator for Entries {
    type Item = (Key, Value);
    type IntoIter = smallvec::IntoIter<[(Key, Value); INLINE]>;

    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(&mut self.items).into_iter()
    }
}

impl FromIterator<(Key, Value)> for Entries {
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(entries: I) -> Entries {
        let mut map = Entries::default();
        map.extend(entries);
        map
    }
}

/// Keys only: a map may hold itself.
impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::from(text)
    }

    #[test]
    fn behaves_like_an_ordered_map_small_and_large() {
        for size in [3usize, 8, 9, 40] {
            let mut map = Entries::default();
            for i in 0..size {
                assert!(
                    map.insert(key(&format!("k{i}")), Value::integer(i as i64))
                        .is_none()
                );
            }
            // Re-inserting keeps the position and gives back the old value.
            let old = map.insert(key("k1"), Value::str("one"));
            assert!(matches!(old, Some(Value::Int(1))));
            let keys: Vec<String> = map.keys().map(|k| k.to_string()).collect();
            let expected: Vec<String> = (0..size).map(|i| format!("k{i}")).collect();
            assert_eq!(keys, expected);
            assert!(matches!(map.get("k1"), Some(Value::Str(s)) if &**s == "one"));
            // Removing shifts the later entries and keeps lookups right.
            assert!(matches!(map.shift_remove("k0"), Some(Value::Int(0))));
            assert!(map.shift_remove("k0").is_none());
            assert_eq!(map.len(), size - 1);
            for i in 1..size {
                assert!(map.contains_key(&format!("k{i}")), "size {size} key {i}");
            }
            assert_eq!(map.keys().next().map(|k| k.to_string()), Some("k1".into()));
            let last = format!("k{}", size - 1);
            assert!(matches!(map.get(&last), Some(Value::Int(n)) if *n as usize == size - 1));
            map.clear();
            assert!(map.is_empty() && map.get("k1").is_none());
        }
    }

    #[test]
    fn hinted_lookups_find_the_key_wherever_it_is() {
        let hint = Hint::default();
        let shapes: [&[&str]; 3] = [&["id", "type", "price"], &["price", "id"], &["type"]];
        for _ in 0..2 {
            for shape in shapes {
                let map: Entries = shape
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (key(k), Value::integer(i as i64)))
                    .collect();
                let expected = shape.iter().position(|k| *k == "price");
                let found = map.get_hinted("price", &hint).and_then(Value::as_i64);
                assert_eq!(found, expected.map(|i| i as i64), "{shape:?}");
            }
        }
        let big: Entries = (0..20)
            .map(|i| (key(&format!("k{i}")), Value::integer(i)))
            .collect();
        hint.set(3);
        assert_eq!(
            big.get_hinted("k15", &hint).and_then(Value::as_i64),
            Some(15)
        );
        assert!(big.get_hinted("nope", &hint).is_none());
    }

    #[test]
    fn same_key_is_string_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "abcd",
            "abce",
            "abcde",
            "abcdf",
            "bbcde",
            "abXde",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "Xbcdefghi",
            "abcdXfghi",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "é",
            "éé",
            "aé",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_key(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn collecting_keeps_the_first_place_and_the_last_value() {
        let map: Entries = [("a", 1), ("b", 2), ("a", 3)]
            .into_iter()
            .map(|(k, v)| (key(k), Value::integer(v)))
            .collect();
        let entries: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        assert_eq!(entries, ["a=Int(3)", "b=Int(2)"]);
    }
}
