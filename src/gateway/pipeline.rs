//! The REST request pipeline: one function per phase, called in order from
//! [`execute`], each returning `Ok` to continue or a [`GatewayError`] that
//! ends the request with a gateway response. Every phase appends its step to
//! the execution log, in the words AWS's test invoke uses.
//!
//! Phases (ARCHITECTURE.md): route -> method request -> integration request
//! (parameters, template) -> integrate -> select integration response ->
//! method response. Authorizers, API keys, throttling, validation and
//! caching slot in between as their issues land.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::integrations::{
    EndpointRequest, EndpointResponse, HttpIntegration, Integrate, IntegrationError,
    MockIntegration,
};
use crate::model::selection_pattern::Matched;
use crate::model::{GatewayResponseType, IntegrationType};
use crate::observe::metrics::CacheOutcome;
use crate::observe::{ExecutionLog, Lossy};

use super::compile::{CompiledIntegration, CompiledMethod, CompiledStage, ParameterTarget};
use super::context::{RequestContext, Text};
use super::endpoint::{
    HeadersDisplay, PairsDisplay, add_gateway_headers, fill_path_parameters, header_str,
    header_text, is_hop_by_hop, proxy_response, set_header, utf8_query,
};
use super::mapping::MappingScope;
use super::request::MethodRequest;
use super::responses::{GatewayError, Reply};
use super::transform::{self, Payload, RequestTemplate, Template};
use crate::vtl;

/// Clients the integrations share.
#[derive(Debug, Clone, Default)]
pub struct Services {
    pub http: HttpIntegration,
    pub functions: crate::functions::FunctionHost,
    /// The account-level bucket (none for test invoke, which AWS does not
    /// throttle).
    pub account_throttle: Option<Arc<super::throttle::TokenBucket>>,
    /// API keys and usage plans, swapped on reload, and the quota counters
    /// (none for test invoke, which skips the API key check as AWS's does).
    pub api_keys: Option<ApiKeyServices>,
    /// JWT authorizers' key sets, by issuer.
    pub jwks: Arc<crate::auth::jwt::Jwks>,
}

#[derive(Debug, Clone)]
pub struct ApiKeyServices {
    pub keys: Arc<arc_swap::ArcSwap<crate::auth::api_keys::ApiKeys>>,
    pub usage: Arc<crate::auth::api_keys::UsageStore>,
}

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

struct Routed {
    method: Arc<CompiledMethod>,
    /// The resource's path (`/pets/{petId}`).
    resource_path: Text,
    path_parameters: Vec<(String, String)>,
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
    let cached = cache_lookup(stage, request, &routed, log, served).map_err(fail)?;
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

enum CacheLookup {
    Hit(Reply),
    /// Not cached (or invalidated): the key to store the answer under.
    Miss(String),
}

/// The `Warning` a response carries when its `Cache-Control: max-age=0`
/// was ignored (`SUCCEED_WITH_RESPONSE_HEADER`). AWS documents that it adds
/// a warning header but not its text: this text is Portico's.
pub const CACHE_CONTROL_IGNORED_WARNING: &str =
    "199 - \"Cache-Control header ignored: the caller is not authorized to invalidate the cache\"";

/// Phase: the stage cache, for a method with caching on. The key is the
/// verb, the resource path and the values of the integration's
/// `cacheKeyParameters`. `Cache-Control: max-age=0` invalidates the entry
/// when the method does not require authorization for that; when it does,
/// the caller would need IAM's `execute-api:InvalidateCache`, which no
/// local caller has yet, so the method's
/// `unauthorizedCacheControlHeaderStrategy` decides: refuse with 403, or
/// ignore the header with or without a `Warning`.
fn cache_lookup(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    log: &mut ExecutionLog,
    served: &mut Served,
) -> Result<Option<CacheLookup>, GatewayError> {
    let (Some(cache), Some(caching)) = (stage.cache.as_ref(), routed.method.caching.as_ref())
    else {
        return Ok(None);
    };
    let mut key = format!("{} {}", routed.method.http_method, routed.resource_path);
    for parameter in &caching.key_parameters {
        let value = if let Some(name) = parameter.strip_prefix("method.request.path.") {
            routed
                .path_parameters
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        } else if let Some(name) = parameter.strip_prefix("method.request.querystring.") {
            request
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        } else {
            parameter
                .strip_prefix("method.request.header.")
                .map(|name| header_text(&request.headers, name.to_ascii_lowercase().as_str()))
        };
        key.push('\u{1f}');
        key.push_str(parameter);
        key.push('=');
        key.push_str(value.as_deref().unwrap_or_default());
    }
    let invalidate = header_text(&request.headers, http::header::CACHE_CONTROL)
        .split(',')
        .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"));
    if invalidate && !caching.require_authorization {
        log.push("Invalidating the cache entry (Cache-Control: max-age=0)");
        cache.remove(&key);
        return Ok(Some(CacheLookup::Miss(key)));
    }
    if invalidate {
        use super::compile::UnauthorizedCacheControl as U;
        match caching.unauthorized {
            U::FailWith403 => {
                log.push(
                    "Cache invalidation refused: the caller is not authorized \
                     (unauthorizedCacheControlHeaderStrategy FAIL_WITH_403)",
                );
                return Err(GatewayError::new(GatewayResponseType::AccessDenied));
            }
            U::SucceedWithResponseHeader => {
                log.push(
                    "Ignoring Cache-Control: the caller is not authorized to invalidate the cache",
                );
                served.warning = Some(CACHE_CONTROL_IGNORED_WARNING);
            }
            U::SucceedWithoutResponseHeader => {
                log.push(
                    "Ignoring Cache-Control: the caller is not authorized to invalidate the cache",
                );
            }
        }
    }
    Ok(Some(match cache.get(&key) {
        Some(reply) => {
            log.push("Sending response from the stage cache");
            CacheLookup::Hit(reply)
        }
        None => CacheLookup::Miss(key),
    }))
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

/// Phase: find the resource and method. AWS answers an unknown path or verb
/// with 403 `Missing Authentication Token`, not 404.
fn route(
    stage: &CompiledStage,
    request: &MethodRequest,
    context: &mut RequestContext,
    log: &mut ExecutionLog,
) -> Result<Routed, GatewayError> {
    let missing = || GatewayError::new(GatewayResponseType::MissingAuthenticationToken);
    let Some(found) = stage.router.find(&request.path) else {
        log.push_fmt(format_args!("No resource matches path {}", request.path));
        return Err(missing());
    };
    let resource = &stage.resources[found.resource];
    context.resource_id = resource.id.clone();
    let resource_path = resource.path.clone();
    context.resource_path = resource_path.clone();
    let method = resource
        .methods
        .get(request.http_method.as_str())
        .or_else(|| resource.methods.get("ANY"));
    let Some(method) = method else {
        log.push_fmt(format_args!(
            "No method {} on resource {}",
            request.http_method, resource.path
        ));
        return Err(missing());
    };
    log.push_parts(&[
        &"HTTP Method: ",
        &request.http_method.as_str(),
        &", Resource Path: ",
        &resource.path.as_str(),
    ]);
    Ok(Routed {
        method: Arc::clone(method),
        resource_path,
        path_parameters: found.path_parameters,
    })
}

/// Phase: the API key of a method that requires one, and its usage plan's
/// throttle and quota.
fn api_key(
    stage: &CompiledStage,
    request: &MethodRequest,
    method: &CompiledMethod,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    let Some(keys) = services
        .api_keys
        .as_ref()
        .filter(|_| method.api_key_required)
    else {
        return Ok(());
    };
    let presented = if stage.api_key_from_authorizer {
        context.usage_identifier_key.clone()
    } else {
        request
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let checked = keys.keys.load().check(
        presented.as_deref(),
        (&stage.api_id, &stage.stage_name),
        (&context.resource_path, &context.http_method),
        &keys.usage,
        now,
    );
    use crate::auth::api_keys::Refusal;
    match checked {
        Ok(id) => {
            log.push_fmt(format_args!("API Key {id} authorized"));
            context.api_key = presented.map(|value| (value, id));
            Ok(())
        }
        Err(Refusal::Forbidden) => {
            log.push("API Key not authorized: missing, unknown, disabled, or in no usage plan for this stage");
            Err(GatewayError::new(GatewayResponseType::InvalidApiKey))
        }
        Err(Refusal::Throttled) => {
            log.push("Request throttled by the usage plan");
            Err(GatewayError::new(GatewayResponseType::Throttled))
        }
        Err(Refusal::QuotaExceeded) => {
            log.push("Usage plan quota exceeded");
            Err(GatewayError::new(GatewayResponseType::QuotaExceeded))
        }
    }
}

/// Phase: throttling, the account's bucket then the method's (AWS's
/// token buckets); either empty is 429 `Too Many Requests`.
fn throttle(
    method: &CompiledMethod,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    let account = services
        .account_throttle
        .as_ref()
        .is_some_and(|b| !b.admit());
    let method_limit = !account && method.throttle.as_ref().is_some_and(|b| !b.admit());
    if account || method_limit {
        log.push_fmt(format_args!(
            "Request throttled: the {} limit was exceeded",
            if account { "account" } else { "method" }
        ));
        return Err(GatewayError::new(GatewayResponseType::Throttled));
    }
    Ok(())
}

/// Phase: the method's authorizer, if it has one.
async fn authorize(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    use super::compile::Authorization;
    match &routed.method.authorization {
        Authorization::None => Ok(()),
        Authorization::Unsupported(kind) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: {kind} authorization is not supported by this version of Portico"
            ));
            Err(GatewayError::new(
                GatewayResponseType::AuthorizerConfigurationError,
            ))
        }
        Authorization::Lambda(authorizer) => {
            lambda_authorize(authorizer, stage, request, routed, context, services, log).await
        }
    }
}

/// A Lambda authorizer: identity sources, cache, the function, the policy.
async fn lambda_authorize(
    authorizer: &crate::auth::lambda_authorizer::CompiledAuthorizer,
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    use crate::auth::lambda_authorizer::{
        AuthorizerKind, Decision, IdentitySource, evaluate, parse_result,
    };
    let unauthorized = || GatewayError::new(GatewayResponseType::Unauthorized);
    let configuration = || GatewayError::new(GatewayResponseType::AuthorizerConfigurationError);
    log.push_fmt(format_args!(
        "Starting authorizer: {} for request: {}",
        authorizer.id, context.request_id
    ));
    let values: Vec<Option<String>> = authorizer
        .identity_sources
        .iter()
        .map(|source| match source {
            IdentitySource::Header(name) => request
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            IdentitySource::Query(name) => request
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            IdentitySource::StageVariable(name) => stage
                .stage_variables
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            IdentitySource::Context(name) => context.get(name),
        })
        .map(|v| v.filter(|v| !v.is_empty()))
        .collect();
    let missing = values.iter().any(Option::is_none);
    if missing && (authorizer.kind == AuthorizerKind::Token || !authorizer.ttl.is_zero()) {
        log.push("Unauthorized request: an identity source is missing or empty");
        return Err(unauthorized());
    }
    if let (Some(regex), Some(Some(token))) = (&authorizer.validation, values.first())
        && !regex.is_match(token)
    {
        log.push(
            "Unauthorized request: the token does not match the identity validation expression",
        );
        return Err(unauthorized());
    }
    let masked: Vec<String> = values
        .iter()
        .map(|v| {
            let v = v.as_deref().unwrap_or_default();
            let tail: String = v
                .chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        })
        .collect();
    log.push_fmt(format_args!("Incoming identity: {}", masked.join(", ")));
    let method_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        crate::model::function::REGION,
        crate::model::function::ACCOUNT_ID,
        stage.api_id,
        stage.stage_name,
        request.http_method,
        request.path
    );
    let key: String = values
        .iter()
        .map(|v| v.as_deref().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\u{1f}");
    let started = Instant::now();
    let result = match authorizer.cached(&key) {
        Some(cached) => {
            log.push("Using cached authorizer result");
            cached
        }
        None => {
            let event = match authorizer.kind {
                AuthorizerKind::Token => serde_json::json!({
                    "type": "TOKEN",
                    "authorizationToken": values.first().cloned().flatten().unwrap_or_default(),
                    "methodArn": method_arn,
                }),
                AuthorizerKind::Request => {
                    let mut event = proxy_event_of(stage, request, routed, context, &[]);
                    if let serde_json::Value::Object(map) = &mut event {
                        map.remove("body");
                        map.remove("isBase64Encoded");
                        map.insert("type".into(), "REQUEST".into());
                        map.insert("methodArn".into(), method_arn.clone().into());
                    }
                    event
                }
            };
            let arn = function_arn(services, &authorizer.function);
            log_lambda_call(log, &arn, None);
            let outcome = services
                .functions
                .invoke(&authorizer.function, Bytes::from(event.to_string()))
                .await;
            match outcome {
                Err(error) => {
                    log.push_fmt(format_args!(
                        "Execution failed due to configuration error: {error}"
                    ));
                    log.push("AuthorizerConfigurationException");
                    return Err(configuration());
                }
                Ok(crate::functions::Outcome::Error { payload, .. }) => {
                    let message = crate::integrations::lambda::error_message(&payload);
                    log.push_with("Authorizer result body before parsing: ", Lossy(&payload));
                    if message == "Unauthorized" {
                        log.push("Unauthorized request: the authorizer answered Unauthorized");
                        return Err(unauthorized());
                    }
                    log.push("Execution failed due to configuration error: Authorizer error");
                    log.push("AuthorizerConfigurationException");
                    return Err(configuration());
                }
                Ok(crate::functions::Outcome::Success(payload)) => {
                    log.push_with("Authorizer result body before parsing: ", Lossy(&payload));
                    match parse_result(&payload) {
                        Ok(result) => {
                            authorizer.store(key, &result);
                            result
                        }
                        Err(reason) => {
                            log.push_fmt(format_args!(
                                "Execution failed due to configuration error: {reason}"
                            ));
                            log.push("AuthorizerConfigurationException");
                            return Err(configuration());
                        }
                    }
                }
            }
        }
    };
    match evaluate(&result.statements, &method_arn) {
        Decision::Allow => {
            log.push_fmt(format_args!(
                "Using valid authorizer policy for principal: {}",
                result.principal_id
            ));
            log.push("Successfully completed authorizer execution");
            context.usage_identifier_key = result.usage_identifier_key.clone();
            let authorizer_context = &mut context.authorizer;
            authorizer_context.insert("principalId".into(), result.principal_id.clone().into());
            for (key, value) in &result.context {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                authorizer_context.insert(key.clone(), text.into());
            }
            authorizer_context.insert(
                "integrationLatency".into(),
                (started.elapsed().as_millis() as u64).into(),
            );
            Ok(())
        }
        Decision::ExplicitDeny => {
            log.push("The client is not authorized to perform this operation (explicit deny).");
            Err(GatewayError::with_message(
                GatewayResponseType::AccessDenied,
                "User is not authorized to access this resource with an explicit deny",
            ))
        }
        Decision::ImplicitDeny => {
            log.push("The client is not authorized to perform this operation.");
            Err(GatewayError::new(GatewayResponseType::AccessDenied))
        }
    }
}

/// Phase: record the method request as received.
fn method_request(request: &MethodRequest, routed: &Routed, log: &mut ExecutionLog) {
    log.push_with(
        "Method request path: ",
        PairsDisplay(&routed.path_parameters),
    );
    log.push_with(
        "Method request query string: ",
        PairsDisplay(&request.query),
    );
    log.push_with("Method request headers: ", HeadersDisplay(&request.headers));
    log.push_with(
        "Method request body before transformations: ",
        Lossy(&request.body),
    );
}

/// Phase: build the endpoint request: URI with path parameters, query and
/// headers from `requestParameters` (all of the client's for HTTP_PROXY),
/// and the body from the request template chosen by `Content-Type`.
async fn integration_request(
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
async fn request_body(
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
async fn render_template(
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
fn apply_request_overrides(
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

/// The header a Lambda integration's endpoint response carries when the
/// function failed (as Lambda's Invoke API answers).
const FUNCTION_ERROR: &str = "x-amz-function-error";

/// Calls a Lambda function with the mapped body (`AWS` integration):
/// synchronously, or as an event when the mapped request has
/// `X-Amz-Invocation-Type: Event` (Lambda then answers 202, no body).
async fn lambda_invoke(
    function: &str,
    request: EndpointRequest,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<EndpointResponse, IntegrationError> {
    let arn = function_arn(services, function);
    log_lambda_call(log, &arn, Some(&request.body));
    let asynchronous = request
        .headers
        .get("x-amz-invocation-type")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"event"));
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if asynchronous {
        services
            .functions
            .invoke_event(function, request.body)
            .map_err(|e| IntegrationError::Configuration(e.to_string()))?;
        return Ok(EndpointResponse {
            status: 202,
            headers,
            body: Bytes::new(),
        });
    }
    match services.functions.invoke(function, request.body).await {
        Ok(crate::functions::Outcome::Success(body)) => Ok(EndpointResponse {
            status: 200,
            headers,
            body,
        }),
        Ok(crate::functions::Outcome::Error {
            error_type,
            payload,
        }) => {
            if let Ok(value) = HeaderValue::from_str(&error_type) {
                headers.insert(FUNCTION_ERROR, value);
            }
            Ok(EndpointResponse {
                status: 200,
                headers,
                body: payload,
            })
        }
        Err(error) => Err(IntegrationError::Configuration(error.to_string())),
    }
}

fn function_arn(services: &Services, function: &str) -> String {
    services
        .functions
        .definition(function)
        .map(|d| d.arn())
        .unwrap_or_else(|| {
            format!(
                "arn:aws:lambda:{}:{}:function:{function}",
                crate::model::function::REGION,
                crate::model::function::ACCOUNT_ID
            )
        })
}

/// The `AWS_PROXY` integration: the request as a proxy event to the
/// function, the function's answer as the response (AWS's rules; anything
/// else is a 502).
#[allow(clippy::too_many_arguments)]
async fn lambda_proxy(
    stage: &CompiledStage,
    integration: &CompiledIntegration,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
    integration_latency: &mut Option<Duration>,
) -> Result<Reply, GatewayError> {
    let internal = || {
        GatewayError::with_message(GatewayResponseType::Default5xx, "Internal server error")
            .with_status(502)
    };
    let Some(function) = &integration.function else {
        log.push("Execution failed due to configuration error: Invalid Lambda function ARN in the integration URI");
        return Err(GatewayError::new(
            GatewayResponseType::ApiConfigurationError,
        ));
    };
    let event = proxy_event_of(stage, request, routed, context, &request.body);
    let payload = Bytes::from(event.to_string());
    let arn = function_arn(services, function);
    log_lambda_call(log, &arn, Some(&payload));
    let started = Instant::now();
    let outcome = services.functions.invoke(function, payload).await;
    let latency = started.elapsed();
    *integration_latency = Some(latency);
    context.integration_latency_ms = Some(latency.as_millis() as u64);
    let result = match outcome {
        // AWS maps a throttled Lambda (429 TooManyRequestsException) to a
        // 500 through INTEGRATION_FAILURE, also for proxy integrations.
        Err(crate::functions::InvokeError::Throttled) => {
            log.push("Execution failed due to a limit exceeded error: Lambda answered 429 TooManyRequestsException (Rate Exceeded.)");
            return Err(GatewayError::with_message(
                GatewayResponseType::IntegrationFailure,
                "Internal server error",
            )
            .with_status(500));
        }
        Err(error) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: {error}"
            ));
            return Err(GatewayError::new(
                GatewayResponseType::ApiConfigurationError,
            ));
        }
        Ok(crate::functions::Outcome::Error { payload, .. }) => {
            log.push_fmt(format_args!(
                "Received response. Status: 200, Integration latency: {} ms",
                latency.as_millis()
            ));
            log.push_fmt(format_args!(
                "Lambda execution failed with status 200 due to customer function error: {}",
                crate::integrations::lambda::error_message(&payload)
            ));
            log.push_with(
                "Endpoint response body before transformations: ",
                Lossy(&payload),
            );
            return Err(internal());
        }
        Ok(crate::functions::Outcome::Success(payload)) => payload,
    };
    log.push_fmt(format_args!(
        "Received response. Status: 200, Integration latency: {} ms",
        latency.as_millis()
    ));
    log.push_with(
        "Endpoint response body before transformations: ",
        Lossy(&result),
    );
    match crate::integrations::lambda::proxy_response(&result) {
        Ok(response) => {
            context.integration_status = Some(response.status);
            log_method_response(log, &response.body, &response.headers);
            Ok(Reply {
                status: response.status,
                headers: response.headers,
                body: response.body,
            })
        }
        Err(reason) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: Malformed Lambda proxy response ({reason})"
            ));
            Err(internal())
        }
    }
}

/// The proxy event for this request (`AWS_PROXY` integrations and REQUEST
/// authorizers).
fn proxy_event_of(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &RequestContext,
    body: &[u8],
) -> serde_json::Value {
    let content_type = header_str(&request.headers, http::header::CONTENT_TYPE);
    let content_type = transform::media_type(&content_type);
    crate::integrations::lambda::proxy_event(&crate::integrations::lambda::ProxyRequest {
        resource_path: &context.resource_path,
        path: &request.path,
        http_method: request.http_method.as_str(),
        headers: &request.headers,
        query: &request.query,
        path_parameters: &routed.path_parameters,
        stage_variables: &stage.stage_variables,
        context: context.to_json(),
        body,
        binary: !body.is_empty() && transform::is_binary(&content_type, &stage.binary_media_types),
    })
}

/// The execution log's lines for a call to Lambda's Invoke API.
fn log_lambda_call(log: &mut ExecutionLog, arn: &str, body: Option<&[u8]>) {
    let url =
        format!("https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{arn}/invocations");
    log.push_with("Endpoint request URI: ", url.as_str());
    if let Some(body) = body {
        log.push_with("Endpoint request body after transformations: ", Lossy(body));
        log.push_with("Sending request to ", url.as_str());
    }
}

/// Phase: call the endpoint.
async fn integrate(
    integration: &CompiledIntegration,
    request: EndpointRequest,
    from_template: bool,
    services: &Services,
    log: &mut ExecutionLog,
    started: Instant,
) -> Result<EndpointResponse, GatewayError> {
    let result = match integration.integration_type {
        IntegrationType::Mock => MockIntegration { from_template }.invoke(request).await,
        IntegrationType::Http | IntegrationType::HttpProxy => services.http.invoke(request).await,
        IntegrationType::Aws => match &integration.function {
            Some(function) => lambda_invoke(function, request, services, log).await,
            None => Err(IntegrationError::Configuration(
                "AWS service integrations other than Lambda are not supported by this version of Portico".into(),
            )),
        },
        IntegrationType::AwsProxy => Err(IntegrationError::Configuration(
            "AWS_PROXY is handled before integration".into(),
        )),
    };
    match result {
        Ok(response) => {
            if integration.integration_type != IntegrationType::Mock {
                log.push_parts(&[
                    &"Received response. Status: ",
                    &response.status,
                    &", Integration latency: ",
                    &(started.elapsed().as_millis() as u64),
                    &" ms",
                ]);
                log.push_with(
                    "Endpoint response headers: ",
                    HeadersDisplay(&response.headers),
                );
                log.push_with(
                    "Endpoint response body before transformations: ",
                    Lossy(&response.body),
                );
            }
            Ok(response)
        }
        Err(error) => {
            log.push_fmt(format_args!("{error}"));
            Err(match error {
                IntegrationError::Timeout => {
                    GatewayError::new(GatewayResponseType::IntegrationTimeout)
                }
                IntegrationError::Network(_) => {
                    GatewayError::new(GatewayResponseType::IntegrationFailure)
                }
                IntegrationError::Configuration(_) => {
                    GatewayError::new(GatewayResponseType::ApiConfigurationError)
                }
            })
        }
    }
}

/// Phase: pick the integration response whose `selectionPattern` matches
/// the endpoint's status code (the whole string), else the default one.
fn integration_response<'a>(
    integration: &'a CompiledIntegration,
    response: &EndpointResponse,
    log: &mut ExecutionLog,
) -> Result<&'a super::compile::CompiledIntegrationResponse, GatewayError> {
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
async fn method_response(
    stage: &CompiledStage,
    selected: &super::compile::CompiledIntegrationResponse,
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
fn log_method_response(log: &mut ExecutionLog, body: &[u8], headers: &HeaderMap) {
    log.push_with("Method response body after transformations: ", Lossy(body));
    log.push_with("Method response headers: ", HeadersDisplay(headers));
}
