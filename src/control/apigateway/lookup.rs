//! Finding a part of the project by the ids in a path, each with the 404
//! message AWS gives when it is missing ("Invalid API identifier
//! specified", ...).

use crate::control::error::{ControlError, not_found};
use crate::model::{
    ApiKey, Authorizer, Deployment, GatewayResponse, Integration, IntegrationResponse, Method,
    MethodResponse, Model, Project, RequestValidator, Resource, RestApi, Stage, UsagePlan,
};

pub(super) const NO_API: &str = "Invalid API identifier specified";
pub(super) const NO_RESOURCE: &str = "Invalid Resource identifier specified";
pub(super) const NO_METHOD: &str = "Invalid Method identifier specified";
pub(super) const NO_INTEGRATION: &str = "No integration defined for method";
pub(super) const NO_RESPONSE: &str = "Invalid Response status code specified";
pub(super) const NO_STAGE: &str = "Invalid Stage identifier specified";
pub(super) const NO_DEPLOYMENT: &str = "Invalid Deployment identifier specified";
pub(super) const NO_AUTHORIZER: &str = "Invalid Authorizer identifier specified";
pub(super) const NO_MODEL: &str = "Invalid model name specified";
pub(super) const NO_VALIDATOR: &str = "Invalid Request Validator identifier specified";
pub(super) const NO_GATEWAY_RESPONSE: &str = "Invalid Gateway Response type specified";
pub(super) const NO_API_KEY: &str = "Invalid API Key identifier specified";
pub(super) const NO_USAGE_PLAN: &str = "Invalid Usage Plan ID specified";

pub(super) fn api<'a>(project: &'a Project, id: &str) -> Result<&'a RestApi, ControlError> {
    project
        .rest_apis
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found(NO_API))
}

pub(super) fn api_mut<'a>(
    project: &'a mut Project,
    id: &str,
) -> Result<&'a mut RestApi, ControlError> {
    project.api_mut(id).ok_or_else(|| not_found(NO_API))
}

pub(super) fn resource<'a>(api: &'a RestApi, id: &str) -> Result<&'a Resource, ControlError> {
    api.resource(id).ok_or_else(|| not_found(NO_RESOURCE))
}

pub(super) fn resource_mut<'a>(
    api: &'a mut RestApi,
    id: &str,
) -> Result<&'a mut Resource, ControlError> {
    api.resource_mut(id).ok_or_else(|| not_found(NO_RESOURCE))
}

pub(super) fn method<'a>(
    api: &'a RestApi,
    resource_id: &str,
    verb: &str,
) -> Result<&'a Method, ControlError> {
    resource(api, resource_id)?
        .resource_methods
        .get(verb)
        .ok_or_else(|| not_found(NO_METHOD))
}

pub(super) fn method_mut<'a>(
    api: &'a mut RestApi,
    resource_id: &str,
    verb: &str,
) -> Result<&'a mut Method, ControlError> {
    resource_mut(api, resource_id)?
        .resource_methods
        .get_mut(verb)
        .ok_or_else(|| not_found(NO_METHOD))
}

/// A method's response; its 404 when the method has none for `code`.
pub(super) fn method_response<'a>(
    method: &'a Method,
    code: &str,
) -> Result<&'a MethodResponse, ControlError> {
    method
        .method_responses
        .get(code)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

pub(super) fn method_response_mut<'a>(
    method: &'a mut Method,
    code: &str,
) -> Result<&'a mut MethodResponse, ControlError> {
    method
        .method_responses
        .get_mut(code)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

/// Removes a method's response; 404 if it has none for `code`.
pub(super) fn remove_method_response(method: &mut Method, code: &str) -> Result<(), ControlError> {
    method
        .method_responses
        .remove(code)
        .map(drop)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

pub(super) fn integration(method: &Method) -> Result<&Integration, ControlError> {
    method
        .method_integration
        .as_ref()
        .ok_or_else(|| not_found(NO_INTEGRATION))
}

pub(super) fn integration_mut<'a>(
    api: &'a mut RestApi,
    resource_id: &str,
    verb: &str,
) -> Result<&'a mut Integration, ControlError> {
    method_mut(api, resource_id, verb)?
        .method_integration
        .as_mut()
        .ok_or_else(|| not_found(NO_INTEGRATION))
}

/// Removes a method's integration; 404 if it has none.
pub(super) fn remove_integration(method: &mut Method) -> Result<(), ControlError> {
    method
        .method_integration
        .take()
        .map(drop)
        .ok_or_else(|| not_found(NO_INTEGRATION))
}

pub(super) fn integration_response<'a>(
    integration: &'a Integration,
    code: &str,
) -> Result<&'a IntegrationResponse, ControlError> {
    integration
        .integration_responses
        .get(code)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

pub(super) fn integration_response_mut<'a>(
    integration: &'a mut Integration,
    code: &str,
) -> Result<&'a mut IntegrationResponse, ControlError> {
    integration
        .integration_responses
        .get_mut(code)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

/// Removes an integration's response; 404 if it has none for `code`.
pub(super) fn remove_integration_response(
    integration: &mut Integration,
    code: &str,
) -> Result<(), ControlError> {
    integration
        .integration_responses
        .remove(code)
        .map(drop)
        .ok_or_else(|| not_found(NO_RESPONSE))
}

pub(super) fn stage<'a>(api: &'a RestApi, name: &str) -> Result<&'a Stage, ControlError> {
    api.stage(name).ok_or_else(|| not_found(NO_STAGE))
}

pub(super) fn stage_mut<'a>(
    api: &'a mut RestApi,
    name: &str,
) -> Result<&'a mut Stage, ControlError> {
    api.stage_mut(name).ok_or_else(|| not_found(NO_STAGE))
}

pub(super) fn deployment<'a>(api: &'a RestApi, id: &str) -> Result<&'a Deployment, ControlError> {
    api.deployments
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| not_found(NO_DEPLOYMENT))
}

pub(super) fn deployment_mut<'a>(
    api: &'a mut RestApi,
    id: &str,
) -> Result<&'a mut Deployment, ControlError> {
    api.deployments
        .iter_mut()
        .find(|d| d.id == id)
        .ok_or_else(|| not_found(NO_DEPLOYMENT))
}

pub(super) fn authorizer<'a>(api: &'a RestApi, id: &str) -> Result<&'a Authorizer, ControlError> {
    api.authorizers
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found(NO_AUTHORIZER))
}

pub(super) fn authorizer_mut<'a>(
    api: &'a mut RestApi,
    id: &str,
) -> Result<&'a mut Authorizer, ControlError> {
    api.authorizers
        .iter_mut()
        .find(|a| a.id == id)
        .ok_or_else(|| not_found(NO_AUTHORIZER))
}

/// A model, by name (AWS's models are named in paths, not numbered).
pub(super) fn model<'a>(api: &'a RestApi, name: &str) -> Result<&'a Model, ControlError> {
    api.models
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| not_found(NO_MODEL))
}

pub(super) fn model_mut<'a>(
    api: &'a mut RestApi,
    name: &str,
) -> Result<&'a mut Model, ControlError> {
    api.models
        .iter_mut()
        .find(|m| m.name == name)
        .ok_or_else(|| not_found(NO_MODEL))
}

pub(super) fn validator<'a>(
    api: &'a RestApi,
    id: &str,
) -> Result<&'a RequestValidator, ControlError> {
    api.request_validators
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(|| not_found(NO_VALIDATOR))
}

pub(super) fn validator_mut<'a>(
    api: &'a mut RestApi,
    id: &str,
) -> Result<&'a mut RequestValidator, ControlError> {
    api.request_validators
        .iter_mut()
        .find(|v| v.id == id)
        .ok_or_else(|| not_found(NO_VALIDATOR))
}

/// A gateway response, by type (`DEFAULT_4XX`, ...).
pub(super) fn gateway_response<'a>(
    api: &'a RestApi,
    kind: &str,
) -> Result<&'a GatewayResponse, ControlError> {
    api.gateway_responses
        .get(kind)
        .ok_or_else(|| not_found(NO_GATEWAY_RESPONSE))
}

pub(super) fn gateway_response_mut<'a>(
    api: &'a mut RestApi,
    kind: &str,
) -> Result<&'a mut GatewayResponse, ControlError> {
    api.gateway_responses
        .get_mut(kind)
        .ok_or_else(|| not_found(NO_GATEWAY_RESPONSE))
}

/// Removes a gateway response; 404 if the API has none of that type.
pub(super) fn remove_gateway_response(api: &mut RestApi, kind: &str) -> Result<(), ControlError> {
    api.gateway_responses
        .remove(kind)
        .map(drop)
        .ok_or_else(|| not_found(NO_GATEWAY_RESPONSE))
}

pub(super) fn api_key<'a>(project: &'a Project, id: &str) -> Result<&'a ApiKey, ControlError> {
    project
        .api_keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| not_found(NO_API_KEY))
}

pub(super) fn api_key_mut<'a>(
    project: &'a mut Project,
    id: &str,
) -> Result<&'a mut ApiKey, ControlError> {
    project
        .api_keys
        .iter_mut()
        .find(|k| k.id == id)
        .ok_or_else(|| not_found(NO_API_KEY))
}

pub(super) fn usage_plan<'a>(
    project: &'a Project,
    id: &str,
) -> Result<&'a UsagePlan, ControlError> {
    project
        .usage_plans
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| not_found(NO_USAGE_PLAN))
}

pub(super) fn usage_plan_mut<'a>(
    project: &'a mut Project,
    id: &str,
) -> Result<&'a mut UsagePlan, ControlError> {
    project
        .usage_plans
        .iter_mut()
        .find(|p| p.id == id)
        .ok_or_else(|| not_found(NO_USAGE_PLAN))
}

/// Removes the items that match; 404 with `missing` if none did.
pub(super) fn remove_where<T>(
    items: &mut Vec<T>,
    matches: impl Fn(&T) -> bool,
    missing: &str,
) -> Result<(), ControlError> {
    let before = items.len();
    items.retain(|item| !matches(item));
    if items.len() == before {
        return Err(not_found(missing));
    }
    Ok(())
}

/// Where a method is: its resource and its HTTP verb (upper case, as AWS
/// stores it whatever case the path has).
pub(super) struct MethodAt {
    pub resource_id: String,
    pub verb: String,
}

impl MethodAt {
    pub(super) fn new(resource_id: &str, verb: &str) -> MethodAt {
        MethodAt {
            resource_id: resource_id.to_string(),
            verb: verb.to_ascii_uppercase(),
        }
    }
}
