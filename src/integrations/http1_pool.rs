//! Keep-alive HTTP/1.1 connections to plain `http://` backends, driven on
//! the task that makes the request.
//!
//! hyper's pooled client runs every connection on a task of its own and
//! hands requests and responses across channels, so each proxied request
//! wakes two extra tasks, often on the other core. Here the request's own
//! task polls its connection while it waits for the response, and an idle
//! connection waits in the pool unpolled, as nginx's upstream keep-alive
//! does. A connection the backend closed while idle is noticed at checkout,
//! and a request a reused connection could not send goes once more on a
//! fresh one (hyper hands it back, so it is never copied).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::request::Parts;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type Io = TokioIo<TcpStream>;

struct Pooled {
    sender: SendRequest<Full<Bytes>>,
    connection: Connection<Io, Full<Bytes>>,
    idle_since: Instant,
}

/// Idle connections by `host:port` (Fx: the keys come from the project's
/// integration URIs, not from clients).
pub struct Http1Pool {
    idle: Mutex<rustc_hash::FxHashMap<String, Vec<Pooled>>>,
    max_idle_per_host: usize,
    idle_timeout: Duration,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("max_idle_per_host", &self.max_idle_per_host)
            .finish_non_exhaustive()
    }
}

/// What a backend answered.
pub struct Answer {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Http1Pool {
    pub fn new(max_idle_per_host: usize, idle_timeout: Duration) -> Http1Pool {
        Http1Pool {
            idle: Mutex::new(Default::default()),
            max_idle_per_host,
            idle_timeout,
        }
    }

    /// Sends `parts` + `body` to `authority` (`host:port`); `parts.uri` is
    /// the origin form (`/path?query`). The `Host` header is set to the
    /// authority unless present.
    pub async fn send(
        &self,
        authority: &str,
        mut parts: Parts,
        body: Bytes,
    ) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
        if !parts.headers.contains_key(http::header::HOST) {
            parts
                .headers
                .insert(http::header::HOST, http::HeaderValue::from_str(authority)?);
        }
        let mut request = http::Request::from_parts(parts, Full::new(body));
        if let Some(pooled) = self.checkout(authority) {
            match exchange(pooled, request).await {
                Ok((answer, reusable)) => {
                    if let Some(pooled) = reusable {
                        self.checkin(authority, pooled);
                    }
                    return Ok(answer);
                }
                // The backend closed the idle connection under us before
                // the request went out: a fresh connection gets it (hyper's
                // own pool retries the same way, only requests not sent).
                Err(ExchangeError {
                    unsent: Some(unsent),
                    ..
                }) => request = unsent,
                Err(error) => return Err(error.error),
            }
        }
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let pooled = Pooled {
            sender,
            connection,
            idle_since: Instant::now(),
        };
        let (answer, reusable) = exchange(pooled, request).await.map_err(|e| e.error)?;
        if let Some(pooled) = reusable {
            self.checkin(authority, pooled);
        }
        Ok(answer)
    }

    fn checkout(&self, authority: &str) -> Option<Pooled> {
        let mut idle = self.idle.lock().ok()?;
        let connections = idle.get_mut(authority)?;
        while let Some(mut pooled) = connections.pop() {
            if pooled.idle_since.elapsed() < self.idle_timeout
                && !pooled.sender.is_closed()
                && still_open(&mut pooled.connection)
            {
                return Some(pooled);
            }
        }
        None
    }

    fn checkin(&self, authority: &str, mut pooled: Pooled) {
        if pooled.sender.is_closed() || !still_open(&mut pooled.connection) {
            return;
        }
        pooled.idle_since = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            // The key is copied only for a backend's first connection.
            match idle.get_mut(authority) {
                Some(connections) if connections.len() < self.max_idle_per_host => {
                    connections.push(pooled)
                }
                Some(_) => {}
                None if self.max_idle_per_host > 0 => {
                    idle.insert(authority.to_string(), vec![pooled]);
                }
                None => {}
            }
        }
    }
}

/// Polls an idle connection once: `false` when it has finished (the backend
/// closed it, or it broke).
fn still_open(connection: &mut Connection<Io, Full<Bytes>>) -> bool {
    let mut context = Context::from_waker(Waker::noop());
    connection.poll_without_shutdown(&mut context).is_pending()
}

struct ExchangeError {
    error: Box<dyn std::error::Error + Send + Sync>,
    /// The request, when it was not sent and can go on another connection.
    unsent: Option<http::Request<Full<Bytes>>>,
}

/// One request/response on `pooled`, polling its connection on this task.
/// Returns the connection for reuse when it is still open.
async fn exchange(
    pooled: Pooled,
    request: http::Request<Full<Bytes>>,
) -> Result<(Answer, Option<Pooled>), ExchangeError> {
    let Pooled {
        mut sender,
        mut connection,
        idle_since,
    } = pooled;
    let mut connection_done = false;
    let result = {
        let mut response = pin!(async {
            if let Err(error) = sender.ready().await {
                return Err((error, Some(request)));
            }
            let response = sender.try_send_request(request).await.map_err(|mut e| {
                let unsent = e.take_message();
                (e.into_error(), unsent)
            })?;
            let (head, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| (e, None))?.to_bytes();
            Ok(Answer {
                status: head.status,
                headers: head.headers,
                body,
            })
        });
        poll_fn(|cx| {
            if !connection_done && connection.poll_without_shutdown(cx).is_ready() {
                connection_done = true;
            }
            response.as_mut().poll(cx)
        })
        .await
    };
    match result {
        Ok(answer) => Ok((
            answer,
            (!connection_done).then_some(Pooled {
                sender,
                connection,
                idle_since,
            }),
        )),
        Err((error, unsent)) => Err(ExchangeError {
            error: Box::new(error),
            unsent,
        }),
    }
}
