//! Resources: `GetResources`, `GetResource`, `CreateResource`,
//! `UpdateResource` (its path part), `DeleteResource`.

use http::Method as M;

use crate::control::error::{ControlError, bad_request, conflict};
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::ResourceError;

use super::edit::{Routed, change_api, list_in_api, patch_api, read_api};
use super::json::{resource_json, text};
use super::lookup::resource;
use super::patch;

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    // `embed=methods`: each method in full rather than as `{}`.
    let embed = call.query("embed") == Some("methods");
    Some(match (call.method.clone(), path) {
        (M::GET, ["restapis", api_id, "resources"]) => list_resources(api_id, embed),
        (M::GET, ["restapis", api_id, "resources", resource_id]) => {
            get_resource(api_id, resource_id, embed)
        }
        (M::POST, ["restapis", api_id, "resources", parent_id]) => {
            create_resource(call, api_id, parent_id)
        }
        (M::PATCH, ["restapis", api_id, "resources", resource_id]) => {
            update_resource(call, api_id, resource_id)
        }
        (M::DELETE, ["restapis", api_id, "resources", resource_id]) => {
            delete_resource(api_id, resource_id)
        }
        _ => return None,
    })
}

fn list_resources(api_id: &str, embed: bool) -> Result<Op, ControlError> {
    list_in_api(api_id, move |api| {
        api.resources
            .iter()
            .map(|r| resource_json(r, embed))
            .collect()
    })
}

fn get_resource(api_id: &str, resource_id: &str, embed: bool) -> Result<Op, ControlError> {
    let resource_id = resource_id.to_string();
    read_api(api_id, move |api| {
        Ok(resource_json(resource(api, &resource_id)?, embed))
    })
}

/// `CreateResource`. A path part a sibling already has is a 409
/// ConflictException, as on AWS (`UpdateResource` answers 400 for the same
/// clash: see [`update_resource`]).
fn create_resource(call: &Call, api_id: &str, parent_id: &str) -> Result<Op, ControlError> {
    let parent_id = parent_id.to_string();
    let body = call.json()?;
    change_api(Effects::DRAFT, api_id, move |api| {
        resource(api, &parent_id)?;
        let part = text(&body, "pathPart").ok_or_else(|| bad_request("pathPart is required"))?;
        let created = api
            .create_resource(&parent_id, &part)
            .map_err(|e| match e {
                ResourceError::Exists(_) => conflict(e.to_string()),
                other => bad_request(other.to_string()),
            })?;
        Ok(Answer::Json(
            201,
            resource_json(resource(api, &created)?, false),
        ))
    })
}

/// `UpdateResource`: only `replace /pathPart` (a rename). Every refusal of
/// the rename, a clash with a sibling included, is a 400 (unlike
/// [`create_resource`]'s 409 for the clash).
fn update_resource(call: &Call, api_id: &str, resource_id: &str) -> Result<Op, ControlError> {
    let resource_id = resource_id.to_string();
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        resource(api, &resource_id)?;
        for op in ops {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/pathPart") => {
                    let part = op.value.as_deref().unwrap_or_default();
                    api.rename_resource(&resource_id, part)
                        .map_err(|e| bad_request(e.to_string()))?;
                }
                _ => return Err(patch::unsupported(op)),
            }
        }
        Ok(resource_json(resource(api, &resource_id)?, false))
    })
}

fn delete_resource(api_id: &str, resource_id: &str) -> Result<Op, ControlError> {
    let resource_id = resource_id.to_string();
    change_api(Effects::DRAFT, api_id, move |api| {
        resource(api, &resource_id)?;
        api.delete_resource(&resource_id)
            .map_err(|e| bad_request(e.to_string()))?;
        Ok(Answer::Empty(202))
    })
}
