//! The AWS-compatible management API's operations: the `apigateway`
//! service's paths, JSON shapes and errors ([`apigateway`], [`error`]) over
//! the same project model the desktop app edits ([`store::ModelStore`]),
//! changed one at a time by the [`writer`]. `boto3`, the AWS CLI and
//! Terraform reach it on the gateway's port with `endpoint_url` set to the
//! gateway. Who may call it (host, origin, body type, SigV4 signatures when
//! credentials are set) is decided at its HTTP face,
//! `gateway::control_plane`.
//!
//! This module holds model operations only and imports nothing from the
//! gateway: the gateway's HTTP side reads the request (checking its SigV4
//! signature when credentials are configured), asks [`apigateway::route`]
//! for the operation, runs it, and turns the [`Answer`] or [`ControlError`]
//! into a reply.

pub mod apigateway;
pub mod error;
pub mod operation;
pub mod store;
pub mod writer;

use http::HeaderMap;

pub use error::ControlError;
pub use operation::{Answer, Call, Effects, Op};
pub use store::ModelStore;

/// Whether a request is for the control plane: the `/restapis` paths that
/// are not the data plane's `/restapis/{id}/{stage}/_user_request_/` form,
/// and anything signed for the `apigateway` service (`/apikeys`,
/// `/usageplans`...), in the `Authorization` header or a presigned URL's
/// `X-Amz-Credential`.
pub fn is_control_request(path: &str, raw_query: &str, headers: &HeaderMap) -> bool {
    if path == "/restapis" || path == "/restapis/" {
        return true;
    }
    if path.starts_with("/restapis/") {
        return path.split('/').nth(4) != Some("_user_request_");
    }
    let signed_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|auth| {
            auth.starts_with("AWS4-HMAC-SHA256") && auth.contains("/apigateway/aws4_request")
        });
    signed_header
        || raw_query.split('&').any(|pair| {
            pair.split_once('=').is_some_and(|(name, value)| {
                name == "X-Amz-Credential"
                    && percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .ends_with("/apigateway/aws4_request")
            })
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
