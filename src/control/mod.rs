//! The AWS-compatible management API on the gateway's port: the
//! `apigateway` service's REST paths and JSON shapes (restJson, errors with
//! `x-amzn-ErrorType` and `{"message": ...}`), over the same project model
//! the desktop app edits ([`store::ModelStore`]). `boto3`, the AWS CLI and
//! Terraform reach it with `endpoint_url` set to the gateway. Any SigV4
//! signature is accepted. Operations run on a blocking thread: a save or
//! a recompile never holds up the data plane's workers.
//!
//! Later, in this same dispatch: `apigatewayv2` (`/v2/apis...`) and
//! `@connections`.

pub mod apigateway;
pub mod error;
pub mod operation;
pub mod store;
pub mod writer;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::gateway::Reply;

pub use error::ControlError;
pub use operation::{Answer, Call, Effects, Op};
pub use store::ModelStore;

/// Whether a request is for the control plane: the `/restapis` paths that
/// are not the data plane's `/restapis/{id}/{stage}/_user_request_/` form,
/// and anything signed for the `apigateway` service (`/apikeys`,
/// `/usageplans`...).
pub fn is_control_request(path: &str, headers: &HeaderMap) -> bool {
    if path == "/restapis" || path == "/restapis/" {
        return true;
    }
    if path.starts_with("/restapis/") {
        return path.split('/').nth(4) != Some("_user_request_");
    }
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|auth| {
            auth.starts_with("AWS4-HMAC-SHA256") && auth.contains("/apigateway/aws4_request")
        })
}

/// The path's segments, percent-decoded.
pub fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// `a=1&b=2`, percent-decoded.
pub fn query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

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

/// A path the control plane does not know: AWS answers such requests with
/// 404 `UnknownOperationException`-style errors; boto3 never sends them.
pub fn unknown(method: &Method, path: &str) -> Reply {
    reply(Err(ControlError {
        status: 404,
        kind: "NotFoundException",
        message: format!("No operation for {method} {path}"),
    }))
}
