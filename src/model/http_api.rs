//! HTTP APIs (API Gateway v2, `protocolType: HTTP`) with AWS's
//! `apigatewayv2` field names: the API, its routes (`GET /pets/{id}`,
//! `ANY /{proxy+}`, `$default`), integrations (`AWS_PROXY`, `HTTP_PROXY`),
//! CORS configuration and stages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// AWS `Api` with `protocolType: HTTP`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpApi {
    pub api_id: String,
    pub name: String,
    #[serde(default = "http")]
    pub protocol_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<CorsConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_execute_api_endpoint: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<HttpIntegration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<HttpStage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<HttpDeployment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<HttpAuthorizer>,
}

/// AWS `Authorizer` of an HTTP API: `JWT`, or `REQUEST` (a Lambda
/// function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpAuthorizer {
    pub authorizer_id: String,
    pub name: String,
    pub authorizer_type: String,
    /// `$request.header.Authorization` (the default for JWT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_source: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<JwtConfiguration>,
    /// REQUEST: the function (a Lambda invocation ARN or function ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    /// REQUEST: `1.0` or `2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<String>,
    /// REQUEST with payload 2.0: the function answers
    /// `{"isAuthorized": bool, "context": {...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    /// REQUEST: how long an answer is cached, by identity source values
    /// (0 to 3600; 0 turns caching off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<u32>,
}

/// AWS `JWTConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
}

/// AWS `Deployment` of an HTTP API; the snapshot lives in
/// `deployments/{apiId}/{deploymentId}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpDeployment {
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
}

/// The file an HTTP API deployment is stored in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpDeploymentSnapshot {
    pub version: u32,
    pub deployment: HttpDeployment,
    pub http_api: HttpApi,
}

fn http() -> String {
    "HTTP".into()
}

/// AWS `Route`: `routeKey` is `VERB /path` or `$default`; `target` is
/// `integrations/{integrationId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default = "none")]
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
}

fn none() -> String {
    "NONE".into()
}

/// AWS `Integration` of an HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpIntegration {
    pub integration_id: String,
    /// `AWS_PROXY` (a Lambda function) or `HTTP_PROXY` (a URL).
    pub integration_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    /// The backend verb (`HTTP_PROXY`); `ANY` or none is the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    /// `1.0` or `2.0` (`AWS_PROXY`; AWS's default for new integrations is
    /// 2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    /// 50 to 30,000 ms (AWS's maximum and default for HTTP APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, BTreeMap<String, String>>,
}

/// AWS `Cors` of an HTTP API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorsConfiguration {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
}

/// AWS `Stage` of an HTTP API; `$default` is served without a stage
/// segment in the URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpStage {
    pub stage_name: String,
    /// Every change to the API applies to the stage at once.
    #[serde(default)]
    pub auto_deploy: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Throttling of every route of the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route_settings: Option<RouteSettings>,
    /// Per route key, over the default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_settings: BTreeMap<String, RouteSettings>,
}

/// AWS `RouteSettings` of an HTTP API stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_metrics_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
}

/// A new deployment of an apigatewayv2 API (HTTP or WebSocket) with an id
/// none of `existing` has.
pub(super) fn new_deployment(
    existing: &[HttpDeployment],
    description: Option<&str>,
) -> HttpDeployment {
    let mut id = super::new_deployment_id();
    while existing.iter().any(|d| d.deployment_id == id) {
        id = super::new_deployment_id();
    }
    HttpDeployment {
        deployment_id: id,
        description: description.map(str::to_string),
        created_date: Some(super::now_rfc3339()),
    }
}

/// Points `stage_name` at `deployment_id`, creating the stage (without
/// autoDeploy) if there is none: `CreateDeployment` with `stageName`.
pub(super) fn point_stage(stages: &mut Vec<HttpStage>, stage_name: &str, deployment_id: &str) {
    match stages.iter_mut().find(|s| s.stage_name == stage_name) {
        Some(stage) => stage.deployment_id = Some(deployment_id.to_string()),
        None => stages.push(HttpStage {
            stage_name: stage_name.to_string(),
            auto_deploy: false,
            stage_variables: Default::default(),
            description: None,
            deployment_id: Some(deployment_id.to_string()),
            default_route_settings: None,
            route_settings: Default::default(),
        }),
    }
}

/// A parsed `routeKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    /// `$default`: what no other route matches.
    Default,
    /// `VERB /path` (`ANY` for every verb).
    Path { verb: String, path: String },
}

/// Why a route key is refused; each holds the key (and the part at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteKeyError {
    #[error("Invalid route key {0:?}: expected \"VERB /path\" or \"$default\"")]
    Shape(String),
    #[error("Invalid route key {key:?}: unknown method {verb:?}")]
    UnknownMethod { key: String, verb: String },
    #[error("Invalid route key {0:?}: the path must start with /")]
    PathStart(String),
    #[error("Invalid route key {key:?}: bad path variable {segment:?}")]
    BadVariable { key: String, segment: String },
    #[error("Invalid route key {0:?}: a greedy path variable must be last")]
    GreedyNotLast(String),
    #[error("Invalid route key {key:?}: bad path segment {segment:?}")]
    BadSegment { key: String, segment: String },
}

impl RouteKey {
    /// Parses `GET /pets/{id}`, `ANY /{proxy+}`, `$default`, as AWS accepts
    /// them: a verb, one space, a path starting with `/` whose segments are
    /// literals, `{name}`, or a final `{name+}`.
    pub fn parse(key: &str) -> Result<RouteKey, RouteKeyError> {
        if key == "$default" {
            return Ok(RouteKey::Default);
        }
        let (verb, path) = key
            .split_once(' ')
            .ok_or_else(|| RouteKeyError::Shape(key.to_string()))?;
        const VERBS: [&str; 8] = [
            "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
        ];
        if !VERBS.contains(&verb) {
            return Err(RouteKeyError::UnknownMethod {
                key: key.to_string(),
                verb: verb.to_string(),
            });
        }
        if !path.starts_with('/') {
            return Err(RouteKeyError::PathStart(key.to_string()));
        }
        let segments: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
        for (i, segment) in segments.iter().enumerate() {
            if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let (name, greedy) = match inner.strip_suffix('+') {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(RouteKeyError::BadVariable {
                        key: key.to_string(),
                        segment: segment.to_string(),
                    });
                }
                if greedy && i + 1 != segments.len() {
                    return Err(RouteKeyError::GreedyNotLast(key.to_string()));
                }
            } else if segment.contains(['{', '}']) {
                return Err(RouteKeyError::BadSegment {
                    key: key.to_string(),
                    segment: segment.to_string(),
                });
            }
        }
        Ok(RouteKey::Path {
            verb: verb.to_string(),
            path: path.to_string(),
        })
    }
}

/// What an HTTP or WebSocket API's `validate` found wrong: where (the field
/// names and indexes below the API, `["routes", "0", "routeKey"]`) and
/// what. `Display` is the message alone; loaders add the file position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{1}")]
pub struct InvalidField(pub Vec<String>, pub String);

/// Whether `id` names an authorizer of type `kind` (`JWT`, `REQUEST`)
/// among `authorizers`.
pub(super) fn has_authorizer(authorizers: &[HttpAuthorizer], id: Option<&str>, kind: &str) -> bool {
    id.and_then(|id| authorizers.iter().find(|a| a.authorizer_id == id))
        .is_some_and(|a| a.authorizer_type == kind)
}

impl HttpApi {
    /// The integration a route targets (`integrations/{id}`).
    pub fn target(&self, route: &Route) -> Option<&HttpIntegration> {
        let id = route.target.as_deref()?.strip_prefix("integrations/")?;
        self.integrations.iter().find(|i| i.integration_id == id)
    }

    /// Checks what the runtime relies on; `Err((path below the API, what
    /// is wrong))`.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let at = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        if self.protocol_type != "HTTP" {
            return Err(InvalidField(
                at(&["protocolType"]),
                format!("expected HTTP, found {:?}", self.protocol_type),
            ));
        }
        let mut keys = std::collections::HashSet::new();
        for (index, route) in self.routes.iter().enumerate() {
            let i = index.to_string();
            RouteKey::parse(&route.route_key)
                .map_err(|e| InvalidField(at(&["routes", &i, "routeKey"]), e.to_string()))?;
            if !keys.insert(route.route_key.as_str()) {
                return Err(InvalidField(
                    at(&["routes", &i, "routeKey"]),
                    format!("duplicate route key {:?}", route.route_key),
                ));
            }
            match route.authorization_type.as_str() {
                "NONE" => {}
                "JWT" => {
                    if !has_authorizer(&self.authorizers, route.authorizer_id.as_deref(), "JWT") {
                        return Err(InvalidField(
                            at(&["routes", &i, "authorizerId"]),
                            "a JWT route needs the authorizerId of a JWT authorizer of this API"
                                .into(),
                        ));
                    }
                }
                "CUSTOM" => {
                    if !has_authorizer(&self.authorizers, route.authorizer_id.as_deref(), "REQUEST")
                    {
                        return Err(InvalidField(
                            at(&["routes", &i, "authorizerId"]),
                            "a CUSTOM route needs the authorizerId of a REQUEST authorizer of this API"
                                .into(),
                        ));
                    }
                }
                other => {
                    return Err(InvalidField(
                        at(&["routes", &i, "authorizationType"]),
                        format!(
                            "expected NONE, JWT or CUSTOM (AWS_IAM is not served yet), found {other:?}"
                        ),
                    ));
                }
            }
            if route.target.is_some() && self.target(route).is_none() {
                return Err(InvalidField(
                    at(&["routes", &i, "target"]),
                    format!(
                        "expected integrations/{{integrationId}} of an integration of this API, found {:?}",
                        route.target.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        for (index, authorizer) in self.authorizers.iter().enumerate() {
            let i = index.to_string();
            if !matches!(authorizer.authorizer_type.as_str(), "JWT" | "REQUEST") {
                return Err(InvalidField(
                    at(&["authorizers", &i, "authorizerType"]),
                    format!(
                        "expected JWT or REQUEST, found {:?}",
                        authorizer.authorizer_type
                    ),
                ));
            }
            if authorizer.authorizer_type == "REQUEST" {
                if authorizer.authorizer_uri.is_none() {
                    return Err(InvalidField(
                        at(&["authorizers", &i, "authorizerUri"]),
                        "a REQUEST authorizer needs an authorizerUri".into(),
                    ));
                }
                let version = authorizer.authorizer_payload_format_version.as_deref();
                if !matches!(version, Some("1.0" | "2.0")) {
                    return Err(InvalidField(
                        at(&["authorizers", &i, "authorizerPayloadFormatVersion"]),
                        "a REQUEST authorizer needs authorizerPayloadFormatVersion 1.0 or 2.0"
                            .into(),
                    ));
                }
                if authorizer.enable_simple_responses == Some(true) && version != Some("2.0") {
                    return Err(InvalidField(
                        at(&["authorizers", &i, "enableSimpleResponses"]),
                        "simple responses need authorizerPayloadFormatVersion 2.0".into(),
                    ));
                }
                if authorizer
                    .authorizer_result_ttl_in_seconds
                    .is_some_and(|ttl| ttl > 3600)
                {
                    return Err(InvalidField(
                        at(&["authorizers", &i, "authorizerResultTtlInSeconds"]),
                        "the TTL must be between 0 and 3600 seconds".into(),
                    ));
                }
            }
            if authorizer.authorizer_type == "JWT"
                && authorizer
                    .jwt_configuration
                    .as_ref()
                    .and_then(|c| c.issuer.as_ref())
                    .is_none()
            {
                return Err(InvalidField(
                    at(&["authorizers", &i, "jwtConfiguration"]),
                    "a JWT authorizer needs jwtConfiguration.issuer".into(),
                ));
            }
        }
        for (index, integration) in self.integrations.iter().enumerate() {
            let i = index.to_string();
            if !matches!(
                integration.integration_type.as_str(),
                "AWS_PROXY" | "HTTP_PROXY"
            ) {
                return Err(InvalidField(
                    at(&["integrations", &i, "integrationType"]),
                    format!(
                        "expected AWS_PROXY or HTTP_PROXY, found {:?}",
                        integration.integration_type
                    ),
                ));
            }
            if integration.integration_uri.is_none() {
                return Err(InvalidField(
                    at(&["integrations", &i, "integrationUri"]),
                    "an integration needs an integrationUri".into(),
                ));
            }
            for key in integration.request_parameters.keys() {
                parse_mapping_key(key, false).map_err(|e| {
                    InvalidField(
                        at(&["integrations", &i, "requestParameters", key]),
                        e.to_string(),
                    )
                })?;
            }
            for (status, mappings) in &integration.response_parameters {
                if !status
                    .parse::<u16>()
                    .is_ok_and(|s| (100..=599).contains(&s))
                {
                    return Err(InvalidField(
                        at(&["integrations", &i, "responseParameters", status]),
                        format!("expected an HTTP status code, found {status:?}"),
                    ));
                }
                for key in mappings.keys() {
                    parse_mapping_key(key, true).map_err(|e| {
                        InvalidField(
                            at(&["integrations", &i, "responseParameters", status, key]),
                            e.to_string(),
                        )
                    })?;
                }
            }
            if let Some(version) = &integration.payload_format_version
                && !matches!(version.as_str(), "1.0" | "2.0")
            {
                return Err(InvalidField(
                    at(&["integrations", &i, "payloadFormatVersion"]),
                    format!("expected 1.0 or 2.0, found {version:?}"),
                ));
            }
            if let Some(timeout) = integration.timeout_in_millis
                && !(50..=30_000).contains(&timeout)
            {
                return Err(InvalidField(
                    at(&["integrations", &i, "timeoutInMillis"]),
                    format!(
                        "Timeout must be between 50 milliseconds and 30 seconds, found {timeout}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys() {
        assert_eq!(RouteKey::parse("$default"), Ok(RouteKey::Default));
        assert!(matches!(
            RouteKey::parse("GET /pets/{id}"),
            Ok(RouteKey::Path { verb, path }) if verb == "GET" && path == "/pets/{id}"
        ));
        assert!(RouteKey::parse("ANY /{proxy+}").is_ok());
        assert!(RouteKey::parse("GET pets").is_err());
        assert!(RouteKey::parse("FETCH /pets").is_err());
        assert!(RouteKey::parse("GET /{proxy+}/more").is_err());
        assert!(RouteKey::parse("GET /a{b}").is_err());
    }
}

/// What a parameter mapping does (`append:`, `overwrite:`, `remove:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingAction {
    Append,
    Overwrite,
    Remove,
}

/// Where a parameter mapping writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingPlace {
    /// A header, lower case.
    Header(String),
    Query(String),
    /// The backend request's path (`overwrite:path`).
    Path,
    /// The response status (`overwrite:statuscode`).
    StatusCode,
}

/// Why a parameter mapping key is refused; each holds the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingKeyError {
    #[error("Invalid mapping key {0:?}: expected ACTION:PLACE")]
    Shape(String),
    #[error(
        "Invalid mapping key {key:?}: the action must be append, overwrite or remove, not {action:?}"
    )]
    Action { key: String, action: String },
    /// A request mapping's place is not a header, query string or path.
    #[error("Invalid mapping key {0:?}: expected header.NAME, querystring.NAME or overwrite:path")]
    RequestPlace(String),
    /// A response mapping's place is not a header or the status code.
    #[error("Invalid mapping key {0:?}: expected header.NAME or overwrite:statuscode")]
    ResponsePlace(String),
}

/// Parses a parameter mapping key as AWS writes them
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html>):
/// `append:header.x`, `overwrite:querystring.q`, `remove:header.x`,
/// `overwrite:path`, and on responses `overwrite:statuscode`.
pub fn parse_mapping_key(
    key: &str,
    response: bool,
) -> Result<(MappingAction, MappingPlace), MappingKeyError> {
    let (action, place) = key
        .split_once(':')
        .ok_or_else(|| MappingKeyError::Shape(key.to_string()))?;
    let action = match action {
        "append" => MappingAction::Append,
        "overwrite" => MappingAction::Overwrite,
        "remove" => MappingAction::Remove,
        other => {
            return Err(MappingKeyError::Action {
                key: key.to_string(),
                action: other.to_string(),
            });
        }
    };
    let place = if let Some(name) = place.strip_prefix("header.") {
        MappingPlace::Header(name.to_ascii_lowercase())
    } else if let Some(name) = place.strip_prefix("querystring.").filter(|_| !response) {
        MappingPlace::Query(name.to_string())
    } else if place == "path" && !response && action == MappingAction::Overwrite {
        MappingPlace::Path
    } else if place == "statuscode" && response && action == MappingAction::Overwrite {
        MappingPlace::StatusCode
    } else {
        return Err(if response {
            MappingKeyError::ResponsePlace(key.to_string())
        } else {
            MappingKeyError::RequestPlace(key.to_string())
        });
    };
    Ok((action, place))
}
