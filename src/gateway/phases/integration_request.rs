//! Phase "map request" (REST): the endpoint request built from the method
//! request: parameters (`requestParameters`), the request template chosen
//! by `Content-Type`, `$context.requestOverride`. Runs after the cache
//! lookup, before integrate; changes nothing but what it returns.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;

use crate::gateway::compile::{CompiledIntegration, CompiledStage, ParameterTarget};
use crate::gateway::endpoint::{
    HeadersDisplay, add_gateway_headers, fill_path_parameters, header_str, is_hop_by_hop,
    set_header, utf8_query,
};
use crate::gateway::mapping::MappingScope;
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::GatewayError;
use crate::gateway::transform::{self, Payload, RequestTemplate, Template};
use crate::integrations::EndpointRequest;
use crate::model::{GatewayResponseType, IntegrationType};
use crate::observe::{ExecutionLog, Lossy};
use crate::vtl;

/// Phase: build the endpoint request: URI with path parameters, query and
/// headers from `requestParameters` (all of the client's for HTTP_PROXY),
/// and the body from the request template chosen by `Content-Type`.
pub(crate) async fn integration_request(
    stage: &CompiledStage,
    integration: &CompiledIntegration,
    request: &MethodRequest,
    scope: &MappingScope<'_>,
    log: &mut ExecutionLog,
) -> Result<(EndpointRequest, bool), GatewayError> {
    let is_proxy = integration.integration_type == IntegrationType::HttpProxy;
    let mut path_values: Vec<(String, String)> = Vec::new();
    let mut query: Vec<(String, String)> = if is_proxy {
        request.query.clone()
    } else {
        Vec::new()
    };
    // Sized once for the client's headers and the few the gateway adds
    // (`X-Forwarded-For`, `X-Amzn-Trace-Id`...), so it does not regrow.
    let mut headers = if is_proxy {
        HeaderMap::with_capacity(request.headers.len() + 6)
    } else {
        HeaderMap::new()
    };
    if is_proxy {
        for (name, value) in &request.headers {
            if !is_hop_by_hop(name.as_str()) && name != http::header::HOST {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    for (target, source) in &integration.request_parameters {
        let Some(value) = scope.resolve(source) else {
            continue;
        };
        match target {
            ParameterTarget::Path(name) => path_values.push((name.clone(), value)),
            ParameterTarget::Query(name) => {
                query.retain(|(k, _)| k != name);
                query.push((name.clone(), value));
            }
            ParameterTarget::Header(name) => {
                set_header(&mut headers, name, &value);
            }
        }
    }

    let (body, from_template) = if is_proxy {
        (request.body.clone(), false)
    } else {
        let (body, from_template, overrides) =
            request_body(stage, integration, request, scope, log).await?;
        apply_request_overrides(&overrides, &mut headers, &mut query, &mut path_values, log);
        (body, from_template)
    };

    let method = match integration.http_method.as_deref() {
        None | Some("ANY") => request.http_method.clone(),
        Some(verb) => http::Method::from_bytes(verb.as_bytes()).map_err(|_| {
            log.push_fmt(format_args!("Execution failed due to configuration error: invalid integration HTTP method {verb}"));
            GatewayError::new(GatewayResponseType::ApiConfigurationError)
        })?,
    };
    let timeout = Duration::from_millis(integration.timeout_ms);
    if integration.integration_type == IntegrationType::Mock {
        log.push_with(
            "Endpoint request body after transformations: ",
            Lossy(&body),
        );
        return Ok((
            EndpointRequest {
                method,
                url: String::new(),
                headers,
                body,
                timeout,
            },
            from_template,
        ));
    }

    let uri = integration.uri.as_deref().unwrap_or_default();
    let mut url = fill_path_parameters(
        uri,
        &path_values,
        if is_proxy { scope.path_parameters } else { &[] },
    );
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&utf8_query(&query));
    }
    add_gateway_headers(&mut headers, stage, request, scope.context, is_proxy);
    log.push_with("Endpoint request URI: ", url.as_str());
    log.push_with("Endpoint request headers: ", HeadersDisplay(&headers));
    log.push_with(
        "Endpoint request body after transformations: ",
        Lossy(&body),
    );
    log.push_with("Sending request to ", url.as_str());
    Ok((
        EndpointRequest {
            method,
            url,
            headers,
            body,
            timeout,
        },
        from_template,
    ))
}

/// The integration request body: the client's payload converted per
/// `binaryMediaTypes` / `contentHandling`, then transformed by the request
/// template its content type selects, or passed through, or refused with
/// 415 as `passthroughBehavior` says. Also returns the template's
/// `$context.requestOverride` values.
pub(crate) async fn request_body(
    stage: &CompiledStage,
    integration: &CompiledIntegration,
    request: &MethodRequest,
    scope: &MappingScope<'_>,
    log: &mut ExecutionLog,
) -> Result<(Bytes, bool, vtl::Overrides), GatewayError> {
    let content_type = header_str(&request.headers, http::header::CONTENT_TYPE);
    let content_type = transform::media_type(&content_type);
    let binary = transform::is_binary(&content_type, &stage.binary_media_types);
    let payload = transform::convert_request(&request.body, binary, integration.content_handling)
        .map_err(|e| {
        log.push_fmt(format_args!(
            "Execution failed: unable to convert the request body: {e}"
        ));
        GatewayError::new(GatewayResponseType::ApiConfigurationError)
    })?;
    // AWS treats a request without Content-Type as application/json.
    let media_type = if content_type.is_empty() {
        "application/json"
    } else {
        &content_type
    };
    let template = match transform::select_request_template(
        &integration.request_templates,
        integration.passthrough_behavior,
        media_type,
    ) {
        RequestTemplate::Use(template) => template,
        RequestTemplate::Passthrough => {
            log.push_fmt(format_args!(
                "Request body passthrough: no template for content type {media_type}"
            ));
            return Ok((payload.into_bytes(), false, vtl::Overrides::default()));
        }
        RequestTemplate::Reject => {
            log.push_fmt(format_args!(
                "Execution failed: no template matches content type {media_type} and passthroughBehavior is {}",
                integration.passthrough_behavior.as_str()
            ));
            return Err(GatewayError::new(GatewayResponseType::UnsupportedMediaType));
        }
    };
    let text = match payload {
        Payload::Text(text) => text,
        Payload::Binary(bytes) => {
            log.push(
                "Binary request body passes through: mapping templates apply to text payloads only",
            );
            return Ok((bytes, false, vtl::Overrides::default()));
        }
    };
    let rendered = render_template(template, &text, scope, request, log, "request").await?;
    Ok((Bytes::from(rendered.output), true, rendered.overrides))
}

/// Renders a mapping template over `body` with the request's parameters,
/// `$context` and `$stageVariables`. A template error is logged with its
/// line, column and excerpt and answers AWS's 500 `Internal server error`.
pub(crate) async fn render_template(
    template: &Template,
    body: &str,
    scope: &MappingScope<'_>,
    request: &MethodRequest,
    log: &mut ExecutionLog,
    what: &str,
) -> Result<vtl::Rendered, GatewayError> {
    let context = if template.reads_context() {
        scope.context.to_json()
    } else {
        serde_json::Value::Null
    };
    let header = if template.reads_input() {
        transform::header_pairs(&request.headers)
    } else {
        Vec::new()
    };
    let bindings = vtl::Bindings {
        body,
        path: scope.path_parameters,
        querystring: &request.query,
        header: &header,
        context: &context,
        stage_variables: scope.stage_variables,
    };
    template.render(&bindings).await.map_err(|e| {
        log.push_fmt(format_args!(
            "Execution failed due to configuration error: Unable to transform {what}: {e}"
        ));
        GatewayError::new(GatewayResponseType::ApiConfigurationError)
    })
}

/// Applies `$context.requestOverride.*` from a request template: headers,
/// query string and path parameters of the endpoint request.
pub(crate) fn apply_request_overrides(
    overrides: &vtl::Overrides,
    headers: &mut HeaderMap,
    query: &mut Vec<(String, String)>,
    path_values: &mut Vec<(String, String)>,
    log: &mut ExecutionLog,
) {
    for (name, value) in &overrides.request_headers {
        if !set_header(headers, name, value) {
            log.push_fmt(format_args!("Ignoring invalid header override {name}"));
        }
    }
    for (name, value) in &overrides.request_querystring {
        query.retain(|(k, _)| k != name);
        query.push((name.clone(), value.clone()));
    }
    for (name, value) in &overrides.request_path {
        path_values.retain(|(k, _)| k != name);
        path_values.push((name.clone(), value.clone()));
    }
}
