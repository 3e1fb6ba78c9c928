//! A small HTTP backend that echoes each request back as JSON, so the
//! sample project's HTTP and HTTP_PROXY methods work offline
//! (`portico serve --echo-backend`).
//!
//! `GET /status/{code}` answers with that status (and an `X-Echo-Status`
//! header); `GET /petstore/pets` answers AWS's PetStore pet list; every
//! other request gets 200 and
//! `{"method", "path", "query", "headers", "body"}`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// The address the sample project's stage variables point at.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4456";

/// A running echo backend; dropping it stops it.
pub struct EchoBackend {
    runtime: Option<tokio::runtime::Runtime>,
    local_addr: SocketAddr,
}

impl EchoBackend {
    pub fn start(addr: SocketAddr) -> std::io::Result<EchoBackend> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("portico-echo")
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        runtime.spawn(serve(listener));
        Ok(EchoBackend {
            runtime: Some(runtime),
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for EchoBackend {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Serves echo responses on `listener` until the runtime stops.
pub async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service_fn(echo))
                .await;
        });
    }
}

/// The pet list of AWS's PetStore example (the input of the docs'
/// list-reshaping mapping template).
const PETS: &[u8] = br#"[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99},{"id":3,"type":"fish","price":0.99}]"#;

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path();
    if let Some(code) = path
        .strip_prefix("/status/")
        .and_then(|c| c.parse::<u16>().ok())
        && let Ok(status) = http::StatusCode::from_u16(code)
    {
        let body = format!("{{\"status\":{code}}}");
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        response
            .headers_mut()
            .insert("x-echo-status", http::HeaderValue::from(code));
        return Ok(response);
    }
    if path == "/petstore/pets" {
        let mut response = Response::new(Full::new(Bytes::from_static(PETS)));
        response.headers_mut().insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
            )
        })
        .collect();
    let echo = serde_json::json!({
        "method": parts.method.as_str(),
        "path": path,
        "query": parts.uri.query().unwrap_or_default(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    let mut response = Response::new(Full::new(Bytes::from(echo.to_string())));
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
