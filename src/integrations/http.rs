//! HTTP and HTTP_PROXY: call a backend URL with a shared, pooled client.
//! Redirects are not followed (API Gateway passes a 3xx back) and bodies are
//! not decompressed.
//!
//! Plain `http://` backends (local services, the common case here) go
//! through hyper's pooled client directly; `https://` ones through reqwest
//! with rustls. The load benchmark showed reqwest's per-request overhead
//! costing over a third of the proxy route's throughput.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{EndpointRequest, EndpointResponse, Integrate, IntegrationError};

/// The HTTP integration's clients, shared by every request of a gateway.
#[derive(Debug, Clone)]
pub struct HttpIntegration {
    client: reqwest::Client,
    plain: Client<HttpConnector, Full<Bytes>>,
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
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let plain = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(connector);
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
        let url = reqwest::Url::parse(&request.url).map_err(|e| {
            IntegrationError::Configuration(format!(
                "Invalid endpoint address: {} ({e})",
                request.url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(IntegrationError::Configuration(format!(
                "Invalid endpoint address: {}",
                request.url
            )));
        }
        if url.scheme() == "http" {
            return self.invoke_plain(request).await;
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
        let mut outgoing = http::Request::new(Full::new(request.body));
        *outgoing.method_mut() = request.method;
        *outgoing.uri_mut() = uri;
        *outgoing.headers_mut() = request.headers;
        let call = async {
            let response = self
                .plain
                .request(outgoing)
                .await
                .map_err(|e| describe(&e))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| describe(&e))?.to_bytes();
            Ok(EndpointResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
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
