//! The HTTP API (API Gateway v2) runtime: route selection as AWS documents
//! it (the most specific route wins: literal segments over `{param}` over
//! a greedy `{proxy+}`, a verb over `ANY`, `$default` last; no match ->
//! 404 `{"message":"Not Found"}`), CORS answered from
//! `corsConfiguration`, and the two proxy integrations: `HTTP_PROXY` to a
//! URL and `AWS_PROXY` to a local Lambda function with payload format 2.0
//! (or 1.0).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use crate::integrations::{EndpointRequest, Integrate, IntegrationError};
use crate::model::{
    CorsConfiguration, HttpApi, HttpStage, MappingAction, MappingPlace, RouteKey, parse_mapping_key,
};
use crate::observe::metrics::Series;

use super::Services;
use super::responses::Reply;

/// One stage of one HTTP API, ready to serve.
#[derive(Debug)]
pub struct CompiledHttpStage {
    pub api_id: String,
    pub api_name: String,
    pub stage_name: String,
    pub stage_variables: Vec<(String, String)>,
    routes: Vec<CompiledRoute>,
    default_route: Option<CompiledRoute>,
    cors: Option<CorsConfiguration>,
    /// Metrics of requests no route took.
    pub metrics: OnceLock<Arc<Series>>,
}

#[derive(Debug)]
pub struct CompiledRoute {
    pub key: String,
    verb: String,
    segments: Vec<Segment>,
    integration: Option<Arc<CompiledIntegration>>,
    jwt: Option<Arc<RouteJwt>>,
    lambda_auth: Option<Arc<LambdaAuthorizer>>,
    /// The stage's throttling for this route (`routeSettings` over
    /// `defaultRouteSettings`).
    throttle: Option<Arc<super::throttle::TokenBucket>>,
    pub metrics: OnceLock<Arc<Series>>,
}

/// A REQUEST (Lambda) authorizer of HTTP APIs, shared by its routes.
#[derive(Debug)]
struct LambdaAuthorizer {
    function: String,
    version_2: bool,
    simple: bool,
    ttl: Duration,
    /// `$request.header.Authorization`, `$request.querystring.x`, ...
    identity_sources: Vec<String>,
    /// Allowed answers' context (or a denial) by identity source values.
    cache: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Option<Value>)>>,
}

/// A route's JWT authorizer.
#[derive(Debug)]
struct RouteJwt {
    issuer: String,
    audiences: Vec<String>,
    scopes: Vec<String>,
    /// The header the token comes in (`$request.header.Authorization`).
    header: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug)]
enum Target {
    Http { uri: String, method: Option<String> },
    Lambda { function: String, version_2: bool },
}

/// A parameter mapping: what to do, where, and the value expression.
type Mapping = (MappingAction, MappingPlace, String);

#[derive(Debug)]
struct CompiledIntegration {
    target: Target,
    timeout: Duration,
    request_mappings: Vec<Mapping>,
    /// By the backend's status code.
    response_mappings: Vec<(u16, Vec<Mapping>)>,
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
        let throttle = super::throttle::route_bucket(stage, &route.route_key).map(Arc::new);
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
fn specificity(route: &CompiledRoute) -> (Vec<u8>, bool) {
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
fn matches(route: &CompiledRoute, segments: &[&str]) -> Option<Vec<(String, String)>> {
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

fn decode(text: &str) -> String {
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
fn message(status: u16, text: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    Reply {
        status,
        headers,
        body: Bytes::from(json!({ "message": text }).to_string()),
    }
}

/// Serves one request.
pub async fn handle(
    stage: &CompiledHttpStage,
    request: &HttpRequest,
    services: &Services,
) -> Served {
    let origin = request
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // CORS preflight, answered by the gateway itself.
    if let (Some(cors), Some(origin)) = (&stage.cors, &origin)
        && request.method == http::Method::OPTIONS
        && request
            .headers
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut reply = Reply {
            status: 204,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        preflight_headers(cors, origin, &request.headers, &mut reply.headers);
        return Served {
            reply,
            route: None,
            integration_latency: None,
        };
    }
    let mut served = route_and_integrate(stage, request, services).await;
    if let (Some(cors), Some(origin)) = (&stage.cors, &origin) {
        response_headers(cors, origin, &mut served.reply.headers);
    }
    served
}

async fn route_and_integrate(
    stage: &CompiledHttpStage,
    request: &HttpRequest,
    services: &Services,
) -> Served {
    let Some((route, parameters)) = stage.select(request.method.as_str(), &request.path) else {
        return Served {
            reply: message(404, "Not Found"),
            route: None,
            integration_latency: None,
        };
    };
    let refused = |reply| Served {
        reply,
        route: Some(route.key.clone()),
        integration_latency: None,
    };
    // The account's and the route's buckets: 429 Too Many Requests.
    let account = services
        .account_throttle
        .as_ref()
        .is_some_and(|b| !b.admit());
    if account || route.throttle.as_ref().is_some_and(|b| !b.admit()) {
        return refused(message(429, "Too Many Requests"));
    }
    let mut authorizer: Option<Value> = None;
    if let Some(jwt) = &route.jwt {
        match authorize(jwt, request, services).await {
            Ok(verified) => authorizer = Some(authorizer_context(&verified)),
            Err(reply) => return refused(reply),
        }
    }
    if let Some(lambda) = &route.lambda_auth {
        let sources = Sources {
            request,
            stage,
            route_key: &route.key,
            parameters: &parameters,
            response: None,
        };
        match authorize_lambda(lambda, &sources, services).await {
            Ok(context) => authorizer = Some(json!({"lambda": context})),
            Err(reply) => return refused(reply),
        }
    }
    let Some(integration) = &route.integration else {
        return Served {
            reply: message(404, "Not Found"),
            route: Some(route.key.clone()),
            integration_latency: None,
        };
    };
    let started = std::time::Instant::now();
    let reply = match &integration.target {
        Target::Http { uri, method } => {
            let sources = Sources {
                request,
                stage,
                route_key: &route.key,
                parameters: &parameters,
                response: None,
            };
            http_proxy(uri, method.as_deref(), integration, &sources, services).await
        }
        Target::Lambda {
            function,
            version_2,
        } => {
            lambda_proxy(
                function,
                *version_2,
                integration.timeout,
                stage,
                &route.key,
                &parameters,
                authorizer.as_ref(),
                request,
                services,
            )
            .await
        }
    };
    let integration_latency = Some(started.elapsed());
    let mut reply = reply;
    if let Some((_, mappings)) = integration
        .response_mappings
        .iter()
        .find(|(status, _)| *status == reply.status)
    {
        let (headers, body) = (reply.headers.clone(), reply.body.clone());
        let sources = Sources {
            request,
            stage,
            route_key: &route.key,
            parameters: &parameters,
            response: Some((&headers, &body)),
        };
        map_response(mappings, &sources, &mut reply);
    }
    Served {
        reply,
        route: Some(route.key.clone()),
        integration_latency,
    }
}

/// What mapping expressions read (`$request.header.x`, `$context.x`,
/// `$stageVariables.x`, `$response.body.x`...).
struct Sources<'a> {
    request: &'a HttpRequest,
    stage: &'a CompiledHttpStage,
    route_key: &'a str,
    parameters: &'a [(String, String)],
    response: Option<(&'a HeaderMap, &'a Bytes)>,
}

fn header_values(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name.to_ascii_lowercase().as_str())
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn json_field(body: &[u8], path: &str) -> Option<String> {
    let document: Value = serde_json::from_slice(body).ok()?;
    let selected = crate::jsonpath::select(&document, &format!("$.{path}")).ok()??;
    Some(match selected {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

impl Sources<'_> {
    /// One expression without its `$` (`request.header.x`).
    fn lookup(&self, expression: &str) -> Option<String> {
        let request = self.request;
        if let Some(name) = expression.strip_prefix("request.header.") {
            return header_values(&request.headers, name);
        }
        if let Some(name) = expression.strip_prefix("request.querystring.") {
            let values: Vec<String> =
                super::request::MethodRequest::parse_query(&request.raw_query)
                    .into_iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect();
            return (!values.is_empty()).then(|| values.join(","));
        }
        if expression == "request.path" {
            return Some(request.path.clone());
        }
        if let Some(name) = expression.strip_prefix("request.path.") {
            return self
                .parameters
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
        }
        if let Some(path) = expression.strip_prefix("request.body.") {
            return json_field(&request.body, path);
        }
        if let Some(name) = expression.strip_prefix("stageVariables.") {
            return self
                .stage
                .stage_variables
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
        }
        if let Some((headers, body)) = self.response {
            if let Some(name) = expression.strip_prefix("response.header.") {
                return header_values(headers, name);
            }
            if let Some(path) = expression.strip_prefix("response.body.") {
                return json_field(body, path);
            }
        }
        let context = expression.strip_prefix("context.")?;
        Some(match context {
            "requestId" => request.request_id.clone(),
            "apiId" => self.stage.api_id.clone(),
            "stage" => self.stage.stage_name.clone(),
            "routeKey" => self.route_key.to_string(),
            "domainName" => request.domain_name.clone(),
            "httpMethod" => request.method.to_string(),
            "path" => request.path.clone(),
            "protocol" => request.protocol.clone(),
            "identity.sourceIp" => request.source_ip.clone(),
            "identity.userAgent" => {
                header_values(&request.headers, "user-agent").unwrap_or_default()
            }
            "requestTimeEpoch" => now_parts().1.to_string(),
            _ => return None,
        })
    }

    /// A mapping value: static text with `$expression`s or
    /// `${expression}`s in it (`/v2/accounts/$request.path.id`,
    /// `stage-${context.stage}`); an unknown one reads as empty.
    fn resolve(&self, value: &str) -> String {
        const ROOTS: [&str; 4] = ["request.", "context.", "stageVariables.", "response."];
        let mut out = String::new();
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(inner) = after.strip_prefix('{')
                && let Some(end) = inner.find('}')
            {
                out.push_str(&self.lookup(&inner[..end]).unwrap_or_default());
                rest = &inner[end + 1..];
                continue;
            }
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(after.len());
            let expression = after[..end].trim_end_matches('.');
            if ROOTS.iter().any(|root| expression.starts_with(root)) {
                out.push_str(&self.lookup(expression).unwrap_or_default());
                rest = &after[expression.len()..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
}

fn apply_header(headers: &mut HeaderMap, action: MappingAction, name: &str, value: &str) {
    let Ok(name) = http::header::HeaderName::from_bytes(name.as_bytes()) else {
        return;
    };
    match action {
        MappingAction::Remove => {
            headers.remove(&name);
        }
        MappingAction::Overwrite => {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        MappingAction::Append => {
            let joined = match headers.get(&name).and_then(|v| v.to_str().ok()) {
                Some(existing) => format!("{existing},{value}"),
                None => value.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&joined) {
                headers.insert(name, value);
            }
        }
    }
}

/// A response's mappings: headers and the status code.
fn map_response(mappings: &[Mapping], sources: &Sources, reply: &mut Reply) {
    for (action, place, value) in mappings {
        let value = sources.resolve(value);
        match place {
            MappingPlace::Header(name) => apply_header(&mut reply.headers, *action, name, &value),
            MappingPlace::StatusCode => {
                if let Ok(status) = value.trim().parse::<u16>()
                    && (100..=599).contains(&status)
                {
                    reply.status = status;
                }
            }
            MappingPlace::Query(_) | MappingPlace::Path => {}
        }
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `HTTP_PROXY`: the request goes to the URI (path variables and `{proxy}`
/// filled in, the query string appended), the answer comes back as is.
async fn http_proxy(
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
        if !super::endpoint::is_hop_by_hop(name.as_str()) && name != http::header::HOST {
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
        .then(|| super::request::MethodRequest::parse_query(&request.raw_query));
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
                if !super::endpoint::is_hop_by_hop(name.as_str()) {
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
async fn lambda_proxy(
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

/// `requestContext.authorizer.jwt`: the claims (as strings, as AWS passes
/// them) and the token's scopes.
fn authorizer_context(verified: &crate::auth::jwt::Verified) -> Value {
    let claims: Map<String, Value> = verified
        .claims
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or(i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    let scopes = if verified.scopes.is_empty() {
        Value::Null
    } else {
        json!(verified.scopes)
    };
    json!({"jwt": {"claims": claims, "scopes": scopes}})
}

/// A route with a REQUEST authorizer: the identity sources (all must be
/// there, else 401 without calling the function), the cached answer or the
/// function's, read as a simple response or an IAM policy on the route's
/// ARN; 403 `Forbidden` when it denies, 500 when it fails. The context the
/// function returned on success.
async fn authorize_lambda(
    authorizer: &LambdaAuthorizer,
    sources: &Sources<'_>,
    services: &Services,
) -> Result<Value, Reply> {
    let mut identity = Vec::new();
    for source in &authorizer.identity_sources {
        let value = source
            .strip_prefix('$')
            .and_then(|expression| sources.lookup(expression))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| message(401, "Unauthorized"))?;
        identity.push(value);
    }
    let key = identity.join("\u{1f}");
    let caching = !authorizer.ttl.is_zero() && !identity.is_empty();
    if caching
        && let Some((at, answer)) = authorizer
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
        && at.elapsed() < authorizer.ttl
    {
        return answer.ok_or_else(|| message(403, "Forbidden"));
    }
    let request = sources.request;
    let stage = sources.stage;
    let arn = format!(
        "arn:aws:execute-api:us-east-1:000000000000:{}/{}/{}{}",
        stage.api_id, stage.stage_name, request.method, request.path
    );
    let event = if authorizer.version_2 {
        let mut event = event_v2(stage, sources.route_key, sources.parameters, request);
        if let Some(object) = event.as_object_mut() {
            object.remove("body");
            object.remove("isBase64Encoded");
            object.insert("type".into(), json!("REQUEST"));
            object.insert("routeArn".into(), json!(arn));
            object.insert("identitySource".into(), json!(identity));
        }
        event
    } else {
        let mut event = event_v1(stage, sources.route_key, sources.parameters, request);
        if let Some(object) = event.as_object_mut() {
            object.remove("body");
            object.remove("isBase64Encoded");
            object.insert("type".into(), json!("REQUEST"));
            object.insert("methodArn".into(), json!(arn));
            object.insert("identitySource".into(), json!(identity.join(",")));
        }
        event
    };
    let outcome = services
        .functions
        .invoke(&authorizer.function, Bytes::from(event.to_string()))
        .await;
    let payload = match outcome {
        Ok(crate::functions::Outcome::Success(payload)) => payload,
        _ => return Err(message(500, "Internal Server Error")),
    };
    let answer: Option<Value> = if authorizer.simple {
        let value: Value =
            serde_json::from_slice(&payload).map_err(|_| message(500, "Internal Server Error"))?;
        match value.get("isAuthorized") {
            Some(Value::Bool(true)) => Some(value.get("context").cloned().unwrap_or(json!({}))),
            Some(Value::Bool(false)) => None,
            _ => return Err(message(500, "Internal Server Error")),
        }
    } else {
        let parsed = crate::auth::lambda_authorizer::parse_result(&payload)
            .map_err(|_| message(500, "Internal Server Error"))?;
        match crate::auth::lambda_authorizer::evaluate(&parsed.statements, &arn) {
            crate::auth::lambda_authorizer::Decision::Allow => {
                let mut context = parsed.context.clone();
                context.insert("principalId".into(), json!(parsed.principal_id));
                Some(Value::Object(context))
            }
            _ => None,
        }
    };
    if caching {
        authorizer
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (std::time::Instant::now(), answer.clone()));
    }
    answer.ok_or_else(|| message(403, "Forbidden"))
}

/// A JWT route: the token from its header (with or without `Bearer `),
/// checked; 401 `Unauthorized` or 403 `Forbidden` with AWS's
/// `www-authenticate` otherwise.
async fn authorize(
    jwt: &RouteJwt,
    request: &HttpRequest,
    services: &Services,
) -> Result<crate::auth::jwt::Verified, Reply> {
    let unauthorized = |error: &str, description: &str, status: u16, text: &str| {
        let mut reply = message(status, text);
        let scope = jwt.scopes.join(" ");
        if let Ok(value) = HeaderValue::from_str(&format!(
            "Bearer scope=\"{scope}\" error=\"{error}\" error_description=\"{description}\""
        )) {
            reply.headers.insert(http::header::WWW_AUTHENTICATE, value);
        }
        reply
    };
    let token = request
        .headers
        .get(jwt.header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| message(401, "Unauthorized"))?;
    services
        .jwks
        .verify(token, &jwt.issuer, &jwt.audiences, &jwt.scopes)
        .await
        .map_err(|error| {
            if error.insufficient_scope {
                unauthorized("insufficient_scope", &error.description, 403, "Forbidden")
            } else {
                unauthorized("invalid_token", &error.description, 401, "Unauthorized")
            }
        })
}

fn now_parts() -> (String, i64) {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    (
        now.format(&format).unwrap_or_default(),
        (now.unix_timestamp_nanos() / 1_000_000) as i64,
    )
}

fn body_field(body: &[u8], headers: &HeaderMap) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let textual = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("text/")
                || t.contains("json")
                || t.contains("xml")
                || t.contains("javascript")
                || t.contains("x-www-form-urlencoded")
        });
    match std::str::from_utf8(body) {
        Ok(text) if textual => (Some(text.to_string()), false),
        _ => {
            use base64::Engine as _;
            (
                Some(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            )
        }
    }
}

/// The payload format 2.0 event, with the fields AWS documents
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>);
/// absent parts are left out, as AWS does.
pub fn event_v2(
    stage: &CompiledHttpStage,
    route_key: &str,
    parameters: &[(String, String)],
    request: &HttpRequest,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| Value::String(c.trim().to_string())),
            );
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let mut query = Map::new();
    for (name, value) in super::request::MethodRequest::parse_query(&request.raw_query) {
        match query.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                query.insert(name, Value::String(value));
            }
        }
    }
    let (time, epoch) = now_parts();
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path_with_stage(&stage.stage_name),
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": stage.api_id,
            "domainName": request.domain_name,
            "domainPrefix": request.domain_name.split('.').next().unwrap_or_default(),
            "http": {
                "method": request.method.as_str(),
                "path": request.path_with_stage(&stage.stage_name),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": stage.stage_name,
            "time": time,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": false,
    });
    let object = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        object.insert("cookies".into(), Value::Array(cookies));
    }
    if !query.is_empty() {
        object.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !parameters.is_empty() {
        let map: Map<String, Value> = parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        object.insert("pathParameters".into(), Value::Object(map));
    }
    if !stage.stage_variables.is_empty() {
        let map: Map<String, Value> = stage
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        object.insert("stageVariables".into(), Value::Object(map));
    }
    let (body, base64) = body_field(&request.body, &request.headers);
    if let Some(body) = body {
        object.insert("body".into(), Value::String(body));
        object.insert("isBase64Encoded".into(), Value::Bool(base64));
    }
    event
}

impl HttpRequest {
    /// The path as the client sent it, with the stage segment unless the
    /// stage is `$default`.
    fn path_with_stage(&self, stage: &str) -> String {
        if stage == "$default" {
            self.path.clone()
        } else {
            format!("/{stage}{}", self.path)
        }
    }
}

/// Payload format 1.0: the REST proxy event's shape.
fn event_v1(
    stage: &CompiledHttpStage,
    route_key: &str,
    parameters: &[(String, String)],
    request: &HttpRequest,
) -> Value {
    let query = super::request::MethodRequest::parse_query(&request.raw_query);
    let (_, epoch) = now_parts();
    let context = json!({
        "accountId": "000000000000",
        "apiId": stage.api_id,
        "domainName": request.domain_name,
        "httpMethod": request.method.as_str(),
        "path": request.path_with_stage(&stage.stage_name),
        "protocol": request.protocol,
        "requestId": request.request_id,
        "requestTimeEpoch": epoch,
        "resourcePath": route_key.split_once(' ').map_or(route_key, |(_, p)| p),
        "routeKey": route_key,
        "stage": stage.stage_name,
        "identity": {"sourceIp": request.source_ip},
    });
    let (_, binary) = body_field(&request.body, &request.headers);
    let mut event =
        crate::integrations::lambda::proxy_event(&crate::integrations::lambda::ProxyRequest {
            resource_path: route_key.split_once(' ').map_or(route_key, |(_, p)| p),
            path: &request.path,
            http_method: request.method.as_str(),
            headers: &request.headers,
            query: &query,
            path_parameters: parameters,
            stage_variables: &stage.stage_variables,
            context,
            body: &request.body,
            binary,
        });
    event["version"] = json!("1.0");
    event["routeKey"] = json!(route_key);
    event
}

/// Reads a payload 2.0 answer: an object with `statusCode` is a full
/// response (`headers`, `cookies` as Set-Cookie, `body`,
/// `isBase64Encoded`); anything else valid JSON is the body of a 200 with
/// `content-type: application/json` (AWS's inference).
pub fn response_v2(payload: &[u8]) -> Result<Reply, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the result is not JSON: {e}"))?;
    let full = value.as_object().filter(|m| m.contains_key("statusCode"));
    let Some(map) = full else {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let body = match &value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Ok(Reply {
            status: 200,
            headers,
            body: Bytes::from(body),
        });
    };
    let status = map
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .filter(|s| (100..=599).contains(s))
        .ok_or("statusCode is not an HTTP status")? as u16;
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(given)) = map.get("headers") {
        for (name, value) in given {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&text),
            ) {
                headers.insert(name, value);
            }
        }
    }
    if let Some(Value::Array(cookies)) = map.get("cookies") {
        for cookie in cookies.iter().filter_map(Value::as_str) {
            if let Ok(value) = HeaderValue::from_str(cookie) {
                headers.append(http::header::SET_COOKIE, value);
            }
        }
    }
    let text = match map.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let body = if map.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        use base64::Engine as _;
        Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|e| format!("the body is not base64: {e}"))?,
        )
    } else {
        Bytes::from(text)
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn allowed_origin<'a>(cors: &CorsConfiguration, origin: &'a str) -> Option<&'a str> {
    cors.allow_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
        .then_some(origin)
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// `access-control-allow-origin` (the origin, or `*` when any origin is
/// allowed without credentials) and `-allow-credentials`; false when the
/// origin is not allowed (then no CORS header at all).
fn origin_headers(cors: &CorsConfiguration, origin: &str, headers: &mut HeaderMap) -> bool {
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
fn preflight_headers(
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
fn response_headers(cors: &CorsConfiguration, origin: &str, headers: &mut HeaderMap) {
    if origin_headers(cors, origin, headers) && !cors.expose_headers.is_empty() {
        insert(
            headers,
            "access-control-expose-headers",
            &cors.expose_headers.join(","),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(keys: &[&str]) -> CompiledHttpStage {
        let api: HttpApi = serde_json::from_value(json!({
            "apiId": "h1", "name": "t",
            "routes": keys.iter().enumerate().map(|(i, k)| json!({"routeId": format!("r{i}"), "routeKey": k})).collect::<Vec<_>>(),
        }))
        .unwrap();
        let stage: HttpStage =
            serde_json::from_value(json!({"stageName": "$default", "autoDeploy": true})).unwrap();
        compile(&api, &stage)
    }

    fn selected(stage: &CompiledHttpStage, verb: &str, path: &str) -> Option<String> {
        stage.select(verb, path).map(|(r, _)| r.key.clone())
    }

    /// AWS: "API Gateway selects the route with the most-specific match";
    /// greedy variables match last, `$default` only when nothing else does
    /// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html>).
    #[test]
    fn the_most_specific_route_wins() {
        let s = stage(&[
            "GET /pets/{id}",
            "GET /pets/dog",
            "ANY /pets/dog",
            "ANY /{proxy+}",
            "$default",
        ]);
        assert_eq!(
            selected(&s, "GET", "/pets/dog").as_deref(),
            Some("GET /pets/dog")
        );
        assert_eq!(
            selected(&s, "POST", "/pets/dog").as_deref(),
            Some("ANY /pets/dog")
        );
        assert_eq!(
            selected(&s, "GET", "/pets/7").as_deref(),
            Some("GET /pets/{id}")
        );
        assert_eq!(
            selected(&s, "GET", "/a/b/c").as_deref(),
            Some("ANY /{proxy+}")
        );
        assert_eq!(selected(&s, "GET", "/").as_deref(), Some("$default"));
        let (_, parameters) = s.select("GET", "/x/y%20z").unwrap();
        assert_eq!(parameters, [("proxy".to_string(), "x/y z".to_string())]);
        let none = stage(&["GET /pets"]);
        assert_eq!(selected(&none, "GET", "/cats"), None);
        assert_eq!(selected(&none, "POST", "/pets"), None);
    }

    #[test]
    fn payload_2_responses_are_inferred() {
        let plain = response_v2(br#"{"hello": "world"}"#).unwrap();
        assert_eq!(plain.status, 200);
        assert_eq!(plain.headers["content-type"], "application/json");
        assert_eq!(&plain.body[..], br#"{"hello":"world"}"#);
        let full = response_v2(
            br#"{"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["a=1", "b=2"], "body": "made"}"#,
        )
        .unwrap();
        assert_eq!(full.status, 201);
        assert_eq!(full.headers["x-a"], "1");
        assert_eq!(full.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(&full.body[..], b"made");
        assert!(response_v2(b"not json").is_err());
    }
}
