//! An HTTP API stage compiled for serving: its routes (selected as AWS
//! documents it: the most specific route wins, literal segments over
//! `{param}` over a greedy `{proxy+}`, a verb over `ANY`, `$default` last),
//! their integrations, authorizers and throttles; the request and what
//! serving it gave; AWS's `{"message": ...}` error bodies.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::gateway::responses::Reply;
use crate::model::{
    CorsConfiguration, HttpApi, HttpStage, MappingAction, MappingPlace, RouteKey, parse_mapping_key,
};
use crate::observe::metrics::Series;

/// One stage of one HTTP API, ready to serve.
#[derive(Debug)]
pub struct CompiledHttpStage {
    pub api_id: String,
    pub api_name: String,
    pub stage_name: String,
    pub stage_variables: Vec<(String, String)>,
    pub(crate) routes: Vec<CompiledRoute>,
    pub(crate) default_route: Option<CompiledRoute>,
    pub(crate) cors: Option<CorsConfiguration>,
    /// Metrics of requests no route took.
    pub metrics: OnceLock<Arc<Series>>,
}

#[derive(Debug)]
pub struct CompiledRoute {
    pub key: String,
    pub(crate) verb: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) integration: Option<Arc<CompiledIntegration>>,
    pub(crate) jwt: Option<Arc<RouteJwt>>,
    pub(crate) lambda_auth: Option<Arc<LambdaAuthorizer>>,
    /// The stage's throttling for this route (`routeSettings` over
    /// `defaultRouteSettings`).
    pub(crate) throttle: Option<Arc<crate::gateway::throttle::TokenBucket>>,
    pub metrics: OnceLock<Arc<Series>>,
}

/// A REQUEST (Lambda) authorizer of HTTP APIs, shared by its routes.
#[derive(Debug)]
pub(crate) struct LambdaAuthorizer {
    pub(crate) function: String,
    pub(crate) version_2: bool,
    pub(crate) simple: bool,
    pub(crate) ttl: Duration,
    /// `$request.header.Authorization`, `$request.querystring.x`, ...
    pub(crate) identity_sources: Vec<String>,
    /// Allowed answers' context (or a denial) by identity source values.
    pub(crate) cache:
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Option<Value>)>>,
}

/// A route's JWT authorizer.
#[derive(Debug)]
pub(crate) struct RouteJwt {
    pub(crate) issuer: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) scopes: Vec<String>,
    /// The header the token comes in (`$request.header.Authorization`).
    pub(crate) header: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug)]
pub(crate) enum Target {
    Http { uri: String, method: Option<String> },
    Lambda { function: String, version_2: bool },
}

/// A parameter mapping: what to do, where, and the value expression.
pub(crate) type Mapping = (MappingAction, MappingPlace, String);

#[derive(Debug)]
pub(crate) struct CompiledIntegration {
    pub(crate) target: Target,
    pub(crate) timeout: Duration,
    pub(crate) request_mappings: Vec<Mapping>,
    /// By the backend's status code.
    pub(crate) response_mappings: Vec<(u16, Vec<Mapping>)>,
}

/// Compiles a stage of an HTTP API from the API's current definition.
pub fn compile(api: &HttpApi, stage: &HttpStage) -> CompiledHttpStage {
    let lambda_authorizers: std::collections::HashMap<String, Arc<LambdaAuthorizer>> = api
        .authorizers
        .iter()
        .filter(|a| a.authorizer_type == "REQUEST")
        .filter_map(|a| {
            let uri =
                substitute_stage_variables(a.authorizer_uri.as_ref()?, &stage.stage_variables);
            let function = crate::model::function_from_uri(&uri)
                .map_or(uri.clone(), |(name, _)| name.to_string());
            Some((
                a.authorizer_id.clone(),
                Arc::new(LambdaAuthorizer {
                    function,
                    version_2: a.authorizer_payload_format_version.as_deref() == Some("2.0"),
                    simple: a.enable_simple_responses == Some(true),
                    ttl: Duration::from_secs(u64::from(
                        a.authorizer_result_ttl_in_seconds.unwrap_or(0),
                    )),
                    identity_sources: a.identity_source.clone(),
                    cache: Default::default(),
                }),
            ))
        })
        .collect();
    let mut routes = Vec::new();
    let mut default_route = None;
    for route in &api.routes {
        let integration = api.target(route).and_then(|integration| {
            let uri = integration.integration_uri.clone()?;
            let uri = substitute_stage_variables(&uri, &stage.stage_variables);
            let target = if integration.integration_type == "AWS_PROXY" {
                let function = crate::model::function_from_uri(&uri)
                    .map_or(uri.clone(), |(name, _)| name.to_string());
                Target::Lambda {
                    function,
                    version_2: integration.payload_format_version.as_deref() != Some("1.0"),
                }
            } else {
                Target::Http {
                    uri,
                    method: integration
                        .integration_method
                        .clone()
                        .filter(|m| m != "ANY"),
                }
            };
            let mappings = |pairs: &std::collections::BTreeMap<String, String>, response: bool| {
                pairs
                    .iter()
                    .filter_map(|(key, value)| {
                        let (action, place) = parse_mapping_key(key, response).ok()?;
                        Some((action, place, value.clone()))
                    })
                    .collect::<Vec<Mapping>>()
            };
            Some(Arc::new(CompiledIntegration {
                target,
                timeout: Duration::from_millis(u64::from(
                    integration.timeout_in_millis.unwrap_or(30_000),
                )),
                request_mappings: mappings(&integration.request_parameters, false),
                response_mappings: integration
                    .response_parameters
                    .iter()
                    .filter_map(|(status, pairs)| {
                        Some((status.parse().ok()?, mappings(pairs, true)))
                    })
                    .collect(),
            }))
        });
        let throttle =
            crate::gateway::throttle::route_bucket(stage, &route.route_key).map(Arc::new);
        let lambda_auth = (route.authorization_type == "CUSTOM")
            .then(|| {
                route
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| lambda_authorizers.get(id))
            })
            .flatten()
            .cloned();
        let jwt = (route.authorization_type == "JWT")
            .then(|| {
                let authorizer = api
                    .authorizers
                    .iter()
                    .find(|a| Some(&a.authorizer_id) == route.authorizer_id.as_ref())?;
                let config = authorizer.jwt_configuration.as_ref()?;
                let header = authorizer
                    .identity_source
                    .first()
                    .and_then(|s| s.strip_prefix("$request.header."))
                    .unwrap_or("Authorization")
                    .to_ascii_lowercase();
                Some(Arc::new(RouteJwt {
                    issuer: config.issuer.clone()?,
                    audiences: config.audience.clone(),
                    scopes: route.authorization_scopes.clone(),
                    header,
                }))
            })
            .flatten();
        match RouteKey::parse(&route.route_key) {
            Ok(RouteKey::Default) => {
                default_route = Some(CompiledRoute {
                    key: route.route_key.clone(),
                    verb: "ANY".into(),
                    segments: Vec::new(),
                    integration,
                    jwt,
                    lambda_auth,
                    throttle,
                    metrics: OnceLock::new(),
                });
            }
            Ok(RouteKey::Path { verb, path }) => routes.push(CompiledRoute {
                key: route.route_key.clone(),
                verb,
                segments: path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => match name.strip_suffix('+') {
                                Some(name) => Segment::Greedy(name.to_string()),
                                None => Segment::Param(name.to_string()),
                            },
                            None => Segment::Literal(s.to_string()),
                        },
                    )
                    .collect(),
                integration,
                jwt,
                lambda_auth,
                throttle,
                metrics: OnceLock::new(),
            }),
            // Checked when the project loads.
            Err(_) => {}
        }
    }
    CompiledHttpStage {
        api_id: api.api_id.clone(),
        api_name: api.name.clone(),
        stage_name: stage.stage_name.clone(),
        stage_variables: stage
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        routes,
        default_route,
        cors: api.cors_configuration.clone(),
        metrics: OnceLock::new(),
    }
}

/// `${stageVariables.name}` replaced by the stage's values.
pub(crate) fn substitute_stage_variables(
    text: &str,
    variables: &std::collections::BTreeMap<String, String>,
) -> String {
    let mut out = text.to_string();
    for (name, value) in variables {
        out = out.replace(&format!("${{stageVariables.{name}}}"), value);
    }
    out
}

/// How specific a route's match is: per segment, literal 3, `{param}` 2,
/// greedy 1; compared element by element, then a verb over `ANY`.
pub(crate) fn specificity(route: &CompiledRoute) -> (Vec<u8>, bool) {
    (
        route
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 3,
                Segment::Param(_) => 2,
                Segment::Greedy(_) => 1,
            })
            .collect(),
        route.verb != "ANY",
    )
}

/// The path parameters if `route` matches `segments`.
pub(crate) fn matches(route: &CompiledRoute, segments: &[&str]) -> Option<Vec<(String, String)>> {
    let mut parameters = Vec::new();
    for (i, segment) in route.segments.iter().enumerate() {
        match segment {
            Segment::Literal(text) => {
                if segments.get(i) != Some(&text.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = segments.get(i)?;
                parameters.push((name.clone(), decode(value)));
            }
            Segment::Greedy(name) => {
                let rest = segments.get(i..).filter(|r| !r.is_empty())?;
                parameters.push((name.clone(), decode(&rest.join("/"))));
                return Some(parameters);
            }
        }
    }
    (route.segments.len() == segments.len()).then_some(parameters)
}

pub(crate) fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl CompiledHttpStage {
    /// The route a request takes and its path parameters.
    pub fn select(
        &self,
        verb: &str,
        path: &str,
    ) -> Option<(&CompiledRoute, Vec<(String, String)>)> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .filter(|r| r.verb == "ANY" || r.verb == verb)
            .filter_map(|r| matches(r, &segments).map(|p| (r, p)))
            .max_by(|(a, _), (b, _)| specificity(a).cmp(&specificity(b)))
            .or_else(|| self.default_route.as_ref().map(|r| (r, Vec::new())))
    }
}

/// A request to an HTTP API stage.
pub struct HttpRequest {
    pub method: http::Method,
    /// Below the stage (`/pets/7`).
    pub path: String,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: String,
    pub protocol: String,
    pub domain_name: String,
    pub request_id: String,
}

/// What serving a request gave.
pub struct Served {
    pub reply: Reply,
    /// The route key taken, if any.
    pub route: Option<String>,
    pub integration_latency: Option<Duration>,
}

/// AWS's HTTP API error bodies.
pub(crate) fn message(status: u16, text: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    Reply {
        status,
        headers,
        body: Bytes::from(json!({ "message": text }).to_string()),
    }
}
