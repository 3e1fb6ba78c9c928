//! Methods and method responses: `PutMethod`, `GetMethod`, `UpdateMethod`,
//! `DeleteMethod`, `TestInvokeMethod` (run by the gateway), and
//! `Put/Get/Update/DeleteMethodResponse`.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, bad_request, not_found};
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::{Method, MethodResponse, RestApi};

use super::edit::{Routed, change_api, create_in_api, patch_api, patched, read_api};
use super::json::{parse, to_json};
use super::lookup::{
    MethodAt, NO_METHOD, method, method_mut, method_response, method_response_mut,
    remove_method_response, resource_mut,
};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    let [
        "restapis",
        api_id,
        "resources",
        resource_id,
        "methods",
        verb,
        below @ ..,
    ] = path
    else {
        return None;
    };
    let at = || MethodAt::new(resource_id, verb);
    Some(match (call.method.clone(), below) {
        (M::PUT, []) => put_method(call, api_id, at()),
        (M::GET, []) => get_method(api_id, at()),
        (M::PATCH, []) => update_method(call, api_id, at()),
        (M::DELETE, []) => delete_method(api_id, at()),
        (M::POST, []) => test_invoke_method(call, api_id, at()),
        (M::PUT, ["responses", code]) => put_method_response(call, api_id, at(), code.to_string()),
        (M::GET, ["responses", code]) => get_method_response(api_id, at(), code.to_string()),
        (M::PATCH, ["responses", code]) => {
            update_method_response(call, api_id, at(), code.to_string())
        }
        (M::DELETE, ["responses", code]) => delete_method_response(api_id, at(), code.to_string()),
        _ => return None,
    })
}

/// The HTTP methods AWS accepts for a method (`ANY` included).
fn check_verb(verb: &str) -> Result<(), ControlError> {
    const VERBS: [&str; 8] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
    ];
    if VERBS.contains(&verb) {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid HttpMethod specified: {verb}")))
    }
}

/// `PutMethod`: the verb and body are checked before the API is looked at;
/// an `authorizerId` must name one of the API's authorizers.
fn put_method(call: &Call, api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    let verb_in_body = at.verb.clone();
    let make = move |mut body: Map<String, Value>| {
        check_verb(&verb_in_body)?;
        body.insert("httpMethod".into(), json!(verb_in_body));
        body.entry("authorizationType").or_insert(json!("NONE"));
        parse::<Method>(Value::Object(body))
    };
    create_in_api(call, api_id, make, move |api: &mut RestApi, method| {
        if let Some(authorizer) = &method.authorizer_id
            && !api.authorizers.iter().any(|a| a.id == *authorizer)
        {
            return Err(bad_request(format!(
                "Invalid authorizer ID specified: {authorizer}"
            )));
        }
        resource_mut(api, &at.resource_id)?
            .resource_methods
            .insert(at.verb, method);
        Ok(())
    })
}

fn get_method(api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    read_api(api_id, move |api| {
        Ok(to_json(method(api, &at.resource_id, &at.verb)?))
    })
}

fn update_method(call: &Call, api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        patched(
            method_mut(api, &at.resource_id, &at.verb)?,
            ops,
            &["httpMethod", "methodIntegration", "methodResponses"],
            &["requestParameters"],
        )
    })
}

fn delete_method(api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    change_api(Effects::DRAFT, api_id, move |api| {
        resource_mut(api, &at.resource_id)?
            .resource_methods
            .remove(&at.verb)
            .ok_or_else(|| not_found(NO_METHOD))?;
        Ok(Answer::Empty(204))
    })
}

/// `TestInvokeMethod`: the gateway runs it (it needs the data plane).
fn test_invoke_method(call: &Call, api_id: &str, at: MethodAt) -> Result<Op, ControlError> {
    Ok(Op::TestInvoke {
        api_id: api_id.to_string(),
        resource_id: at.resource_id,
        verb: at.verb,
        body: call.json()?,
    })
}

fn put_method_response(
    call: &Call,
    api_id: &str,
    at: MethodAt,
    code: String,
) -> Result<Op, ControlError> {
    let code_in_body = code.clone();
    let make = move |mut body: Map<String, Value>| {
        body.insert("statusCode".into(), json!(code_in_body));
        parse::<MethodResponse>(Value::Object(body))
    };
    create_in_api(call, api_id, make, move |api: &mut RestApi, response| {
        method_mut(api, &at.resource_id, &at.verb)?
            .method_responses
            .insert(code, response);
        Ok(())
    })
}

fn get_method_response(api_id: &str, at: MethodAt, code: String) -> Result<Op, ControlError> {
    read_api(api_id, move |api| {
        let method = method(api, &at.resource_id, &at.verb)?;
        Ok(to_json(method_response(method, &code)?))
    })
}

fn update_method_response(
    call: &Call,
    api_id: &str,
    at: MethodAt,
    code: String,
) -> Result<Op, ControlError> {
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        let method = method_mut(api, &at.resource_id, &at.verb)?;
        patched(
            method_response_mut(method, &code)?,
            ops,
            &["statusCode"],
            &["responseParameters"],
        )
    })
}

fn delete_method_response(api_id: &str, at: MethodAt, code: String) -> Result<Op, ControlError> {
    change_api(Effects::DRAFT, api_id, move |api| {
        remove_method_response(method_mut(api, &at.resource_id, &at.verb)?, &code)?;
        Ok(Answer::Empty(204))
    })
}
