//! HTTP and HTTP_PROXY: call a backend URL with a shared, pooled client.
//! Redirects are not followed (API Gateway passes a 3xx back) and bodies are
//! not decompressed.
//!
//! Plain `http://` backends (local services, the common case here) go
//! through our own keep-alive pool ([`super::http1_pool`]), which drives
//! each connection on the request's task; `https://` ones through reqwest
//! with rustls. The load benchmark showed reqwest's per-request overhead
//! costing over a third of the proxy route's throughput, and hyper's pooled
//! client's per-connection tasks most of the rest.

use std::sync::Arc;
use std::time::Duration;

use super::http1_pool::Http1Pool;
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
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .expect("a client with no TLS roots or proxies to load cannot fail to build");
        let plain = Arc::new(Http1Pool::new(256, Duration::from_secs(90)));
        HttpIntegration { client, plain }
    }
}

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
        let uri: http::Uri = request.url.parse().map_err(|e| {
            IntegrationError::Configuration(format!(
                "Invalid endpoint address: {} ({e})",
                request.url
            ))
        })?;
        let invalid = || {
            IntegrationError::Configuration(format!("Invalid endpoint address: {}", request.url))
        };
        let mut uri = uri.into_parts();
        let authority = uri.authority.take().ok_or_else(invalid)?;
        let authority: std::borrow::Cow<'_, str> = if authority.port().is_some() {
            authority.as_str().into()
        } else {
            format!("{}:80", authority.host()).into()
        };
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = request.method;
        // The origin form (`/path?query`), from the parsed URL's own parts:
        // no second parse.
        uri.scheme = None;
        if uri.path_and_query.is_none() {
            uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        parts.uri = http::Uri::from_parts(uri).unwrap_or_else(|_| http::Uri::from_static("/"));
        parts.headers = request.headers;
        let call = async {
            let answer = self
                .plain
                .send(&authority, parts, request.body)
                .await
                .map_err(|e| describe(e.as_ref()))?;
            Ok(EndpointResponse {
                status: answer.status.as_u16(),
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
