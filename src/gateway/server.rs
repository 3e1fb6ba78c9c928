//! The listener and the dispatch from a URL to an API's stage.
//!
//! URL forms (ARCHITECTURE.md):
//! - `http://{apiId}.execute-api.localhost:4455/{stage}/{path}` (by `Host`),
//! - `http://127.0.0.1:4455/restapis/{apiId}/{stage}/_user_request_/{path}`,
//! - `http://127.0.0.1:4455/{stage}/{path}` when the project has one REST API.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use crate::observe::metrics::{CacheOutcome, Observation, SeriesKey};
use crate::observe::{RequestRecord, StoredHeaders};

use super::compile::{CompiledMethod, CompiledStage};
use super::control_http::{self, flush_stage_cache, test_invoke_method};

use super::context::trace_header;
use super::limits::{
    Check, ConnectionTable, MAX_REQUEST_HEAD_BYTES, MAX_REQUEST_HEADERS, Registration, Socket,
    Watched, out_of_descriptors, request_head_bytes,
};
use super::pipeline;
use super::request::MethodRequest;
use super::responses::{self, Reply};
use super::{MAX_PAYLOAD_BYTES, Shared};

/// The threads that serve requests: each runs a single-threaded runtime
/// and serves its connections from start to end, nginx's worker model. A
/// request's task, its connection and the backend connections it uses
/// then stay on one core: with a work-stealing runtime they moved between
/// cores, and the load benchmark measured that costing more CPU per
/// request than the pipeline itself.
pub(crate) struct ServingThreads {
    threads: Vec<ServingThread>,
}

struct ServingThread {
    connections: tokio::sync::mpsc::UnboundedSender<Accepted>,
    /// Connections this thread is serving now.
    open: Arc<AtomicUsize>,
}

/// A connection on its way to a serving thread. Its registration is the
/// first field: it leaves the connection table before the socket closes.
struct Accepted {
    registration: Registration,
    stream: std::net::TcpStream,
    peer: SocketAddr,
}

/// Starts `count` serving threads for `shared`. Each ends when the
/// acceptor that feeds it stops (the gateway's runtime shut down), and its
/// connections close with it.
pub(crate) fn spawn_serving_threads(
    count: usize,
    shared: &Arc<Shared>,
) -> std::io::Result<ServingThreads> {
    let mut threads = Vec::with_capacity(count);
    for index in 0..count {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
        let open = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let shared = Arc::clone(shared);
        let counter = Arc::clone(&open);
        std::thread::Builder::new()
            .name(format!("portico-serve-{index}"))
            .spawn(move || {
                crate::integrations::keep_backend_connections_per_thread();
                runtime.block_on(async move {
                    tokio::spawn(housekeeping());
                    while let Some(accepted) = receiver.recv().await {
                        let Accepted {
                            registration,
                            stream,
                            peer,
                        } = accepted;
                        let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                            counter.fetch_sub(1, Ordering::Relaxed);
                            continue;
                        };
                        let socket = Socket::new(registration, stream);
                        let shared = Arc::clone(&shared);
                        let counter = Arc::clone(&counter);
                        tokio::spawn(async move {
                            serve_connection(socket, peer, shared).await;
                            counter.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                });
            })?;
        threads.push(ServingThread {
            connections: sender,
            open,
        });
    }
    Ok(ServingThreads { threads })
}

/// A serving thread's chores, once a second: idle backend connections past
/// their timeout are closed.
///
/// Its timer also keeps the thread's timer wheel from ever being empty,
/// which matters for speed: tokio wakes its own driver through an eventfd
/// (a system call, then a spare trip through epoll) whenever a timer is set
/// on a runtime that parked with no timer pending. Under load that was
/// every few requests (each proxied request sets its integration timeout
/// after a quiet moment); with a timer always due within a second, a
/// request's later deadline never needs that wake.
async fn housekeeping() {
    let mut tick = tokio::time::interval(HOUSEKEEPING_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        crate::integrations::close_expired_backend_connections();
    }
}

const HOUSEKEEPING_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// Accepts connections until the runtime shuts down and hands each to the
/// serving thread with the fewest open ones. At the connection cap, or out
/// of file descriptors, the oldest idle connections are closed to make
/// room: a flood of idle connections cannot lock out new clients.
pub(crate) async fn accept(
    listener: tokio::net::TcpListener,
    serving: ServingThreads,
    table: Arc<ConnectionTable>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors: free some and retry as soon as their
                // tasks have closed them; other errors (or nothing to
                // free): back off briefly, keep serving.
                let pause = if out_of_descriptors(&error) && table.relieve() {
                    std::time::Duration::from_millis(1)
                } else {
                    std::time::Duration::from_millis(10)
                };
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if !table.make_room() {
            // Every connection is busy: refuse this one (it closes here).
            continue;
        }
        let _ = stream.set_nodelay(true);
        // Off this runtime's reactor, onto the serving thread's.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        let registration = table.register(stream.as_raw_fd());
        let Some(thread) = serving
            .threads
            .iter()
            .min_by_key(|thread| thread.open.load(Ordering::Relaxed))
        else {
            return;
        };
        thread.open.fetch_add(1, Ordering::Relaxed);
        let accepted = Accepted {
            registration,
            stream,
            peer,
        };
        if thread.connections.send(accepted).is_err() {
            thread.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One client connection: HTTP/1.1 with keep-alive, and HTTP/2 (prior
/// knowledge) on the same port, within the connection limits: the request
/// head within AWS's byte quota and within the header timeout, the
/// connection closed once idle for the idle timeout (or when the acceptor
/// sheds it for room). An HTTP/1 connection idle for a moment is parked:
/// the server's state (its buffers) is freed while the socket waits for
/// the next request, which gets a fresh one.
async fn serve_connection(
    mut socket: Socket<tokio::net::TcpStream>,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    loop {
        let tracked = Arc::clone(socket.registration().tracked());
        let table = Arc::clone(socket.registration().table());
        let Some(parked) = serve_until_parked(socket, peer, &shared).await else {
            return;
        };
        socket = parked;
        let idle_until = table.parked(&tracked);
        tokio::select! {
            // The next request (or the client leaving, or the acceptor
            // shedding it) makes the socket readable.
            ready = socket.io().readable() => if ready.is_err() { return },
            () = tokio::time::sleep_until(idle_until) => return,
        }
    }
}

/// Serves `socket` until the connection ends (`None`) or, idle, is parked:
/// then the socket comes back.
async fn serve_until_parked(
    socket: Socket<tokio::net::TcpStream>,
    peer: SocketAddr,
    shared: &Arc<Shared>,
) -> Option<Socket<tokio::net::TcpStream>> {
    let tracked = Arc::clone(socket.registration().tracked());
    let table = Arc::clone(socket.registration().table());
    let requests = socket.registration().requests();
    let (hand_back, mut handed_back) = tokio::sync::oneshot::channel();
    let stream = Watched::new(socket, hand_back);
    let shared = Arc::clone(shared);
    let service = service_fn(move |request: Request<Incoming>| {
        let in_flight = requests.request(request.version() <= http::Version::HTTP_11);
        // AWS's quota on the head (hyper refuses heads that never end
        // within its buffer; this catches the complete ones past it).
        let handling = (request_head_bytes(&request) <= MAX_REQUEST_HEAD_BYTES).then(|| {
            let shared = Arc::clone(&shared);
            // On the heap for the request's time only: hyper keeps the
            // service future's space for the connection's life, and the
            // pipeline's state is large.
            Box::pin(async move { handle(request, peer, &shared).await })
        });
        async move {
            let Some(handling) = handling else {
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
                return Ok(response);
            };
            let response = handling.await;
            if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                in_flight.upgraded();
            }
            drop(in_flight);
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // A client that half-closes after its request still gets the
        // answer.
        .half_close(true)
        // The read buffer never grows past AWS's head quota: a longer
        // head is answered 431, and a connection keeps a small buffer
        // whatever the bodies it carried.
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .max_headers(MAX_REQUEST_HEADERS);
    // In a block of its own, so that the connection (and with it the
    // socket, handed back if parking) is dropped when it ends.
    let ended = async {
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        tokio::pin!(connection);
        // The connection's watchdog: one timer, reset only when it fires.
        let Check::Sleep(first) = table.next_check(&tracked) else {
            return false;
        };
        let timer = tokio::time::sleep_until(first);
        tokio::pin!(timer);
        loop {
            tokio::select! {
                biased;
                // Parked only if the server ended cleanly (not, say, in
                // the middle of a body).
                served = connection.as_mut() => return served.is_ok(),
                () = timer.as_mut() => match table.next_check(&tracked) {
                    Check::Sleep(next) => timer.as_mut().reset(next),
                    Check::Close => break,
                },
            }
        }
        // Out of time: an HTTP/2 client is told (GOAWAY), an HTTP/1 one
        // sees the connection close.
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), connection).await;
        false
    }
    .await;
    // The server let go of the socket: it is back if it was parking (a
    // WebSocket keeps it, and then nothing comes back).
    if ended {
        handed_back.try_recv().ok()
    } else {
        None
    }
}

/// Where a request is going: API, stage and the path below the stage.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub path: &'a str,
}

/// Splits the request URL into API, stage and resource path.
pub(crate) fn target<'a>(
    host: &'a str,
    path: &'a str,
    single_api: Option<&'a str>,
) -> Option<Target<'a>> {
    if let Some(api_id) = execute_api_id(host) {
        let (stage, rest) = split_first_segment(path)?;
        return Some(Target {
            api_id,
            stage,
            path: rest,
        });
    }
    if let Some(after) = path.strip_prefix("/restapis/") {
        let (api_id, after) = after.split_once('/')?;
        let (stage, after) = after.split_once('/')?;
        let rest = after.strip_prefix("_user_request_")?;
        let rest = if rest.is_empty() { "/" } else { rest };
        if !rest.starts_with('/') {
            return None;
        }
        return Some(Target {
            api_id,
            stage,
            path: rest,
        });
    }
    let api_id = single_api?;
    let (stage, rest) = split_first_segment(path)?;
    Some(Target {
        api_id,
        stage,
        path: rest,
    })
}

/// An address as text; IPv4 without the formatter (every request needs it).
pub(crate) fn ip_text(ip: std::net::IpAddr) -> super::context::Text {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string().into();
    };
    let mut text = [0u8; 15];
    let mut length = 0;
    let mut put = |b: u8| {
        text[length] = b;
        length += 1;
    };
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            put(b'.');
        }
        if octet >= 100 {
            put(b'0' + octet / 100);
        }
        if octet >= 10 {
            put(b'0' + octet / 10 % 10);
        }
        put(b'0' + octet % 10);
    }
    // Digits and dots: ASCII.
    super::context::Text::new(std::str::from_utf8(&text[..length]).unwrap_or_default())
}

/// The API id of a `{apiId}.execute-api.{anything}` host (port or not).
/// Looks at the dots only: this runs for every request.
fn execute_api_id(host: &str) -> Option<&str> {
    const MARK: &[u8] = b".execute-api.";
    if !host.as_bytes().contains(&b'-') {
        return None;
    }
    let name = host.split(':').next().unwrap_or_default();
    let bytes = name.as_bytes();
    let at = bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b == b'.' && bytes[i..].starts_with(MARK))?
        .0;
    name.get(..at)
}

fn split_first_segment(path: &str) -> Option<(&str, &str)> {
    let trimmed = path.strip_prefix('/')?;
    let (stage, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, "/"),
    };
    (!stage.is_empty()).then_some((stage, rest))
}

async fn handle(
    request: Request<Incoming>,
    peer: SocketAddr,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let received_at = SystemTime::now();
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    // Inline when short (most hosts and paths): no allocation.
    let host = super::context::Text::new(host);
    let path = super::context::Text::new(parts.uri.path());
    let raw_query = parts.uri.query().unwrap_or_default().to_string();

    if let Some(below) = path.strip_prefix(crate::auth::jwt::ISSUER_PATH)
        && let Some(issuer) = shared.issuer.get()
    {
        let reply = match super::control_plane::issuer_refusal(shared, &parts, peer, below) {
            Some(refused) => refused,
            None => local_issuer(issuer, &parts.method, below, body).await,
        };
        return finish(reply, &new_ids(), None);
    }
    if crate::control::is_control_request(&path, &raw_query, &parts.headers) {
        let reply = match super::control_plane::control_refusal(shared, &parts) {
            Some(refused) => refused,
            None => control(parts, body, shared).await,
        };
        return finish(reply, &new_ids(), None);
    }
    let routes = shared.routes.load();
    if !routes.web_sockets.is_empty() {
        let stage = target(&host, &path, None).and_then(|t| {
            let stage = routes.web_sockets.get(t.api_id)?.get(t.stage)?;
            Some((Arc::clone(stage), t.path.to_string()))
        });
        if let Some((stage, below)) = stage {
            drop(routes);
            return serve_web_socket(
                stage,
                below,
                parts,
                body,
                peer,
                host.to_string(),
                raw_query,
                shared,
            )
            .await;
        }
        // `/{stage}/@connections/{id}` on the bare address: the connection
        // id alone says which API and stage it belongs to.
        if let Some(id) =
            split_first_segment(&path).and_then(|(_, rest)| rest.strip_prefix("/@connections/"))
        {
            drop(routes);
            return manage_connection(shared, None, &parts, id, body).await;
        }
    }
    if let Some((http_stage, below)) = http_target(&host, &path, &routes) {
        drop(routes);
        let request = HttpArrival {
            parts,
            body,
            peer,
            host: host.to_string(),
            raw_query,
            below,
            started,
            received_at,
        };
        return serve_http_api(http_stage, request, shared).await;
    }
    let stage = target(&host, &path, routes.single_api.as_deref()).and_then(|t| {
        routes
            .apis
            .get(t.api_id)
            .and_then(|stages| stages.get(t.stage))
            .map(|stage| {
                let canary = routes
                    .canaries
                    .get(t.api_id)
                    .and_then(|c| c.get(t.stage))
                    .filter(|c| c.takes());
                let chosen = canary.map_or(stage, |c| &c.stage);
                (Arc::clone(chosen), t.path.to_string())
            })
    });
    drop(routes);
    let Some((stage, resource_path)) = stage else {
        return finish(responses::unknown_stage(), &new_ids(), None);
    };

    let too_large = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > MAX_PAYLOAD_BYTES as u64);
    if too_large {
        drain(body);
        let reply = responses::payload_too_large(MAX_PAYLOAD_BYTES);
        record_metrics(shared, &stage, None, "", reply.status, started, None, None);
        return finish(reply, &new_ids(), None);
    }
    let mut body = body;
    let mut collected = bytes::BytesMut::new();
    let body = loop {
        match body.frame().await {
            None => break collected.freeze(),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > MAX_PAYLOAD_BYTES {
                        drain(body);
                        let reply = responses::payload_too_large(MAX_PAYLOAD_BYTES);
                        record_metrics(shared, &stage, None, "", reply.status, started, None, None);
                        return finish(reply, &new_ids(), None);
                    }
                    collected.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => {
                // The client went away or sent a malformed body: 400 (if
                // anyone is still there to read it).
                let mut headers = http::HeaderMap::new();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                let reply = Reply {
                    status: 400,
                    headers,
                    body: Bytes::from_static(br#"{"message":"Bad Request"}"#),
                };
                record_metrics(shared, &stage, None, "", reply.status, started, None, None);
                return finish(reply, &new_ids(), None);
            }
        }
    };

    let method_request = MethodRequest {
        http_method: parts.method.clone(),
        path: resource_path,
        query: MethodRequest::parse_query(&raw_query),
        raw_query,
        headers: parts.headers,
        body,
        source_ip: ip_text(peer.ip()),
        full_path: path,
        domain_name: host,
        protocol: match parts.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
        .into(),
        received_at,
    };
    // The execution log is written for the live request log only.
    let keep_log = shared.request_log.keeps_records();
    let log = if keep_log {
        crate::observe::ExecutionLog::starting(received_at)
    } else {
        crate::observe::ExecutionLog::muted(received_at)
    };
    let execution = pipeline::execute(&stage, &method_request, &shared.services, log).await;
    let pipeline::Execution {
        reply,
        mut log,
        context,
        integration_latency,
        method,
        cache,
        ..
    } = execution;
    // The live log keeps the request and the reply: the request's parts
    // move into it, the reply's headers are copied once.
    let status = reply.status;
    let kept_reply =
        keep_log.then(|| (StoredHeaders::from_map(&reply.headers), reply.body.clone()));
    let trace = context.trace_header();
    let ids = (context.request_id, context.extended_request_id);
    let response = finish(reply, &ids, trace);
    record_metrics(
        shared,
        &stage,
        method.as_deref(),
        &context.resource_path,
        status,
        started,
        integration_latency,
        cache,
    );
    shared.request_log.push_with(|| {
        let MethodRequest {
            http_method,
            path,
            raw_query,
            headers,
            body,
            ..
        } = method_request;
        let (response_headers, response_body) = kept_reply.unwrap_or_default();
        log.compact();
        RequestRecord {
            seq: 0,
            request_id: ids.0,
            at: received_at,
            api_id: stage.api_id.clone(),
            stage: stage.stage_name.clone(),
            canary: stage.is_canary,
            http_method: http_method.as_str().into(),
            path,
            raw_query,
            resource_path: (!context.resource_path.is_empty())
                .then(|| context.resource_path.to_string()),
            status,
            latency_us: started.elapsed().as_micros() as u64,
            integration_latency_us: integration_latency.map(|d| d.as_micros() as u64),
            request_headers: StoredHeaders::from_map(&headers),
            request_body: body,
            response_headers,
            response_body,
            execution_log: log,
        }
    });
    response
}

/// A request for a WebSocket API's stage: the `@connections` API, or an
/// upgrade that runs `$connect`; anything else is 403 Forbidden.
#[allow(clippy::too_many_arguments)]
async fn serve_web_socket(
    stage: Arc<super::websocket::CompiledWebSocketStage>,
    below: String,
    parts: http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    host: String,
    raw_query: String,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    use super::connections;
    if let Some(id) = below.strip_prefix("/@connections/") {
        let scope = Some((stage.api_id.as_str(), stage.stage_name.as_str()));
        return manage_connection(shared, scope, &parts, id, body).await;
    }
    if connections::is_upgrade(&parts.headers) {
        let upgrade = connections::Upgrade {
            parts,
            peer,
            host,
            raw_query,
        };
        return connections::upgrade(stage, upgrade, shared).await;
    }
    finish(responses::unknown_stage(), &new_ids(), None)
}

/// An `@connections/{id}` request (within `scope`, an API and stage, when
/// its URL names one); 413 past the payload limit.
async fn manage_connection(
    shared: &Shared,
    scope: Option<(&str, &str)>,
    parts: &http::request::Parts,
    id: &str,
    body: Incoming,
) -> Response<Full<Bytes>> {
    let body = http_body_util::Limited::new(body, MAX_PAYLOAD_BYTES)
        .collect()
        .await;
    let reply = match body {
        Ok(body) => {
            let body = body.to_bytes();
            match super::control_plane::connections_refusal(shared, parts, &body) {
                Some(refused) => refused,
                None => super::connections::manage(
                    shared,
                    scope,
                    &parts.method,
                    id,
                    &body,
                    &shared.websocket_limits,
                ),
            }
        }
        Err(_) => responses::payload_too_large(MAX_PAYLOAD_BYTES),
    };
    finish(reply, &new_ids(), None)
}

/// A control-plane request: the body read (within the payload limit), the
/// operation found and run on a blocking thread, its changes applied to
/// what the gateway serves.
async fn control(parts: http::request::Parts, body: Incoming, shared: &Arc<Shared>) -> Reply {
    use crate::control::{self, Call, Op};
    let body = match http_body_util::Limited::new(body, MAX_PAYLOAD_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return responses::payload_too_large(MAX_PAYLOAD_BYTES),
    };
    let path = parts.uri.path();
    if let Some(refused) = super::control_plane::control_signature_refusal(shared, &parts, &body) {
        return refused;
    }
    let segments = control::segments(path);
    let call = Call {
        method: &parts.method,
        segments,
        query: control::query(parts.uri.query().unwrap_or_default()),
        body: &body,
        accept: parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    };
    // FlushStageCache works on what is served, not on the model.
    if let (&http::Method::DELETE, [restapis, api_id, stages, stage, cache, data]) = (
        &parts.method,
        call.segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
    ) && (*restapis, *stages, *cache, *data) == ("restapis", "stages", "cache", "data")
    {
        return flush_stage_cache(shared, api_id, stage);
    }
    let op = match control::apigateway::route(&call) {
        None => return control_http::unknown(&parts.method, path),
        Some(Err(error)) => return control_http::reply(Err(error)),
        Some(Ok(op)) => op,
    };
    match op {
        Op::Read(read) => {
            let shared = Arc::clone(shared);
            let answer = tokio::task::spawn_blocking(move || shared.model.read(read)).await;
            control_http::reply(
                answer.unwrap_or_else(|_| Err(control::error::bad_request("failed"))),
            )
        }
        Op::Write(effects, change) => {
            let writer_shared = Arc::clone(shared);
            let answer = shared
                .control_writer
                .run(move || writer_shared.write(effects, change))
                .await;
            control_http::reply(
                answer.unwrap_or_else(|| Err(control::error::bad_request("failed"))),
            )
        }
        Op::TestInvoke {
            api_id,
            resource_id,
            verb,
            body,
        } => {
            let api = shared
                .model
                .read(|p| p.rest_apis.iter().find(|a| a.id == api_id).cloned());
            control_http::reply(test_invoke_method(shared, api, &resource_id, &verb, &body).await)
        }
    }
}

/// Portico's OpenID issuer: discovery, JWKS, token endpoint.
async fn local_issuer(
    issuer: &crate::auth::jwt::LocalIssuer,
    method: &http::Method,
    below: &str,
    body: Incoming,
) -> Reply {
    let json = |status: u16, value: serde_json::Value| {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        Reply {
            status,
            headers,
            body: Bytes::from(value.to_string()),
        }
    };
    match (method, below) {
        (&http::Method::GET, "/.well-known/openid-configuration") => json(200, issuer.discovery()),
        (&http::Method::GET, "/.well-known/jwks.json") => json(200, issuer.jwks()),
        (&http::Method::POST, "/token") => {
            let body = match http_body_util::Limited::new(body, 64 * 1024)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return json(400, serde_json::json!({"error": "invalid_request"})),
            };
            match issuer.token_response(&body) {
                Ok(answer) => json(200, answer),
                Err(message) => json(
                    400,
                    serde_json::json!({"error": "invalid_request", "error_description": message}),
                ),
            }
        }
        _ => json(404, serde_json::json!({"message": "Not Found"})),
    }
}

/// The HTTP API stage a URL names, and the path below it: the stage segment
/// when it names one of the API's stages, else the `$default` stage with
/// the whole path.
fn http_target(
    host: &str,
    path: &str,
    routes: &super::Routes,
) -> Option<(Arc<super::http_api::CompiledHttpStage>, String)> {
    if let Some(api_id) = execute_api_id(host) {
        let stages = routes.http_apis.get(api_id)?;
        if let Some((first, rest)) = split_first_segment(path)
            && let Some(stage) = stages.get(first)
        {
            return Some((Arc::clone(stage), rest.to_string()));
        }
        let below = if path.is_empty() { "/" } else { path };
        return stages
            .get("$default")
            .map(|stage| (Arc::clone(stage), below.to_string()));
    }
    let t = target(host, path, None)?;
    routes
        .http_apis
        .get(t.api_id)?
        .get(t.stage)
        .map(|stage| (Arc::clone(stage), t.path.to_string()))
}

/// A request bound for an HTTP API, as it arrived.
struct HttpArrival {
    parts: http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    host: String,
    raw_query: String,
    /// The path below the stage.
    below: String,
    started: Instant,
    received_at: SystemTime,
}

/// Serves a request to an HTTP API stage; logs it and counts it.
async fn serve_http_api(
    stage: Arc<super::http_api::CompiledHttpStage>,
    arrival: HttpArrival,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    let HttpArrival {
        parts,
        body,
        peer,
        host,
        raw_query,
        below,
        started,
        received_at,
    } = arrival;
    let ids = new_ids();
    let body = match http_body_util::Limited::new(body, MAX_PAYLOAD_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return finish(responses::payload_too_large(MAX_PAYLOAD_BYTES), &ids, None),
    };
    let request = super::http_api::HttpRequest {
        method: parts.method.clone(),
        path: below,
        raw_query,
        headers: parts.headers,
        body,
        source_ip: ip_text(peer.ip()).to_string(),
        protocol: match parts.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
        .to_string(),
        domain_name: host,
        request_id: ids.0.clone(),
    };
    let served = super::http_api::handle(&stage, &request, &shared.services).await;
    let status = served.reply.status;
    let response_headers = StoredHeaders::from_map(&served.reply.headers);
    let response_body = served.reply.body.clone();
    let response = finish(served.reply, &ids, trace_header(&ids.0, received_at));
    if shared.metrics.enabled() {
        let route = served.route.clone().unwrap_or_default();
        let key = SeriesKey {
            api_id: stage.api_id.clone(),
            stage: stage.stage_name.clone(),
            resource: route,
            method: String::new(),
            canary: false,
        };
        let series = shared.metrics.series(key);
        shared.metrics.record(
            &series,
            &Observation {
                status,
                latency: started.elapsed(),
                integration_latency: served.integration_latency,
                cache: None,
            },
        );
    }
    let mut log = crate::observe::ExecutionLog::new();
    log.push_fmt(format_args!(
        "Route: {}",
        served.route.as_deref().unwrap_or("(none)")
    ));
    log.push_fmt(format_args!("Status: {status}"));
    let below = request.path;
    shared.request_log.push(RequestRecord {
        seq: 0,
        request_id: ids.0,
        at: received_at,
        api_id: stage.api_id.as_str().into(),
        stage: stage.stage_name.as_str().into(),
        canary: false,
        http_method: request.method.as_str().into(),
        path: below,
        raw_query: request.raw_query,
        resource_path: served.route,
        status,
        latency_us: started.elapsed().as_micros() as u64,
        integration_latency_us: served.integration_latency.map(|d| d.as_micros() as u64),
        request_headers: StoredHeaders::from_map(&request.headers),
        request_body: request.body,
        response_headers,
        response_body,
        execution_log: log,
    });
    response
}

/// Counts a finished request in its method's series (or the stage's, for
/// requests that matched no method).
#[allow(clippy::too_many_arguments)]
fn record_metrics(
    shared: &Shared,
    stage: &CompiledStage,
    method: Option<&CompiledMethod>,
    resource_path: &str,
    status: u16,
    started: Instant,
    integration_latency: Option<std::time::Duration>,
    cache: Option<CacheOutcome>,
) {
    let metrics = &shared.metrics;
    if !metrics.enabled() {
        return;
    }
    let key = |resource: &str, verb: &str| SeriesKey {
        api_id: stage.api_id.as_str().into(),
        stage: stage.stage_name.as_str().into(),
        resource: resource.to_string(),
        method: verb.to_string(),
        canary: stage.is_canary,
    };
    let series = match method {
        Some(method) => method
            .metrics
            .get_or_init(|| metrics.series(key(resource_path, &method.http_method))),
        None => stage.metrics.get_or_init(|| metrics.series(key("", ""))),
    };
    metrics.record(
        series,
        &Observation {
            status,
            latency: started.elapsed(),
            integration_latency,
            cache,
        },
    );
}

/// Reads and discards the rest of a refused body in the background (at most
/// 64 MiB or 30 s), so the client, still sending, gets to read our 413
/// instead of a connection reset.
fn drain(mut body: Incoming) {
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut drained = 0usize;
        while drained < 64 * 1024 * 1024 {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => drained += frame.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
    });
}

fn new_ids() -> (String, super::context::Text) {
    let context = super::context::RequestContext::new("", "");
    (context.request_id, context.extended_request_id)
}

const X_AMZN_REQUESTID: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");
const X_AMZ_APIGW_ID: http::HeaderName = http::HeaderName::from_static("x-amz-apigw-id");

/// Turns a reply into a hyper response with AWS's id headers, and the
/// trace id `traced` (of a served request).
fn finish(
    reply: Reply,
    (request_id, extended_id): &(String, super::context::Text),
    traced: Option<HeaderValue>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = reply.headers;
    let headers = response.headers_mut();
    headers.reserve(3);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(X_AMZN_REQUESTID, value);
    }
    if let Ok(value) = HeaderValue::from_str(extended_id) {
        headers.insert(X_AMZ_APIGW_ID, value);
    }
    if let Some(value) = traced {
        headers.insert(super::context::X_AMZN_TRACE_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_is_display() {
        for ip in [
            "127.0.0.1",
            "10.200.3.45",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "fe80::1",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn url_forms() {
        let t = |api_id, stage, path| {
            Some(Target {
                api_id,
                stage,
                path,
            })
        };
        assert_eq!(
            target("abc.execute-api.localhost:4455", "/dev/pets/1", None),
            t("abc", "dev", "/pets/1")
        );
        assert_eq!(
            target("abc.execute-api.localhost", "/dev", None),
            t("abc", "dev", "/")
        );
        assert_eq!(
            target(
                "127.0.0.1:4455",
                "/restapis/abc/dev/_user_request_/pets",
                None
            ),
            t("abc", "dev", "/pets")
        );
        assert_eq!(
            target("127.0.0.1", "/restapis/abc/dev/_user_request_", None),
            t("abc", "dev", "/")
        );
        assert_eq!(
            target("127.0.0.1", "/restapis/abc/dev/_user_request_x", None),
            None
        );
        assert_eq!(
            target("127.0.0.1", "/dev/pets", Some("only")),
            t("only", "dev", "/pets")
        );
        assert_eq!(target("127.0.0.1", "/dev/pets", None), None);
        assert_eq!(target("127.0.0.1", "/", Some("only")), None);
    }
}
