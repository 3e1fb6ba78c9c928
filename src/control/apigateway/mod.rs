//! The `apigateway` (REST API) management operations: AWS's paths, JSON
//! shapes and error messages, over the project model. One file per AWS
//! resource, each a small router whose arms call one named operation;
//! [`route`] asks them in turn. The paths of the routers never overlap, so
//! their order does not matter.
//!
//! An operation parses what it can of the request at once (the body, the
//! patch operations), so a malformed request is refused before the project
//! is looked at, and returns the [`Op`] that reads or changes the project.
//!
//! [`Op`]: crate::control::Op

mod authorizers;
mod deployments;
mod edit;
mod gateway_responses;
mod integrations;
mod json;
mod keys_and_plans;
mod lookup;
mod methods;
mod models;
pub mod patch;
mod resources;
mod rest_apis;
mod stages;

use super::error::ControlError;
use super::operation::{Call, Op};

use edit::Routed;

/// The operation a request names, or `None` if no operation has that
/// method and path.
pub fn route(call: &Call) -> Option<Result<Op, ControlError>> {
    let path: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let routers: [fn(&Call, &[&str]) -> Routed; 10] = [
        rest_apis::route,
        resources::route,
        methods::route,
        integrations::route,
        deployments::route,
        stages::route,
        authorizers::route,
        models::route,
        gateway_responses::route,
        keys_and_plans::route,
    ];
    routers.iter().find_map(|router| router(call, &path))
}
