//! Reading a JSON document with errors that name the JSON pointer of the
//! offending value.

use std::collections::BTreeMap;

use serde_json::Value;

use super::OpenApiError;

/// `pointer` extended by one key, escaped as RFC 6901 says.
pub fn child(pointer: &str, key: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + key.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn expected(pointer: &str, what: &str, found: &Value) -> OpenApiError {
    OpenApiError::invalid(pointer, format!("expected {what}, found {}", kind(found)))
}

/// The object at `pointer`, or an error.
pub fn object<'a>(
    value: &'a Value,
    pointer: &str,
) -> Result<&'a serde_json::Map<String, Value>, OpenApiError> {
    value
        .as_object()
        .ok_or_else(|| expected(pointer, "an object", value))
}

/// An optional field of an object, by type.
pub struct Fields<'a> {
    pub map: &'a serde_json::Map<String, Value>,
    pub pointer: &'a str,
}

impl<'a> Fields<'a> {
    pub fn new(value: &'a Value, pointer: &'a str) -> Result<Fields<'a>, OpenApiError> {
        Ok(Fields {
            map: object(value, pointer)?,
            pointer,
        })
    }

    pub fn at(&self, key: &str) -> String {
        child(self.pointer, key)
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>, OpenApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(expected(&self.at(key), "a string", other)),
        }
    }

    /// A string field that AWS also accepts as a number (`statusCode: 200`).
    pub fn string_or_number(&self, key: &str) -> Result<Option<String>, OpenApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(expected(&self.at(key), "a string", other)),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, OpenApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(expected(&self.at(key), "a boolean", other)),
        }
    }

    pub fn integer(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, OpenApiError> {
        let value = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(other) => return Err(expected(&self.at(key), "an integer", other)),
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(OpenApiError::invalid(
                &self.at(key),
                format!("expected an integer from {min} to {max}"),
            )),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Vec<String>, OpenApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(expected(
                        &child(&self.at(key), &i.to_string()),
                        "a string",
                        other,
                    )),
                })
                .collect(),
            Some(other) => Err(expected(&self.at(key), "an array of strings", other)),
        }
    }

    /// A `{string: string}` map (request parameters, templates).
    pub fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, OpenApiError> {
        let Some(value) = self.map.get(key) else {
            return Ok(BTreeMap::new());
        };
        if value.is_null() {
            return Ok(BTreeMap::new());
        }
        let at = self.at(key);
        object(value, &at)?
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(expected(&child(&at, k), "a string", other)),
            })
            .collect()
    }
}

/// Follows local `$ref`s (`#/components/...`) from `value`, at most 32 hops.
/// Returns the target and its pointer.
pub fn resolve<'a>(
    document: &'a Value,
    value: &'a Value,
    pointer: &str,
) -> Result<(&'a Value, String), OpenApiError> {
    let mut current = value;
    let mut at = pointer.to_string();
    for _ in 0..32 {
        let Some(reference) = current.get("$ref") else {
            return Ok((current, at));
        };
        let Some(reference) = reference.as_str() else {
            return Err(expected(&child(&at, "$ref"), "a string", reference));
        };
        let Some(target) = reference.strip_prefix('#') else {
            return Err(OpenApiError::invalid(
                &child(&at, "$ref"),
                format!("only local references (#/...) are supported, found {reference:?}"),
            ));
        };
        let decoded = percent_encoding::percent_decode_str(target).decode_utf8_lossy();
        current = document.pointer(&decoded).ok_or_else(|| {
            OpenApiError::invalid(
                &child(&at, "$ref"),
                format!("{reference:?} does not point at anything in this document"),
            )
        })?;
        at = decoded.into_owned();
    }
    Err(OpenApiError::invalid(
        &child(&at, "$ref"),
        "too many nested references (a cycle?)",
    ))
}
