//! WebSocket APIs: compiled stages, the `$connect` handshake, message
//! routing by the route selection expression, two-way routes and
//! `$disconnect`.
//!
//! A connection is one task that owns the socket: it reads frames, runs
//! each message's route on a task of its own (so a slow integration never
//! holds back `@connections` posts or other messages), and writes what the
//! integrations and the `@connections` API queue for it
//! (`connections.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use crate::jsonpath::JsonPath;
use crate::model::{HttpStage, WebSocketApi};
use crate::observe::ExecutionLog;

use super::http_api::substitute_stage_variables;
use super::services::Services;
use super::transform::Template;

/// AWS's WebSocket quotas (API Gateway quotas for WebSocket APIs), all
/// configurable for local use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketLimits {
    /// "Message payload size": 128 KB.
    pub max_message_bytes: usize,
    /// "WebSocket frame size": 32 KB; a larger message must be split.
    pub max_frame_bytes: usize,
    /// "Idle Connection Timeout": 10 minutes.
    pub idle_timeout: Duration,
    /// "Connection duration for WebSocket API": 2 hours.
    pub max_connection: Duration,
    /// "New connections per second" per account: 500.
    pub connections_per_second: u32,
}

impl Default for WebSocketLimits {
    fn default() -> Self {
        WebSocketLimits {
            max_message_bytes: 128 * 1024,
            max_frame_bytes: 32 * 1024,
            idle_timeout: Duration::from_secs(600),
            max_connection: Duration::from_secs(7200),
            connections_per_second: 500,
        }
    }
}

/// A selection expression, compiled: route selection, template selection.
#[derive(Debug)]
enum Selection {
    /// `$request.body.PATH`: a JSON path into the message.
    Body(JsonPath),
    Header(String),
    Query(String),
    Context(String),
    StageVariable(String),
    /// A constant (`\$default`, `$default`, any text).
    Literal(String),
}

impl Selection {
    fn compile(expression: &str) -> Selection {
        let braced = expression
            .strip_prefix("${")
            .and_then(|e| e.strip_suffix('}'))
            .map(|e| format!("${e}"));
        let expression = braced.as_deref().unwrap_or(expression);
        if let Some(path) = expression.strip_prefix("$request.body")
            && let Ok(compiled) = JsonPath::parse(&format!("${path}"))
        {
            return Selection::Body(compiled);
        }
        if let Some(name) = expression.strip_prefix("$request.header.") {
            return Selection::Header(name.to_ascii_lowercase());
        }
        if let Some(name) = expression.strip_prefix("$request.querystring.") {
            return Selection::Query(name.to_string());
        }
        if let Some(name) = expression.strip_prefix("$context.") {
            return Selection::Context(name.to_string());
        }
        if let Some(name) = expression.strip_prefix("$stageVariables.") {
            return Selection::StageVariable(name.to_string());
        }
        Selection::Literal(expression.trim_start_matches('\\').to_string())
    }

    /// The expression's value for a message; `None` when it cannot be
    /// evaluated (not JSON, no such field). Values are stringified
    /// as AWS documents ("the result will be stringified"). The body is
    /// parsed only for a `$request.body` expression.
    fn evaluate(
        &self,
        body: &str,
        connection: &ConnectionInfo,
        stage_variables: &[(String, String)],
    ) -> Option<String> {
        match self {
            Selection::Body(path) => {
                match path.select(&serde_json::from_str::<Value>(body).ok()?)? {
                    Value::String(text) => Some(text),
                    Value::Null => None,
                    other => Some(other.to_string()),
                }
            }
            Selection::Header(name) => connection
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            Selection::Query(name) => connection
                .query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
            Selection::Context(name) => match name.as_str() {
                "connectionId" => Some(connection.connection_id.clone()),
                "stage" => Some(connection.stage.clone()),
                "apiId" => Some(connection.api_id.clone()),
                _ => None,
            },
            Selection::StageVariable(name) => stage_variables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
            Selection::Literal(text) => Some(text.clone()),
        }
    }
}

#[derive(Debug)]
enum Kind {
    Mock,
    Http {
        url: String,
        method: http::Method,
    },
    HttpProxy {
        url: String,
        method: http::Method,
    },
    /// `AWS_PROXY` (`proxy`) or `AWS` with a Lambda function.
    Lambda {
        function: String,
        proxy: bool,
    },
}

#[derive(Debug)]
struct CompiledIntegration {
    kind: Kind,
    template_selection: Option<Selection>,
    /// By template key (`$default` or a selection value).
    request_templates: Vec<(String, Template)>,
    passthrough: String,
    timeout: Duration,
    responses: Vec<CompiledResponse>,
}

#[derive(Debug)]
struct CompiledResponse {
    /// `None` for `$default`.
    pattern: Option<crate::model::SelectionPattern>,
    template_selection: Option<Selection>,
    templates: Vec<(String, Template)>,
}

#[derive(Debug)]
struct CompiledRoute {
    route_key: String,
    integration: Option<CompiledIntegration>,
    /// A route response exists (`$default`): the integration's answer goes
    /// back to the client.
    two_way: bool,
    /// The stage's `routeSettings` for this key, else its
    /// `defaultRouteSettings`: a bucket per route, as AWS applies them.
    throttle: Option<super::throttle::TokenBucket>,
}

#[derive(Debug)]
struct ConnectAuthorizer {
    function: String,
    identity_sources: Vec<String>,
}

/// A stage of a WebSocket API, compiled once per deployment (or per change,
/// with `autoDeploy`).
#[derive(Debug)]
pub struct CompiledWebSocketStage {
    pub api_id: String,
    pub api_name: String,
    pub stage_name: String,
    stage_variables: Vec<(String, String)>,
    route_selection: Selection,
    routes: HashMap<String, CompiledRoute>,
    authorizer: Option<ConnectAuthorizer>,
}

fn template_key(key: &str) -> String {
    key.trim_start_matches('\\').to_string()
}

/// Compiles a stage of a WebSocket API from `api` (its current definition
/// or a deployment's snapshot).
pub fn compile(api: &WebSocketApi, stage: &HttpStage) -> CompiledWebSocketStage {
    let stage_variables: Vec<(String, String)> = stage
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut routes = HashMap::new();
    for route in &api.routes {
        let integration = api.target(route).map(|integration| {
            let uri = integration
                .integration_uri
                .as_deref()
                .map(|uri| substitute_stage_variables(uri, &stage.stage_variables))
                .unwrap_or_default();
            let method = integration
                .integration_method
                .as_deref()
                .and_then(|m| http::Method::from_bytes(m.as_bytes()).ok())
                .unwrap_or(http::Method::POST);
            let function = || {
                crate::model::function_from_uri(&uri)
                    .map_or(uri.clone(), |(name, _)| name.to_string())
            };
            let kind = match integration.integration_type.as_str() {
                "HTTP" => Kind::Http {
                    url: uri.clone(),
                    method,
                },
                "HTTP_PROXY" => Kind::HttpProxy {
                    url: uri.clone(),
                    method,
                },
                "AWS_PROXY" => Kind::Lambda {
                    function: function(),
                    proxy: true,
                },
                "AWS" => Kind::Lambda {
                    function: function(),
                    proxy: false,
                },
                _ => Kind::Mock,
            };
            CompiledIntegration {
                kind,
                template_selection: integration
                    .template_selection_expression
                    .as_deref()
                    .map(Selection::compile),
                request_templates: integration
                    .request_templates
                    .iter()
                    .map(|(k, v)| (template_key(k), Template::compile(v)))
                    .collect(),
                passthrough: integration
                    .passthrough_behavior
                    .clone()
                    .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
                timeout: Duration::from_millis(u64::from(
                    integration
                        .timeout_in_millis
                        .unwrap_or(crate::model::WEBSOCKET_MAX_TIMEOUT_MILLIS),
                )),
                responses: integration
                    .integration_responses
                    .iter()
                    .map(|response| CompiledResponse {
                        pattern: response
                            .integration_response_key
                            .strip_prefix('/')
                            .and_then(|k| k.strip_suffix('/'))
                            .and_then(|p| crate::model::SelectionPattern::compile(p).ok()),
                        template_selection: response
                            .template_selection_expression
                            .as_deref()
                            .map(Selection::compile),
                        templates: response
                            .response_templates
                            .iter()
                            .map(|(k, v)| (template_key(k), Template::compile(v)))
                            .collect(),
                    })
                    .collect(),
            }
        });
        let throttle = super::throttle::route_bucket(stage, &route.route_key);
        routes.insert(
            route.route_key.clone(),
            CompiledRoute {
                route_key: route.route_key.clone(),
                throttle,
                integration,
                two_way: route.route_response_selection_expression.is_some()
                    || !route.route_responses.is_empty(),
            },
        );
    }
    let authorizer = api
        .route("$connect")
        .filter(|r| r.authorization_type == "CUSTOM")
        .and_then(|r| r.authorizer_id.as_ref())
        .and_then(|id| api.authorizers.iter().find(|a| a.authorizer_id == *id))
        .and_then(|a| {
            let uri =
                substitute_stage_variables(a.authorizer_uri.as_ref()?, &stage.stage_variables);
            Some(ConnectAuthorizer {
                function: crate::model::function_from_uri(&uri)
                    .map_or(uri.clone(), |(name, _)| name.to_string()),
                identity_sources: a.identity_source.clone(),
            })
        });
    CompiledWebSocketStage {
        api_id: api.api_id.clone(),
        api_name: api.name.clone(),
        stage_name: stage.stage_name.clone(),
        stage_variables,
        route_selection: Selection::compile(&api.route_selection_expression),
        routes,
        authorizer,
    }
}

/// What every event of a connection shares.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub connection_id: String,
    pub api_id: String,
    pub stage: String,
    /// The `Host` the client connected with (`requestContext.domainName`).
    pub domain_name: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// Epoch milliseconds.
    pub connected_at: i64,
    /// The upgrade request's headers (names as received) and query.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// The `$connect` authorizer's context (`principalId` included).
    pub authorizer: Option<Value>,
}

/// CONNECT, MESSAGE or DISCONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Connect,
    Message,
    Disconnect,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Connect => "CONNECT",
            EventType::Message => "MESSAGE",
            EventType::Disconnect => "DISCONNECT",
        }
    }
}

/// One route execution: a connect, a message, a disconnect.
#[derive(Debug)]
pub struct RouteEvent<'a> {
    pub event_type: EventType,
    pub route_key: &'a str,
    pub request_id: String,
    pub message_id: Option<String>,
    pub body: Option<&'a str>,
    pub received_at: SystemTime,
    /// DISCONNECT: the close code and reason.
    pub disconnect: Option<(u16, String)>,
}

/// What a route execution gave back.
#[derive(Debug)]
pub struct RouteOutcome {
    /// The integration's status (200 for MOCK without a template status).
    pub status: u16,
    /// Headers a `$connect` integration answered with (e.g.
    /// `Sec-WebSocket-Protocol`).
    pub headers: HeaderMap,
    /// The frame a two-way route sends back.
    pub reply: Option<String>,
    pub log: ExecutionLog,
    pub integration_latency: Option<Duration>,
    /// The integration could not be run (an error, a timeout): the client
    /// gets AWS's `Internal server error` frame.
    pub failed: bool,
}

/// AWS's error frame for a message it cannot route or serve:
/// `{"message": "Forbidden", "connectionId":"...", "requestId":"..."}`
/// (the shape users report from AWS, e.g.
/// aws-samples/simple-websockets-chat-app issue #24).
pub fn error_frame(message: &str, connection_id: &str, request_id: &str) -> String {
    format!(
        r#"{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}"#
    )
}

fn epoch_ms(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn clf_time(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    at.format(&format).unwrap_or_default()
}

impl CompiledWebSocketStage {
    pub fn has_route(&self, route_key: &str) -> bool {
        self.routes.contains_key(route_key)
    }

    /// Whether the route's throttle (if any) lets one more through.
    pub fn admit(&self, route_key: &str) -> bool {
        self.routes
            .get(route_key)
            .and_then(|r| r.throttle.as_ref())
            .is_none_or(|bucket| bucket.admit())
    }

    /// The route a message takes: the selection expression's value when a
    /// route has that key, else `$default`; `None` when neither exists.
    pub fn select_route(&self, body: &str, connection: &ConnectionInfo) -> Option<&str> {
        // Only a JSON object is routed by its content.
        let selected = body
            .trim_start()
            .starts_with('{')
            .then(|| {
                self.route_selection
                    .evaluate(body, connection, &self.stage_variables)
            })
            .flatten();
        if let Some(key) = selected
            && !key.starts_with('$')
            && let Some(route) = self.routes.get(&key)
        {
            return Some(&route.route_key);
        }
        self.routes.get("$default").map(|r| r.route_key.as_str())
    }

    /// `requestContext` of a Lambda proxy event, as AWS sends it (the
    /// fields of a recorded AWS CONNECT event).
    fn request_context(&self, connection: &ConnectionInfo, event: &RouteEvent<'_>) -> Value {
        let (status, reason) = match &event.disconnect {
            Some((code, reason)) => (json!(code), json!(reason)),
            None => (Value::Null, Value::Null),
        };
        let mut context = json!({
            "routeKey": event.route_key,
            "disconnectStatusCode": status,
            "messageId": event.message_id,
            "eventType": event.event_type.as_str(),
            "extendedRequestId": event.request_id,
            "requestTime": clf_time(event.received_at),
            "messageDirection": "IN",
            "disconnectReason": reason,
            "stage": self.stage_name,
            "connectedAt": connection.connected_at,
            "requestTimeEpoch": epoch_ms(event.received_at),
            "identity": {
                "cognitoIdentityPoolId": null,
                "cognitoIdentityId": null,
                "principalOrgId": null,
                "cognitoAuthenticationType": null,
                "userArn": null,
                "userAgent": connection.user_agent,
                "accountId": null,
                "caller": null,
                "sourceIp": connection.source_ip,
                "accessKey": null,
                "cognitoAuthenticationProvider": null,
                "user": null,
            },
            "requestId": event.request_id,
            "domainName": connection.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.api_id,
        });
        if let Some(authorizer) = &connection.authorizer {
            context["authorizer"] = authorizer.clone();
        }
        context
    }

    /// The Lambda proxy event: headers and query on CONNECT (and headers
    /// on DISCONNECT), the body on MESSAGE.
    pub fn proxy_event(&self, connection: &ConnectionInfo, event: &RouteEvent<'_>) -> Value {
        let mut out = Map::new();
        if event.event_type != EventType::Message {
            let (single, multi) = header_maps(&connection.headers);
            out.insert("headers".into(), single);
            out.insert("multiValueHeaders".into(), multi);
        }
        if event.event_type == EventType::Connect && !connection.query.is_empty() {
            let (single, multi) = header_maps(&connection.query);
            out.insert("queryStringParameters".into(), single);
            out.insert("multiValueQueryStringParameters".into(), multi);
        }
        out.insert(
            "requestContext".into(),
            self.request_context(connection, event),
        );
        if let Some(body) = event.body {
            out.insert("body".into(), json!(body));
        }
        out.insert("isBase64Encoded".into(), json!(false));
        if !self.stage_variables.is_empty() {
            let variables: Map<String, Value> = self
                .stage_variables
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            out.insert("stageVariables".into(), Value::Object(variables));
        }
        Value::Object(out)
    }

    /// `$context` for templates: the WebSocket variables AWS documents.
    fn template_context(&self, connection: &ConnectionInfo, event: &RouteEvent<'_>) -> Value {
        let mut context = self.request_context(connection, event);
        context["eventType"] = json!(event.event_type.as_str());
        context
    }

    /// Runs the `$connect` authorizer (a REQUEST Lambda authorizer): `Ok`
    /// with its context, or the handshake's status (401 without the
    /// identity sources, 403 on Deny, 500 when the function fails).
    pub async fn authorize(
        &self,
        connection: &ConnectionInfo,
        request_id: &str,
        services: &Services,
        log: &mut ExecutionLog,
    ) -> Result<Option<Value>, u16> {
        let Some(authorizer) = &self.authorizer else {
            return Ok(None);
        };
        let mut identity = Vec::new();
        for source in &authorizer.identity_sources {
            let value = if let Some(name) = source.strip_prefix("route.request.header.") {
                connection
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            } else if let Some(name) = source.strip_prefix("route.request.querystring.") {
                connection
                    .query
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            } else if let Some(name) = source.strip_prefix("stageVariables.") {
                self.stage_variables
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            } else {
                None
            };
            match value.filter(|v| !v.is_empty()) {
                Some(value) => identity.push(value),
                None => {
                    log.push_fmt(format_args!(
                        "The identity source {source} is missing: Unauthorized"
                    ));
                    return Err(401);
                }
            }
        }
        let method_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/$connect",
            crate::model::function::REGION,
            crate::model::function::ACCOUNT_ID,
            self.api_id,
            self.stage_name
        );
        let connect = RouteEvent {
            event_type: EventType::Connect,
            route_key: "$connect",
            request_id: request_id.to_string(),
            message_id: None,
            body: None,
            received_at: SystemTime::now(),
            disconnect: None,
        };
        let mut event = self.proxy_event(connection, &connect);
        if let Some(object) = event.as_object_mut() {
            object.remove("isBase64Encoded");
            object.insert("type".into(), json!("REQUEST"));
            object.insert("methodArn".into(), json!(method_arn));
        }
        log.push_fmt(format_args!(
            "Sending request to authorizer function {}",
            authorizer.function
        ));
        let payload = match services
            .functions
            .invoke(&authorizer.function, Bytes::from(event.to_string()))
            .await
        {
            Ok(crate::functions::Outcome::Success(payload)) => payload,
            _ => {
                log.push("Execution failed due to an authorizer error");
                return Err(500);
            }
        };
        let Ok(parsed) = crate::auth::lambda_authorizer::parse_result(&payload) else {
            log.push("Execution failed: the authorizer's answer is not a valid policy");
            return Err(500);
        };
        match crate::auth::lambda_authorizer::evaluate(&parsed.statements, &method_arn) {
            crate::auth::lambda_authorizer::Decision::Allow => {
                log.push("Authorizer: Allow");
                let mut context = parsed.context.clone();
                context.insert("principalId".into(), json!(parsed.principal_id));
                Ok(Some(Value::Object(context)))
            }
            _ => {
                log.push("Authorizer: Deny");
                Err(403)
            }
        }
    }

    /// Runs a route's integration for an event. A route without an
    /// integration answers 200 with nothing (AWS accepts `$connect` and
    /// `$disconnect` routes that are not defined).
    pub async fn execute(
        &self,
        connection: &ConnectionInfo,
        event: &RouteEvent<'_>,
        services: &Services,
    ) -> RouteOutcome {
        let mut log = ExecutionLog::new();
        log.push_fmt(format_args!(
            "Received {} on connection {} for route {}",
            event.event_type.as_str(),
            connection.connection_id,
            event.route_key
        ));
        if let Some(body) = event.body {
            log.push_fmt(format_args!("Message body: {body}"));
        }
        let Some(route) = self.routes.get(event.route_key) else {
            return RouteOutcome {
                status: 200,
                headers: HeaderMap::new(),
                reply: None,
                log,
                integration_latency: None,
                failed: false,
            };
        };
        let Some(integration) = &route.integration else {
            log.push("The route has no integration");
            return RouteOutcome {
                status: 200,
                headers: HeaderMap::new(),
                reply: None,
                log,
                integration_latency: None,
                failed: false,
            };
        };
        let started = Instant::now();
        let answer = self
            .integrate(integration, connection, event, services, &mut log)
            .await;
        let integration_latency = Some(started.elapsed());
        match answer {
            Ok((status, headers, body)) => {
                log.push_fmt(format_args!("Endpoint response status: {status}"));
                let reply = if route.two_way {
                    self.map_response(integration, status, &body, connection, event, &mut log)
                        .await
                } else {
                    None
                };
                RouteOutcome {
                    status,
                    headers,
                    reply,
                    log,
                    integration_latency,
                    failed: false,
                }
            }
            Err(message) => {
                log.push_fmt(format_args!("Execution failed: {message}"));
                RouteOutcome {
                    status: 500,
                    headers: HeaderMap::new(),
                    reply: None,
                    log,
                    integration_latency,
                    failed: true,
                }
            }
        }
    }

    /// The template whose key the selection expression gives (`$default`
    /// when there is none or it gives nothing), else the `$default` one.
    fn select_template<'t>(
        &self,
        selection: Option<&Selection>,
        templates: &'t [(String, Template)],
        body: &str,
        connection: &ConnectionInfo,
    ) -> Option<&'t (String, Template)> {
        let key = selection
            .and_then(|s| s.evaluate(body, connection, &self.stage_variables))
            .unwrap_or_else(|| "$default".into());
        templates
            .iter()
            .find(|(k, _)| *k == key)
            .or_else(|| templates.iter().find(|(k, _)| k == "$default"))
    }

    /// Renders a request or response template for this event. The
    /// connection's headers were title-cased once, at the upgrade.
    async fn render(
        &self,
        template: &Template,
        body: &str,
        connection: &ConnectionInfo,
        event: &RouteEvent<'_>,
    ) -> Result<String, crate::vtl::VtlError> {
        let context = self.template_context(connection, event);
        template
            .render(&crate::vtl::Bindings {
                body,
                path: &[],
                querystring: &connection.query,
                header: &connection.headers,
                context: &context,
                stage_variables: &self.stage_variables,
            })
            .await
            .map(|rendered| rendered.output)
    }

    /// The request template for this event, by the template selection
    /// expression (`$default` when there is none), or passthrough.
    async fn request_body(
        &self,
        integration: &CompiledIntegration,
        connection: &ConnectionInfo,
        event: &RouteEvent<'_>,
        log: &mut ExecutionLog,
    ) -> Result<String, String> {
        let body = event.body.unwrap_or_default();
        let template = self.select_template(
            integration.template_selection.as_ref(),
            &integration.request_templates,
            body,
            connection,
        );
        let Some((key, template)) = template else {
            let pass = match integration.passthrough.as_str() {
                "NEVER" => false,
                "WHEN_NO_TEMPLATES" => integration.request_templates.is_empty(),
                _ => true,
            };
            if !pass {
                return Err("no request template matches and passthrough is off".into());
            }
            return Ok(body.to_string());
        };
        log.push_fmt(format_args!("Using request template {key}"));
        self.render(template, body, connection, event)
            .await
            .map_err(|e| format!("the request template failed: {e}"))
    }

    async fn integrate(
        &self,
        integration: &CompiledIntegration,
        connection: &ConnectionInfo,
        event: &RouteEvent<'_>,
        services: &Services,
        log: &mut ExecutionLog,
    ) -> Result<(u16, HeaderMap, String), String> {
        use crate::integrations::{EndpointRequest, Integrate};
        match &integration.kind {
            Kind::Mock => {
                let rendered = self
                    .request_body(integration, connection, event, log)
                    .await?;
                // MOCK's status comes from the template's `statusCode`;
                // AWS answers 200 when there is none.
                let status = serde_json::from_str::<Value>(&rendered)
                    .ok()
                    .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
                    .map_or(200, |s| s as u16);
                Ok((status, HeaderMap::new(), String::new()))
            }
            Kind::Lambda { function, proxy } => {
                let payload = if *proxy {
                    self.proxy_event(connection, event).to_string()
                } else {
                    self.request_body(integration, connection, event, log)
                        .await?
                };
                log.push_fmt(format_args!("Sending request to function {function}"));
                let outcome = if matches!(event.event_type, EventType::Disconnect) {
                    // Every `$disconnect` runs: it waits its turn in the
                    // function's bounded event queue instead of being
                    // throttled when many clients leave at once (the
                    // function's own timeout bounds the run).
                    services
                        .functions
                        .invoke_delivered(function, Bytes::from(payload))
                        .await
                        .map_err(|e| e.to_string())?
                } else {
                    let invocation = services.functions.invoke(function, Bytes::from(payload));
                    tokio::time::timeout(integration.timeout, invocation)
                        .await
                        .map_err(|_| "the function timed out".to_string())?
                        .map_err(|e| e.to_string())?
                };
                let payload = match outcome {
                    crate::functions::Outcome::Success(payload) => payload,
                    crate::functions::Outcome::Error { payload, .. } => {
                        return Err(format!(
                            "the function failed: {}",
                            String::from_utf8_lossy(&payload)
                        ));
                    }
                };
                let text = String::from_utf8_lossy(&payload).into_owned();
                log.push_fmt(format_args!("Function response: {text}"));
                if !*proxy {
                    return Ok((200, HeaderMap::new(), text));
                }
                // AWS_PROXY: `{"statusCode", "headers", "body"}`; an answer
                // without `statusCode` counts as 200 with its JSON as body.
                let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let status = value
                    .get("statusCode")
                    .and_then(Value::as_u64)
                    .map_or(200, |s| s as u16);
                let mut headers = HeaderMap::new();
                if let Some(Value::Object(given)) = value.get("headers") {
                    for (name, v) in given {
                        if let (Ok(name), Some(Ok(v))) = (
                            http::header::HeaderName::from_bytes(name.as_bytes()),
                            v.as_str().map(HeaderValue::from_str),
                        ) {
                            headers.insert(name, v);
                        }
                    }
                }
                let body = match value.get("body") {
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Null) | None if value.get("statusCode").is_some() => String::new(),
                    Some(other) => other.to_string(),
                    None => text,
                };
                Ok((status, headers, body))
            }
            Kind::Http { url, method } | Kind::HttpProxy { url, method } => {
                let body = if matches!(integration.kind, Kind::HttpProxy { .. }) {
                    event.body.unwrap_or_default().to_string()
                } else {
                    self.request_body(integration, connection, event, log)
                        .await?
                };
                log.push_fmt(format_args!("Endpoint request URI: {url}"));
                let mut headers = HeaderMap::new();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                if let Ok(value) = HeaderValue::from_str(&connection.connection_id) {
                    headers.insert("connectionid", value);
                }
                let response = services
                    .http
                    .invoke(EndpointRequest {
                        method: method.clone(),
                        url: url.clone(),
                        headers,
                        body: Bytes::from(body),
                        timeout: integration.timeout,
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((
                    response.status,
                    response.headers,
                    String::from_utf8_lossy(&response.body).into_owned(),
                ))
            }
        }
    }

    /// The frame a two-way route sends: the integration response whose key
    /// matches the status (else `$default`), its template by the template
    /// selection expression, or the body as it came.
    async fn map_response(
        &self,
        integration: &CompiledIntegration,
        status: u16,
        body: &str,
        connection: &ConnectionInfo,
        event: &RouteEvent<'_>,
        log: &mut ExecutionLog,
    ) -> Option<String> {
        let code = status.to_string();
        let response = integration
            .responses
            .iter()
            .find(|r| {
                r.pattern.as_ref().is_some_and(|p| {
                    p.matches(&code) == crate::model::selection_pattern::Matched::Yes
                })
            })
            .or_else(|| integration.responses.iter().find(|r| r.pattern.is_none()));
        let Some(response) = response else {
            return (!body.is_empty() || !matches!(integration.kind, Kind::Mock))
                .then(|| body.to_string());
        };
        let template = self.select_template(
            response.template_selection.as_ref(),
            &response.templates,
            body,
            connection,
        );
        let Some((_, template)) = template else {
            return Some(body.to_string());
        };
        match self.render(template, body, connection, event).await {
            Ok(output) => Some(output),
            Err(error) => {
                log.push_fmt(format_args!("The response template failed: {error}"));
                None
            }
        }
    }
}

/// `{"Name": "last value"}` and `{"Name": ["every", "value"]}`.
fn header_maps(pairs: &[(String, String)]) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), json!(value));
        if let Some(list) = multi
            .entry(name.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            list.push(json!(value));
        }
    }
    (Value::Object(single), Value::Object(multi))
}
