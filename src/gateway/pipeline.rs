//! The REST request pipeline: REST's phase list, read top to bottom in
//! `run_phases` (the phases themselves are in `phases/`, one file each),
//! each returning `Ok` to continue or a [`GatewayError`] that ends the
//! request with a gateway response. Every phase appends its step to the
//! execution log, in the words AWS's test invoke uses.
//!
//! Phases (ARCHITECTURE.md): route -> method request -> authorizer -> API
//! key -> throttle -> validate -> cache lookup -> integration request
//! (parameters, template) -> integrate -> select integration response ->
//! method response -> cache store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::integrations::EndpointResponse;
use crate::model::{GatewayResponseType, IntegrationType};
use crate::observe::metrics::CacheOutcome;
use crate::observe::{ExecutionLog, Lossy};

use super::compile::{CompiledMethod, CompiledStage};
use super::context::{RequestContext, Text};
use super::endpoint::{HeadersDisplay, header_str, proxy_response};
use super::mapping::MappingScope;
use super::phases::{
    api_key::api_key,
    authorize::authorize,
    cache::{CacheLookup, cache_lookup},
    integrate::{integrate, lambda_proxy},
    integration_request::integration_request,
    respond::{integration_response, method_response},
    route::{Routed, method_request, route},
    throttle::throttle,
};
use super::request::MethodRequest;
use super::responses::{GatewayError, Reply};
use super::services::Services;

/// The result of running a request through the pipeline.
#[derive(Debug)]
pub struct Execution {
    pub reply: Reply,
    pub log: ExecutionLog,
    pub context: RequestContext,
    pub integration_latency: Option<Duration>,
    /// Time spent in the pipeline.
    pub latency: Duration,
    /// The method the request matched, if any.
    pub method: Option<Arc<CompiledMethod>>,
    /// Whether the stage cache answered, for methods with caching on.
    pub cache: Option<CacheOutcome>,
}

/// What the phases learn about a request besides its reply.
#[derive(Default)]
struct Served {
    method: Option<Arc<CompiledMethod>>,
    cache: Option<CacheOutcome>,
    warning: Option<&'static str>,
}

/// Runs one request through every phase, writing its steps into `log`
/// (a [muted](ExecutionLog::muted) one when nobody will read them).
pub async fn execute(
    stage: &CompiledStage,
    request: &MethodRequest,
    services: &Services,
    mut log: ExecutionLog,
) -> Execution {
    let started = Instant::now();
    let mut context = RequestContext::blank(
        stage.api_id.clone(),
        stage.stage_name.clone(),
        request.received_at,
    );
    context.http_method = Text::new(request.http_method.as_str());
    context.path = request.full_path.clone();
    context.protocol = request.protocol.clone();
    context.domain_name = request.domain_name.clone();
    context.source_ip = request.source_ip.clone();
    context.deployment_id = stage.deployment_id.clone();
    context.is_canary = stage.is_canary;
    context.user_agent = Text::new(header_str(&request.headers, http::header::USER_AGENT));
    log.push_with(
        "Starting execution for request: ",
        context.request_id.as_str(),
    );
    let mut integration_latency = None;
    let mut served = Served::default();

    let outcome = run_phases(
        stage,
        request,
        services,
        &mut context,
        &mut log,
        &mut integration_latency,
        &mut served,
    )
    .await;
    let reply = match outcome {
        Ok(reply) => {
            log.push("Successfully completed execution");
            log.push_with("Method completed with status: ", reply.status);
            reply
        }
        Err((error, path_parameters)) => {
            context.error_message = Some(error.message.clone());
            context.error_response_type = Some(error.response_type.as_str());
            let scope = mapping_scope(stage, request, &path_parameters, &context, None);
            let reply = stage.gateway_responses.render(&error, &scope);
            log.push_fmt(format_args!(
                "Gateway response type: {} with status code: {}",
                error.response_type.as_str(),
                reply.status
            ));
            log.push_with("Gateway response body: ", Lossy(&reply.body));
            log.push_with("Gateway response headers: ", HeadersDisplay(&reply.headers));
            log.push_with("Method completed with status: ", reply.status);
            reply
        }
    };
    let mut reply = reply;
    if let Some(warning) = served.warning {
        reply
            .headers
            .append("warning", http::HeaderValue::from_static(warning));
    }
    Execution {
        reply,
        log,
        context,
        integration_latency,
        latency: started.elapsed(),
        method: served.method,
        cache: served.cache,
    }
}

type PhaseError = (GatewayError, Vec<(String, String)>);

/// What parameter mappings and templates read, before (`response: None`)
/// or after the integration answered.
fn mapping_scope<'a>(
    stage: &'a CompiledStage,
    request: &'a MethodRequest,
    path_parameters: &'a [(String, String)],
    context: &'a RequestContext,
    response: Option<&'a EndpointResponse>,
) -> MappingScope<'a> {
    MappingScope {
        path_parameters,
        query: &request.query,
        headers: &request.headers,
        body: &request.body,
        stage_variables: &stage.stage_variables,
        context,
        integration_headers: response.map(|r| &r.headers),
        integration_body: response.map_or(&[][..], |r| &r.body[..]),
    }
}

async fn run_phases(
    stage: &CompiledStage,
    request: &MethodRequest,
    services: &Services,
    context: &mut RequestContext,
    log: &mut ExecutionLog,
    integration_latency: &mut Option<Duration>,
    served: &mut Served,
) -> Result<Reply, PhaseError> {
    let routed = route(stage, request, context, log).map_err(|e| (e, Vec::new()))?;
    served.method = Some(Arc::clone(&routed.method));
    // The path parameters go with an error (its gateway response may map
    // them); copied only then.
    let fail = |e: GatewayError| (e, routed.path_parameters.clone());
    method_request(request, &routed, log);
    authorize(stage, request, &routed, context, services, log)
        .await
        .map_err(fail)?;
    api_key(stage, request, &routed.method, context, services, log).map_err(fail)?;
    throttle(&routed.method, services, log).map_err(fail)?;
    if let Some(validation) = &routed.method.validation {
        super::validate::validate(validation, request, &routed.path_parameters, context, log)
            .map_err(fail)?;
    }
    let cached = cache_lookup(stage, request, &routed, log, &mut served.warning).map_err(fail)?;
    served.cache = cached.as_ref().map(|c| match c {
        CacheLookup::Hit(_) => CacheOutcome::Hit,
        CacheLookup::Miss(_) => CacheOutcome::Miss,
    });
    if let Some(CacheLookup::Hit(reply)) = cached {
        return Ok(reply);
    }
    let reply = integrate_phases(
        stage,
        request,
        &routed,
        services,
        context,
        log,
        integration_latency,
    )
    .await
    .map_err(fail)?;
    if let (Some(CacheLookup::Miss(key)), Some(cache), Some(caching)) =
        (cached, &stage.cache, &routed.method.caching)
        && (200..300).contains(&reply.status)
    {
        cache.put(key, &reply, caching.ttl);
    }
    Ok(reply)
}

/// The phases that call the integration and build the response.
async fn integrate_phases(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    services: &Services,
    context: &mut RequestContext,
    log: &mut ExecutionLog,
    integration_latency: &mut Option<Duration>,
) -> Result<Reply, GatewayError> {
    let Some(integration) = routed.method.integration.as_ref() else {
        log.push("Execution failed due to configuration error: No integration defined for method");
        return Err(GatewayError::new(
            GatewayResponseType::ApiConfigurationError,
        ));
    };
    if integration.integration_type == IntegrationType::AwsProxy {
        return lambda_proxy(
            stage,
            integration,
            request,
            routed,
            context,
            services,
            log,
            integration_latency,
        )
        .await;
    }
    let scope = mapping_scope(stage, request, &routed.path_parameters, context, None);
    let (endpoint_request, from_template) =
        integration_request(stage, integration, request, &scope, log).await?;
    let started = Instant::now();
    let response = integrate(
        integration,
        endpoint_request,
        from_template,
        services,
        log,
        started,
    )
    .await;
    let latency = started.elapsed();
    *integration_latency = Some(latency);
    context.integration_latency_ms = Some(latency.as_millis() as u64);
    let response = response?;
    context.integration_status = Some(response.status);
    if integration.integration_type == IntegrationType::HttpProxy {
        return Ok(proxy_response(response, log));
    }
    let scope = mapping_scope(
        stage,
        request,
        &routed.path_parameters,
        context,
        Some(&response),
    );
    let selected = integration_response(integration, &response, log)?;
    method_response(stage, selected, &response, request, &scope, log).await
}
