//! Phases "select integration response" and "map response" (REST): the
//! integration response whose `selectionPattern` matches, then the method
//! response built from it (status, `responseParameters`, the response
//! template chosen by `Accept`, `$context.responseOverride`). Run last,
//! after integrate.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::integration_request::render_template;
use crate::gateway::compile::{CompiledIntegration, CompiledStage};
use crate::gateway::endpoint::{HeadersDisplay, header_str, set_header};
use crate::gateway::mapping::MappingScope;
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::{GatewayError, Reply};
use crate::gateway::transform::{self, Payload};
use crate::integrations::EndpointResponse;
use crate::model::selection_pattern::Matched;
use crate::model::{GatewayResponseType, IntegrationType};
use crate::observe::{ExecutionLog, Lossy};
use crate::vtl;

/// The header a Lambda integration's endpoint response carries when the
/// function failed (as Lambda's Invoke API answers).
pub(crate) const FUNCTION_ERROR: &str = "x-amz-function-error";

/// Phase: pick the integration response whose `selectionPattern` matches
/// the endpoint's status code (the whole string), else the default one.
pub(crate) fn integration_response<'a>(
    integration: &'a CompiledIntegration,
    response: &EndpointResponse,
    log: &mut ExecutionLog,
) -> Result<&'a crate::gateway::compile::CompiledIntegrationResponse, GatewayError> {
    // Lambda: patterns match a function error's errorMessage; a success
    // takes the default response. HTTP: patterns match the status code.
    let function_error = response.headers.contains_key(FUNCTION_ERROR);
    // The status text without allocating: every non-proxy response is
    // matched by it.
    let mut digits = [0u8; 20];
    let subject: std::borrow::Cow<'_, str> = if integration.integration_type == IntegrationType::Aws
    {
        if function_error {
            crate::integrations::lambda::error_message(&response.body).into()
        } else {
            "".into()
        }
    } else {
        crate::observe::decimal(u64::from(response.status), &mut digits).into()
    };
    let matches_pattern = integration.integration_type != IntegrationType::Aws || function_error;
    let matched = integration
        .responses
        .iter()
        .find(|r| {
            let Some(pattern) = r.selection_pattern.as_ref().filter(|_| matches_pattern) else {
                return false;
            };
            match pattern.matches(&subject) {
                Matched::Yes => true,
                Matched::No => false,
                Matched::GaveUp => {
                    log.push_fmt(format_args!(
                        "Selection pattern {:?} gave up after {} backtracking steps; treated as no match",
                        r.selection_pattern_source.as_deref().unwrap_or_default(),
                        crate::model::selection_pattern::BACKTRACK_LIMIT
                    ));
                    false
                }
            }
        })
        .or_else(|| {
            integration
                .responses
                .iter()
                .find(|r| r.selection_pattern.is_none())
        });
    match matched {
        Some(selected) => Ok(selected),
        None => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {}",
                response.status
            ));
            Err(GatewayError::new(
                GatewayResponseType::ApiConfigurationError,
            ))
        }
    }
}

/// Phase: the method response: status from the selected integration
/// response, headers from `responseParameters`, body from the response
/// template chosen by `Accept` (else `application/json`, else the first),
/// or the endpoint body passed through.
pub(crate) async fn method_response(
    stage: &CompiledStage,
    selected: &crate::gateway::compile::CompiledIntegrationResponse,
    response: &EndpointResponse,
    request: &MethodRequest,
    scope: &MappingScope<'_>,
    log: &mut ExecutionLog,
) -> Result<Reply, GatewayError> {
    let accept = header_str(&request.headers, http::header::ACCEPT);
    let response_type = header_str(&response.headers, http::header::CONTENT_TYPE);
    let payload_binary = transform::is_binary(
        &transform::media_type(&response_type),
        &stage.binary_media_types,
    );
    let accept_binary =
        transform::is_binary(&transform::media_type(&accept), &stage.binary_media_types);
    let payload = transform::convert_response(
        &response.body,
        payload_binary,
        accept_binary,
        selected.content_handling,
    )
    .map_err(|e| {
        log.push_fmt(format_args!(
            "Execution failed: unable to convert the response body: {e}"
        ));
        GatewayError::new(GatewayResponseType::ApiConfigurationError)
    })?;
    let mut status = selected.status_code;
    let mut overrides = vtl::Overrides::default();
    let template = transform::select_response_template(&selected.response_templates, &accept);
    let (content_type, body) = match (template, payload) {
        (Some((content_type, template)), Payload::Text(text)) => {
            let rendered =
                render_template(template, &text, scope, request, log, "response").await?;
            overrides = rendered.overrides;
            (content_type.as_str(), Bytes::from(rendered.output))
        }
        (Some(_), Payload::Binary(bytes)) => {
            log.push("Binary response body passes through: mapping templates apply to text payloads only");
            ("application/json", bytes)
        }
        (None, payload) => ("application/json", payload.into_bytes()),
    };
    let mut headers = HeaderMap::with_capacity(4 + selected.response_parameters.len());
    // The usual type needs no copy.
    let content_type = match content_type {
        "application/json" => Ok(HeaderValue::from_static("application/json")),
        other => HeaderValue::from_str(other),
    };
    if let Ok(value) = content_type {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    for (name, source) in &selected.response_parameters {
        if let Some(value) = scope.resolve(source) {
            set_header(&mut headers, name, &value);
        }
    }
    // `$context.responseOverride`: AWS ignores a status outside 100-599
    // (LocalStack's AWS-validated tests record the same).
    if let Some(code) = overrides
        .response_status
        .filter(|c| (100..=599).contains(c))
    {
        log.push_fmt(format_args!(
            "Overriding method response status with {code}"
        ));
        status = code;
    }
    for (name, value) in &overrides.response_headers {
        set_header(&mut headers, name, value);
    }
    log_method_response(log, &body, &headers);
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// The method response's lines, as AWS's test invoke prints them.
pub(crate) fn log_method_response(log: &mut ExecutionLog, body: &[u8], headers: &HeaderMap) {
    log.push_with("Method response body after transformations: ", Lossy(body));
    log.push_with("Method response headers: ", HeadersDisplay(headers));
}
