//! Lambda integrations: `AWS_PROXY` (the REST proxy event, payload format
//! 1.0, and AWS's rules for the function's answer) and `AWS` (the mapped
//! body in, the function's result or error out to integration responses).

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

/// What the proxy event is built from.
pub struct ProxyRequest<'a> {
    pub resource_path: &'a str,
    /// The path below the stage, as sent (`/pets/7`).
    pub path: &'a str,
    pub http_method: &'a str,
    pub headers: &'a HeaderMap,
    pub query: &'a [(String, String)],
    pub path_parameters: &'a [(String, String)],
    pub stage_variables: &'a [(String, String)],
    /// `$context` as templates see it; the event's `requestContext` is
    /// made from it.
    pub context: Value,
    pub body: &'a [u8],
    /// The body is binary (its content type is one of `binaryMediaTypes`).
    pub binary: bool,
}

fn map_or_null(pairs: impl Iterator<Item = (String, Value)>) -> Value {
    let map: Map<String, Value> = pairs.collect();
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The REST API proxy event (payload format 1.0).
pub fn proxy_event(request: &ProxyRequest<'_>) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_string(), Value::String(value.clone()));
        match multi_headers.get_mut(name.as_str()) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            _ => {
                multi_headers.insert(name.as_str().to_string(), json!([value]));
            }
        }
    }
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (name, value) in request.query {
        query.insert(name.clone(), Value::String(value.clone()));
        match multi_query.get_mut(name) {
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            _ => {
                multi_query.insert(name.clone(), json!([value]));
            }
        }
    }
    let (body, base64) = if request.body.is_empty() {
        (Value::Null, false)
    } else if request.binary {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(request.body)),
            true,
        )
    } else {
        (
            Value::String(String::from_utf8_lossy(request.body).into_owned()),
            false,
        )
    };
    let mut context = request.context.clone();
    if let Value::Object(map) = &mut context {
        for key in [
            "error",
            "requestOverride",
            "responseOverride",
            "awsEndpointRequestId",
            "isCanaryRequest",
            "wafResponseCode",
            "webaclArn",
        ] {
            map.remove(key);
        }
        if map
            .get("authorizer")
            .is_some_and(|a| a.as_object().is_some_and(Map::is_empty))
        {
            map.remove("authorizer");
        }
        // Identity fields AWS leaves unset are null in the event.
        if let Some(Value::Object(identity)) = map.get_mut("identity") {
            for value in identity.values_mut() {
                if value.as_str() == Some("") {
                    *value = Value::Null;
                }
            }
        }
    }
    json!({
        "resource": request.resource_path,
        "path": request.path,
        "httpMethod": request.http_method,
        "headers": map_or_null(headers.into_iter()),
        "multiValueHeaders": map_or_null(multi_headers.into_iter()),
        "queryStringParameters": map_or_null(query.into_iter()),
        "multiValueQueryStringParameters": map_or_null(multi_query.into_iter()),
        "pathParameters": map_or_null(request.path_parameters.iter().map(|(k, v)| (k.clone(), json!(v)))),
        "stageVariables": map_or_null(request.stage_variables.iter().map(|(k, v)| (k.clone(), json!(v)))),
        "requestContext": context,
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// The function's answer to a proxy event, as the client gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

fn header_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads the function's result by AWS's rules: a JSON object with
/// `statusCode`, optional `headers` / `multiValueHeaders` / `body` (a
/// string) / `isBase64Encoded`. Anything else is a malformed proxy response
/// (`Err` says why; AWS answers 502).
pub fn proxy_response(payload: &[u8]) -> Result<ProxyResponse, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the result is not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("the result is not a JSON object".into());
    };
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "statusCode" | "headers" | "multiValueHeaders" | "body" | "isBase64Encoded"
        ) {
            return Err(format!("unexpected field {key:?}"));
        }
    }
    let status = match map.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        None | Some(Value::Null) => return Err("statusCode is missing".into()),
        Some(_) => None,
    }
    .filter(|s| (100..=599).contains(s))
    .ok_or("statusCode is not an HTTP status code")? as u16;
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: String, append: bool| -> Result<(), String> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        if append {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
        Ok(())
    };
    match map.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(multi)) => {
            for (name, values) in multi {
                let Value::Array(values) = values else {
                    return Err(format!("multiValueHeaders.{name} is not a list"));
                };
                for value in values {
                    let text = header_text(value)
                        .ok_or_else(|| format!("multiValueHeaders.{name} holds a non-scalar"))?;
                    put(name, text, true)?;
                }
            }
        }
        Some(_) => return Err("multiValueHeaders is not an object".into()),
    }
    match map.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(single)) => {
            for (name, value) in single {
                let text =
                    header_text(value).ok_or_else(|| format!("headers.{name} is not a string"))?;
                put(name, text, false)?;
            }
        }
        Some(_) => return Err("headers is not an object".into()),
    }
    let base64 = match map.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("isBase64Encoded is not a boolean".into()),
    };
    let body = match map.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| "body is not valid base64".to_string())?,
        ),
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(_) => return Err("body is not a string".into()),
    };
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}

/// The `errorMessage` of a function error document (what non-proxy
/// integration responses' `selectionPattern`s match).
pub fn error_message(payload: &[u8]) -> String {
    serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_responses_follow_aws_rules() {
        let ok = proxy_response(br#"{"statusCode": 201, "headers": {"X-A": "1", "X-N": 2}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "hi"}"#).unwrap();
        assert_eq!(ok.status, 201);
        assert_eq!(ok.headers["x-a"], "1");
        assert_eq!(ok.headers["x-n"], "2");
        assert_eq!(ok.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(ok.body, "hi");
        let binary =
            proxy_response(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#)
                .unwrap();
        assert_eq!(binary.body, "hi");
        for bad in [
            &br#"not json"#[..],
            br#"[1]"#,
            br#"{"body": "x"}"#,
            br#"{"statusCode": 200, "body": {"a": 1}}"#,
            br#"{"statusCode": 200, "extra": 1}"#,
            br#"{"statusCode": 99}"#,
            br#"{"statusCode": 200, "headers": {"a": {"b": 1}}}"#,
        ] {
            assert!(
                proxy_response(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
