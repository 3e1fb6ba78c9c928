//! The Java methods templates call on strings, lists, maps and numbers.
//! An unknown method gives null (Velocity then prints the reference as
//! written); a method that throws in Java (an index out of range) is a
//! render error, as it is on AWS.

use std::rc::Rc;

use super::budget::{Budget, Exceeded};
use super::value::Value;

/// Whether `value` has a no-argument method `name` (for `$a.b` property
/// lookups, which Velocity turns into `getB()` / `isB()`).
pub fn has_method(value: &Value, name: &str) -> bool {
    match value {
        Value::Str(_) => matches!(name, "isEmpty" | "getBytes" | "getClass"),
        Value::List(..) => matches!(name, "isEmpty" | "getClass"),
        Value::Map(..) => matches!(name, "isEmpty" | "getClass"),
        Value::Entry(_) => matches!(name, "getKey" | "getValue"),
        Value::Loop(_) => matches!(
            name,
            "getIndex" | "getCount" | "getHasNext" | "isFirst" | "isLast" | "hasNext"
        ),
        Value::Input => matches!(name, "getBody"),
        _ => false,
    }
}

fn string_arg(
    arguments: &[Value],
    i: usize,
    budget: &mut Budget,
) -> Result<Option<String>, Exceeded> {
    match arguments.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.to_java_string(budget).map(Some),
    }
}

fn int_arg(arguments: &[Value], i: usize) -> Option<i64> {
    match arguments.get(i)? {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        _ => None,
    }
}

fn java_index_error(kind: &str, index: i64, length: usize) -> String {
    format!(
        "java.lang.{kind}IndexOutOfBoundsException: Index {index} out of bounds for length {length}"
    )
}

/// A string of at most `most` bytes made by `make`, charged to the budget
/// before it is allocated: when `most` could exceed what is left, its
/// `exact` size is computed (and charged) first.
pub fn produce(
    budget: &mut Budget,
    most: usize,
    exact: impl FnOnce() -> usize,
    make: impl FnOnce() -> String,
) -> Result<String, Exceeded> {
    if most > budget.bytes_left() {
        budget.alloc(exact())?;
        Ok(make())
    } else {
        let made = make();
        budget.alloc(made.len())?;
        Ok(made)
    }
}

/// Whether a value is a list, map or entry (so putting it in a container
/// may nest or make a cycle).
fn is_container(value: &Value) -> bool {
    matches!(value, Value::List(..) | Value::Map(_) | Value::Entry(_))
}

pub fn call(
    value: &Value,
    name: &str,
    arguments: &[Value],
    budget: &mut Budget,
) -> Result<Value, String> {
    match value {
        Value::Str(text) => string_method(text, name, arguments, budget),
        Value::Char(c) => string_method(&c.to_string(), name, arguments, budget),
        Value::List(items, json) => list_method(value, items, *json, name, arguments, budget),
        Value::Map(entries) => map_method(value, entries, name, arguments, budget),
        Value::Entry(entry) => Ok(match name {
            "getKey" => Value::str(&entry.0),
            "getValue" => entry.1.clone(),
            "toString" => value_string(value, budget)?,
            _ => Value::Null,
        }),
        Value::Loop(state) => Ok(match name {
            "getIndex" => Value::integer(i64::from(state.index)),
            "getCount" => Value::integer(i64::from(state.count)),
            "hasNext" | "getHasNext" => Value::Bool(state.has_next),
            "isFirst" => Value::Bool(state.index == 0),
            "isLast" => Value::Bool(!state.has_next),
            _ => Value::Null,
        }),
        Value::Int(_) | Value::Long(_) | Value::Double(_) => {
            number_method(value, name, arguments, budget)
        }
        Value::Bool(b) => Ok(match name {
            "toString" => value_string(value, budget)?,
            "booleanValue" => Value::Bool(*b),
            "equals" => Value::Bool(match arguments.first() {
                Some(a) => a.java_equals(value, budget)?,
                None => false,
            }),
            _ => Value::Null,
        }),
        _ => Ok(Value::Null),
    }
}

fn value_string(value: &Value, budget: &mut Budget) -> Result<Value, Exceeded> {
    Ok(Value::str(&value.to_java_string(budget)?))
}

fn number_method(
    value: &Value,
    name: &str,
    arguments: &[Value],
    budget: &mut Budget,
) -> Result<Value, String> {
    Ok(match name {
        "toString" => value_string(value, budget)?,
        "intValue" => value.as_f64().map_or(Value::Null, |d| Value::Int(d as i32)),
        "longValue" => value
            .as_f64()
            .map_or(Value::Null, |d| Value::Long(d as i64)),
        "doubleValue" | "floatValue" => value.as_f64().map_or(Value::Null, Value::Double),
        "equals" => Value::Bool(match arguments.first() {
            Some(a) if std::mem::discriminant(a) == std::mem::discriminant(value) => {
                a.java_equals(value, budget)?
            }
            _ => false,
        }),
        "compareTo" => match (value.as_f64(), arguments.first().and_then(Value::as_f64)) {
            (Some(a), Some(b)) => Value::Int(a.partial_cmp(&b).map_or(0, |o| o as i32)),
            _ => Value::Null,
        },
        _ => Value::Null,
    })
}

/// The byte offset of the `index`th character of `text` (its length for
/// the character count), without collecting the characters.
fn char_offset(text: &str, index: usize) -> Option<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .nth(index)
}

fn string_method(
    text: &str,
    name: &str,
    arguments: &[Value],
    budget: &mut Budget,
) -> Result<Value, String> {
    // Every string method reads the string (at most) once.
    budget.scan(text.len())?;
    let char_count = || text.chars().count();
    Ok(match (name, arguments.len()) {
        ("length", 0) => Value::integer(text.encode_utf16().count() as i64),
        ("toString" | "trim", 0) => {
            budget.alloc(text.len())?;
            Value::str(match name {
                "toString" => text,
                _ => text.trim_matches(|c: char| c <= ' '),
            })
        }
        ("toUpperCase" | "toLowerCase", 0) => {
            let upper = name == "toUpperCase";
            let exact = || {
                text.chars()
                    .map(|c| {
                        if upper {
                            c.to_uppercase().map(char::len_utf8).sum::<usize>()
                        } else {
                            c.to_lowercase().map(char::len_utf8).sum::<usize>()
                        }
                    })
                    .sum()
            };
            let made = produce(budget, text.len().saturating_mul(3), exact, || {
                if upper {
                    text.to_uppercase()
                } else {
                    text.to_lowercase()
                }
            })?;
            Value::str(&made)
        }
        ("isEmpty", 0) => Value::Bool(text.is_empty()),
        ("getBytes", 0) => {
            budget.alloc(text.len().saturating_mul(super::value::ITEM_BYTES))?;
            Value::list(
                text.bytes()
                    .map(|b| Value::Int(i32::from(b as i8)))
                    .collect(),
            )
        }
        ("hashCode", 0) => {
            let hash = text
                .encode_utf16()
                .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
            Value::Int(hash)
        }
        ("substring", 1 | 2) => {
            let length = char_count();
            let begin = int_arg(arguments, 0).ok_or("substring expects integer positions")?;
            let end = match arguments.len() {
                2 => int_arg(arguments, 1).ok_or("substring expects integer positions")?,
                _ => length as i64,
            };
            if begin < 0 || end > length as i64 || begin > end {
                return Err(format!(
                    "java.lang.StringIndexOutOfBoundsException: begin {begin}, end {end}, length {length}"
                ));
            }
            let from = char_offset(text, begin as usize).unwrap_or(text.len());
            let to = char_offset(text, end as usize).unwrap_or(text.len());
            budget.alloc(to - from)?;
            Value::str(&text[from..to])
        }
        ("charAt", 1) => {
            let index = int_arg(arguments, 0).ok_or("charAt expects an integer")?;
            match usize::try_from(index)
                .ok()
                .and_then(|i| text.chars().nth(i))
            {
                Some(c) => Value::Char(c),
                None => {
                    return Err(format!(
                        "java.lang.StringIndexOutOfBoundsException: index {index}, length {}",
                        char_count()
                    ));
                }
            }
        }
        ("indexOf" | "lastIndexOf", 1) => {
            let Some(needle) = string_arg(arguments, 0, budget)? else {
                return Ok(Value::Null);
            };
            let found = if name == "indexOf" {
                text.find(&needle)
            } else {
                text.rfind(&needle)
            };
            Value::integer(found.map_or(-1, |byte| text[..byte].chars().count() as i64))
        }
        ("contains" | "startsWith" | "endsWith" | "equals" | "equalsIgnoreCase", 1) => {
            let Some(other) = string_arg(arguments, 0, budget)? else {
                return Ok(Value::Bool(false));
            };
            if name == "equals" && !matches!(arguments[0], Value::Str(_)) {
                return Ok(Value::Bool(false));
            }
            Value::Bool(match name {
                "contains" => text.contains(&other),
                "startsWith" => text.starts_with(&other),
                "endsWith" => text.ends_with(&other),
                "equals" => text == other,
                _ => {
                    budget.alloc((text.len() + other.len()).saturating_mul(3))?;
                    text.to_lowercase() == other.to_lowercase()
                }
            })
        }
        ("concat", 1) => {
            let other = string_arg(arguments, 0, budget)?.unwrap_or_default();
            budget.alloc(text.len() + other.len())?;
            Value::str(&format!("{text}{other}"))
        }
        ("replace", 2) => {
            let (Some(from), Some(to)) = (
                string_arg(arguments, 0, budget)?,
                string_arg(arguments, 1, budget)?,
            ) else {
                return Ok(Value::Null);
            };
            // Java inserts `to` between characters for an empty `from`, as
            // Rust's `replace` does.
            let most_matches = if from.is_empty() {
                text.len() + 1
            } else {
                text.len() / from.len()
            };
            let most = text
                .len()
                .saturating_add(most_matches.saturating_mul(to.len()));
            let exact = || {
                let matches = if from.is_empty() {
                    char_count() + 1
                } else {
                    text.matches(from.as_str()).count()
                };
                (text.len() + matches * to.len()).saturating_sub(matches * from.len())
            };
            let made = produce(budget, most, exact, || text.replace(&from, &to))?;
            Value::str(&made)
        }
        ("replaceAll" | "replaceFirst", 2) => {
            let (Some(pattern), Some(replacement)) = (
                string_arg(arguments, 0, budget)?,
                string_arg(arguments, 1, budget)?,
            ) else {
                return Ok(Value::Null);
            };
            let regex = super::util::java_regex(&pattern, budget)?;
            let made = super::util::java_replace(
                &regex,
                text,
                &replacement,
                name == "replaceAll",
                budget,
            )?;
            Value::str(&made)
        }
        ("matches", 1) => {
            let Some(pattern) = string_arg(arguments, 0, budget)? else {
                return Ok(Value::Null);
            };
            let regex = super::util::java_regex(&format!("^(?:{pattern})$"), budget)?;
            super::util::charge_regex_search(text, budget)?;
            Value::Bool(regex.is_match(text))
        }
        ("split", 1 | 2) => {
            let Some(pattern) = string_arg(arguments, 0, budget)? else {
                return Ok(Value::Null);
            };
            let limit = int_arg(arguments, 1).unwrap_or(0);
            let parts = super::util::java_split(text, &pattern, limit, budget)?;
            Value::list(parts.iter().map(|p| Value::str(p)).collect())
        }
        _ => Value::Null,
    })
}

fn list_method(
    value: &Value,
    items: &super::value::List,
    json: bool,
    name: &str,
    arguments: &[Value],
    budget: &mut Budget,
) -> Result<Value, String> {
    const ITEM: usize = super::value::ITEM_BYTES;
    Ok(match (name, arguments.len()) {
        ("size", 0) => Value::integer(items.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(items.borrow().is_empty()),
        ("toString", 0) => {
            let text = Value::List(Rc::clone(items), json).to_java_string(budget)?;
            Value::str(&text)
        }
        ("get", 1) => {
            let items = items.borrow();
            let index = int_arg(arguments, 0).ok_or("get expects an integer index")?;
            match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                Some(value) => value.clone(),
                None => return Err(java_index_error("", index, items.len())),
            }
        }
        ("contains" | "indexOf", 1) => {
            let mut found = None;
            for (i, item) in items.borrow().iter().enumerate() {
                if item.java_equals(&arguments[0], budget)? {
                    found = Some(i);
                    break;
                }
            }
            if name == "contains" {
                Value::Bool(found.is_some())
            } else {
                Value::integer(found.map_or(-1, |i| i as i64))
            }
        }
        ("add", 1) => {
            budget.alloc(ITEM)?;
            budget.nest(value, &arguments[0])?;
            items.borrow_mut().push(arguments[0].clone());
            Value::Bool(true)
        }
        ("add", 2) => {
            let index = int_arg(arguments, 0).ok_or("add expects an integer index")?;
            let length = items.borrow().len();
            match usize::try_from(index).ok().filter(|i| *i <= length) {
                Some(i) => {
                    budget.alloc(ITEM)?;
                    budget.scan((length - i) * ITEM)?;
                    budget.nest(value, &arguments[1])?;
                    items.borrow_mut().insert(i, arguments[1].clone());
                }
                None => return Err(java_index_error("", index, length)),
            }
            Value::Null
        }
        ("addAll", 1) => match &arguments[0] {
            Value::List(other, _) => {
                let other = {
                    let other = other.borrow();
                    budget.alloc(other.len().saturating_mul(ITEM))?;
                    if let Some(nested) = other.iter().find(|v| is_container(v)) {
                        budget.nest(value, nested)?;
                    }
                    other.to_vec()
                };
                items.borrow_mut().extend(other);
                Value::Bool(true)
            }
            _ => Value::Null,
        },
        ("remove", 1) => match &arguments[0] {
            Value::Int(_) | Value::Long(_) => {
                let index = int_arg(arguments, 0).unwrap_or(-1);
                let mut items = items.borrow_mut();
                let length = items.len();
                match usize::try_from(index).ok().filter(|i| *i < length) {
                    Some(i) => {
                        budget.scan((length - i) * ITEM)?;
                        items.remove(i)
                    }
                    None => return Err(java_index_error("", index, length)),
                }
            }
            other => {
                let mut found = None;
                for (i, item) in items.borrow().iter().enumerate() {
                    if item.java_equals(other, budget)? {
                        found = Some(i);
                        break;
                    }
                }
                match found {
                    Some(i) => {
                        let removed = items.borrow_mut().remove(i);
                        drop(removed);
                        Value::Bool(true)
                    }
                    None => Value::Bool(false),
                }
            }
        },
        ("set" | "set_or_put", 2) => {
            let index = int_arg(arguments, 0).ok_or("set expects an integer index")?;
            let length = items.borrow().len();
            match usize::try_from(index).ok().filter(|i| *i < length) {
                Some(i) => {
                    budget.nest(value, &arguments[1])?;
                    std::mem::replace(&mut items.borrow_mut()[i], arguments[1].clone())
                }
                None => return Err(java_index_error("", index, length)),
            }
        }
        ("clear", 0) => {
            let cleared = std::mem::take(&mut **items.borrow_mut());
            drop(super::value::Items::from(cleared));
            Value::Null
        }
        _ => Value::Null,
    })
}

fn map_method(
    value: &Value,
    entries: &super::value::Map,
    name: &str,
    arguments: &[Value],
    budget: &mut Budget,
) -> Result<Value, String> {
    const ENTRY: usize = super::value::ENTRY_BYTES;
    const ITEM: usize = super::value::ITEM_BYTES;
    let key = |i: usize, budget: &mut Budget| -> Result<String, Exceeded> {
        match arguments.get(i) {
            Some(argument) => argument.to_java_string(budget),
            None => Ok(String::new()),
        }
    };
    Ok(match (name, arguments.len()) {
        ("size", 0) => Value::integer(entries.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(entries.borrow().is_empty()),
        ("toString", 0) => {
            let text = Value::Map(Rc::clone(entries)).to_java_string(budget)?;
            Value::str(&text)
        }
        ("get", 1) => {
            let key = key(0, budget)?;
            entries
                .borrow()
                .get(key.as_str())
                .cloned()
                .unwrap_or_default()
        }
        ("getOrDefault", 2) => {
            let key = key(0, budget)?;
            entries
                .borrow()
                .get(key.as_str())
                .cloned()
                .unwrap_or_else(|| arguments[1].clone())
        }
        ("containsKey", 1) => {
            let key = key(0, budget)?;
            Value::Bool(entries.borrow().contains_key(key.as_str()))
        }
        ("containsValue", 1) => {
            let mut found = false;
            for item in entries.borrow().values() {
                if item.java_equals(&arguments[0], budget)? {
                    found = true;
                    break;
                }
            }
            Value::Bool(found)
        }
        ("put" | "set_or_put", 2) => {
            let key = key(0, budget)?;
            budget.alloc(ENTRY + key.len())?;
            budget.nest(value, &arguments[1])?;
            entries
                .borrow_mut()
                .insert(key.into(), arguments[1].clone())
                .unwrap_or_default()
        }
        ("putAll", 1) => {
            if let Value::Map(other) = &arguments[0] {
                let other = {
                    let other = other.borrow();
                    budget.alloc(other.len().saturating_mul(ENTRY))?;
                    if let Some(nested) = other.values().find(|v| is_container(v)) {
                        budget.nest(value, nested)?;
                    }
                    other.clone()
                };
                entries.borrow_mut().extend(other);
            }
            Value::Null
        }
        ("remove", 1) => {
            let key = key(0, budget)?;
            budget.scan(entries.borrow().len() * ENTRY)?;
            let removed = entries.borrow_mut().shift_remove(key.as_str());
            removed.unwrap_or_default()
        }
        ("keySet", 0) => {
            let entries = entries.borrow();
            budget.alloc(entries.len().saturating_mul(ITEM + 16))?;
            Value::list(entries.keys().map(|k| Value::Str(Rc::clone(k))).collect())
        }
        ("values", 0) => {
            let entries = entries.borrow();
            budget.alloc(entries.len().saturating_mul(ITEM))?;
            Value::list(entries.values().cloned().collect())
        }
        ("entrySet", 0) => {
            let entries = entries.borrow();
            budget.alloc(entries.len().saturating_mul(ITEM + ENTRY))?;
            Value::list(
                entries
                    .iter()
                    .map(|(k, v)| Value::Entry(Rc::new((k.clone(), v.clone()))))
                    .collect(),
            )
        }
        ("clear", 0) => {
            let mut cleared = Vec::new();
            entries.borrow_mut().drain_values_into(&mut cleared);
            drop(super::value::Items::from(cleared));
            Value::Null
        }
        _ => Value::Null,
    })
}
