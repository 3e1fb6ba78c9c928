//! The control plane's HTTP face on the gateway's port: a control-plane
//! operation's [`Answer`] or [`ControlError`] as an HTTP reply (AWS's
//! restJson shapes: `x-amzn-ErrorType` and `{"message": ...}`), and the two
//! operations that need the data plane rather than the model:
//! `FlushStageCache` (the served stage's cache) and `TestInvokeMethod` (a
//! request run through the pipeline). `control` itself knows no HTTP types
//! beyond the method, and imports nothing from the gateway.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::control::{Answer, ControlError};

use super::Shared;
use super::request::MethodRequest;
use super::responses::Reply;

/// An answer as an HTTP reply.
pub fn reply(answer: Result<Answer, ControlError>) -> Reply {
    match answer {
        Ok(Answer::Json(status, value)) => json_reply(status, value.to_string()),
        Ok(Answer::Text(status, content_type, text)) => {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                headers.insert("content-type", value);
            }
            Reply {
                status,
                headers,
                body: Bytes::from(text),
            }
        }
        Ok(Answer::Empty(status)) => Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        },
        Err(error) => {
            let mut reply = json_reply(
                error.status,
                serde_json::json!({ "message": error.message }).to_string(),
            );
            reply
                .headers
                .insert("x-amzn-errortype", HeaderValue::from_static(error.kind));
            reply
        }
    }
}

fn json_reply(status: u16, body: String) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    Reply {
        status,
        headers,
        body: Bytes::from(body),
    }
}

/// A path the control plane does not know ([`unknown_operation`]).
///
/// [`unknown_operation`]: crate::control::error::unknown_operation
pub fn unknown(method: &http::Method, path: &str) -> Reply {
    reply(Err(crate::control::error::unknown_operation(method, path)))
}

/// AWS's `FlushStageCache`: 202 with an empty body; a stage without a
/// cache is flushed trivially.
pub(super) fn flush_stage_cache(shared: &Shared, api_id: &str, stage: &str) -> Reply {
    use crate::control::error::not_found;
    let routes = shared.routes.load();
    let Some(stages) = routes.apis.get(api_id) else {
        return reply(Err(not_found("Invalid API identifier specified")));
    };
    let Some(compiled) = stages.get(stage) else {
        return reply(Err(not_found("Invalid Stage identifier specified")));
    };
    if let Some(cache) = &compiled.cache {
        cache.flush();
    }
    if let Some(canary) = routes.canaries.get(api_id).and_then(|c| c.get(stage))
        && let Some(cache) = &canary.stage.cache
    {
        cache.flush();
    }
    reply(Ok(crate::control::Answer::Empty(202)))
}

/// AWS's `TestInvokeMethod`: the request runs against the API's draft
/// (no API key, no throttling); the answer carries the status, body,
/// headers, the execution log and the latency in ms.
pub(super) async fn test_invoke_method(
    shared: &Shared,
    api: Option<crate::model::RestApi>,
    resource_id: &str,
    verb: &str,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<crate::control::Answer, crate::control::ControlError> {
    use crate::control::error::{bad_request, not_found};
    let api = api.ok_or_else(|| not_found("Invalid API identifier specified"))?;
    let resource = api
        .resource(resource_id)
        .ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
    if !resource.resource_methods.contains_key(verb) {
        return Err(not_found("Invalid Method identifier specified"));
    }
    let path_with_query = body
        .get("pathWithQueryString")
        .and_then(|v| v.as_str())
        .unwrap_or(&resource.path)
        .to_string();
    let (path, raw_query) = path_with_query
        .split_once('?')
        .map_or((path_with_query.as_str(), ""), |(p, q)| (p, q));
    let mut headers = http::HeaderMap::new();
    if let Some(serde_json::Value::Object(given)) = body.get("headers") {
        for (name, value) in given {
            if let (Ok(name), Some(Ok(value))) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                headers.append(name, value);
            }
        }
    }
    let http_method = http::Method::from_bytes(verb.as_bytes())
        .map_err(|_| bad_request(format!("Invalid HttpMethod specified: {verb}")))?;
    let request = MethodRequest {
        http_method,
        path: path.to_string(),
        query: MethodRequest::parse_query(raw_query),
        raw_query: raw_query.to_string(),
        headers,
        body: Bytes::from(
            body.get("body")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
        ),
        source_ip: "test-invoke-source-ip".into(),
        full_path: path.into(),
        domain_name: "testPrefix.testDomainName".into(),
        protocol: "HTTP/1.1".into(),
        received_at: SystemTime::now(),
    };
    let services = super::services::Services {
        api_keys: None,
        account_throttle: None,
        ..shared.services.clone()
    };
    let started = Instant::now();
    let execution = super::test_invoke(&api, request, &services)
        .await
        .map_err(|e| bad_request(e.to_string()))?;
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (name, value) in &execution.reply.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        single.insert(name.as_str().to_string(), serde_json::json!(value));
        if let Some(list) = multi
            .entry(name.as_str().to_string())
            .or_insert_with(|| serde_json::json!([]))
            .as_array_mut()
        {
            list.push(serde_json::json!(value));
        }
    }
    Ok(crate::control::Answer::Json(
        200,
        serde_json::json!({
            "status": execution.reply.status,
            "body": String::from_utf8_lossy(&execution.reply.body),
            "headers": single,
            "multiValueHeaders": multi,
            "log": execution.log.render(),
            "latency": started.elapsed().as_millis() as u64,
        }),
    ))
}
