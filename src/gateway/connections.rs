//! Live WebSocket connections: the registry, the task that owns each
//! socket, the `$connect` handshake, and the AWS-compatible `@connections`
//! management API (`apigatewaymanagementapi`: PostToConnection,
//! GetConnection, DeleteConnection).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue};
use http_body_util::Full;
use hyper::Response;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use crate::observe::metrics::{Observation, SeriesKey};
use crate::observe::{ExecutionLog, RequestRecord, StoredHeaders};

use super::Shared;
use super::responses::Reply;
use super::websocket::{
    CompiledWebSocketStage, ConnectionInfo, EventType, RouteEvent, WebSocketLimits, error_frame,
};

/// What the connection's task is asked to write.
#[derive(Debug)]
pub enum Outbound {
    Text(String),
    Binary(Bytes),
    /// DeleteConnection: close with 1000.
    Close,
}

/// A live connection, as the registry and `@connections` see it.
#[derive(Debug)]
pub struct Connection {
    pub info: ConnectionInfo,
    last_active_ms: AtomicI64,
    outbound: mpsc::UnboundedSender<Outbound>,
}

impl Connection {
    pub fn last_active_ms(&self) -> i64 {
        self.last_active_ms.load(Ordering::Relaxed)
    }

    fn touch(&self) {
        self.last_active_ms.store(now_ms(), Ordering::Relaxed);
    }
}

/// A frame in or out of a connection, for the GUI's timelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameEvent {
    pub seq: u64,
    pub at_ms: i64,
    pub connection_id: String,
    /// `in`, `out`, `connect` or `disconnect`.
    pub direction: &'static str,
    /// The route an incoming message took.
    pub route_key: Option<String>,
    pub text: String,
}

/// Every live connection of the gateway, by connection id.
#[derive(Debug, Default)]
pub struct Connections {
    live: Mutex<HashMap<String, Arc<Connection>>>,
    frames: Mutex<std::collections::VecDeque<FrameEvent>>,
    next_seq: std::sync::atomic::AtomicU64,
}

/// How many frame events the registry keeps for the GUI.
const FRAME_HISTORY: usize = 2_000;

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Connection>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, connection_id: &str) -> Option<Arc<Connection>> {
        self.lock().get(connection_id).cloned()
    }

    /// The live connections, oldest first.
    pub fn list(&self) -> Vec<Arc<Connection>> {
        let mut all: Vec<Arc<Connection>> = self.lock().values().cloned().collect();
        all.sort_by_key(|c| (c.info.connected_at, c.info.connection_id.clone()));
        all
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a frame for a connection (PostToConnection); false if it is
    /// gone.
    pub fn post(&self, connection_id: &str, data: Bytes) -> bool {
        let Some(connection) = self.get(connection_id) else {
            return false;
        };
        let frame = match String::from_utf8(data.to_vec()) {
            Ok(text) => Outbound::Text(text),
            Err(_) => Outbound::Binary(data),
        };
        connection.outbound.send(frame).is_ok()
    }

    /// Closes a connection (DeleteConnection); false if it is gone.
    pub fn close(&self, connection_id: &str) -> bool {
        self.get(connection_id)
            .is_some_and(|c| c.outbound.send(Outbound::Close).is_ok())
    }

    fn record_frame(
        &self,
        connection_id: &str,
        direction: &'static str,
        route_key: Option<&str>,
        text: &str,
    ) {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if frames.len() >= FRAME_HISTORY {
            frames.pop_front();
        }
        // Timelines show the start of big frames.
        let mut text = text.to_string();
        if text.len() > 4096 {
            let mut cut = 4096;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...");
        }
        frames.push_back(FrameEvent {
            seq,
            at_ms: now_ms(),
            connection_id: connection_id.to_string(),
            direction,
            route_key: route_key.map(str::to_string),
            text,
        });
    }

    /// Frame events newer than `after` (a `seq`).
    pub fn frames_since(&self, after: u64) -> Vec<FrameEvent> {
        let frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        frames.iter().filter(|f| f.seq > after).cloned().collect()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An id in the shape of AWS's (`WyHPAfymhcwCENw=`): 15 characters and a
/// `=`; only letters and digits, so it needs no escaping in a URL.
pub fn new_id() -> String {
    let mut id: String = (0..15).map(|_| fastrand::alphanumeric()).collect();
    id.push('=');
    id
}

fn iso_ms(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).unwrap_or_default()
}

fn json_reply(status: u16, body: String) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Reply {
        status,
        headers,
        body: Bytes::from(body),
    }
}

fn plain(status: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// A WebSocket upgrade request, as the server hands it over.
pub struct Upgrade {
    pub parts: http::request::Parts,
    pub peer: std::net::SocketAddr,
    pub host: String,
    pub raw_query: String,
}

/// Whether a request asks for a WebSocket upgrade.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let has = |name: http::header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has(http::header::UPGRADE, "websocket") && has(http::header::CONNECTION, "upgrade")
}

/// The handshake: `$connect` (authorizer, then integration) decides; a
/// non-2xx answer rejects the upgrade with that status, as AWS does (its
/// docs show a `$connect` function's 400 reaching wscat as
/// `Unexpected server response: 400`).
pub async fn upgrade(
    stage: Arc<CompiledWebSocketStage>,
    mut request: Upgrade,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let received_at = SystemTime::now();
    let headers = &request.parts.headers;
    let Some(key) = headers.get(http::header::SEC_WEBSOCKET_KEY).cloned() else {
        return plain(400);
    };
    if headers
        .get(http::header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return plain(400);
    }
    let over_quota = shared
        .websocket_connect_throttle
        .as_ref()
        .is_some_and(|bucket| !bucket.admit());
    if over_quota || !stage.admit("$connect") {
        let reply = json_reply(429, r#"{"message":"Too Many Requests"}"#.into());
        return into_response(reply);
    }
    let Some(on_upgrade) = request
        .parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
    else {
        return plain(400);
    };
    let header_pairs: Vec<(String, String)> = request
        .parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                crate::gateway::transform::title_case(n.as_str()),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = super::request::MethodRequest::parse_query(&request.raw_query);
    let user_agent = request
        .parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut info = ConnectionInfo {
        connection_id: new_id(),
        api_id: stage.api_id.clone(),
        stage: stage.stage_name.clone(),
        domain_name: request.host.clone(),
        source_ip: request.peer.ip().to_string(),
        user_agent,
        connected_at: now_ms(),
        headers: header_pairs,
        query,
        authorizer: None,
    };
    let request_id = new_id();
    let mut log = ExecutionLog::new();
    let services = &shared.services;
    match stage
        .authorize(&info, &request_id, services, &mut log)
        .await
    {
        Ok(context) => info.authorizer = context,
        Err(status) => {
            let body = match status {
                401 => r#"{"message":"Unauthorized"}"#,
                403 => r#"{"message":"Forbidden"}"#,
                _ => r#"{"message": "Internal server error"}"#,
            };
            let reply = json_reply(status, body.into());
            log_route(
                shared,
                &stage,
                &info,
                EventType::Connect,
                "$connect",
                &request_id,
                received_at,
                status,
                started,
                None,
                "",
                body,
                log,
            );
            return into_response(reply);
        }
    }
    let event = RouteEvent {
        event_type: EventType::Connect,
        route_key: "$connect",
        request_id: request_id.clone(),
        message_id: None,
        body: None,
        received_at,
        disconnect: None,
    };
    let outcome = stage.execute(&info, &event, services).await;
    for line in outcome.log.lines() {
        log.push(line);
    }
    let status = if outcome.failed { 500 } else { outcome.status };
    let accepted = (200..300).contains(&status);
    log_route(
        shared,
        &stage,
        &info,
        EventType::Connect,
        "$connect",
        &request_id,
        received_at,
        if accepted { 200 } else { status },
        started,
        outcome.integration_latency,
        "",
        "",
        log,
    );
    if !accepted {
        let body = if outcome.failed {
            r#"{"message": "Internal server error"}"#
        } else {
            ""
        };
        return into_response(json_reply(status, body.into()));
    }

    let (sender, receiver) = mpsc::unbounded_channel();
    let connection = Arc::new(Connection {
        info: info.clone(),
        last_active_ms: AtomicI64::new(info.connected_at),
        outbound: sender,
    });
    shared
        .connections
        .lock()
        .insert(info.connection_id.clone(), Arc::clone(&connection));
    shared
        .connections
        .record_frame(&info.connection_id, "connect", Some("$connect"), "");

    let limits = shared.websocket_limits;
    let task_shared = Arc::clone(shared);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            finish_connection(&task_shared, &stage, &connection, 1006, String::new());
            return;
        };
        // tungstenite allocates its read buffer up front (128 KiB by
        // default): 4 KiB keeps 10,000 idle connections small; bigger
        // messages grow it as they arrive.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
            .max_message_size(Some(limits.max_message_bytes))
            .max_frame_size(Some(limits.max_frame_bytes));
        let socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
            hyper_util::rt::TokioIo::new(upgraded),
            Role::Server,
            Some(config),
        )
        .await;
        run(socket, receiver, &stage, &connection, limits, &task_shared).await;
    });

    let mut response = plain(101);
    let headers = response.headers_mut();
    headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    if let Ok(accept) = HeaderValue::from_str(
        &tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
    ) {
        headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    // What the `$connect` integration answered with (a subprotocol, say).
    for (name, value) in &outcome.headers {
        if name != http::header::CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

fn into_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = reply.headers;
    response
}

/// Whether a read error is a frame the client should not have sent (as
/// opposed to the connection ending without a close frame).
fn is_frame_violation(error: &ProtocolError) -> bool {
    matches!(
        error,
        ProtocolError::NonZeroReservedBits
            | ProtocolError::UnmaskedFrameFromClient
            | ProtocolError::FragmentedControlFrame
            | ProtocolError::ControlFrameTooBig
            | ProtocolError::UnknownControlFrameType(_)
            | ProtocolError::UnknownDataFrameType(_)
            | ProtocolError::UnexpectedContinueFrame
            | ProtocolError::ExpectedFragment(_)
            | ProtocolError::InvalidOpcode(_)
            | ProtocolError::InvalidCloseSequence
    )
}

/// The socket's life: frames in are routed (each on its own task), frames
/// out are written, and the idle and lifetime limits close it with 1001
/// ("Going away"), as AWS does.
async fn run<S>(
    socket: tokio_tungstenite::WebSocketStream<S>,
    mut receiver: mpsc::UnboundedReceiver<Outbound>,
    stage: &Arc<CompiledWebSocketStage>,
    connection: &Arc<Connection>,
    limits: WebSocketLimits,
    shared: &Arc<Shared>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let lifetime = tokio::time::Instant::now() + limits.max_connection;
    let mut idle_deadline = tokio::time::Instant::now() + limits.idle_timeout;
    let id = connection.info.connection_id.clone();
    let closing = |code: CloseCode, reason: &str| {
        let frame = CloseFrame {
            code,
            reason: reason.to_string().into(),
        };
        (u16::from(code), reason.to_string(), Some(frame))
    };
    let (code, reason, ours) = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    connection.touch();
                    idle_deadline = tokio::time::Instant::now() + limits.idle_timeout;
                    spawn_message(shared, stage, connection, text.as_str().to_string());
                }
                Some(Ok(Message::Binary(data))) => {
                    connection.touch();
                    idle_deadline = tokio::time::Instant::now() + limits.idle_timeout;
                    spawn_message(shared, stage, connection, String::from_utf8_lossy(&data).into_owned());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    connection.touch();
                    idle_deadline = tokio::time::Instant::now() + limits.idle_timeout;
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.as_str().to_string())
                    });
                    break (code, reason, None);
                }
                Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_))) => {
                    // Over the message or frame quota: AWS closes with 1009.
                    break closing(CloseCode::Size, "Message too big");
                }
                // RFC 6455 7.4.1: a frame that breaks the protocol closes
                // with 1002, a text message that is not UTF-8 with 1007.
                Some(Err(WsError::Protocol(error))) if is_frame_violation(&error) => {
                    break closing(CloseCode::Protocol, "");
                }
                Some(Err(WsError::Utf8(_))) => break closing(CloseCode::Invalid, ""),
                Some(Err(_)) | None => break (1006, String::new(), None),
            },
            outbound = receiver.recv() => match outbound {
                Some(Outbound::Text(text)) => {
                    connection.touch();
                    shared.connections.record_frame(&id, "out", None, &text);
                    if sink.send(Message::text(text)).await.is_err() {
                        break (1006, String::new(), None);
                    }
                }
                Some(Outbound::Binary(data)) => {
                    connection.touch();
                    shared.connections.record_frame(&id, "out", None, &String::from_utf8_lossy(&data));
                    if sink.send(Message::Binary(data)).await.is_err() {
                        break (1006, String::new(), None);
                    }
                }
                Some(Outbound::Close) | None => {
                    break closing(CloseCode::Normal, "");
                }
            },
            // Idle too long, or at the end of the connection's lifetime.
            _ = tokio::time::sleep_until(idle_deadline.min(lifetime)) => {
                break closing(CloseCode::Away, "Going away");
            }
        }
    };
    // Portico ends the connection: say why in a close frame.
    if let Some(frame) = ours {
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
    finish_connection(shared, stage, connection, code, reason);
}

/// Unregisters a connection and runs `$disconnect`, best effort (as AWS:
/// the client is gone, nothing can be answered).
fn finish_connection(
    shared: &Arc<Shared>,
    stage: &Arc<CompiledWebSocketStage>,
    connection: &Arc<Connection>,
    code: u16,
    reason: String,
) {
    let id = &connection.info.connection_id;
    shared.connections.lock().remove(id);
    shared
        .connections
        .record_frame(id, "disconnect", Some("$disconnect"), &code.to_string());
    let shared = Arc::clone(shared);
    let stage = current_stage(&shared, stage);
    let info = connection.info.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        let received_at = SystemTime::now();
        let request_id = new_id();
        let event = RouteEvent {
            event_type: EventType::Disconnect,
            route_key: "$disconnect",
            request_id: request_id.clone(),
            message_id: None,
            body: None,
            received_at,
            disconnect: Some((code, reason)),
        };
        let outcome = stage.execute(&info, &event, &shared.services).await;
        log_route(
            &shared,
            &stage,
            &info,
            EventType::Disconnect,
            "$disconnect",
            &request_id,
            received_at,
            if outcome.failed { 500 } else { 200 },
            started,
            outcome.integration_latency,
            "",
            "",
            outcome.log,
        );
    });
}

/// The stage as it is served now: a deployment or an auto-deployed edit
/// applies to connections that are already open, as on AWS; the stage the
/// connection opened on serves if its stage is gone.
fn current_stage(
    shared: &Shared,
    opened_on: &Arc<CompiledWebSocketStage>,
) -> Arc<CompiledWebSocketStage> {
    shared
        .routes
        .load()
        .web_sockets
        .get(&opened_on.api_id)
        .and_then(|stages| stages.get(&opened_on.stage_name))
        .map_or_else(|| Arc::clone(opened_on), Arc::clone)
}

fn spawn_message(
    shared: &Arc<Shared>,
    stage: &Arc<CompiledWebSocketStage>,
    connection: &Arc<Connection>,
    body: String,
) {
    let shared = Arc::clone(shared);
    let stage = current_stage(&shared, stage);
    let connection = Arc::clone(connection);
    tokio::spawn(async move {
        let started = Instant::now();
        let received_at = SystemTime::now();
        let request_id = new_id();
        let info = &connection.info;
        let Some(route_key) = stage.select_route(&body, info).map(str::to_string) else {
            // No route and no `$default`: AWS's Forbidden frame.
            shared
                .connections
                .record_frame(&info.connection_id, "in", None, &body);
            let frame = error_frame("Forbidden", &info.connection_id, &request_id);
            let _ = connection.outbound.send(Outbound::Text(frame.clone()));
            let mut log = ExecutionLog::new();
            log.push("No route matches the message and the API has no $default route");
            log_route(
                &shared,
                &stage,
                info,
                EventType::Message,
                "",
                &request_id,
                received_at,
                403,
                started,
                None,
                &body,
                &frame,
                log,
            );
            return;
        };
        shared
            .connections
            .record_frame(&info.connection_id, "in", Some(&route_key), &body);
        if !stage.admit(&route_key) {
            // The stage's route throttling: the frame in AWS's error shape
            // with the message of its 429s (`Too Many Requests`).
            let frame = error_frame("Too Many Requests", &info.connection_id, &request_id);
            let _ = connection.outbound.send(Outbound::Text(frame.clone()));
            let mut log = ExecutionLog::new();
            log.push_fmt(format_args!("Route {route_key} throttled"));
            log_route(
                &shared,
                &stage,
                info,
                EventType::Message,
                &route_key,
                &request_id,
                received_at,
                429,
                started,
                None,
                &body,
                &frame,
                log,
            );
            return;
        }
        let event = RouteEvent {
            event_type: EventType::Message,
            route_key: &route_key,
            request_id: request_id.clone(),
            message_id: Some(new_id()),
            body: Some(&body),
            received_at,
            disconnect: None,
        };
        let outcome = stage.execute(info, &event, &shared.services).await;
        let reply = if outcome.failed {
            Some(error_frame(
                "Internal server error",
                &info.connection_id,
                &request_id,
            ))
        } else {
            outcome.reply.clone()
        };
        if let Some(frame) = &reply {
            let _ = connection.outbound.send(Outbound::Text(frame.clone()));
        }
        log_route(
            &shared,
            &stage,
            info,
            EventType::Message,
            &route_key,
            &request_id,
            received_at,
            if outcome.failed { 500 } else { 200 },
            started,
            outcome.integration_latency,
            &body,
            reply.as_deref().unwrap_or_default(),
            outcome.log,
        );
    });
}

/// Puts a route execution in the live log (method `CONNECT` / `MESSAGE` /
/// `DISCONNECT`, the route key as the resource) and the metrics.
#[allow(clippy::too_many_arguments)]
fn log_route(
    shared: &Shared,
    stage: &CompiledWebSocketStage,
    info: &ConnectionInfo,
    event_type: EventType,
    route_key: &str,
    request_id: &str,
    received_at: SystemTime,
    status: u16,
    started: Instant,
    integration_latency: Option<std::time::Duration>,
    body: &str,
    reply: &str,
    mut log: ExecutionLog,
) {
    let metrics = &shared.metrics;
    if metrics.enabled() {
        let series = metrics.series(SeriesKey {
            api_id: stage.api_id.clone(),
            stage: stage.stage_name.clone(),
            resource: route_key.to_string(),
            method: event_type.as_str().to_string(),
            canary: false,
        });
        metrics.record(
            &series,
            &Observation {
                status,
                latency: started.elapsed(),
                integration_latency,
                cache: None,
            },
        );
    }
    log.compact();
    let mut request_headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&info.connection_id) {
        request_headers.insert("connectionid", value);
    }
    shared.request_log.push(RequestRecord {
        seq: 0,
        request_id: request_id.to_string(),
        at: received_at,
        api_id: stage.api_id.as_str().into(),
        stage: stage.stage_name.as_str().into(),
        canary: false,
        http_method: event_type.as_str().into(),
        path: format!("/@connections/{}", info.connection_id),
        raw_query: String::new(),
        resource_path: (!route_key.is_empty()).then(|| route_key.to_string()),
        status,
        latency_us: started.elapsed().as_micros() as u64,
        integration_latency_us: integration_latency.map(|d| d.as_micros() as u64),
        request_headers: StoredHeaders::from_map(&request_headers),
        request_body: Bytes::from(body.to_string()),
        response_headers: StoredHeaders::default(),
        response_body: Bytes::from(reply.to_string()),
        execution_log: log,
    });
}

/// `@connections/{id}`: POST sends the body as a frame (200), GET
/// describes the connection, DELETE closes it (204). A connection that is
/// gone (or never was) is 410 with `x-amzn-ErrorType: GoneException` and
/// no body: AWS's SDKs report it as `GoneException` with a null message
/// (aws-sdk-java issue 2200) and fail to parse any JSON from it
/// (georgeboot/laravel-echo-api-gateway issue 9).
pub fn manage(
    shared: &Shared,
    scope: Option<(&str, &str)>,
    method: &http::Method,
    connection_id: &str,
    body: &Bytes,
    limits: &WebSocketLimits,
) -> Reply {
    let connection_id = percent_encoding::percent_decode_str(connection_id)
        .decode_utf8_lossy()
        .into_owned();
    let connection = shared
        .connections
        .get(&connection_id)
        .filter(|c| scope.is_none_or(|(api, stage)| c.info.api_id == api && c.info.stage == stage));
    let gone = || {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("GoneException"),
        );
        Reply {
            status: 410,
            headers,
            body: Bytes::new(),
        }
    };
    let Some(connection) = connection else {
        return gone();
    };
    match *method {
        http::Method::POST => {
            // botocore's model names the error (PayloadTooLargeException,
            // 413); its message text here is Portico's, AWS documents none.
            if body.len() > limits.max_message_bytes {
                let mut reply = json_reply(
                    413,
                    r#"{"message":"Message too long. Max size is 128 KB."}"#.into(),
                );
                reply.headers.insert(
                    "x-amzn-errortype",
                    HeaderValue::from_static("PayloadTooLargeException"),
                );
                return reply;
            }
            if !shared.connections.post(&connection_id, body.clone()) {
                return gone();
            }
            Reply {
                status: 200,
                headers: HeaderMap::new(),
                body: Bytes::new(),
            }
        }
        http::Method::GET => json_reply(
            200,
            serde_json::json!({
                "connectedAt": iso_ms(connection.info.connected_at),
                "identity": {
                    "sourceIp": connection.info.source_ip,
                    "userAgent": connection.info.user_agent,
                },
                "lastActiveAt": iso_ms(connection.last_active_ms()),
            })
            .to_string(),
        ),
        http::Method::DELETE => {
            shared.connections.close(&connection_id);
            Reply {
                status: 204,
                headers: HeaderMap::new(),
                body: Bytes::new(),
            }
        }
        _ => json_reply(
            404,
            format!(
                r#"{{"message":"No method found matching route @connections/{connection_id} for http method {method}."}}"#
            ),
        ),
    }
}
