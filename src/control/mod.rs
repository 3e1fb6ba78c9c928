//! The AWS-compatible management API on the gateway's port (the
//! `apigateway` service's REST paths, restJson errors with
//! `x-amzn-ErrorType`). For now one operation, `FlushStageCache`
//! (`DELETE /restapis/{id}/stages/{stage}/cache/data`), which
//! `portico flush-cache` and `aws apigateway flush-stage-cache
//! --endpoint-url` call on a running gateway; the rest of the control plane
//! lands here with its own issue.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::gateway::Reply;
use crate::gateway::Routes;

/// Whether `path` is a control-plane path (and not the data plane's
/// `/restapis/{id}/{stage}/_user_request_/...` form).
pub fn is_control_path(path: &str) -> bool {
    path.starts_with("/restapis/") && path.split('/').nth(4) != Some("_user_request_")
}

/// Answers a control-plane request over the served routes; `None` when no
/// operation has that method and path (the data plane answers instead).
pub fn dispatch(method: &Method, path: &str, routes: &Routes) -> Option<Reply> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::DELETE, ["restapis", api_id, "stages", stage, "cache", "data"]) => {
            Some(flush_stage_cache(routes, api_id, stage))
        }
        _ => None,
    }
}

/// AWS's `FlushStageCache`: 202 with an empty body; a stage without a
/// cache is flushed trivially.
fn flush_stage_cache(routes: &Routes, api_id: &str, stage: &str) -> Reply {
    let Some(stages) = routes.apis.get(api_id) else {
        return error(404, "NotFoundException", "Invalid API identifier specified");
    };
    let Some(compiled) = stages.get(stage) else {
        return error(
            404,
            "NotFoundException",
            "Invalid Stage identifier specified",
        );
    };
    if let Some(cache) = &compiled.cache {
        cache.flush();
    }
    if let Some(canary) = routes.canaries.get(api_id).and_then(|c| c.get(stage))
        && let Some(cache) = &canary.stage.cache
    {
        cache.flush();
    }
    Reply {
        status: 202,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

/// An error in the restJson shape the AWS SDKs read: the type in
/// `x-amzn-ErrorType`, the text in `{"message": ...}`.
pub fn error(status: u16, error_type: &'static str, message: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    Reply {
        status,
        headers,
        body: Bytes::from(serde_json::json!({ "message": message }).to_string()),
    }
}
