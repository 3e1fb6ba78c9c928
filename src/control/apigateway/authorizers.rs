//! Authorizers: `CreateAuthorizer`, `GetAuthorizers`, `GetAuthorizer`,
//! `UpdateAuthorizer`, `DeleteAuthorizer`.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, conflict};
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::{Authorizer, RestApi};

use super::edit::{Routed, change_api, create_in_api, list_in_api, patch_api, patched, read_api};
use super::json::{parse, to_json};
use super::lookup::{NO_AUTHORIZER, authorizer, authorizer_mut, remove_where};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::POST, ["restapis", api_id, "authorizers"]) => create_authorizer(call, api_id),
        (M::GET, ["restapis", api_id, "authorizers"]) => {
            list_in_api(api_id, |api| api.authorizers.iter().map(to_json).collect())
        }
        (M::GET, ["restapis", api_id, "authorizers", authorizer_id]) => {
            let authorizer_id = authorizer_id.to_string();
            read_api(api_id, move |api| {
                Ok(to_json(authorizer(api, &authorizer_id)?))
            })
        }
        (M::PATCH, ["restapis", api_id, "authorizers", authorizer_id]) => {
            let authorizer_id = authorizer_id.to_string();
            patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
                patched(authorizer_mut(api, &authorizer_id)?, ops, &["id"], &[])
            })
        }
        (M::DELETE, ["restapis", api_id, "authorizers", authorizer_id]) => {
            let authorizer_id = authorizer_id.to_string();
            change_api(Effects::DRAFT, api_id, move |api| {
                remove_where(
                    &mut api.authorizers,
                    |a| a.id == authorizer_id,
                    NO_AUTHORIZER,
                )?;
                Ok(Answer::Empty(202))
            })
        }
        _ => return None,
    })
}

/// `CreateAuthorizer`: names are unique within an API (409).
fn create_authorizer(call: &Call, api_id: &str) -> Result<Op, ControlError> {
    let make = |mut body: Map<String, Value>| {
        body.insert("id".into(), json!(crate::model::new_resource_id()));
        parse::<Authorizer>(Value::Object(body))
    };
    create_in_api(call, api_id, make, |api: &mut RestApi, authorizer| {
        if api.authorizers.iter().any(|a| a.name == authorizer.name) {
            return Err(conflict("Authorizer name already exists"));
        }
        api.authorizers.push(authorizer);
        Ok(())
    })
}
