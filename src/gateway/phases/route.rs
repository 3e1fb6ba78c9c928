//! Phase "route" (REST): find the resource and method a request names, and
//! record the method request as received. Runs first; sets
//! `$context.resourceId` / `resourcePath`. Imports no other phase.

use std::sync::Arc;

use crate::gateway::compile::{CompiledMethod, CompiledStage};
use crate::gateway::context::{RequestContext, Text};
use crate::gateway::endpoint::{HeadersDisplay, PairsDisplay};
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::GatewayError;
use crate::model::GatewayResponseType;
use crate::observe::{ExecutionLog, Lossy};

pub(crate) struct Routed {
    pub(crate) method: Arc<CompiledMethod>,
    /// The resource's path (`/pets/{petId}`).
    pub(crate) resource_path: Text,
    pub(crate) path_parameters: Vec<(String, String)>,
}

/// Phase: find the resource and method. AWS answers an unknown path or verb
/// with 403 `Missing Authentication Token`, not 404.
pub(crate) fn route(
    stage: &CompiledStage,
    request: &MethodRequest,
    context: &mut RequestContext,
    log: &mut ExecutionLog,
) -> Result<Routed, GatewayError> {
    let missing = || GatewayError::new(GatewayResponseType::MissingAuthenticationToken);
    let Some(found) = stage.router.find(&request.path) else {
        log.push_fmt(format_args!("No resource matches path {}", request.path));
        return Err(missing());
    };
    let resource = &stage.resources[found.resource];
    context.resource_id = resource.id.clone();
    let resource_path = resource.path.clone();
    context.resource_path = resource_path.clone();
    let method = resource
        .methods
        .get(request.http_method.as_str())
        .or_else(|| resource.methods.get("ANY"));
    let Some(method) = method else {
        log.push_fmt(format_args!(
            "No method {} on resource {}",
            request.http_method, resource.path
        ));
        return Err(missing());
    };
    log.push_parts(&[
        &"HTTP Method: ",
        &request.http_method.as_str(),
        &", Resource Path: ",
        &resource.path.as_str(),
    ]);
    Ok(Routed {
        method: Arc::clone(method),
        resource_path,
        path_parameters: found.path_parameters,
    })
}

/// Phase: record the method request as received.
pub(crate) fn method_request(request: &MethodRequest, routed: &Routed, log: &mut ExecutionLog) {
    log.push_with(
        "Method request path: ",
        PairsDisplay(&routed.path_parameters),
    );
    log.push_with(
        "Method request query string: ",
        PairsDisplay(&request.query),
    );
    log.push_with("Method request headers: ", HeadersDisplay(&request.headers));
    log.push_with(
        "Method request body before transformations: ",
        Lossy(&request.body),
    );
}
