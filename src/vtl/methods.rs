//! The Java methods templates call on strings, lists, maps and numbers.
//! An unknown method gives null (Velocity then prints the reference as
//! written); a method that throws in Java (an index out of range) is a
//! render error, as it is on AWS.

use std::rc::Rc;

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

fn string_arg(arguments: &[Value], i: usize) -> Option<String> {
    match arguments.get(i)? {
        Value::Null => None,
        value => Some(value.to_java_string()),
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

pub fn call(value: &Value, name: &str, arguments: &[Value]) -> Result<Value, String> {
    match value {
        Value::Str(text) => string_method(text, name, arguments),
        Value::Char(c) => string_method(&c.to_string(), name, arguments),
        Value::List(items, json) => list_method(items, *json, name, arguments),
        Value::Map(entries) => map_method(entries, name, arguments),
        Value::Entry(entry) => Ok(match name {
            "getKey" => Value::str(&entry.0),
            "getValue" => entry.1.clone(),
            "toString" => value_string(value),
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
        Value::Int(_) | Value::Long(_) | Value::Double(_) => number_method(value, name, arguments),
        Value::Bool(b) => Ok(match name {
            "toString" => value_string(value),
            "booleanValue" => Value::Bool(*b),
            "equals" => Value::Bool(arguments.first().is_some_and(|a| a.java_equals(value))),
            _ => Value::Null,
        }),
        _ => Ok(Value::Null),
    }
}

fn value_string(value: &Value) -> Value {
    Value::str(&value.to_java_string())
}

fn number_method(value: &Value, name: &str, arguments: &[Value]) -> Result<Value, String> {
    Ok(match name {
        "toString" => value_string(value),
        "intValue" => value.as_f64().map_or(Value::Null, |d| Value::Int(d as i32)),
        "longValue" => value
            .as_f64()
            .map_or(Value::Null, |d| Value::Long(d as i64)),
        "doubleValue" | "floatValue" => value.as_f64().map_or(Value::Null, Value::Double),
        "equals" => Value::Bool(arguments.first().is_some_and(|a| {
            std::mem::discriminant(a) == std::mem::discriminant(value) && a.java_equals(value)
        })),
        "compareTo" => match (value.as_f64(), arguments.first().and_then(Value::as_f64)) {
            (Some(a), Some(b)) => Value::Int(a.partial_cmp(&b).map_or(0, |o| o as i32)),
            _ => Value::Null,
        },
        _ => Value::Null,
    })
}

fn string_method(text: &str, name: &str, arguments: &[Value]) -> Result<Value, String> {
    let chars = || text.chars().collect::<Vec<char>>();
    Ok(match (name, arguments.len()) {
        ("length", 0) => Value::integer(text.encode_utf16().count() as i64),
        ("toString" | "trim" | "toUpperCase" | "toLowerCase", 0) => Value::str(&match name {
            "toString" => text.to_string(),
            "trim" => text.trim_matches(|c: char| c <= ' ').to_string(),
            "toUpperCase" => text.to_uppercase(),
            _ => text.to_lowercase(),
        }),
        ("isEmpty", 0) => Value::Bool(text.is_empty()),
        ("getBytes", 0) => Value::list(
            text.bytes()
                .map(|b| Value::Int(i32::from(b as i8)))
                .collect(),
        ),
        ("hashCode", 0) => {
            let hash = text
                .encode_utf16()
                .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
            Value::Int(hash)
        }
        ("substring", 1 | 2) => {
            let chars = chars();
            let begin = int_arg(arguments, 0).ok_or("substring expects integer positions")?;
            let end = match arguments.len() {
                2 => int_arg(arguments, 1).ok_or("substring expects integer positions")?,
                _ => chars.len() as i64,
            };
            if begin < 0 || end > chars.len() as i64 || begin > end {
                return Err(format!(
                    "java.lang.StringIndexOutOfBoundsException: begin {begin}, end {end}, length {}",
                    chars.len()
                ));
            }
            Value::str(
                &chars[begin as usize..end as usize]
                    .iter()
                    .collect::<String>(),
            )
        }
        ("charAt", 1) => {
            let chars = chars();
            let index = int_arg(arguments, 0).ok_or("charAt expects an integer")?;
            match usize::try_from(index).ok().and_then(|i| chars.get(i)) {
                Some(c) => Value::Char(*c),
                None => {
                    return Err(format!(
                        "java.lang.StringIndexOutOfBoundsException: index {index}, length {}",
                        chars.len()
                    ));
                }
            }
        }
        ("indexOf" | "lastIndexOf", 1) => {
            let Some(needle) = string_arg(arguments, 0) else {
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
            let Some(other) = string_arg(arguments, 0) else {
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
                _ => text.to_lowercase() == other.to_lowercase(),
            })
        }
        ("concat", 1) => Value::str(&format!(
            "{text}{}",
            string_arg(arguments, 0).unwrap_or_default()
        )),
        ("replace", 2) => {
            let (Some(from), Some(to)) = (string_arg(arguments, 0), string_arg(arguments, 1))
            else {
                return Ok(Value::Null);
            };
            Value::str(&text.replace(&from, &to))
        }
        ("replaceAll" | "replaceFirst", 2) => {
            let (Some(pattern), Some(replacement)) =
                (string_arg(arguments, 0), string_arg(arguments, 1))
            else {
                return Ok(Value::Null);
            };
            let regex = super::util::java_regex(&pattern)?;
            let replacement = super::util::java_replacement(&replacement);
            let result = if name == "replaceAll" {
                regex.replace_all(text, replacement.as_str())
            } else {
                regex.replacen(text, 1, replacement.as_str())
            };
            Value::str(&result)
        }
        ("matches", 1) => {
            let Some(pattern) = string_arg(arguments, 0) else {
                return Ok(Value::Null);
            };
            let regex = super::util::java_regex(&format!("^(?:{pattern})$"))?;
            Value::Bool(regex.is_match(text))
        }
        ("split", 1 | 2) => {
            let Some(pattern) = string_arg(arguments, 0) else {
                return Ok(Value::Null);
            };
            let limit = int_arg(arguments, 1).unwrap_or(0);
            let parts = super::util::java_split(text, &pattern, limit)?;
            Value::list(parts.iter().map(|p| Value::str(p)).collect())
        }
        _ => Value::Null,
    })
}

fn list_method(
    items: &super::value::List,
    json: bool,
    name: &str,
    arguments: &[Value],
) -> Result<Value, String> {
    Ok(match (name, arguments.len()) {
        ("size", 0) => Value::integer(items.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(items.borrow().is_empty()),
        ("toString", 0) => Value::str(&Value::List(Rc::clone(items), json).to_java_string()),
        ("get", 1) => {
            let items = items.borrow();
            let index = int_arg(arguments, 0).ok_or("get expects an integer index")?;
            match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                Some(value) => value.clone(),
                None => return Err(java_index_error("", index, items.len())),
            }
        }
        ("contains", 1) => Value::Bool(items.borrow().iter().any(|v| v.java_equals(&arguments[0]))),
        ("indexOf", 1) => Value::integer(
            items
                .borrow()
                .iter()
                .position(|v| v.java_equals(&arguments[0]))
                .map_or(-1, |i| i as i64),
        ),
        ("add", 1) => {
            items.borrow_mut().push(arguments[0].clone());
            Value::Bool(true)
        }
        ("add", 2) => {
            let index = int_arg(arguments, 0).ok_or("add expects an integer index")?;
            let mut items = items.borrow_mut();
            let length = items.len();
            match usize::try_from(index).ok().filter(|i| *i <= length) {
                Some(i) => items.insert(i, arguments[1].clone()),
                None => return Err(java_index_error("", index, length)),
            }
            Value::Null
        }
        ("addAll", 1) => match &arguments[0] {
            Value::List(other, _) => {
                let other = other.borrow().clone();
                items.borrow_mut().extend(other);
                Value::Bool(true)
            }
            _ => Value::Null,
        },
        ("remove", 1) => {
            let mut items = items.borrow_mut();
            match &arguments[0] {
                Value::Int(_) | Value::Long(_) => {
                    let index = int_arg(arguments, 0).unwrap_or(-1);
                    let length = items.len();
                    match usize::try_from(index).ok().filter(|i| *i < length) {
                        Some(i) => items.remove(i),
                        None => return Err(java_index_error("", index, length)),
                    }
                }
                other => match items.iter().position(|v| v.java_equals(other)) {
                    Some(i) => {
                        items.remove(i);
                        Value::Bool(true)
                    }
                    None => Value::Bool(false),
                },
            }
        }
        ("set" | "set_or_put", 2) => {
            let index = int_arg(arguments, 0).ok_or("set expects an integer index")?;
            let mut items = items.borrow_mut();
            let length = items.len();
            match usize::try_from(index).ok().filter(|i| *i < length) {
                Some(i) => std::mem::replace(&mut items[i], arguments[1].clone()),
                None => return Err(java_index_error("", index, length)),
            }
        }
        ("clear", 0) => {
            items.borrow_mut().clear();
            Value::Null
        }
        _ => Value::Null,
    })
}

fn map_method(
    entries: &super::value::Map,
    name: &str,
    arguments: &[Value],
) -> Result<Value, String> {
    let key = |i: usize| {
        arguments
            .get(i)
            .map(Value::to_java_string)
            .unwrap_or_default()
    };
    Ok(match (name, arguments.len()) {
        ("size", 0) => Value::integer(entries.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(entries.borrow().is_empty()),
        ("toString", 0) => Value::str(&Value::Map(Rc::clone(entries)).to_java_string()),
        ("get", 1) => entries
            .borrow()
            .get(key(0).as_str())
            .cloned()
            .unwrap_or_default(),
        ("getOrDefault", 2) => entries
            .borrow()
            .get(key(0).as_str())
            .cloned()
            .unwrap_or_else(|| arguments[1].clone()),
        ("containsKey", 1) => Value::Bool(entries.borrow().contains_key(key(0).as_str())),
        ("containsValue", 1) => Value::Bool(
            entries
                .borrow()
                .values()
                .any(|v| v.java_equals(&arguments[0])),
        ),
        ("put" | "set_or_put", 2) => entries
            .borrow_mut()
            .insert(key(0).into(), arguments[1].clone())
            .unwrap_or_default(),
        ("putAll", 1) => {
            if let Value::Map(other) = &arguments[0] {
                let other = other.borrow().clone();
                entries.borrow_mut().extend(other);
            }
            Value::Null
        }
        ("remove", 1) => entries
            .borrow_mut()
            .shift_remove(key(0).as_str())
            .unwrap_or_default(),
        ("keySet", 0) => Value::list(entries.borrow().keys().map(|k| Value::str(k)).collect()),
        ("values", 0) => Value::list(entries.borrow().values().cloned().collect()),
        ("entrySet", 0) => Value::list(
            entries
                .borrow()
                .iter()
                .map(|(k, v)| Value::Entry(Rc::new((k.clone(), v.clone()))))
                .collect(),
        ),
        ("clear", 0) => {
            entries.borrow_mut().clear();
            Value::Null
        }
        _ => Value::Null,
    })
}
