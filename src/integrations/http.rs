//! HTTP and HTTP_PROXY: call a backend URL with a shared, pooled client.
//! Redirects are not followed (API Gateway passes a 3xx back) and bodies are
//! not decompressed.
//!
//! Plain `http://` backends (local services, the common case here) go
//! through our own keep-alive HTTP/1.1 client ([`super::http1`]), which
//! drives each connection on the request's task; `https://` ones through
//! reqwest with rustls. The load benchmark showed reqwest's per-request
//! overhead costing over a third of the proxy route's throughput, hyper's
//! pooled client's per-connection tasks most of the rest, and hyper's
//! connection itself a quarter of what remained.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use super::http1::{Http1Pool, Request};
use super::{EndpointRequest, EndpointResponse, Integrate, IntegrationError};

/// The HTTP integration's clients, shared by every request of a gateway.
#[derive(Debug, Clone)]
pub struct HttpIntegration {
    client: reqwest::Client,
    plain: Arc<Http1Pool>,
}

impl HttpIntegration {
    pub fn new() -> HttpIntegration {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .tcp_nodelay(true)
            .build()
            .expect("a client with no TLS roots or proxies to load cannot fail to build");
        let plain = Arc::new(Http1Pool::new(MAX_IDLE_PER_HOST, IDLE_TIMEOUT));
        HttpIntegration { client, plain }
    }
}

thread_local! {
    /// A serving thread's own idle backend connections; see
    /// [`keep_backend_connections_per_thread`].
    static THREAD_POOL: std::cell::OnceCell<Arc<Http1Pool>> = const { std::cell::OnceCell::new() };
}

/// Makes plain-HTTP requests made on this thread keep their idle backend
/// connections apart, for this thread's requests only: a connection then
/// stays with the runtime whose reactor it is registered with, and its
/// wake-ups on this core. For a thread that runs one single-threaded
/// runtime for its whole life (the gateway's serving threads).
pub(crate) fn keep_backend_connections_per_thread() {
    THREAD_POOL.with(|pool| {
        let _ = pool.set(Arc::new(Http1Pool::new(MAX_IDLE_PER_HOST, IDLE_TIMEOUT)));
    });
}

/// Closes this thread's idle backend connections that have waited past
/// the idle timeout (a thread that called
/// [`keep_backend_connections_per_thread`]).
pub(crate) fn close_expired_backend_connections() {
    THREAD_POOL.with(|pool| {
        if let Some(pool) = pool.get() {
            pool.close_expired(std::time::Instant::now());
        }
    });
}

const MAX_IDLE_PER_HOST: usize = 256;
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

impl Default for HttpIntegration {
    fn default() -> Self {
        HttpIntegration::new()
    }
}

impl Integrate for HttpIntegration {
    async fn invoke(&self, request: EndpointRequest) -> Result<EndpointResponse, IntegrationError> {
        if request.url.starts_with("http://") {
            return self.invoke_plain(request).await;
        }
        let url = reqwest::Url::parse(&request.url).map_err(|e| {
            IntegrationError::Configuration(format!(
                "Invalid endpoint address: {} ({e})",
                request.url
            ))
        })?;
        if url.scheme() != "https" {
            return Err(IntegrationError::Configuration(format!(
                "Invalid endpoint address: {}",
                request.url
            )));
        }
        let call = async {
            let response = self
                .client
                .request(request.method, url)
                .headers(request.headers)
                .body(request.body)
                .send()
                .await
                .map_err(classify)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(classify)?;
            Ok(EndpointResponse {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(request.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(IntegrationError::Timeout),
        }
    }
}

impl HttpIntegration {
    async fn invoke_plain(
        &self,
        request: EndpointRequest,
    ) -> Result<EndpointResponse, IntegrationError> {
        let Some((host, target)) = split_plain_url(&request.url) else {
            return Err(IntegrationError::Configuration(format!(
                "Invalid endpoint address: {}",
                request.url
            )));
        };
        let address: Cow<'_, str> = if has_port(host) {
            host.into()
        } else {
            format!("{}:80", host.trim_end_matches(':')).into()
        };
        let pool = THREAD_POOL
            .with(|pool| pool.get().cloned())
            .unwrap_or_else(|| Arc::clone(&self.plain));
        let call = async {
            let answer = pool
                .send(
                    &address,
                    &Request {
                        method: &request.method,
                        host,
                        target: &target,
                        headers: &request.headers,
                        body: &request.body,
                    },
                )
                .await
                .map_err(|e| describe(&e))?;
            Ok(EndpointResponse {
                status: answer.status,
                headers: answer.headers,
                body: answer.body,
            })
        };
        match tokio::time::timeout(request.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(IntegrationError::Timeout),
        }
    }
}

/// `http://host[:port]/path?query#fragment` as the authority and the
/// origin form (`/path?query`); `None` when either holds what may not go
/// on a request line or in a `Host` header (spaces, control bytes, user
/// info), so nothing a mapping put in a URL can split the request.
fn split_plain_url(url: &str) -> Option<(&str, Cow<'_, str>)> {
    let rest = url.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(end);
    let target = target.split('#').next().unwrap_or("");
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]%".contains(&b));
    let target_ok = target.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !host_ok || !target_ok {
        return None;
    }
    let target = if target.starts_with('/') {
        target.into()
    } else {
        format!("/{target}").into()
    };
    Some((host, target))
}

/// Whether `host` ends in `:port` (an IPv6 literal's colons are inside
/// its brackets).
fn has_port(host: &str) -> bool {
    match host.rfind(':') {
        Some(colon) => {
            let port = &host[colon + 1..];
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A client error with its causes, classified like AWS does.
fn describe(error: &(dyn std::error::Error + 'static)) -> IntegrationError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    if message.contains("dns error") || message.contains("failed to lookup address") {
        return IntegrationError::Configuration(format!("Invalid endpoint address: {message}"));
    }
    IntegrationError::Network(message)
}

fn classify(error: reqwest::Error) -> IntegrationError {
    if error.is_timeout() {
        return IntegrationError::Timeout;
    }
    if error.is_builder() {
        return IntegrationError::Configuration(format!("Invalid endpoint address: {error}"));
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    // A host that does not resolve is a configuration error on AWS
    // ("Invalid endpoint address"), not a network one.
    if message.contains("dns error") {
        return IntegrationError::Configuration(format!("Invalid endpoint address: {message}"));
    }
    IntegrationError::Network(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_split_into_host_and_request_target() {
        let split = |url| split_plain_url(url).map(|(host, target)| (host, target.into_owned()));
        assert_eq!(
            split("http://h:8080/p/q?x=1#frag"),
            Some(("h:8080", "/p/q?x=1".to_string()))
        );
        assert_eq!(split("http://h?x"), Some(("h", "/?x".to_string())));
        assert_eq!(
            split("http://[::1]:9/a"),
            Some(("[::1]:9", "/a".to_string()))
        );
        // What could split the request line or the Host header is refused.
        for bad in [
            "http://user:pw@h/x",
            "http://h/a b",
            "http://h/a\r\nX-Evil: 1",
            "http:///x",
            "https://h/x",
        ] {
            assert_eq!(split(bad), None, "{bad:?}");
        }
        assert!(has_port("h:80") && has_port("[::1]:9"));
        assert!(!has_port("h") && !has_port("[::1]") && !has_port("h:"));
    }
}
