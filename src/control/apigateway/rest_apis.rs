//! Rest APIs: `GetRestApis`, `CreateRestApi`, `ImportRestApi`,
//! `GetRestApi`, `PutRestApi` (import into), `UpdateRestApi`,
//! `DeleteRestApi`.

use http::Method as M;
use serde_json::{Map, Value};

use crate::control::error::{ControlError, bad_request};
use crate::control::operation::{Answer, Call, Effects, Op, read, write};
use crate::model::{Project, RestApi};

use super::edit::{Routed, import_document, patch_api, read_api};
use super::json::{item_list, parse, rest_api_json, text, with_warnings};
use super::lookup::{api, api_mut};
use super::patch;

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::GET, ["restapis"]) => Ok(list_rest_apis()),
        (M::POST, ["restapis"]) if call.query("mode") == Some("import") => import_rest_api(call),
        (M::POST, ["restapis"]) => create_rest_api(call),
        (M::GET, ["restapis", api_id]) => read_api(api_id, |api| Ok(rest_api_json(api))),
        (M::PUT, ["restapis", api_id]) => put_rest_api(call, api_id),
        (M::PATCH, ["restapis", api_id]) => update_rest_api(call, api_id),
        (M::DELETE, ["restapis", api_id]) => Ok(delete_rest_api(api_id)),
        _ => return None,
    })
}

fn list_rest_apis() -> Op {
    read(|project| Ok(item_list(project.rest_apis.iter().map(rest_api_json))))
}

/// `failonwarnings=true`: an import with warnings is refused.
fn fails_on_warnings(call: &Call) -> bool {
    call.query("failonwarnings") == Some("true")
}

/// `ImportRestApi`: a new API from an OpenAPI document.
fn import_rest_api(call: &Call) -> Result<Op, ControlError> {
    let document = import_document(call)?;
    let fail = fails_on_warnings(call);
    Ok(write(Effects::DRAFT, move |project| {
        let imported = crate::openapi::import(&document)
            .and_then(|i| if fail { i.fail_on_warnings() } else { Ok(i) })
            .map_err(|e| bad_request(e.to_string()))?;
        let mut api = imported.api;
        api.id = unique_api_id(project);
        api.created_date = Some(crate::model::now_rfc3339());
        let answer = rest_api_json(&api);
        project.rest_apis.push(api);
        Ok(Answer::Json(201, with_warnings(answer, &imported.warnings)))
    }))
}

fn create_rest_api(call: &Call) -> Result<Op, ControlError> {
    let body = call.json()?;
    Ok(write(Effects::DRAFT, move |project| {
        let mut api = new_rest_api(&body)?;
        api.id = unique_api_id(project);
        api.created_date = Some(crate::model::now_rfc3339());
        let answer = rest_api_json(&api);
        project.rest_apis.push(api);
        Ok(Answer::Json(201, answer))
    }))
}

/// A `CreateRestApi` body as a RestApi (without its id and date).
fn new_rest_api(body: &Map<String, Value>) -> Result<RestApi, ControlError> {
    let name = text(body, "name").ok_or_else(|| bad_request("name is required"))?;
    let mut api = RestApi::new(&name);
    api.description = text(body, "description");
    api.version = text(body, "version");
    if let Some(types) = body.get("binaryMediaTypes") {
        api.binary_media_types = parse(types.clone())?;
    }
    if let Some(source) = body.get("apiKeySource") {
        api.api_key_source = parse(source.clone())?;
    }
    if let Some(config) = body.get("endpointConfiguration") {
        api.endpoint_configuration = Some(parse(config.clone())?);
    }
    api.minimum_compression_size = body
        .get("minimumCompressionSize")
        .and_then(Value::as_u64)
        .map(|v| v as u32);
    api.disable_execute_api_endpoint = body
        .get("disableExecuteApiEndpoint")
        .and_then(Value::as_bool);
    api.policy = text(body, "policy");
    Ok(api)
}

/// `PutRestApi`: an OpenAPI document merged into (or, with
/// `mode=overwrite`, replacing) an existing API.
fn put_rest_api(call: &Call, api_id: &str) -> Result<Op, ControlError> {
    let api_id = api_id.to_string();
    let mode = match call.query("mode") {
        Some("overwrite") => crate::openapi::ImportMode::Overwrite,
        _ => crate::openapi::ImportMode::Merge,
    };
    let fail = fails_on_warnings(call);
    let document = import_document(call)?;
    Ok(write(Effects::DRAFT, move |project| {
        let existing = api(project, &api_id)?;
        let imported = crate::openapi::import_into(existing, &document, mode)
            .and_then(|i| if fail { i.fail_on_warnings() } else { Ok(i) })
            .map_err(|e| bad_request(e.to_string()))?;
        let answer = rest_api_json(&imported.api);
        *api_mut(project, &api_id)? = imported.api;
        Ok(Answer::Json(200, with_warnings(answer, &imported.warnings)))
    }))
}

fn update_rest_api(call: &Call, api_id: &str) -> Result<Op, ControlError> {
    patch_api(call, Effects::DRAFT, api_id, |api, ops| {
        patch::rest_api(api, ops)?;
        Ok(rest_api_json(api))
    })
}

/// `DeleteRestApi`: the API and the usage plans' stages of it.
fn delete_rest_api(api_id: &str) -> Op {
    let api_id = api_id.to_string();
    write(Effects::ROUTES, move |project| {
        api(project, &api_id)?;
        project.rest_apis.retain(|a| a.id != api_id);
        for plan in &mut project.usage_plans {
            plan.api_stages.retain(|s| s.api_id != api_id);
        }
        Ok(Answer::Empty(202))
    })
}

/// A new API id no API of the project has.
fn unique_api_id(project: &Project) -> String {
    loop {
        let id = crate::model::new_rest_api_id();
        if !project.rest_apis.iter().any(|a| a.id == id) {
            return id;
        }
    }
}
