//! Integrations and integration responses: `Put/Get/Update/DeleteIntegration`
//! and `Put/Get/Update/DeleteIntegrationResponse`.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, bad_request};
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::{Integration, IntegrationResponse, RestApi};

use super::edit::{Routed, change_api, create_in_api, patch_api, patched, read_api};
use super::json::{parse, to_json};
use super::lookup::{
    MethodAt, integration, integration_mut, integration_response, integration_response_mut, method,
    method_mut, remove_integration, remove_integration_response,
};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    let [
        "restapis",
        api_id,
        "resources",
        resource_id,
        "methods",
        verb,
        "integration",
        below @ ..,
    ] = path
    else {
        return None;
    };
    let at = || MethodAt::new(resource_id, verb);
    Some(match (call.method.clone(), below) {
        (M::PUT, []) => put_integration(call, api_id, at()),
        (M::GET, []) => get_integration(api_id, at()),
        (M::PATCH, []) => update_integration(call, api_id, at()),
        (M::DELETE, []) => delete_integration(api_id, at()),
        (M::PUT, ["responses", code]) => {
            put_integration_response(call, api_id, at(), code.to_string())
        }
        (M::GET, ["responses", code]) => get_integration_response(api_id, at(), code.to_string()),
        (M::PATCH, ["responses", code]) => {
            update_integration_response(call, api_id, at(), code.to_string())
        }
        (M::DELETE, ["responses", code]) => {
            delete_integration_response(api_id, at(), code.to_string())
        }
        _ => return None,
    })
}

/// `PutIntegrationResponse` / `UpdateIntegrationResponse` refuse a
/// selection pattern that does not compile as a Java regular expression,
/// so that no deployment can carry one. The message is the one recorded
/// for this check by an API Gateway emulator (stackshy/cloudemu,
/// services/apigateway/validate.go), followed by the reason.
fn check_selection_pattern(response: &IntegrationResponse) -> Result<(), ControlError> {
    match response.selection_pattern.as_deref() {
        Some(pattern) => crate::model::validate_selection_pattern(pattern)
            .map_err(|e| bad_request(format!("Invalid selection pattern specified: {e}"))),
        None => Ok(()),
    }
}

fn put_integration(call: &Call, api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    let make = |body: Map<String, Value>| parse::<Integration>(Value::Object(body));
    create_in_api(call, api_id, make, move |api: &mut RestApi, integration| {
        method_mut(api, &at.resource_id, &at.verb)?.method_integration = Some(integration);
        Ok(())
    })
}

fn get_integration(api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    read_api(api_id, move |api| {
        Ok(to_json(integration(method(
            api,
            &at.resource_id,
            &at.verb,
        )?)?))
    })
}

fn update_integration(call: &Call, api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        patched(
            integration_mut(api, &at.resource_id, &at.verb)?,
            ops,
            &["integrationResponses"],
            &[],
        )
    })
}

fn delete_integration(api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    change_api(Effects::DRAFT, api_id, move |api| {
        remove_integration(method_mut(api, &at.resource_id, &at.verb)?)?;
        Ok(Answer::Empty(204))
    })
}

/// `PutIntegrationResponse`: the selection pattern is checked before the
/// API is looked at.
fn put_integration_response(
    call: &Call,
    api_id: &str,
    at: MethodAt,
    code: String,
) -> Result<Op, ControlError> {
    let code_in_body = code.clone();
    let make = move |mut body: Map<String, Value>| {
        body.insert("statusCode".into(), json!(code_in_body));
        let response: IntegrationResponse = parse(Value::Object(body))?;
        check_selection_pattern(&response)?;
        Ok(response)
    };
    create_in_api(call, api_id, make, move |api: &mut RestApi, response| {
        integration_mut(api, &at.resource_id, &at.verb)?
            .integration_responses
            .insert(code, response);
        Ok(())
    })
}

fn get_integration_response(api_id: &str, at: MethodAt, code: String) -> Result<Op, ControlError> {
    read_api(api_id, move |api| {
        let integration = integration(method(api, &at.resource_id, &at.verb)?)?;
        Ok(to_json(integration_response(integration, &code)?))
    })
}

/// `UpdateIntegrationResponse`: the patched response must still carry a
/// selection pattern that compiles, or nothing changes.
fn update_integration_response(
    call: &Call,
    api_id: &str,
    at: MethodAt,
    code: String,
) -> Result<Op, ControlError> {
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        let integration = integration_mut(api, &at.resource_id, &at.verb)?;
        let response = integration_response_mut(integration, &code)?;
        let patched: IntegrationResponse =
            super::patch::entity(&*response, ops, &["statusCode"], &[])?;
        check_selection_pattern(&patched)?;
        *response = patched;
        Ok(to_json(&*response))
    })
}

fn delete_integration_response(
    api_id: &str,
    at: MethodAt,
    code: String,
) -> Result<Op, ControlError> {
    change_api(Effects::DRAFT, api_id, move |api| {
        remove_integration_response(integration_mut(api, &at.resource_id, &at.verb)?, &code)?;
        Ok(Answer::Empty(204))
    })
}
