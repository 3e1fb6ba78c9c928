//! Deployment -> `CompiledStage`: routers, parsed mappings, compiled
//! templates and selection regexes, built once per deploy / stage change and
//! shared immutably by every request.

use super::context::Text;
use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use std::sync::Arc;

use crate::model::{
    ContentHandling, Integration, IntegrationType, PassthroughBehavior, RestApi, Stage,
};

use super::mapping::Source;
use super::responses::GatewayResponses;
use super::router::Router;
use super::transform::Template;

/// One stage of one API, ready to serve.
#[derive(Debug)]
pub struct CompiledStage {
    /// Shared text (per deployment) that every request's context and log
    /// record copy: clones are cheap whatever the length.
    pub api_id: Text,
    pub api_name: String,
    pub stage_name: Text,
    pub deployment_id: Text,
    /// `name -> value`, sorted by name: what `$stageVariables` and
    /// `stageVariables.x` mappings read.
    pub stage_variables: Vec<(String, String)>,
    /// The API's `binaryMediaTypes`.
    pub binary_media_types: Vec<String>,
    pub router: Router,
    pub resources: Vec<CompiledResource>,
    pub gateway_responses: GatewayResponses,
    /// This is a stage's canary (`$context.isCanaryRequest`).
    pub is_canary: bool,
    /// The stage's response cache (`cacheClusterEnabled`).
    pub cache: Option<Arc<super::cache::ResponseCache>>,
    /// `apiKeySource` is AUTHORIZER: the key comes from the authorizer's
    /// `usageIdentifierKey`, not `x-api-key`.
    pub api_key_from_authorizer: bool,
    /// The metrics series of requests that matched no method, resolved on
    /// first use.
    pub metrics: std::sync::OnceLock<Arc<crate::observe::metrics::Series>>,
    /// `User-Agent: AmazonAPIGateway_{apiId}` and `x-amzn-apigateway-api-id`
    /// as endpoint requests carry them, made once per deployment (`None`
    /// for an id that is not a valid header value).
    pub user_agent_value: Option<http::HeaderValue>,
    pub api_id_value: Option<http::HeaderValue>,
}

#[derive(Debug)]
pub struct CompiledResource {
    pub id: Text,
    pub path: Text,
    /// By HTTP verb; `ANY` catches the verbs not listed.
    /// Fx: looked up on every request; keys come from the definition.
    pub methods: FxHashMap<String, Arc<CompiledMethod>>,
}

#[derive(Debug)]
pub struct CompiledMethod {
    pub http_method: String,
    pub api_key_required: bool,
    pub authorization: Authorization,
    /// The stage's method throttling (`methodSettings`), if set.
    pub throttle: Option<Arc<super::throttle::TokenBucket>>,
    /// Response caching, when the stage has a cache and the method uses it.
    pub caching: Option<MethodCaching>,
    pub validation: Option<super::validate::CompiledValidation>,
    pub integration: Option<CompiledIntegration>,
    /// This method's metrics series, resolved on first use.
    pub metrics: std::sync::OnceLock<Arc<crate::observe::metrics::Series>>,
}

#[derive(Debug)]
pub struct CompiledIntegration {
    pub integration_type: IntegrationType,
    /// The backend verb; `None` or `ANY` means the request's.
    pub http_method: Option<String>,
    /// The URI with stage variables already substituted.
    pub uri: Option<String>,
    pub request_parameters: Vec<(ParameterTarget, Source)>,
    pub request_templates: Vec<(String, Template)>,
    pub passthrough_behavior: PassthroughBehavior,
    pub content_handling: Option<ContentHandling>,
    pub timeout_ms: u64,
    pub responses: Vec<CompiledIntegrationResponse>,
    /// The Lambda function an `AWS` / `AWS_PROXY` integration invokes.
    pub function: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MethodCaching {
    pub ttl: std::time::Duration,
    /// The integration's `cacheKeyParameters` (`method.request.path.id`, ...).
    pub key_parameters: Vec<String>,
    /// `Cache-Control: max-age=0` needs authorization (IAM's
    /// `execute-api:InvalidateCache`, which no local caller has yet).
    pub require_authorization: bool,
    /// What an unauthorized `Cache-Control: max-age=0` gets.
    pub unauthorized: UnauthorizedCacheControl,
}

/// AWS's `unauthorizedCacheControlHeaderStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnauthorizedCacheControl {
    FailWith403,
    SucceedWithResponseHeader,
    SucceedWithoutResponseHeader,
}

impl UnauthorizedCacheControl {
    /// From the setting's text; unset is what AWS's console picks by
    /// default, "ignore the header, add a warning".
    pub fn parse(value: Option<&str>) -> UnauthorizedCacheControl {
        match value {
            Some("FAIL_WITH_403") => UnauthorizedCacheControl::FailWith403,
            Some("SUCCEED_WITHOUT_RESPONSE_HEADER") => {
                UnauthorizedCacheControl::SucceedWithoutResponseHeader
            }
            _ => UnauthorizedCacheControl::SucceedWithResponseHeader,
        }
    }
}

/// How a method authorizes its callers.
#[derive(Debug, Clone)]
pub enum Authorization {
    None,
    Lambda(Arc<crate::auth::lambda_authorizer::CompiledAuthorizer>),
    /// An authorization type Portico does not run locally yet: requests
    /// are refused (500) rather than let through.
    Unsupported(String),
}

/// Where a request parameter mapping writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterTarget {
    Path(String),
    Query(String),
    Header(String),
}

#[derive(Debug)]
pub struct CompiledIntegrationResponse {
    pub status_code: u16,
    /// `None` for the default response.
    pub selection_pattern: Option<crate::model::SelectionPattern>,
    pub selection_pattern_source: Option<String>,
    pub response_parameters: Vec<(String, Source)>,
    pub response_templates: Vec<(String, Template)>,
    pub content_handling: Option<ContentHandling>,
}

/// What went wrong compiling a deployment: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api} stage {stage}: {location}: {message}")]
pub struct CompileError {
    pub api: String,
    pub stage: String,
    pub location: String,
    pub message: String,
}

/// Compiles the API as deployed (`api` is the deployment snapshot or, for
/// test invoke, the draft) for `stage`.
pub fn compile_stage(api: &RestApi, stage: &Stage) -> Result<CompiledStage, CompileError> {
    let error = |location: String, message: String| CompileError {
        api: api.name.clone(),
        stage: stage.stage_name.clone(),
        location,
        message,
    };
    let router = Router::new(api.resources.iter().map(|r| r.path.as_str()));
    let mut models = super::validate::ModelCompiler::new(api);
    let mut authorizers: HashMap<String, Arc<crate::auth::lambda_authorizer::CompiledAuthorizer>> =
        HashMap::new();
    for authorizer in &api.authorizers {
        if authorizer.authorizer_type == "COGNITO_USER_POOLS" {
            continue;
        }
        let uri = substitute_stage_variables(
            authorizer.authorizer_uri.as_deref().unwrap_or_default(),
            &stage.variables,
        );
        let compiled =
            crate::auth::lambda_authorizer::CompiledAuthorizer::compile(authorizer, &uri)
                .map_err(|message| error(format!("authorizer {}", authorizer.name), message))?;
        authorizers.insert(authorizer.id.clone(), Arc::new(compiled));
    }
    let mut resources = Vec::with_capacity(api.resources.len());
    for resource in &api.resources {
        let mut methods = FxHashMap::default();
        for (verb, method) in &resource.resource_methods {
            let location = format!("{verb} {}", resource.path);
            let integration = match &method.method_integration {
                Some(integration) => Some(
                    compile_integration(integration, &stage.variables)
                        .map_err(|message| error(location.clone(), message))?,
                ),
                None => None,
            };
            let validation = models
                .validation(method)
                .map_err(|message| error(location.clone(), message))?;
            let authorization = match method.authorization_type.as_str() {
                "CUSTOM" => {
                    let id = method.authorizer_id.as_deref().unwrap_or_default();
                    match authorizers.get(id) {
                        Some(authorizer) => Authorization::Lambda(Arc::clone(authorizer)),
                        None if api.authorizers.iter().any(|a| a.id == id) => {
                            Authorization::Unsupported("COGNITO_USER_POOLS".into())
                        }
                        None => {
                            return Err(error(
                                location.clone(),
                                format!(
                                    "authorizationType CUSTOM needs an authorizer; {id:?} is not one of this API's"
                                ),
                            ));
                        }
                    }
                }
                "COGNITO_USER_POOLS" => {
                    Authorization::Unsupported(method.authorization_type.clone())
                }
                // AWS_IAM (SigV4) is checked once its issue lands; until then
                // such methods are served unsigned, as before.
                _ => Authorization::None,
            };
            methods.insert(
                verb.clone(),
                Arc::new(CompiledMethod {
                    http_method: verb.clone(),
                    api_key_required: method.api_key_required,
                    authorization,
                    throttle: stage
                        .method_setting(&resource.path, verb)
                        .filter(|s| {
                            s.throttling_rate_limit.is_some() || s.throttling_burst_limit.is_some()
                        })
                        .map(|s| {
                            let defaults = super::throttle::Limits::ACCOUNT_DEFAULT;
                            Arc::new(super::throttle::TokenBucket::new(
                                super::throttle::Limits {
                                    rate: s.throttling_rate_limit.unwrap_or(defaults.rate),
                                    burst: s
                                        .throttling_burst_limit
                                        .map_or(defaults.burst, u64::from),
                                },
                                super::throttle::monotonic(),
                            ))
                        }),
                    caching: stage
                        .cache_cluster_enabled
                        .then(|| stage.method_setting(&resource.path, verb))
                        .and_then(|setting| {
                            let enabled = setting
                                .and_then(|s| s.caching_enabled)
                                .unwrap_or(verb == "GET");
                            let ttl = setting.and_then(|s| s.cache_ttl_in_seconds).unwrap_or(300);
                            (enabled && ttl > 0).then(|| MethodCaching {
                                ttl: std::time::Duration::from_secs(u64::from(ttl.min(3600))),
                                key_parameters: method
                                    .method_integration
                                    .as_ref()
                                    .map(|i| i.cache_key_parameters.clone())
                                    .unwrap_or_default(),
                                require_authorization: setting
                                    .and_then(|s| s.require_authorization_for_cache_control)
                                    .unwrap_or(true),
                                unauthorized: UnauthorizedCacheControl::parse(setting.and_then(
                                    |s| s.unauthorized_cache_control_header_strategy.as_deref(),
                                )),
                            })
                        }),
                    validation,
                    integration,
                    metrics: std::sync::OnceLock::new(),
                }),
            );
        }
        resources.push(CompiledResource {
            id: Text::new(&resource.id),
            path: Text::new(&resource.path),
            methods,
        });
    }
    let gateway_responses = GatewayResponses::compile(&api.gateway_responses)
        .map_err(|message| error("gatewayResponses".into(), message))?;
    Ok(CompiledStage {
        user_agent_value: http::HeaderValue::from_str(&format!("AmazonAPIGateway_{}", api.id)).ok(),
        api_id_value: http::HeaderValue::from_str(&api.id).ok(),
        api_id: Text::new(&api.id),
        api_name: api.name.clone(),
        stage_name: Text::new(&stage.stage_name),
        deployment_id: Text::new(&stage.deployment_id),
        stage_variables: stage
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        binary_media_types: api.binary_media_types.clone(),
        router,
        resources,
        gateway_responses,
        is_canary: false,
        cache: stage.cache_cluster_enabled.then(|| {
            let gigabytes: f64 = stage
                .cache_cluster_size
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.5);
            let bytes = (gigabytes * 1e9) as usize;
            Arc::new(super::cache::ResponseCache::new(
                bytes.min(crate::model::stage::LOCAL_CACHE_BYTES),
            ))
        }),
        api_key_from_authorizer: api.api_key_source == crate::model::ApiKeySource::Authorizer,
        metrics: std::sync::OnceLock::new(),
    })
}

fn compile_integration(
    integration: &Integration,
    stage_variables: &BTreeMap<String, String>,
) -> Result<CompiledIntegration, String> {
    let uri = integration
        .uri
        .as_deref()
        .map(|uri| substitute_stage_variables(uri, stage_variables));
    if matches!(
        integration.integration_type,
        IntegrationType::Http | IntegrationType::HttpProxy
    ) && uri.is_none()
    {
        return Err("an HTTP integration needs a uri".into());
    }
    let mut request_parameters = Vec::new();
    for (target, source) in &integration.request_parameters {
        let target = if let Some(name) = target.strip_prefix("integration.request.path.") {
            ParameterTarget::Path(name.to_string())
        } else if let Some(name) = target.strip_prefix("integration.request.querystring.") {
            ParameterTarget::Query(name.to_string())
        } else if let Some(name) = target.strip_prefix("integration.request.header.") {
            ParameterTarget::Header(name.to_string())
        } else {
            return Err(format!(
                "invalid request parameter target {target:?} (expected integration.request.{{path|querystring|header}}.NAME)"
            ));
        };
        request_parameters.push((target, Source::parse(source)?));
    }
    let request_templates = compile_templates(&integration.request_templates);
    let mut responses = Vec::new();
    for (key, response) in &integration.integration_responses {
        let status_code: u16 = response
            .status_code
            .parse()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| {
                format!(
                    "integration response {key}: invalid statusCode {:?}",
                    response.status_code
                )
            })?;
        let selection_pattern = match response.selection_pattern.as_deref() {
            // An empty pattern is the default response, as AWS treats it.
            None | Some("") => None,
            Some(pattern) => Some(crate::model::SelectionPattern::compile(pattern).map_err(
                |e| format!("integration response {key}: invalid selectionPattern: {e}"),
            )?),
        };
        let mut response_parameters = Vec::new();
        for (target, source) in &response.response_parameters {
            let name = target.strip_prefix("method.response.header.").ok_or_else(|| {
                format!("integration response {key}: invalid response parameter {target:?} (expected method.response.header.NAME)")
            })?;
            response_parameters.push((name.to_string(), Source::parse(source)?));
        }
        responses.push(CompiledIntegrationResponse {
            status_code,
            selection_pattern_source: response.selection_pattern.clone().filter(|p| !p.is_empty()),
            selection_pattern,
            response_parameters,
            response_templates: compile_templates(&response.response_templates),
            content_handling: response.content_handling,
        });
    }
    Ok(CompiledIntegration {
        integration_type: integration.integration_type,
        http_method: integration.http_method.clone(),
        request_parameters,
        request_templates,
        passthrough_behavior: integration.passthrough_behavior,
        content_handling: integration.content_handling,
        timeout_ms: u64::from(integration.timeout_in_millis.clamp(50, 29_000)),
        function: match integration.integration_type {
            IntegrationType::Aws | IntegrationType::AwsProxy => uri
                .as_deref()
                .and_then(crate::model::function_from_uri)
                .map(|(name, _qualifier)| name.to_string()),
            _ => None,
        },
        uri,
        responses,
    })
}

fn compile_templates(templates: &BTreeMap<String, String>) -> Vec<(String, Template)> {
    templates
        .iter()
        .map(|(content_type, source)| {
            (content_type.to_ascii_lowercase(), Template::compile(source))
        })
        .collect()
}

impl CompiledStage {
    /// Every mapping template that does not compile, as
    /// `METHOD /path: integration request application/json: line L, column C: ...`.
    /// Such a stage still serves (as on AWS); `deploy` and the editor show these.
    pub fn template_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for resource in &self.resources {
            let mut verbs: Vec<&String> = resource.methods.keys().collect();
            verbs.sort();
            for verb in verbs {
                let Some(integration) = &resource.methods[verb].integration else {
                    continue;
                };
                let requests = integration
                    .request_templates
                    .iter()
                    .map(|(ct, t)| ("integration request".to_string(), ct, t));
                let responses = integration.responses.iter().flat_map(|r| {
                    r.response_templates.iter().map(move |(ct, t)| {
                        (format!("integration response {}", r.status_code), ct, t)
                    })
                });
                for (place, content_type, template) in requests.chain(responses) {
                    if let Some(error) = template.error() {
                        errors.push(format!(
                            "{verb} {}: {place} {content_type}: {error}",
                            resource.path
                        ));
                    }
                }
            }
        }
        errors
    }
}

/// Replaces `${stageVariables.name}` with the stage's value (empty when the
/// stage has no such variable, as AWS does).
pub fn substitute_stage_variables(text: &str, variables: &BTreeMap<String, String>) -> String {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        match after.find('}') {
            Some(end) => {
                if let Some(value) = variables.get(&after[..end]) {
                    out.push_str(value);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variables_substitute() {
        let mut variables = BTreeMap::new();
        variables.insert("host".to_string(), "127.0.0.1:9".to_string());
        assert_eq!(
            substitute_stage_variables(
                "http://${stageVariables.host}/${stageVariables.none}x/{proxy}",
                &variables
            ),
            "http://127.0.0.1:9/x/{proxy}"
        );
        assert_eq!(
            substitute_stage_variables("a${stageVariables.b", &variables),
            "a${stageVariables.b"
        );
    }
}
