//! AWS's bindings: `$input`, `$util` and the `$context` overrides
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html>).

use super::Bindings;
use super::budget::{Budget, Exceeded};
use super::methods::produce;
use super::value::Value;

/// `$input` for one render: the body (parsed as JSON on first use) and the
/// request parameters.
pub struct InputState<'b> {
    body: &'b str,
    parsed: Option<serde_json::Value>,
    path: &'b [(String, String)],
    querystring: &'b [(String, String)],
    header: &'b [(String, String)],
}

impl<'b> InputState<'b> {
    pub fn new(bindings: &Bindings<'b>) -> Self {
        InputState {
            body: bindings.body,
            parsed: None,
            path: bindings.path,
            querystring: bindings.querystring,
            header: bindings.header,
        }
    }

    /// The body as JSON. An empty body reads as `{}` (AWS maps an empty
    /// payload to an empty object); anything else that is not JSON fails the
    /// render.
    fn document(&mut self, budget: &mut Budget) -> Result<&serde_json::Value, String> {
        if self.parsed.is_none() {
            budget.alloc(parsed_bytes(self.body))?;
            let text = self.body.trim();
            let parsed = if text.is_empty() {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                serde_json::from_str(text)
                    .map_err(|e| format!("Unable to parse the body as JSON: {e}"))?
            };
            self.parsed = Some(parsed);
        }
        Ok(self.parsed.as_ref().unwrap_or(&serde_json::Value::Null))
    }

    /// `$input.path('$')`: the body parsed straight into template values.
    fn root(&self, budget: &mut Budget) -> Result<Value, String> {
        budget.alloc(parsed_bytes(self.body))?;
        let text = self.body.trim();
        if text.is_empty() {
            return Ok(Value::map(super::value::Entries::default()));
        }
        if let Some(value) = super::json::parse(text) {
            return Ok(value);
        }
        serde_json::from_str(text).map_err(|e| format!("Unable to parse the body as JSON: {e}"))
    }

    fn select(
        &mut self,
        path: &str,
        budget: &mut Budget,
    ) -> Result<Option<serde_json::Value>, String> {
        budget.step()?;
        let document = self.document(budget)?;
        crate::jsonpath::select(document, path)
            .map_err(|e| format!("Invalid JSONPath {path:?}: {e}"))
    }

    pub fn call(
        &mut self,
        name: &str,
        arguments: &[Value],
        budget: &mut Budget,
    ) -> Result<Value, String> {
        let text_argument = |budget: &mut Budget| -> Result<Option<String>, Exceeded> {
            arguments
                .first()
                .map(|argument| argument.to_java_string(budget))
                .transpose()
        };
        match (name, arguments.len()) {
            ("body" | "getBody", 0) => {
                budget.alloc(self.body.len())?;
                Ok(Value::str(self.body))
            }
            // `$input.json(x)`: the selection as JSON text ("null" when the
            // path selects nothing, as LocalStack's AWS-validated tests have it).
            ("json", 1) => {
                let path = text_argument(budget)?.unwrap_or_else(|| "$".into());
                Ok(Value::str(&match self.select(&path, budget)? {
                    Some(selected) => Value::from_json(&selected, budget)?.to_json(budget)?,
                    None => "null".to_string(),
                }))
            }
            // `$input.path(x)`: a value to walk; a missing path reads as an
            // empty string.
            ("path", 1) => {
                let path = text_argument(budget)?.unwrap_or_else(|| "$".into());
                if path == "$" && self.parsed.is_none() {
                    return self.root(budget);
                }
                Ok(match self.select(&path, budget)? {
                    Some(selected) => Value::from_json(&selected, budget)?,
                    None => Value::str(""),
                })
            }
            ("params", 0) => {
                let pairs = self.path.len() + self.querystring.len() + self.header.len();
                budget.alloc(pairs * (super::value::ENTRY_BYTES + 64))?;
                let mut all = super::value::Entries::default();
                all.insert("path".into(), pairs_map(self.path));
                all.insert("querystring".into(), pairs_map(self.querystring));
                all.insert("header".into(), pairs_map(self.header));
                Ok(Value::map(all))
            }
            // `$input.params(x)`: path, then query string, then header.
            ("params", 1) => {
                let Some(wanted) = text_argument(budget)? else {
                    return Ok(Value::str(""));
                };
                let found = [self.path, self.querystring]
                    .iter()
                    .find_map(|pairs| pairs.iter().find(|(k, _)| *k == wanted))
                    .or_else(|| {
                        self.header
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&wanted))
                    });
                Ok(Value::str(found.map_or("", |(_, v)| v.as_str())))
            }
            _ => Ok(Value::Null),
        }
    }
}

fn pairs_map(pairs: &[(String, String)]) -> Value {
    Value::map(
        pairs
            .iter()
            .map(|(k, v)| (k.as_str().into(), Value::str(v)))
            .collect(),
    )
}

/// What parsing `body` into values may take: its text's size twice over
/// (a value per few bytes of JSON).
fn parsed_bytes(body: &str) -> usize {
    body.len().saturating_mul(2)
}

/// `$util.*`. Each result is charged to the budget before it is made.
pub fn util(name: &str, arguments: &[Value], budget: &mut Budget) -> Result<Value, String> {
    let Some(argument) = arguments.first() else {
        return Ok(Value::Null);
    };
    if arguments.len() != 1 {
        return Ok(Value::Null);
    }
    let text = argument.to_java_string(budget)?;
    budget.scan(text.len())?;
    Ok(match name {
        "escapeJavaScript" => {
            if argument.is_null() {
                return Ok(Value::Null);
            }
            let escaped = produce(
                budget,
                text.len().saturating_mul(6),
                || super::util::escaped_javascript_len(&text),
                || super::util::escape_javascript(&text),
            )?;
            Value::str(&escaped)
        }
        "urlEncode" => {
            let encoded = produce(
                budget,
                text.len().saturating_mul(3),
                || super::util::url_encode(&text).len(),
                || super::util::url_encode(&text),
            )?;
            Value::str(&encoded)
        }
        "urlDecode" => {
            budget.alloc(text.len())?;
            Value::str(&super::util::url_decode(&text)?)
        }
        "base64Encode" => {
            budget.alloc(text.len().div_ceil(3).saturating_mul(4))?;
            Value::str(&super::util::base64_encode(&text))
        }
        "base64Decode" => {
            budget.alloc(text.len())?;
            Value::str(&super::util::base64_decode(&text)?)
        }
        "parseJson" => {
            budget.alloc(parsed_bytes(&text))?;
            let parsed: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("$util.parseJson: invalid JSON: {e}"))?;
            Value::from_json(&parsed, budget)?
        }
        _ => Value::Null,
    })
}

/// Reads what the template wrote into `$context.requestOverride` and
/// `$context.responseOverride`.
pub fn overrides(context: &Value, budget: &mut Budget) -> Result<super::Overrides, Exceeded> {
    let mut overrides = super::Overrides::default();
    let Value::Map(context) = context else {
        return Ok(overrides);
    };
    let context = context.borrow();
    let section =
        |name: &str, part: &str, budget: &mut Budget| -> Result<Vec<(String, String)>, Exceeded> {
            let mut pairs = Vec::new();
            if let Some(Value::Map(section)) = context.get(name)
                && let Some(Value::Map(entries)) = section.borrow().get(part)
            {
                for (k, v) in entries.borrow().iter() {
                    if !v.is_null() {
                        budget.alloc(k.len())?;
                        pairs.push((k.to_string(), v.to_java_string(budget)?));
                    }
                }
            }
            Ok(pairs)
        };
    overrides.request_headers = section("requestOverride", "header", budget)?;
    overrides.request_querystring = section("requestOverride", "querystring", budget)?;
    overrides.request_path = section("requestOverride", "path", budget)?;
    overrides.response_headers = section("responseOverride", "header", budget)?;
    if let Some(Value::Map(response)) = context.get("responseOverride") {
        overrides.response_status = match response.borrow().get("status") {
            Some(Value::Int(n)) => u16::try_from(*n).ok(),
            Some(Value::Long(n)) => u16::try_from(*n).ok(),
            Some(Value::Str(s)) => s.trim().parse().ok(),
            _ => None,
        };
    }
    Ok(overrides)
}
