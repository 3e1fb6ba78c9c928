//! Java's view of a template value, under the render budget: `toString`
//! (`[1, 2]`, `{a=1, b=2}`, doubles as `Double.toString` prints them),
//! Velocity's equality, and JSON out (as json-smart writes it) and in
//! (straight into values, charged as they are built).

use std::fmt::Write as _;
use std::rc::Rc;

use super::budget::{Budget, Exceeded};
use super::value::{ENTRY_BYTES, Entries, ITEM_BYTES, Key, Value};

/// What Java's `AbstractCollection.toString` prints for a collection that
/// holds itself (Velocity 1.7 prints lists with it).
const THIS_COLLECTION: &str = "(this Collection)";
/// And `AbstractMap.toString` for a map that holds itself.
const THIS_MAP: &str = "(this Map)";

impl Value {
    /// Java's `toString()` of the value.
    pub fn to_java_string(&self, budget: &mut Budget) -> Result<String, Exceeded> {
        let mut out = String::new();
        self.write_java(&mut out, budget)?;
        Ok(out)
    }

    /// Appends Java's `toString()` of the value, charging what it writes.
    #[inline]
    pub fn write_java(&self, out: &mut String, budget: &mut Budget) -> Result<(), Exceeded> {
        self.write_java_at(out, budget, 0)
    }

    fn write_java_at(
        &self,
        out: &mut String,
        budget: &mut Budget,
        depth: usize,
    ) -> Result<(), Exceeded> {
        match self {
            Value::Str(s) => {
                budget.alloc(s.len())?;
                out.push_str(s);
            }
            Value::List(items, json) => {
                if *json {
                    return self.write_json_at(out, budget, depth);
                }
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                budget.alloc(2)?;
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        budget.alloc(2)?;
                        out.push_str(", ");
                    }
                    match item {
                        Value::List(inner, _) if Rc::ptr_eq(inner, items) => {
                            budget.alloc(THIS_COLLECTION.len())?;
                            out.push_str(THIS_COLLECTION);
                        }
                        item => item.write_java_at(out, budget, depth + 1)?,
                    }
                }
                out.push(']');
            }
            Value::Map(entries) => {
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                budget.alloc(2)?;
                out.push('{');
                for (i, (key, value)) in entries.borrow().iter().enumerate() {
                    budget.alloc(key.len() + 3)?;
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    match value {
                        Value::Map(inner) if Rc::ptr_eq(inner, entries) => {
                            budget.alloc(THIS_MAP.len())?;
                            out.push_str(THIS_MAP);
                        }
                        value => value.write_java_at(out, budget, depth + 1)?,
                    }
                }
                out.push('}');
            }
            Value::Entry(entry) => {
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                budget.alloc(entry.0.len() + 1)?;
                out.push_str(&entry.0);
                out.push('=');
                entry.1.write_java_at(out, budget, depth + 1)?;
            }
            scalar => {
                // At most a few dozen bytes.
                budget.alloc(24)?;
                scalar.write_scalar(out);
            }
        }
        Ok(())
    }

    /// A value that is not a string or a container, as Java prints it.
    fn write_scalar(&self, out: &mut String) {
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
            Value::Char(c) => out.push(*c),
            Value::Loop(_) => out.push_str("org.apache.velocity.runtime.directive.ForeachScope"),
            Value::Input => out.push_str("$input"),
            Value::Util => out.push_str("$util"),
            Value::Str(_) | Value::List(..) | Value::Map(_) | Value::Entry(_) => {}
        }
    }

    /// Appends the value as compact JSON, as json-smart writes it (which
    /// has no guard against a list holding itself: Java overflows its
    /// stack, here the depth budget ends the render).
    pub fn write_json(&self, out: &mut String, budget: &mut Budget) -> Result<(), Exceeded> {
        self.write_json_at(out, budget, 0)
    }

    fn write_json_at(
        &self,
        out: &mut String,
        budget: &mut Budget,
        depth: usize,
    ) -> Result<(), Exceeded> {
        match self {
            Value::Null => {
                budget.alloc(4)?;
                out.push_str("null");
            }
            Value::Bool(_) | Value::Int(_) | Value::Long(_) | Value::Double(_) => {
                budget.alloc(24)?;
                self.write_scalar(out);
            }
            Value::Str(s) => write_json_string(out, s, budget)?,
            Value::Char(c) => write_json_string(out, &c.to_string(), budget)?,
            Value::List(items, _) => {
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                budget.alloc(2)?;
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        budget.alloc(1)?;
                        out.push(',');
                    }
                    item.write_json_at(out, budget, depth + 1)?;
                }
                out.push(']');
            }
            Value::Map(entries) => {
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                budget.alloc(2)?;
                out.push('{');
                for (i, (key, value)) in entries.borrow().iter().enumerate() {
                    if i > 0 {
                        budget.alloc(1)?;
                        out.push(',');
                    }
                    write_json_string(out, key, budget)?;
                    budget.alloc(1)?;
                    out.push(':');
                    value.write_json_at(out, budget, depth + 1)?;
                }
                out.push('}');
            }
            other => {
                let text = other.to_java_string(budget)?;
                write_json_string(out, &text, budget)?;
            }
        }
        Ok(())
    }

    pub fn to_json(&self, budget: &mut Budget) -> Result<String, Exceeded> {
        let mut out = String::new();
        self.write_json(&mut out, budget)?;
        Ok(out)
    }

    /// A value from a parsed JSON document: objects become ordered maps,
    /// arrays JSON lists, integers `Integer`/`Long`, decimals `Double`.
    /// Charges what it builds.
    pub fn from_json(json: &serde_json::Value, budget: &mut Budget) -> Result<Value, Exceeded> {
        budget.alloc(ITEM_BYTES)?;
        Ok(match json {
            serde_json::Value::String(s) => {
                budget.alloc(s.len())?;
                Value::str(s)
            }
            serde_json::Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(Value::from_json(item, budget)?);
                }
                Value::json_list(values)
            }
            serde_json::Value::Object(entries) => {
                let mut map = Entries::with_capacity(entries.len());
                for (k, v) in entries {
                    budget.alloc(ENTRY_BYTES + k.len())?;
                    map.insert(Key::from(k.as_str()), Value::from_json(v, budget)?);
                }
                Value::map(map)
            }
            scalar => Value::json_scalar(scalar),
        })
    }

    /// Velocity 1.7's equality: numbers by value, same types by `equals`,
    /// different types by their `toString`. A list or map is equal to
    /// itself without a walk (Java's `equals` checks `o == this` first).
    pub fn java_equals(&self, other: &Value, budget: &mut Budget) -> Result<bool, Exceeded> {
        self.java_equals_at(other, budget, 0)
    }

    fn java_equals_at(
        &self,
        other: &Value,
        budget: &mut Budget,
        depth: usize,
    ) -> Result<bool, Exceeded> {
        budget.step()?;
        Ok(match (self, other) {
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
            (Value::Str(a), Value::Str(b)) => {
                budget.scan(a.len().min(b.len()))?;
                a == b
            }
            (Value::List(a, _), Value::List(b, _)) => {
                if Rc::ptr_eq(a, b) {
                    return Ok(true);
                }
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                let (a, b) = (a.borrow(), b.borrow());
                if a.len() != b.len() {
                    return Ok(false);
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    if !x.java_equals_at(y, budget, depth + 1)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Value::Map(a), Value::Map(b)) => {
                if Rc::ptr_eq(a, b) {
                    return Ok(true);
                }
                if depth >= super::MAX_VALUE_DEPTH {
                    return Err(Exceeded::Depth);
                }
                let (a, b) = (a.borrow(), b.borrow());
                if a.len() != b.len() {
                    return Ok(false);
                }
                for (k, v) in a.iter() {
                    match b.get(k) {
                        Some(w) if v.java_equals_at(w, budget, depth + 1)? => {}
                        _ => return Ok(false),
                    }
                }
                true
            }
            (a, b) => a.to_java_string(budget)? == b.to_java_string(budget)?,
        })
    }
}

fn write_json_string(out: &mut String, text: &str, budget: &mut Budget) -> Result<(), Exceeded> {
    // At most six bytes for each byte of `text` (`\u001F`): when that
    // could exceed the budget, the exact size is charged before writing.
    let charged_before = text.len().saturating_mul(6) + 2 > budget.bytes_left();
    if charged_before {
        let exact = 2 + text
            .chars()
            .map(|c| match c {
                '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
                c if (c as u32) < 0x20 => 6,
                c => c.len_utf8(),
            })
            .sum::<usize>();
        budget.alloc(exact)?;
    }
    let before = out.len();
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
    if !charged_before {
        budget.alloc(out.len() - before)?;
    }
    Ok(())
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
        Ok(Value::json_list(items))
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
