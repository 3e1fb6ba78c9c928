//! The endpoint side of the pipeline on the wire: the URI an integration
//! calls (path parameters, encoded query), the headers API Gateway adds,
//! an HTTP_PROXY answer on its way back, and header maps printed the way
//! AWS's execution logs print them.

use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::integrations::EndpointResponse;
use crate::observe::ExecutionLog;

use super::compile::CompiledStage;
use super::context::{RequestContext, X_AMZN_TRACE_ID};
use super::request::MethodRequest;
use super::responses::Reply;

/// `name=value` pairs as a query string, names and values encoded.
pub(super) fn utf8_query(query: &[(String, String)]) -> String {
    let encoded: Vec<String> = query
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY),
                utf8_percent_encode(v, QUERY)
            )
        })
        .collect();
    encoded.join("&")
}

/// HTTP_PROXY: the backend's answer goes back as is, minus hop-by-hop
/// headers; headers API Gateway owns are renamed `x-amzn-Remapped-*`.
pub(super) fn proxy_response(response: EndpointResponse, log: &mut ExecutionLog) -> Reply {
    let mut headers = HeaderMap::with_capacity(response.headers.len() + 4);
    let mut name = None;
    for (next_name, value) in response.headers {
        // `HeaderMap::into_iter` gives the name once per run of values.
        if next_name.is_some() {
            name = next_name;
        }
        let Some(name) = name.as_ref() else { continue };
        let text = name.as_str();
        if is_hop_by_hop(text) && text != "connection" {
            continue;
        }
        if let Some((_, remapped)) = REMAPPED.iter().find(|(owned, _)| *owned == text) {
            headers.append(remapped.clone(), value);
        } else {
            headers.append(name.clone(), value);
        }
    }
    log.push_with("Method response headers: ", HeadersDisplay(&headers));
    Reply {
        status: response.status,
        headers,
        body: response.body,
    }
}

/// Response headers API Gateway keeps for itself and remaps from a proxy
/// backend (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html>).
/// Each with the name it is renamed to.
const REMAPPED: [(&str, HeaderName); 7] = [
    (
        "authorization",
        HeaderName::from_static("x-amzn-remapped-authorization"),
    ),
    (
        "connection",
        HeaderName::from_static("x-amzn-remapped-connection"),
    ),
    (
        "content-md5",
        HeaderName::from_static("x-amzn-remapped-content-md5"),
    ),
    ("date", HeaderName::from_static("x-amzn-remapped-date")),
    ("server", HeaderName::from_static("x-amzn-remapped-server")),
    (
        "www-authenticate",
        HeaderName::from_static("x-amzn-remapped-www-authenticate"),
    ),
    (
        "x-amzn-requestid",
        HeaderName::from_static("x-amzn-remapped-x-amzn-requestid"),
    ),
];

pub(super) fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_AMZN_APIGATEWAY_API_ID: HeaderName = HeaderName::from_static("x-amzn-apigateway-api-id");

/// Headers API Gateway adds to every endpoint request.
pub(super) fn add_gateway_headers(
    headers: &mut HeaderMap,
    stage: &CompiledStage,
    request: &MethodRequest,
    context: &RequestContext,
    is_proxy: bool,
) {
    let forwarded: std::borrow::Cow<'_, str> = match request
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(existing) if is_proxy => format!("{existing}, {}", request.source_ip).into(),
        _ => request.source_ip.as_str().into(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        headers.insert(X_FORWARDED_FOR, value);
    }
    if !headers.contains_key(http::header::USER_AGENT)
        && let Some(value) = &stage.user_agent_value
    {
        headers.insert(http::header::USER_AGENT, value.clone());
    }
    if let Some(value) = &stage.api_id_value {
        headers.insert(X_AMZN_APIGATEWAY_API_ID, value.clone());
    }
    if let Some(value) = context.trace_header() {
        headers.insert(X_AMZN_TRACE_ID, value);
    }
}

/// Characters escaped in query names and values we send.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'%');
/// Characters escaped in a path parameter placed into a URI (a greedy
/// `{proxy}` keeps its slashes).
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');

/// Fills `{name}` / `{name+}` placeholders in the URI: from mapped values
/// first, then (proxy integrations) from the method's path parameters.
pub(super) fn fill_path_parameters(
    uri: &str,
    mapped: &[(String, String)],
    method: &[(String, String)],
) -> String {
    let mut out = String::with_capacity(uri.len() + 16);
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        let key = name.strip_suffix('+').unwrap_or(name);
        let value = mapped
            .iter()
            .chain(method.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        match value {
            Some(value) => out.extend(utf8_percent_encode(value, PATH_SEGMENT)),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Sets `name: value` when both are valid HTTP; `false` (and nothing set)
/// otherwise, as API Gateway drops a mapped header it cannot send.
pub(super) fn set_header(headers: &mut HeaderMap, name: &str, value: &str) -> bool {
    match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(value)) => {
            headers.insert(name, value);
            true
        }
        _ => false,
    }
}

/// A header's value as text, borrowed when it is UTF-8 (nearly always).
pub(super) fn header_str(
    headers: &HeaderMap,
    name: impl http::header::AsHeaderName,
) -> std::borrow::Cow<'_, str> {
    headers
        .get(name)
        .map_or(std::borrow::Cow::Borrowed(""), |v| {
            String::from_utf8_lossy(v.as_bytes())
        })
}

pub(super) fn header_text(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> String {
    header_str(headers, name).into_owned()
}

/// A header map in Java's `Map.toString()` form, repeated headers joined
/// with commas, as AWS's logs print them: `{Accept=*/*, X-A=1,2}`.
pub struct HeadersDisplay<'a>(pub &'a HeaderMap);

/// For `format!` and tests; the log writes it with [`crate::observe::LogText`].
impl std::fmt::Display for HeadersDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&log_text(self))
    }
}

impl crate::observe::LogText for HeadersDisplay<'_> {
    fn write_to(&self, out: &mut String) {
        out.push('{');
        // `HeaderMap::iter` gives all the values of a name one after the
        // other, names in the order they were first inserted.
        let mut previous: Option<&HeaderName> = None;
        for (name, value) in self.0 {
            match previous {
                Some(p) if p == name => out.push(','),
                Some(_) => {
                    out.push_str(", ");
                    out.push_str(name.as_str());
                    out.push('=');
                }
                None => {
                    out.push_str(name.as_str());
                    out.push('=');
                }
            }
            previous = Some(name);
            crate::observe::Lossy(value.as_bytes()).write_to(out);
        }
        out.push('}');
    }
}

/// Pairs in Java's `Map.toString()` form, as AWS's logs print maps: `{a=1, b=2}`.
pub struct PairsDisplay<'a>(pub &'a [(String, String)]);

impl std::fmt::Display for PairsDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&log_text(self))
    }
}

/// What `part` writes into a log line, as a `String`.
fn log_text(part: &impl crate::observe::LogText) -> String {
    let mut text = String::new();
    part.write_to(&mut text);
    text
}

impl crate::observe::LogText for PairsDisplay<'_> {
    fn write_to(&self, out: &mut String) {
        out.push('{');
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remapped_names_are_the_names_with_the_amzn_prefix() {
        for (name, remapped) in &REMAPPED {
            assert_eq!(remapped.as_str(), format!("x-amzn-remapped-{name}"));
        }
    }

    #[test]
    fn fills_placeholders() {
        let method = vec![("proxy".to_string(), "a/b c".to_string())];
        assert_eq!(
            fill_path_parameters("http://h/x/{proxy}", &[], &method),
            "http://h/x/a/b%20c"
        );
        assert_eq!(
            fill_path_parameters("http://h/{id}/{other}", &[("id".into(), "7".into())], &[]),
            "http://h/7/{other}"
        );
    }

    #[test]
    fn java_map_format() {
        let pairs = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ];
        assert_eq!(PairsDisplay(&pairs).to_string(), "{a=1, b=2}");
        assert_eq!(PairsDisplay(&[]).to_string(), "{}");
        let mut headers = HeaderMap::new();
        headers.append("accept", HeaderValue::from_static("*/*"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        assert_eq!(
            HeadersDisplay(&headers).to_string(),
            "{accept=*/*, x-a=1,2}"
        );
    }
}
