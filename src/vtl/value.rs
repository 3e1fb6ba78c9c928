//! Runtime values of the Velocity engine, with the Java semantics AWS's
//! templates see: `Integer` arithmetic that widens to `Long`, `Double`
//! printed as Java prints it, `List` / `Map` printed by `toString`
//! (`[1, 2]`, `{a=1, b=2}`), and JSON arrays from `$input.path` printed as
//! JSON (they are json-smart `JSONArray`s on AWS).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

pub type List = Rc<RefCell<Vec<Value>>>;
/// Entries in insertion order (Java's `LinkedHashMap`).
pub use super::map::Entries;
/// Map keys: shared strings, so the keys repeated across a JSON array's
/// objects are allocated once per document.
pub type Key = Rc<str>;
pub type Map = Rc<RefCell<Entries>>;

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

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Rc::from(text))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)), false)
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

    /// Java's `toString()` of the value.
    pub fn to_java_string(&self) -> String {
        let mut out = String::new();
        self.write_java(&mut out);
        out
    }

    pub fn write_java(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Value::Long(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Value::Double(d) if d.is_finite() && (1e-3..1e7).contains(&d.abs()) => {
                if !write_short_decimal(*d, out) {
                    out.push_str(ryu::Buffer::new().format_finite(*d))
                }
            }
            Value::Double(d) => out.push_str(&java_double(*d)),
            Value::Str(s) => out.push_str(s),
            Value::Char(c) => out.push(*c),
            Value::List(items, json) => {
                if *json {
                    self.write_json(out);
                    return;
                }
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_java(out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    value.write_java(out);
                }
                out.push('}');
            }
            Value::Entry(entry) => {
                out.push_str(&entry.0);
                out.push('=');
                entry.1.write_java(out);
            }
            Value::Loop(_) => out.push_str("org.apache.velocity.runtime.directive.ForeachScope"),
            Value::Input => out.push_str("$input"),
            Value::Util => out.push_str("$util"),
        }
    }

    /// The value as compact JSON, as json-smart writes it.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) | Value::Long(_) | Value::Double(_) => {
                self.write_java(out)
            }
            Value::Str(s) => write_json_string(out, s),
            Value::Char(c) => write_json_string(out, &c.to_string()),
            Value::List(items, _) => {
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, key);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
            other => write_json_string(out, &other.to_java_string()),
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// A value from a parsed JSON document: objects become ordered maps,
    /// arrays JSON lists, integers `Integer`/`Long`, decimals `Double`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::integer(i)
                } else {
                    Value::Double(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(items) => Value::List(
                Rc::new(RefCell::new(items.iter().map(Value::from_json).collect())),
                true,
            ),
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (Key::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// A `$context`-style tree: like JSON, but arrays print Java style.
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
            other => Value::from_json(other),
        }
    }

    /// Velocity 1.7's equality: numbers by value, same types by `equals`,
    /// different types by their `toString`.
    pub fn java_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            (a, b) if a.is_number() && b.is_number() => match (a.as_i64(), b.as_i64(), a, b) {
                (
                    Some(x),
                    Some(y),
                    Value::Int(_) | Value::Long(_),
                    Value::Int(_) | Value::Long(_),
                ) => x == y,
                _ => a.as_f64() == b.as_f64(),
            },
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a, _), Value::List(b, _)) => {
                let (a, b) = (a.borrow(), b.borrow());
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.java_equals(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                let (a, b) = (a.borrow(), b.borrow());
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.java_equals(w)))
            }
            (a, b) => a.to_java_string() == b.to_java_string(),
        }
    }
}

fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `d` (between 10^-3 and 10^7 in magnitude) as ryu (and Java)
/// would, when it has at most four decimals: `249.99`, `3.0`, `0.05`.
/// Gives false, writing nothing, for the others.
///
/// The decimal `m / 10^k` for the smallest `k` at which it converts back to
/// `d` is the shortest that round-trips; and it is the only one of its
/// length, since `10^-k` is far wider than the doubles' spacing here.
fn write_short_decimal(d: f64, out: &mut String) -> bool {
    const SCALES: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];
    const UNITS: [u64; 5] = [1, 10, 100, 1000, 10000];
    let magnitude = d.abs();
    for k in 0..SCALES.len() {
        let scaled = magnitude * SCALES[k];
        // Rounded to the nearest integer (an exact tie never converts back).
        let m = (scaled + 0.5) as u64;
        if m as f64 / SCALES[k] != magnitude {
            continue;
        }
        if d.is_sign_negative() {
            out.push('-');
        }
        let mut digits = itoa::Buffer::new();
        out.push_str(digits.format(m / UNITS[k]));
        out.push('.');
        if k == 0 {
            out.push('0');
        } else {
            let fraction = digits.format(m % UNITS[k]);
            for _ in fraction.len()..k {
                out.push('0');
            }
            out.push_str(fraction);
        }
        return true;
    }
    false
}

/// Java's `Double.toString`: plain notation with at least one decimal
/// between 10^-3 and 10^7, else `d.dddE±n`; shortest digits that round-trip.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let magnitude = d.abs();
    if (1e-3..1e7).contains(&magnitude) {
        // ryu prints the shortest round-trip digits in plain notation in
        // this range, with `.0` on whole numbers, as Java does.
        let mut buffer = ryu::Buffer::new();
        buffer.format_finite(d).to_string()
    } else {
        // `{:e}` gives the shortest round-trip digits: `1.5e-7`, `1e10`.
        let text = format!("{d:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// Parses JSON straight into template values (no intermediate
/// `serde_json::Value`), as `$input.path('$')` needs on every request.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

/// Reads an object key, reusing one parsed recently ([`KEYS`]).
struct KeySeed;

thread_local! {
    /// Keys seen recently while parsing, so `[{"id":..}, {"id":..}]`
    /// allocates `id` once.
    static KEYS: std::cell::RefCell<Vec<Key>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, text: &str) -> Result<Key, E> {
                Ok(KEYS.with(|keys| {
                    let mut keys = keys.borrow_mut();
                    if let Some(key) = keys.iter().find(|k| ***k == *text) {
                        return Key::clone(key);
                    }
                    let key = Key::from(text);
                    if keys.len() >= 64 {
                        keys.remove(0);
                    }
                    keys.push(Key::clone(&key));
                    key
                }))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::integer(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Double(n as f64), Value::integer))
    }

    fn visit_f64<E>(self, d: f64) -> Result<Value, E> {
        Ok(Value::Double(d))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::List(Rc::new(RefCell::new(items)), true))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Entries::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value::<Value>()?;
            entries.insert(key, value);
        }
        Ok(Value::map(entries))
    }
}

const _: () = assert!(std::mem::size_of::<Value>() == 24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        for (value, text) in [
            (2.5, "2.5"),
            (3.0, "3.0"),
            (1.0e7, "1.0E7"),
            (1.0e-4, "1.0E-4"),
            (1.1 + 2.2, "3.3000000000000003"),
            (0.1 * 3.0, "0.30000000000000004"),
            (1000.0, "1000.0"),
            (249.99, "249.99"),
            (-0.5, "-0.5"),
            (1.5e10, "1.5E10"),
        ] {
            assert_eq!(java_double(value), text);
        }
    }

    /// The short-decimal path prints what ryu prints.
    #[test]
    fn short_decimals_print_like_ryu() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for i in 0..400_000u64 {
            let r = next();
            let d = match i % 4 {
                // Decimals with up to 5 places, the common case in payloads.
                0 => {
                    (r % 1_000_000_000) as f64
                        / [1.0, 10.0, 100.0, 1e3, 1e4, 1e5][(i / 4 % 6) as usize]
                }
                1 => f64::from_bits(r),
                2 => (r % 10_000_000) as f64 + 0.5f64.powi((r >> 40) as i32 % 20),
                _ => -((r % 100_000) as f64) / 1e3,
            };
            if !(d.is_finite() && (1e-3..1e7).contains(&d.abs())) {
                continue;
            }
            let mut fast = String::new();
            if write_short_decimal(d, &mut fast) {
                assert_eq!(fast, ryu::Buffer::new().format_finite(d), "{d:?}");
                checked += 1;
            }
        }
        assert!(checked > 100_000, "{checked}");
        for d in [
            1e-3,
            0.05,
            249.99,
            3.0,
            9_999_999.0,
            9_999_999.999_9,
            1234.5678,
            0.1 + 0.2,
        ] {
            let mut fast = String::new();
            let _ = write_short_decimal(d, &mut fast) || {
                fast.push_str(ryu::Buffer::new().format_finite(d));
                true
            };
            assert_eq!(fast, ryu::Buffer::new().format_finite(d));
        }
    }
}
