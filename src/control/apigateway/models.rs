//! Models (by name) and request validators: `Create/Get/Update/DeleteModel`,
//! `GetModels`, and the same for request validators.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, bad_request, conflict};
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::{Model, RequestValidator, RestApi};

use super::edit::{Routed, change_api, create_in_api, list_in_api, patch_api, patched, read_api};
use super::json::{parse, text, to_json};
use super::lookup::{
    NO_MODEL, NO_VALIDATOR, model, model_mut, remove_where, validator, validator_mut,
};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::POST, ["restapis", api_id, "models"]) => create_model(call, api_id),
        (M::GET, ["restapis", api_id, "models"]) => {
            list_in_api(api_id, |api| api.models.iter().map(to_json).collect())
        }
        (M::GET, ["restapis", api_id, "models", name]) => {
            let name = name.to_string();
            read_api(api_id, move |api| Ok(to_json(model(api, &name)?)))
        }
        (M::PATCH, ["restapis", api_id, "models", name]) => {
            let name = name.to_string();
            patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
                patched(
                    model_mut(api, &name)?,
                    ops,
                    &["id", "name", "contentType"],
                    &[],
                )
            })
        }
        (M::DELETE, ["restapis", api_id, "models", name]) => {
            let name = name.to_string();
            change_api(Effects::DRAFT, api_id, move |api| {
                remove_where(&mut api.models, |m| m.name == name, NO_MODEL)?;
                Ok(Answer::Empty(202))
            })
        }
        (M::POST, ["restapis", api_id, "requestvalidators"]) => create_validator(call, api_id),
        (M::GET, ["restapis", api_id, "requestvalidators"]) => list_in_api(api_id, |api| {
            api.request_validators.iter().map(to_json).collect()
        }),
        (M::GET, ["restapis", api_id, "requestvalidators", validator_id]) => {
            let validator_id = validator_id.to_string();
            read_api(api_id, move |api| {
                Ok(to_json(validator(api, &validator_id)?))
            })
        }
        (M::PATCH, ["restapis", api_id, "requestvalidators", validator_id]) => {
            let validator_id = validator_id.to_string();
            patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
                patched(validator_mut(api, &validator_id)?, ops, &["id"], &[])
            })
        }
        (M::DELETE, ["restapis", api_id, "requestvalidators", validator_id]) => {
            let validator_id = validator_id.to_string();
            change_api(Effects::DRAFT, api_id, move |api| {
                remove_where(
                    &mut api.request_validators,
                    |v| v.id == validator_id,
                    NO_VALIDATOR,
                )?;
                Ok(Answer::Empty(202))
            })
        }
        _ => return None,
    })
}

/// `CreateModel`: an alphanumeric name, unique within the API (409).
fn create_model(call: &Call, api_id: &str) -> Result<Op, ControlError> {
    let make = |mut body: Map<String, Value>| {
        body.insert("id".into(), json!(crate::model::new_resource_id()));
        let model: Model = parse(Value::Object(body))?;
        crate::model::validate_model_name(&model.name).map_err(bad_request)?;
        Ok(model)
    };
    create_in_api(call, api_id, make, |api: &mut RestApi, model| {
        if api.models.iter().any(|m| m.name == model.name) {
            return Err(conflict("Model name already exists for this REST API"));
        }
        api.models.push(model);
        Ok(())
    })
}

/// `CreateRequestValidator`: missing flags are `false`.
fn create_validator(call: &Call, api_id: &str) -> Result<Op, ControlError> {
    let flag = |body: &Map<String, Value>, name: &str| {
        body.get(name).and_then(Value::as_bool).unwrap_or(false)
    };
    let make = move |body: Map<String, Value>| {
        Ok(RequestValidator::new(
            &text(&body, "name").unwrap_or_default(),
            flag(&body, "validateRequestBody"),
            flag(&body, "validateRequestParameters"),
        ))
    };
    create_in_api(call, api_id, make, |api: &mut RestApi, validator| {
        api.request_validators.push(validator);
        Ok(())
    })
}
