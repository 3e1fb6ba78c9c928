//! WebSocket APIs (API Gateway v2, `protocolType: WEBSOCKET`) with AWS's
//! `apigatewayv2` field names: the API with its `routeSelectionExpression`,
//! routes (`$connect`, `$disconnect`, `$default`, custom keys) with their
//! route responses, integrations (MOCK, HTTP, HTTP_PROXY, AWS_PROXY, AWS)
//! with request templates and integration responses, stages and
//! deployments. Route responses and integration responses are kept inside
//! their route and integration (AWS lists them as sub-collections).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{HttpAuthorizer, HttpDeployment, HttpStage};

/// AWS `Api` with `protocolType: WEBSOCKET`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketApi {
    pub api_id: String,
    pub name: String,
    #[serde(default = "websocket")]
    pub protocol_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `$request.body.action` and the like: evaluated on each JSON message.
    #[serde(default = "default_route_selection")]
    pub route_selection_expression: String,
    /// `$request.header.x-api-key` (AWS's only other choice is
    /// `$context.authorizer.usageIdentifierKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<WebSocketRoute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<WebSocketIntegration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<HttpAuthorizer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<HttpStage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<HttpDeployment>,
}

fn websocket() -> String {
    "WEBSOCKET".into()
}

fn default_route_selection() -> String {
    "$request.body.action".into()
}

fn none() -> String {
    "NONE".into()
}

/// AWS `Route` of a WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketRoute {
    pub route_id: String,
    /// `$connect`, `$disconnect`, `$default` or a custom key such as
    /// `sendmessage`.
    pub route_key: String,
    /// `integrations/{integrationId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `NONE`, or `CUSTOM` (a REQUEST Lambda authorizer; `$connect` only,
    /// as on AWS).
    #[serde(default = "none")]
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_key_required: bool,
    /// `$default` makes the route two-way: the integration's answer is sent
    /// back to the client as a frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_responses: Vec<RouteResponse>,
}

/// AWS `RouteResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteResponse {
    pub route_response_id: String,
    /// `$default`.
    pub route_response_key: String,
}

/// AWS `Integration` of a WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketIntegration {
    pub integration_id: String,
    /// `MOCK`, `HTTP`, `HTTP_PROXY`, `AWS_PROXY` (a Lambda function) or
    /// `AWS` (a Lambda function, non-proxy).
    pub integration_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    /// The backend verb for HTTP integrations (POST when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    /// `\$default` or an expression such as `$request.body.type`: picks the
    /// request template by its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    /// `integration.request.header.x` -> `route.request.header.y`,
    /// `'literal'`, `context.x`, `stageVariables.x`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    /// `WHEN_NO_MATCH` (AWS's default), `WHEN_NO_TEMPLATES` or `NEVER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<String>,
    /// 50 to 29,000 ms (AWS's limit and default for WebSocket APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integration_responses: Vec<WebSocketIntegrationResponse>,
}

/// AWS `IntegrationResponse` of a WebSocket API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketIntegrationResponse {
    pub integration_response_id: String,
    /// `$default`, or `/2\d\d/`-style: a regex between slashes matched
    /// against the backend's status code.
    pub integration_response_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_templates: BTreeMap<String, String>,
}

/// The file a WebSocket API deployment is stored in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSocketDeploymentSnapshot {
    pub version: u32,
    pub deployment: HttpDeployment,
    pub web_socket_api: WebSocketApi,
}

/// AWS's largest `timeoutInMillis` for WebSocket integrations.
pub const WEBSOCKET_MAX_TIMEOUT_MILLIS: u32 = 29_000;

impl WebSocketApi {
    /// A new API with AWS's default route selection expression.
    pub fn new(api_id: &str, name: &str) -> WebSocketApi {
        WebSocketApi {
            api_id: api_id.to_string(),
            name: name.to_string(),
            protocol_type: websocket(),
            description: None,
            route_selection_expression: default_route_selection(),
            api_key_selection_expression: None,
            routes: Vec::new(),
            integrations: Vec::new(),
            authorizers: Vec::new(),
            stages: Vec::new(),
            deployments: Vec::new(),
        }
    }

    /// The integration a route targets (`integrations/{id}`).
    pub fn target(&self, route: &WebSocketRoute) -> Option<&WebSocketIntegration> {
        let id = route.target.as_deref()?.strip_prefix("integrations/")?;
        self.integrations.iter().find(|i| i.integration_id == id)
    }

    pub fn route(&self, route_key: &str) -> Option<&WebSocketRoute> {
        self.routes.iter().find(|r| r.route_key == route_key)
    }

    /// Checks what the runtime relies on; `Err((path below the API, what
    /// is wrong))`, with AWS's rules where AWS has one.
    pub fn validate(&self) -> Result<(), super::InvalidField> {
        let at = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        if self.protocol_type != "WEBSOCKET" {
            return Err(super::InvalidField(
                at(&["protocolType"]),
                format!("expected WEBSOCKET, found {:?}", self.protocol_type),
            ));
        }
        validate_selection_expression(&self.route_selection_expression)
            .map_err(|e| super::InvalidField(at(&["routeSelectionExpression"]), e.to_string()))?;
        let mut keys = std::collections::HashSet::new();
        for (index, route) in self.routes.iter().enumerate() {
            let i = index.to_string();
            if route.route_key.is_empty() || route.route_key.len() > 128 {
                return Err(super::InvalidField(
                    at(&["routes", &i, "routeKey"]),
                    "a route key is 1 to 128 characters".into(),
                ));
            }
            if route.route_key.starts_with('$')
                && !matches!(
                    route.route_key.as_str(),
                    "$connect" | "$disconnect" | "$default"
                )
            {
                return Err(super::InvalidField(
                    at(&["routes", &i, "routeKey"]),
                    format!(
                        "expected $connect, $disconnect, $default or a custom key without '$', found {:?}",
                        route.route_key
                    ),
                ));
            }
            if !keys.insert(route.route_key.as_str()) {
                return Err(super::InvalidField(
                    at(&["routes", &i, "routeKey"]),
                    format!("duplicate route key {:?}", route.route_key),
                ));
            }
            match route.authorization_type.as_str() {
                "NONE" => {}
                "CUSTOM" => {
                    if route.route_key != "$connect" {
                        return Err(super::InvalidField(
                            at(&["routes", &i, "authorizationType"]),
                            "only the $connect route can have an authorizer".into(),
                        ));
                    }
                    if !super::http_api::has_authorizer(
                        &self.authorizers,
                        route.authorizer_id.as_deref(),
                        "REQUEST",
                    ) {
                        return Err(super::InvalidField(
                            at(&["routes", &i, "authorizerId"]),
                            "a CUSTOM route needs the authorizerId of a REQUEST authorizer of this API"
                                .into(),
                        ));
                    }
                }
                other => {
                    return Err(super::InvalidField(
                        at(&["routes", &i, "authorizationType"]),
                        format!(
                            "expected NONE or CUSTOM (AWS_IAM is not served yet), found {other:?}"
                        ),
                    ));
                }
            }
            if route.target.is_some() && self.target(route).is_none() {
                return Err(super::InvalidField(
                    at(&["routes", &i, "target"]),
                    format!(
                        "expected integrations/{{integrationId}} of an integration of this API, found {:?}",
                        route.target.as_deref().unwrap_or_default()
                    ),
                ));
            }
            if let Some(expression) = &route.route_response_selection_expression
                && expression != "$default"
            {
                return Err(super::InvalidField(
                    at(&["routes", &i, "routeResponseSelectionExpression"]),
                    format!(
                        "WebSocket APIs support only $default here (AWS's rule), found {expression:?}"
                    ),
                ));
            }
        }
        for (index, authorizer) in self.authorizers.iter().enumerate() {
            let i = index.to_string();
            if authorizer.authorizer_type != "REQUEST" {
                return Err(super::InvalidField(
                    at(&["authorizers", &i, "authorizerType"]),
                    format!(
                        "WebSocket APIs take REQUEST authorizers, found {:?}",
                        authorizer.authorizer_type
                    ),
                ));
            }
            if authorizer.authorizer_uri.is_none() {
                return Err(super::InvalidField(
                    at(&["authorizers", &i, "authorizerUri"]),
                    "a REQUEST authorizer needs an authorizerUri".into(),
                ));
            }
        }
        for (index, integration) in self.integrations.iter().enumerate() {
            let i = index.to_string();
            let kind = integration.integration_type.as_str();
            if !matches!(kind, "MOCK" | "HTTP" | "HTTP_PROXY" | "AWS_PROXY" | "AWS") {
                return Err(super::InvalidField(
                    at(&["integrations", &i, "integrationType"]),
                    format!("expected MOCK, HTTP, HTTP_PROXY, AWS_PROXY or AWS, found {kind:?}"),
                ));
            }
            if kind != "MOCK" && integration.integration_uri.is_none() {
                return Err(super::InvalidField(
                    at(&["integrations", &i, "integrationUri"]),
                    format!("a {kind} integration needs an integrationUri"),
                ));
            }
            if let Some(timeout) = integration.timeout_in_millis
                && !(50..=WEBSOCKET_MAX_TIMEOUT_MILLIS).contains(&timeout)
            {
                return Err(super::InvalidField(
                    at(&["integrations", &i, "timeoutInMillis"]),
                    format!(
                        "Timeout must be between 50 milliseconds and 29 seconds, found {timeout}"
                    ),
                ));
            }
            if let Some(behavior) = &integration.passthrough_behavior
                && !matches!(
                    behavior.as_str(),
                    "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER"
                )
            {
                return Err(super::InvalidField(
                    at(&["integrations", &i, "passthroughBehavior"]),
                    format!(
                        "expected WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER, found {behavior:?}"
                    ),
                ));
            }
            if let Some(expression) = &integration.template_selection_expression {
                validate_selection_expression(expression).map_err(|e| {
                    super::InvalidField(
                        at(&["integrations", &i, "templateSelectionExpression"]),
                        e.to_string(),
                    )
                })?;
            }
            for (key, template) in &integration.request_templates {
                if let Err(error) = crate::vtl::Template::compile(template) {
                    return Err(super::InvalidField(
                        at(&["integrations", &i, "requestTemplates", key]),
                        format!("the template does not parse: {error}"),
                    ));
                }
            }
            for (r, response) in integration.integration_responses.iter().enumerate() {
                let r = r.to_string();
                let key = &response.integration_response_key;
                if key != "$default" {
                    let pattern = key
                        .strip_prefix('/')
                        .and_then(|k| k.strip_suffix('/'))
                        .ok_or_else(|| {
                            super::InvalidField(
                                at(&["integrations", &i, "integrationResponses", &r]),
                                format!(
                                    "expected $default or a /regex/ on the status code, found {key:?}"
                                ),
                            )
                        })?;
                    super::SelectionPattern::compile(pattern).map_err(|e| {
                        super::InvalidField(
                            at(&["integrations", &i, "integrationResponses", &r]),
                            format!("the pattern does not compile: {e}"),
                        )
                    })?;
                }
                for (name, template) in &response.response_templates {
                    if let Err(error) = crate::vtl::Template::compile(template) {
                        return Err(super::InvalidField(
                            at(&[
                                "integrations",
                                &i,
                                "integrationResponses",
                                &r,
                                "responseTemplates",
                                name,
                            ]),
                            format!("the template does not parse: {error}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A selection expression as WebSocket APIs take them: `$request.body.x`
/// (a JSON path below the body), `${request.body.x}`, `$context.x`,
/// `$request.header.x`, or a literal such as `\$default` / `$default`.
pub fn validate_selection_expression(expression: &str) -> Result<(), SelectionExpressionError> {
    let inner = expression
        .strip_prefix("${")
        .and_then(|e| e.strip_suffix('}'))
        .map(|e| format!("${e}"));
    let expression = inner.as_deref().unwrap_or(expression);
    if expression == "$default" || expression == "\\$default" || !expression.starts_with('$') {
        return Ok(());
    }
    for prefix in [
        "$request.body.",
        "$request.header.",
        "$request.querystring.",
        "$context.",
        "$stageVariables.",
    ] {
        if let Some(rest) = expression.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return Ok(());
        }
    }
    if expression == "$request.body" {
        return Ok(());
    }
    Err(SelectionExpressionError(expression.to_string()))
}

/// A selection expression that is neither a known source nor a literal; it
/// holds the expression (with `${...}` unwrapped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected $request.body.PATH, $request.header.NAME, $context.NAME or a literal, found {0:?}"
)]
pub struct SelectionExpressionError(pub String);

/// WebSocket APIs in a project: loading (with located errors), snapshots,
/// lookup and deployment.
impl super::Project {
    /// Checks the WebSocket APIs of a freshly read `portico.json` and loads
    /// their deployment snapshots.
    pub(super) fn load_web_socket_apis(
        &mut self,
        path: &std::path::Path,
        text: &str,
    ) -> Result<(), super::ProjectError> {
        use super::ProjectError;
        use super::locate::Step;
        let to_steps = |prefix: Vec<Step>, rest: &[String]| {
            let mut steps = prefix;
            steps.extend(rest.iter().map(|part| match part.parse::<usize>() {
                Ok(i) => Step::from(i),
                Err(_) => Step::from(part.as_str()),
            }));
            steps
        };
        let mut ids = std::collections::HashSet::new();
        for (index, api) in self.web_socket_apis.iter().enumerate() {
            let taken = !ids.insert(api.api_id.as_str())
                || self.rest_apis.iter().any(|r| r.id == api.api_id)
                || self.http_apis.iter().any(|h| h.api_id == api.api_id);
            let problem = api.validate().err().or_else(|| {
                taken.then(|| {
                    super::InvalidField(
                        vec!["apiId".to_string()],
                        format!("duplicate API id {:?}", api.api_id),
                    )
                })
            });
            if let Some(super::InvalidField(rest, message)) = problem {
                let steps = to_steps(vec!["webSocketApis".into(), index.into()], &rest);
                return Err(ProjectError::located(
                    path.to_path_buf(),
                    text,
                    &steps,
                    message,
                ));
            }
        }
        let mut snapshots = Vec::new();
        for (api_index, api) in self.web_socket_apis.iter().enumerate() {
            for (index, deployment) in api.deployments.iter().enumerate() {
                let snapshot_path = self.snapshot_path(&api.api_id, &deployment.deployment_id);
                let snapshot_text = std::fs::read_to_string(&snapshot_path).map_err(|error| {
                    let steps: Vec<Step> = vec![
                        "webSocketApis".into(),
                        api_index.into(),
                        "deployments".into(),
                        index.into(),
                    ];
                    let message = format!(
                        "deployment {:?} has no snapshot at {}: {error}",
                        deployment.deployment_id,
                        snapshot_path.display()
                    );
                    ProjectError::located(path.to_path_buf(), text, &steps, message)
                })?;
                let snapshot: WebSocketDeploymentSnapshot =
                    super::project::parse(&snapshot_path, &snapshot_text)?;
                if let Err(super::InvalidField(rest, message)) = snapshot.web_socket_api.validate()
                {
                    let steps = to_steps(vec!["webSocketApi".into()], &rest);
                    return Err(ProjectError::located(
                        snapshot_path,
                        &snapshot_text,
                        &steps,
                        message,
                    ));
                }
                snapshots.push((
                    (api.api_id.clone(), deployment.deployment_id.clone()),
                    std::sync::Arc::new(snapshot.web_socket_api),
                ));
            }
        }
        self.web_socket_snapshots.extend(snapshots);
        Ok(())
    }

    /// A WebSocket API deployment's snapshot.
    pub fn web_socket_snapshot(
        &self,
        api_id: &str,
        deployment_id: &str,
    ) -> Option<&std::sync::Arc<WebSocketApi>> {
        self.web_socket_snapshots
            .get(&(api_id.to_string(), deployment_id.to_string()))
    }

    /// A WebSocket API by id, or by name if only one has it.
    pub fn find_web_socket_api(&self, id_or_name: &str) -> Option<&WebSocketApi> {
        self.web_socket_apis
            .iter()
            .find(|a| a.api_id == id_or_name)
            .or_else(|| {
                let mut named = self.web_socket_apis.iter().filter(|a| a.name == id_or_name);
                match (named.next(), named.next()) {
                    (Some(api), None) => Some(api),
                    _ => None,
                }
            })
    }

    /// Snapshots a WebSocket API into a new deployment and points
    /// `stage_name` at it (created if needed, without autoDeploy); saves the
    /// project. As AWS's apigatewayv2 `CreateDeployment` with `stageName`.
    pub fn deploy_web_socket(
        &mut self,
        api_id: &str,
        stage_name: &str,
        description: Option<&str>,
    ) -> Result<HttpDeployment, super::ProjectError> {
        use super::ProjectError;
        super::validate_stage_name(stage_name).map_err(ProjectError::rejected)?;
        let api = self
            .web_socket_apis
            .iter()
            .find(|a| a.api_id == api_id)
            .ok_or_else(|| {
                ProjectError::Rejected(format!("no WebSocket API with id {api_id:?}"))
            })?;
        let mut snapshot_api = api.clone();
        snapshot_api.stages.clear();
        snapshot_api.deployments.clear();
        let deployment = super::http_api::new_deployment(&api.deployments, description);
        let snapshot_path = self.snapshot_path(api_id, &deployment.deployment_id);
        if let Some(parent) = snapshot_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, e))?;
        }
        let snapshot = WebSocketDeploymentSnapshot {
            version: super::project::FORMAT_VERSION,
            deployment: deployment.clone(),
            web_socket_api: snapshot_api,
        };
        super::project::write_json_atomic(&snapshot_path, &snapshot)?;
        self.web_socket_snapshots.insert(
            (api_id.to_string(), deployment.deployment_id.clone()),
            std::sync::Arc::new(snapshot.web_socket_api),
        );
        let api = self
            .web_socket_apis
            .iter_mut()
            .find(|a| a.api_id == api_id)
            .expect("found above");
        api.deployments.push(deployment.clone());
        super::http_api::point_stage(&mut api.stages, stage_name, &deployment.deployment_id);
        self.save()?;
        Ok(deployment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_expressions() {
        for good in [
            "$request.body.action",
            "${request.body.action}",
            "$request.body.data.kind",
            "\\$default",
            "$default",
            "$context.routeKey",
        ] {
            assert!(validate_selection_expression(good).is_ok(), "{good}");
        }
        for bad in ["$request.path.x", "$request.body.", "$nope"] {
            assert!(validate_selection_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_follow_aws_rules() {
        let mut api = WebSocketApi::new("chat01", "Chat");
        api.routes.push(WebSocketRoute {
            route_id: "r1".into(),
            route_key: "$join".into(),
            target: None,
            authorization_type: "NONE".into(),
            authorizer_id: None,
            api_key_required: false,
            route_response_selection_expression: None,
            route_responses: Vec::new(),
        });
        assert!(api.validate().unwrap_err().1.contains("$connect"));
        api.routes[0].route_key = "join".into();
        api.routes[0].route_response_selection_expression = Some("$request.body.x".into());
        assert!(api.validate().unwrap_err().1.contains("$default"));
        api.routes[0].route_response_selection_expression = Some("$default".into());
        assert!(api.validate().is_ok());
    }
}
