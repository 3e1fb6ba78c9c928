//! Phase "integrate" of HTTP APIs: `HTTP_PROXY` to a URL (with parameter
//! mapping) and `AWS_PROXY` to a local function (payload 2.0 or 1.0).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::mapping::{Sources, apply_header};
use super::payload::{event_v1, event_v2, response_v2};
use super::stage::{CompiledHttpStage, CompiledIntegration, HttpRequest, message};
use crate::gateway::responses::Reply;
use crate::gateway::services::Services;
use crate::integrations::{EndpointRequest, Integrate, IntegrationError};
use crate::model::{MappingAction, MappingPlace};

/// Percent-encodes all but RFC 3986's unreserved characters.
pub(crate) const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `HTTP_PROXY`: the request goes to the URI (path variables and `{proxy}`
/// filled in, the query string appended), the answer comes back as is.
pub(crate) async fn http_proxy(
    uri: &str,
    method: Option<&str>,
    integration: &CompiledIntegration,
    sources: &Sources<'_>,
    services: &Services,
) -> Reply {
    let request = sources.request;
    let mut url = uri.to_string();
    for (name, value) in sources.parameters {
        let encoded = value
            .split('/')
            .map(|part| percent_encoding::utf8_percent_encode(part, UNRESERVED_KEPT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        url = url
            .replace(&format!("{{{name}+}}"), &encoded)
            .replace(&format!("{{{name}}}"), &encoded);
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        if !crate::gateway::endpoint::is_hop_by_hop(name.as_str()) && name != http::header::HOST {
            headers.append(name.clone(), value.clone());
        }
    }
    let forwarded = match request
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(existing) => format!("{existing}, {}", request.source_ip),
        None => request.source_ip.clone(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        headers.insert("x-forwarded-for", value);
    }
    // Parameter mapping: headers, query string values, the path.
    let mut query = (!integration.request_mappings.is_empty())
        .then(|| crate::gateway::request::MethodRequest::parse_query(&request.raw_query));
    for (action, place, value) in &integration.request_mappings {
        let value = sources.resolve(value);
        match place {
            MappingPlace::Header(name) => apply_header(&mut headers, *action, name, &value),
            MappingPlace::Query(name) => {
                let pairs = query.get_or_insert_with(Vec::new);
                if *action != MappingAction::Append {
                    pairs.retain(|(k, _)| k != name);
                }
                if *action != MappingAction::Remove {
                    pairs.push((name.clone(), value));
                }
            }
            MappingPlace::Path => {
                let split = url
                    .find("://")
                    .and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j))
                    .unwrap_or(url.len());
                let path = if value.starts_with('/') {
                    value
                } else {
                    format!("/{value}")
                };
                url = format!("{}{path}", &url[..split]);
            }
            MappingPlace::StatusCode => {}
        }
    }
    let raw_query = match &query {
        Some(pairs) => pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    percent_encoding::utf8_percent_encode(k, UNRESERVED_KEPT),
                    percent_encoding::utf8_percent_encode(v, UNRESERVED_KEPT)
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
        None => request.raw_query.clone(),
    };
    if !raw_query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&raw_query);
    }
    let timeout = integration.timeout;
    let method = method
        .and_then(|m| http::Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or_else(|| request.method.clone());
    let endpoint = EndpointRequest {
        method,
        url,
        headers,
        body: request.body.clone(),
        timeout,
    };
    match services.http.invoke(endpoint).await {
        Ok(response) => {
            let mut headers = HeaderMap::new();
            for (name, value) in &response.headers {
                if !crate::gateway::endpoint::is_hop_by_hop(name.as_str()) {
                    headers.append(name.clone(), value.clone());
                }
            }
            Reply {
                status: response.status,
                headers,
                body: response.body,
            }
        }
        // A timeout: 503 Service Unavailable (as an HTTP API answers it).
        Err(IntegrationError::Timeout) => message(503, "Service Unavailable"),
        Err(_) => message(500, "Internal Server Error"),
    }
}

/// `AWS_PROXY`: the Lambda proxy event (payload 2.0 or 1.0) to the local
/// function, its answer read by the format's rules.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn lambda_proxy(
    function: &str,
    version_2: bool,
    timeout: Duration,
    stage: &CompiledHttpStage,
    route_key: &str,
    parameters: &[(String, String)],
    authorizer: Option<&Value>,
    request: &HttpRequest,
    services: &Services,
) -> Reply {
    let mut event = if version_2 {
        event_v2(stage, route_key, parameters, request)
    } else {
        event_v1(stage, route_key, parameters, request)
    };
    if let Some(authorizer) = authorizer {
        event["requestContext"]["authorizer"] = match (version_2, authorizer.get("lambda")) {
            // Payload 1.0 has the Lambda authorizer's context itself.
            (false, Some(context)) => context.clone(),
            _ => authorizer.clone(),
        };
    }
    let invocation = services
        .functions
        .invoke(function, Bytes::from(event.to_string()));
    let outcome = match tokio::time::timeout(timeout, invocation).await {
        Err(_) => return message(503, "Service Unavailable"),
        Ok(outcome) => outcome,
    };
    match outcome {
        Ok(crate::functions::Outcome::Success(payload)) => {
            let parsed = if version_2 {
                response_v2(&payload)
            } else {
                crate::integrations::lambda::proxy_response(&payload).map(|r| Reply {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                })
            };
            parsed.unwrap_or_else(|_| message(500, "Internal Server Error"))
        }
        _ => message(500, "Internal Server Error"),
    }
}
