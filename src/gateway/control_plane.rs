//! The HTTP face of `control/`: who may reach the management endpoints on
//! the gateway's port (the `apigateway` control plane, `_portico` and its
//! local issuer, `@connections`), and the signatures they need.
//!
//! The gateway listens on loopback, but any web page the developer opens
//! can send requests there: a `text/plain` or form POST is a "simple
//! request" that a browser sends cross-origin without asking first, and a
//! DNS-rebound name makes a page's requests same-origin so that it reads
//! the answers. So the management endpoints take only:
//! - a `Host` that cannot be rebound: an IP address, `localhost`,
//!   `*.localhost`, or a name the user allowed (`serve --allow-host`);
//! - no `Origin`, or a local one (loopback, `localhost`, `*.localhost`,
//!   allowed names) that is not the gateway's own port (whatever the
//!   gateway serves there is APIs' content, which may be anyone's page),
//!   and no `Sec-Fetch-Site: same-origin` (such a page's own requests);
//! - on the control plane, a body typed as the SDKs type it (JSON, or no
//!   type / `application/octet-stream` for the blob payloads of
//!   `ImportRestApi` and `PutRestApi`), never the types a browser may send
//!   unasked (`text/plain`, forms).
//!
//! The data plane keeps accepting any `Host` that routes, as AWS does for
//! custom domain names: what it serves is what the developer deployed.
//!
//! With credentials configured (`serve --credentials`), the control plane
//! needs a SigV4 signature for `apigateway`, and `@connections` one for
//! `execute-api` (AWS requires IAM, `execute-api:ManageConnections`, for
//! it: <https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html>),
//! and the local issuer's token endpoint is off unless asked for.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::SystemTime;

use http::request::Parts;

use crate::control::ControlError;

use super::{Reply, Shared};

/// Who may reach the management endpoints (see the module's comment).
#[derive(Debug, Default)]
pub struct Admission {
    /// Host names accepted besides IP addresses, `localhost` and
    /// `*.localhost`: lower case, without port.
    pub allowed_hosts: Vec<String>,
    /// Whether the local issuer mints tokens while credentials are set.
    pub issuer_tokens_with_credentials: bool,
    /// The port the gateway listens on, once bound (0 before).
    pub gateway_port: AtomicU16,
}

impl Admission {
    pub fn new(allowed_hosts: &[String], issuer_tokens_with_credentials: bool) -> Admission {
        Admission {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            issuer_tokens_with_credentials,
            gateway_port: AtomicU16::new(0),
        }
    }

    /// A name is local when it is `localhost` or below it (RFC 6761: such
    /// names resolve to loopback, never through DNS), or allowed.
    fn is_local_name(&self, name: &str) -> bool {
        name == "localhost"
            || name.ends_with(".localhost")
            || self.allowed_hosts.iter().any(|h| h == name)
    }

    /// Whether a `Host` value cannot be a rebound name.
    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host);
        name.parse::<IpAddr>().is_ok() || self.is_local_name(&name)
    }

    /// Why an `Origin` value is refused, if it is.
    fn origin_refusal(&self, origin: &str) -> Option<String> {
        let refused = || {
            Some(format!(
                "requests from the web origin '{origin}' are refused: only local pages (loopback, localhost) may call it"
            ))
        };
        let Some((scheme, authority)) = origin.split_once("://") else {
            return refused();
        };
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return refused(),
        };
        let name = host_name(authority);
        let local = match name.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => self.is_local_name(&name),
        };
        if !local {
            return refused();
        }
        let port = port_of(authority).unwrap_or(default_port);
        let gateway_port = self.gateway_port.load(Ordering::Relaxed);
        (gateway_port != 0 && port == gateway_port).then(|| {
            format!("requests from pages the gateway serves ('{origin}') are refused: they are the APIs' content")
        })
    }
}

/// The host of a `host[:port]` or `[v6]:port`, lower case, without a
/// trailing dot.
fn host_name(authority: &str) -> String {
    let authority = authority.trim();
    let name = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if authority.matches(':').count() > 1 {
        // A bare IPv6 address.
        authority
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn port_of(authority: &str) -> Option<u16> {
    let after = match authority.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.1,
        None if authority.matches(':').count() > 1 => return None,
        None => authority.split_once(':').map_or("", |(_, port)| port),
    };
    after.trim_start_matches(':').parse().ok()
}

/// AWS's shape for a refusal: the status, `x-amzn-ErrorType`, `{"message"}`.
fn refuse(status: u16, kind: &'static str, message: String) -> Reply {
    super::control_http::reply(Err(ControlError {
        status,
        kind,
        message,
    }))
}

/// 403 `AccessDeniedException`, the type AWS gives a control-plane call it
/// does not allow ("User: ... is not authorized to perform: apigateway:GET
/// on resource: arn:aws:apigateway:us-east-1::/restapis",
/// <https://github.com/maciejtreder/serverless-apigw-binary/issues/19>).
fn access_denied(what: &str, why: String) -> Reply {
    refuse(
        403,
        "AccessDeniedException",
        format!("Portico's {what} {why}"),
    )
}

/// The `Host` and `Origin` checks every management endpoint runs: the
/// refusal, if any.
fn browser_refusal(shared: &Shared, parts: &Parts, what: &str) -> Option<Reply> {
    let admission = &shared.admission;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    if let Some(host) = host
        && !admission.host_allowed(host)
    {
        return Some(access_denied(
            what,
            format!(
                "does not answer for the host '{host}': use an IP address, localhost, or a name given to `serve --allow-host`"
            ),
        ));
    }
    if let Some(origin) = parts.headers.get(http::header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if let Some(why) = admission.origin_refusal(&origin) {
            return Some(access_denied(what, format!("refuses {why}")));
        }
    }
    parts
        .headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"same-origin"))
        .then(|| {
            access_denied(
                what,
                "refuses requests from pages the gateway serves: they are the APIs' content".into(),
            )
        })
}

/// A control-plane request's body type when it is not one the AWS SDKs
/// send: they send `application/json` (botocore's restJson serializer
/// types every structured body so), no type or `application/octet-stream`
/// (the blob payloads of `ImportRestApi` / `PutRestApi`, which botocore
/// leaves untyped), or another JSON type.
fn foreign_body_type(parts: &Parts) -> Option<String> {
    if !matches!(
        parts.method,
        http::Method::POST | http::Method::PUT | http::Method::PATCH
    ) {
        return None;
    }
    let text = String::from_utf8_lossy(parts.headers.get(http::header::CONTENT_TYPE)?.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let allowed = essence == "application/json"
        || essence == "application/octet-stream"
        || essence.starts_with("application/x-amz-json-")
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    (!allowed).then(|| text.into_owned())
}

/// Why a control-plane request is refused before its body is read (host,
/// origin, body type), if it is. The signature is checked once the body
/// is in ([`control_signature_refusal`]).
pub(crate) fn control_refusal(shared: &Shared, parts: &Parts) -> Option<Reply> {
    if let Some(refused) = browser_refusal(shared, parts, "control plane") {
        return Some(refused);
    }
    // 415 UnsupportedMediaTypeException, as AWS answers a body that is not
    // JSON where JSON is required (Lambda's Invoke: "The content type of
    // the Invoke request body is not JSON.",
    // https://docs.aws.amazon.com/botocore/latest/reference/services/lambda/client/exceptions/UnsupportedMediaTypeException.html).
    foreign_body_type(parts).map(|content_type| {
        refuse(
            415,
            "UnsupportedMediaTypeException",
            format!("The content type of the request body is not JSON: '{content_type}'. The control plane takes application/json (or an untyped / application/octet-stream body for imports)."),
        )
    })
}

/// The SigV4 refusal of a control-plane request when credentials are
/// configured: it must be signed for `apigateway`, within 5 minutes, over
/// this body.
pub(crate) fn control_signature_refusal(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
) -> Option<Reply> {
    signature_refusal(shared, parts, body, "apigateway")
}

fn signature_refusal(shared: &Shared, parts: &Parts, body: &[u8], service: &str) -> Option<Reply> {
    if shared.control_credentials.is_empty() {
        return None;
    }
    let request = crate::auth::sigv4::SignedRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
        body,
    };
    crate::auth::sigv4::verify(
        &request,
        &shared.control_credentials,
        service,
        SystemTime::now(),
    )
    .err()
    .map(|error| {
        let (status, kind, message) = error.aws();
        refuse(status, kind, message)
    })
}

/// Why a request to `_portico/issuer{below}` is refused, if it is: host
/// and origin; the token endpoint, which signs any claims it is given,
/// also answers a loopback peer only, and only without credentials unless
/// `serve --local-issuer` asked for it.
pub(crate) fn issuer_refusal(
    shared: &Shared,
    parts: &Parts,
    peer: SocketAddr,
    below: &str,
) -> Option<Reply> {
    if let Some(refused) = browser_refusal(shared, parts, "local issuer") {
        return Some(refused);
    }
    if below.trim_end_matches('/') != "/token" {
        return None;
    }
    if !peer.ip().to_canonical().is_loopback() {
        return Some(access_denied(
            "local issuer",
            format!("mints tokens for this machine only, not for {}", peer.ip()),
        ));
    }
    (!shared.control_credentials.is_empty() && !shared.admission.issuer_tokens_with_credentials)
        .then(|| {
            access_denied(
                "local issuer",
                "mints no tokens while `serve --credentials` is set; add `--local-issuer` to allow it"
                    .into(),
            )
        })
}

/// Why an `@connections` request (its body read) is refused, if it is:
/// host and origin, and with credentials a SigV4 signature for
/// `execute-api`; unsigned, AWS's 403 `{"message":"Missing Authentication
/// Token"}` (<https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch>).
pub(crate) fn connections_refusal(shared: &Shared, parts: &Parts, body: &[u8]) -> Option<Reply> {
    browser_refusal(shared, parts, "@connections API")
        .or_else(|| signature_refusal(shared, parts, body, "execute-api"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_that_cannot_be_rebound() {
        let admission = Admission::new(&["Dev.Example.".to_string()], false);
        for good in [
            "127.0.0.1:4455",
            "localhost",
            "LOCALHOST:1",
            "abc.execute-api.localhost:4455",
            "[::1]:4455",
            "10.1.2.3",
            "dev.example:4455",
        ] {
            assert!(admission.host_allowed(good), "{good}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example:4455",
            "127.0.0.1.nip.io",
        ] {
            assert!(!admission.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn local_origins_other_than_the_gateway() {
        let admission = Admission::new(&[], false);
        admission.gateway_port.store(4455, Ordering::Relaxed);
        for good in [
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://app.localhost",
            "http://[::1]:5173",
        ] {
            assert_eq!(admission.origin_refusal(good), None, "{good}");
        }
        for bad in [
            "http://evil.example",
            "null",
            "http://10.0.0.5:3000",
            "file://",
            "http://localhost:4455",
            "http://abc.execute-api.localhost:4455",
        ] {
            assert!(admission.origin_refusal(bad).is_some(), "{bad}");
        }
    }
}
