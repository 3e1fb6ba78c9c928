//! HTTP and HTTP_PROXY: call a backend URL with a shared, pooled client.
//! Redirects are not followed (API Gateway passes a 3xx back) and bodies are
//! not decompressed.

use std::time::Duration;

use super::{EndpointRequest, EndpointResponse, Integrate, IntegrationError};

/// The HTTP integration's client, shared by every request of a gateway.
#[derive(Debug, Clone)]
pub struct HttpIntegration {
    client: reqwest::Client,
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
        HttpIntegration { client }
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
            IntegrationError::Configuration(format!("Invalid endpoint address: {} ({e})", request.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
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
            Ok(EndpointResponse { status, headers, body })
        };
        match tokio::time::timeout(request.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(IntegrationError::Timeout),
        }
    }
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
