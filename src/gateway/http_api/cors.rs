//! CORS of HTTP APIs, answered from `corsConfiguration`: the preflight
//! the gateway answers itself, and the headers added to other replies.

use http::{HeaderMap, HeaderValue};

use crate::model::CorsConfiguration;

pub(crate) fn allowed_origin<'a>(cors: &CorsConfiguration, origin: &'a str) -> Option<&'a str> {
    cors.allow_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
        .then_some(origin)
}

pub(crate) fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// `access-control-allow-origin` (the origin, or `*` when any origin is
/// allowed without credentials) and `-allow-credentials`; false when the
/// origin is not allowed (then no CORS header at all).
pub(crate) fn origin_headers(
    cors: &CorsConfiguration,
    origin: &str,
    headers: &mut HeaderMap,
) -> bool {
    let Some(origin) = allowed_origin(cors, origin) else {
        return false;
    };
    let wildcard = cors.allow_origins.iter().any(|o| o == "*");
    insert(
        headers,
        "access-control-allow-origin",
        if wildcard && cors.allow_credentials != Some(true) {
            "*"
        } else {
            origin
        },
    );
    if cors.allow_credentials == Some(true) {
        insert(headers, "access-control-allow-credentials", "true");
    }
    true
}

/// The answer to a preflight from `corsConfiguration`: the origin, the
/// allowed methods and headers, max age, credentials.
pub(crate) fn preflight_headers(
    cors: &CorsConfiguration,
    origin: &str,
    request: &HeaderMap,
    headers: &mut HeaderMap,
) {
    if !origin_headers(cors, origin, headers) {
        return;
    }
    if !cors.allow_methods.is_empty() {
        insert(
            headers,
            "access-control-allow-methods",
            &cors.allow_methods.join(","),
        );
    }
    if !cors.allow_headers.is_empty() {
        let allowed = if cors.allow_headers.iter().any(|h| h == "*") {
            request
                .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("*")
                .to_string()
        } else {
            cors.allow_headers.join(",")
        };
        insert(headers, "access-control-allow-headers", &allowed);
    }
    if let Some(age) = cors.max_age {
        insert(headers, "access-control-max-age", &age.to_string());
    }
}

/// The CORS headers every response to an allowed origin carries.
pub(crate) fn response_headers(cors: &CorsConfiguration, origin: &str, headers: &mut HeaderMap) {
    if origin_headers(cors, origin, headers) && !cors.expose_headers.is_empty() {
        insert(
            headers,
            "access-control-expose-headers",
            &cors.expose_headers.join(","),
        );
    }
}
