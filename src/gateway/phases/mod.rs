//! The phases of a request, one file each, shared by the API types where
//! AWS's behaviour is shared. Each phase is a function whose doc says when
//! it runs and what it may change; it returns `Ok` to continue or the
//! gateway response that ends the request, and appends its steps to the
//! execution log. The order is stated once per API type: REST in
//! `pipeline::run_phases`, HTTP APIs in `http_api::route_and_integrate`,
//! WebSocket APIs in `websocket`.
//!
//! ```text
//! route -> authenticate (Lambda authorizer; JWT for HTTP APIs) -> API key
//!   -> throttle -> validate -> cache lookup -> map request -> integrate
//!   -> select integration response -> map response -> cache store
//! ```
//! IAM SigV4, Cognito and resource policies are not phases yet: a method
//! that asks for them is refused in `authorize` as unsupported.

pub mod api_key;
pub mod authorize;
pub mod cache;
pub mod integrate;
pub mod integration_request;
pub mod respond;
pub mod route;
pub mod throttle;
