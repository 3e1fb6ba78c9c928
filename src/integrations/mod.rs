//! Integrations: what a method calls. Each type implements [`Integrate`];
//! the pipeline builds the endpoint request (mapping phase) and reads the
//! endpoint response (integration response phase).

mod http;
mod http1;
pub mod lambda;
mod mock;

use std::future::Future;
use std::time::Duration;

use ::http::HeaderMap;
use bytes::Bytes;

pub use self::http::HttpIntegration;
pub(crate) use self::http::{
    close_expired_backend_connections, keep_backend_connections_per_thread,
};
pub use mock::MockIntegration;

/// The request an integration sends to its endpoint, after mapping.
#[derive(Debug, Clone)]
pub struct EndpointRequest {
    pub method: ::http::Method,
    /// Full backend URL with the query string; empty for MOCK.
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: Duration,
}

/// What the endpoint answered.
#[derive(Debug, Clone)]
pub struct EndpointResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why the endpoint could not be called. The pipeline turns these into AWS's
/// gateway responses (timeout -> 504 `INTEGRATION_TIMEOUT`, network ->
/// 504 `INTEGRATION_FAILURE`, configuration -> 500 `API_CONFIGURATION_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    #[error("Execution failed due to a timeout error")]
    Timeout,
    #[error("Execution failed due to a network error communicating with endpoint: {0}")]
    Network(String),
    #[error("Execution failed due to configuration error: {0}")]
    Configuration(String),
}

/// One integration type's way of calling its endpoint.
pub trait Integrate {
    fn invoke(
        &self,
        request: EndpointRequest,
    ) -> impl Future<Output = Result<EndpointResponse, IntegrationError>> + Send;
}
