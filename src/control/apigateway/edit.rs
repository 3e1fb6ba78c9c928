//! What the routers' operations share: the router's answer type, reading
//! and changing one REST API (404 when it is missing), creating and
//! patching one of its parts, and reading the request's patch operations
//! or OpenAPI document. Requests are parsed before the project is looked
//! at, so a malformed request is refused whether or not the API exists.

use serde_json::{Map, Value};

use crate::control::error::{ControlError, bad_request};
use crate::control::operation::{Answer, Call, Effects, Op, read, write};
use crate::model::RestApi;

use super::{json, lookup, patch};

/// What a router answers: `None` if it has no operation for the method and
/// path, else the operation or why the request is refused.
pub(super) type Routed = Option<Result<Op, ControlError>>;

/// Reads one REST API: 200 with what `answer` makes of it; 404 if there is
/// no such API.
pub(super) fn read_api(
    api_id: &str,
    answer: impl FnOnce(&RestApi) -> Result<Value, ControlError> + Send + 'static,
) -> Result<Op, ControlError> {
    let api_id = api_id.to_string();
    Ok(read(move |project| {
        Ok(Answer::Json(200, answer(lookup::api(project, &api_id)?)?))
    }))
}

/// Lists parts of one REST API (200, under `item`); 404 if there is no
/// such API.
pub(super) fn list_in_api(
    api_id: &str,
    items: impl FnOnce(&RestApi) -> Vec<Value> + Send + 'static,
) -> Result<Op, ControlError> {
    let api_id = api_id.to_string();
    Ok(read(move |project| {
        Ok(json::item_list(items(lookup::api(project, &api_id)?)))
    }))
}

/// Changes one REST API; 404 if there is no such API.
pub(super) fn change_api(
    effects: Effects,
    api_id: &str,
    change: impl FnOnce(&mut RestApi) -> Result<Answer, ControlError> + Send + 'static,
) -> Result<Op, ControlError> {
    let api_id = api_id.to_string();
    Ok(write(effects, move |project| {
        change(lookup::api_mut(project, &api_id)?)
    }))
}

/// An `Update...` of one REST API's part: the request's patch operations
/// (refused at once if malformed) handed to `patch`, which answers the
/// patched part as JSON (200).
pub(super) fn patch_api(
    call: &Call,
    effects: Effects,
    api_id: &str,
    patch: impl FnOnce(&mut RestApi, &[patch::Operation]) -> Result<Value, ControlError>
    + Send
    + 'static,
) -> Result<Op, ControlError> {
    let ops = patch_operations(call)?;
    change_api(effects, api_id, move |api| {
        Ok(Answer::Json(200, patch(api, &ops)?))
    })
}

/// A `Put...` / `Create...` of one part of a REST API: `make` reads the
/// part from the request's body (so a malformed body is refused before
/// the API is looked at); `store` puts it in the API (404 if there is no
/// such API). Answers 201 with the part as JSON.
pub(super) fn create_in_api<T: serde::Serialize>(
    call: &Call,
    api_id: &str,
    make: impl FnOnce(Map<String, Value>) -> Result<T, ControlError> + Send + 'static,
    store: impl FnOnce(&mut RestApi, T) -> Result<(), ControlError> + Send + 'static,
) -> Result<Op, ControlError> {
    let body = call.json()?;
    let api_id = api_id.to_string();
    Ok(write(Effects::DRAFT, move |project| {
        let part = make(body)?;
        let answer = json::to_json(&part);
        store(lookup::api_mut(project, &api_id)?, part)?;
        Ok(Answer::Json(201, answer))
    }))
}

/// `part` with the patch operations applied ([`patch::entity`]), as JSON.
pub(super) fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(
    part: &mut T,
    ops: &[patch::Operation],
    fixed: &[&str],
    boolean_maps: &[&str],
) -> Result<Value, ControlError> {
    *part = patch::entity(&*part, ops, fixed, boolean_maps)?;
    Ok(json::to_json(&*part))
}

/// The request's `patchOperations` (none if absent).
pub(super) fn patch_operations(call: &Call) -> Result<Vec<patch::Operation>, ControlError> {
    let body = call.json()?;
    match body.get("patchOperations") {
        None => Ok(Vec::new()),
        Some(ops) => json::parse(ops.clone()),
    }
}

/// The body of an import: the OpenAPI document as JSON or YAML.
pub(super) fn import_document(call: &Call) -> Result<Value, ControlError> {
    let text = std::str::from_utf8(call.body)
        .map_err(|_| bad_request("The definition is not UTF-8 text"))?;
    crate::openapi::parse_document(text).map_err(|e| bad_request(e.to_string()))
}
