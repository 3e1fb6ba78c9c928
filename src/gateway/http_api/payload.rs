//! The Lambda proxy payloads of HTTP APIs: the 2.0 and 1.0 events a
//! function (or a REQUEST authorizer) gets, and the 2.0 response rules.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use super::stage::{CompiledHttpStage, HttpRequest};
use crate::gateway::responses::Reply;

pub(crate) fn now_parts() -> (String, i64) {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    (
        now.format(&format).unwrap_or_default(),
        (now.unix_timestamp_nanos() / 1_000_000) as i64,
    )
}

pub(crate) fn body_field(body: &[u8], headers: &HeaderMap) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let textual = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("text/")
                || t.contains("json")
                || t.contains("xml")
                || t.contains("javascript")
                || t.contains("x-www-form-urlencoded")
        });
    match std::str::from_utf8(body) {
        Ok(text) if textual => (Some(text.to_string()), false),
        _ => {
            use base64::Engine as _;
            (
                Some(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            )
        }
    }
}

/// The payload format 2.0 event, with the fields AWS documents
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>);
/// absent parts are left out, as AWS does.
pub fn event_v2(
    stage: &CompiledHttpStage,
    route_key: &str,
    parameters: &[(String, String)],
    request: &HttpRequest,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| Value::String(c.trim().to_string())),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let mut query = Map::new();
    for (name, value) in crate::gateway::request::MethodRequest::parse_query(&request.raw_query) {
        match query.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                query.insert(name, Value::String(value));
            }
        }
    }
    let (time, epoch) = now_parts();
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path_with_stage(&stage.stage_name),
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": stage.api_id,
            "domainName": request.domain_name,
            "domainPrefix": request.domain_name.split('.').next().unwrap_or_default(),
            "http": {
                "method": request.method.as_str(),
                "path": request.path_with_stage(&stage.stage_name),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": stage.stage_name,
            "time": time,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": false,
    });
    let object = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        object.insert("cookies".into(), Value::Array(cookies));
    }
    if !query.is_empty() {
        object.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !parameters.is_empty() {
        let map: Map<String, Value> = parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        object.insert("pathParameters".into(), Value::Object(map));
    }
    if !stage.stage_variables.is_empty() {
        let map: Map<String, Value> = stage
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        object.insert("stageVariables".into(), Value::Object(map));
    }
    let (body, base64) = body_field(&request.body, &request.headers);
    if let Some(body) = body {
        object.insert("body".into(), Value::String(body));
        object.insert("isBase64Encoded".into(), Value::Bool(base64));
    }
    event
}

impl HttpRequest {
    /// The path as the client sent it, with the stage segment unless the
    /// stage is `$default`.
    pub(crate) fn path_with_stage(&self, stage: &str) -> String {
        if stage == "$default" {
            self.path.clone()
        } else {
            format!("/{stage}{}", self.path)
        }
    }
}

/// Payload format 1.0: the REST proxy event's shape.
pub(crate) fn event_v1(
    stage: &CompiledHttpStage,
    route_key: &str,
    parameters: &[(String, String)],
    request: &HttpRequest,
) -> Value {
    let query = crate::gateway::request::MethodRequest::parse_query(&request.raw_query);
    let (_, epoch) = now_parts();
    let context = json!({
        "accountId": "000000000000",
        "apiId": stage.api_id,
        "domainName": request.domain_name,
        "httpMethod": request.method.as_str(),
        "path": request.path_with_stage(&stage.stage_name),
        "protocol": request.protocol,
        "requestId": request.request_id,
        "requestTimeEpoch": epoch,
        "resourcePath": route_key.split_once(' ').map_or(route_key, |(_, p)| p),
        "routeKey": route_key,
        "stage": stage.stage_name,
        "identity": {"sourceIp": request.source_ip},
    });
    let (_, binary) = body_field(&request.body, &request.headers);
    let mut event =
        crate::integrations::lambda::proxy_event(&crate::integrations::lambda::ProxyRequest {
            resource_path: route_key.split_once(' ').map_or(route_key, |(_, p)| p),
            path: &request.path,
            http_method: request.method.as_str(),
            headers: &request.headers,
            query: &query,
            path_parameters: parameters,
            stage_variables: &stage.stage_variables,
            context,
            body: &request.body,
            binary,
        });
    event["version"] = json!("1.0");
    event["routeKey"] = json!(route_key);
    event
}

/// Reads a payload 2.0 answer: an object with `statusCode` is a full
/// response (`headers`, `cookies` as Set-Cookie, `body`,
/// `isBase64Encoded`); anything else valid JSON is the body of a 200 with
/// `content-type: application/json` (AWS's inference).
pub fn response_v2(payload: &[u8]) -> Result<Reply, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the result is not JSON: {e}"))?;
    let full = value.as_object().filter(|m| m.contains_key("statusCode"));
    let Some(map) = full else {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let body = match &value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Ok(Reply {
            status: 200,
            headers,
            body: Bytes::from(body),
        });
    };
    let status = map
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .filter(|s| (100..=599).contains(s))
        .ok_or("statusCode is not an HTTP status")? as u16;
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(given)) = map.get("headers") {
        for (name, value) in given {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&text),
            ) {
                headers.insert(name, value);
            }
        }
    }
    if let Some(Value::Array(cookies)) = map.get("cookies") {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                headers.append(http::header::SET_COOKIE, value);
            }
        }
    }
    let text = match map.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let body = if map.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        use base64::Engine as _;
        Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|e| format!("the body is not base64: {e}"))?,
        )
    } else {
        Bytes::from(text)
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}
