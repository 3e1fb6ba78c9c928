//! API keys and usage plans (project-wide, not per API): `CreateApiKey`,
//! `GetApiKeys`, `GetApiKey`, `UpdateApiKey`, `DeleteApiKey`,
//! `Create/Get/Update/DeleteUsagePlan`, `GetUsagePlans`, and a plan's keys
//! (`CreateUsagePlanKey`, `GetUsagePlanKeys`, `DeleteUsagePlanKey`).

use http::Method as M;
use serde_json::{Map, Value};

use crate::control::error::{ControlError, bad_request, conflict, not_found};
use crate::control::operation::{Answer, Call, Effects, Op, read, write};
use crate::model::{ApiStage, Project, QuotaSettings, ThrottleSettings, UsagePlan};

use super::edit::{Routed, patch_operations};
use super::json::{api_key_json, item_list, parse, text, to_json, usage_plan_key_json};
use super::lookup::{api, api_key, api_key_mut, usage_plan, usage_plan_mut};
use super::patch;

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::POST, ["apikeys"]) => create_api_key(call),
        (M::GET, ["apikeys"]) => Ok(list_api_keys(call.query("includeValues") == Some("true"))),
        (M::GET, ["apikeys", key_id]) => Ok(get_api_key(
            key_id,
            call.query("includeValue") == Some("true"),
        )),
        (M::PATCH, ["apikeys", key_id]) => update_api_key(call, key_id),
        (M::DELETE, ["apikeys", key_id]) => Ok(delete_api_key(key_id)),
        (M::POST, ["usageplans"]) => call.json().map(|body| {
            write(Effects::KEYS, move |project| {
                create_usage_plan(project, &body)
            })
        }),
        (M::GET, ["usageplans"]) => Ok(read(|project| {
            Ok(item_list(project.usage_plans.iter().map(to_json)))
        })),
        (M::GET, ["usageplans", plan_id]) => Ok(get_usage_plan(plan_id)),
        (M::PATCH, ["usageplans", plan_id]) => update_usage_plan(call, plan_id),
        (M::DELETE, ["usageplans", plan_id]) => Ok(delete_usage_plan(plan_id)),
        (M::POST, ["usageplans", plan_id, "keys"]) => create_usage_plan_key(call, plan_id),
        (M::GET, ["usageplans", plan_id, "keys"]) => Ok(list_usage_plan_keys(plan_id)),
        (M::DELETE, ["usageplans", plan_id, "keys", key_id]) => {
            Ok(delete_usage_plan_key(plan_id, key_id))
        }
        _ => return None,
    })
}

/// `CreateApiKey`: the answer carries the key's value (generated unless
/// given); a key is disabled unless `enabled` says otherwise.
fn create_api_key(call: &Call) -> Result<Op, ControlError> {
    let body = call.json()?;
    Ok(write(Effects::KEYS, move |project| {
        let name = text(&body, "name").unwrap_or_default();
        let added = project
            .add_api_key(&name, text(&body, "value").as_deref(), None)
            .map_err(bad_request)?;
        let stored = project
            .api_keys
            .iter_mut()
            .find(|k| k.id == added.id)
            .expect("just added");
        stored.enabled = body
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        stored.description = text(&body, "description");
        Ok(Answer::Json(201, api_key_json(stored, true)))
    }))
}

fn list_api_keys(include_values: bool) -> Op {
    read(move |project| {
        Ok(item_list(
            project
                .api_keys
                .iter()
                .map(|k| api_key_json(k, include_values)),
        ))
    })
}

fn get_api_key(key_id: &str, include_value: bool) -> Op {
    let key_id = key_id.to_string();
    read(move |project| {
        Ok(Answer::Json(
            200,
            api_key_json(api_key(project, &key_id)?, include_value),
        ))
    })
}

fn update_api_key(call: &Call, key_id: &str) -> Result<Op, ControlError> {
    let key_id = key_id.to_string();
    let ops = patch_operations(call)?;
    Ok(write(Effects::KEYS, move |project| {
        let key = api_key_mut(project, &key_id)?;
        *key = patch::entity(&*key, &ops, &["id", "value"], &[])?;
        Ok(Answer::Json(200, api_key_json(key, false)))
    }))
}

fn delete_api_key(key_id: &str) -> Op {
    let key_id = key_id.to_string();
    write(Effects::KEYS, move |project| {
        project.remove_api_key(&key_id).map_err(not_found)?;
        Ok(Answer::Empty(202))
    })
}

/// `CreateUsagePlan`: its API stages must exist; its quota must be valid.
fn create_usage_plan(
    project: &mut Project,
    body: &Map<String, Value>,
) -> Result<Answer, ControlError> {
    let name = text(body, "name").ok_or_else(|| bad_request("name is required"))?;
    let stages: Vec<ApiStage> = match body.get("apiStages") {
        Some(v) => parse(v.clone())?,
        None => Vec::new(),
    };
    for stage in &stages {
        let api = api(project, &stage.api_id)?;
        if api.stage(&stage.stage).is_none() {
            return Err(bad_request(format!(
                "Invalid stage identifier specified: {}",
                stage.stage
            )));
        }
    }
    let throttle: Option<ThrottleSettings> = match body.get("throttle") {
        Some(v) => Some(parse(v.clone())?),
        None => None,
    };
    let quota: Option<QuotaSettings> = match body.get("quota") {
        Some(v) => {
            let quota: QuotaSettings = parse(v.clone())?;
            quota.validate().map_err(bad_request)?;
            Some(quota)
        }
        None => None,
    };
    let plan = UsagePlan {
        id: crate::model::new_resource_id(),
        name,
        api_stages: stages,
        throttle,
        quota,
        api_key_ids: Vec::new(),
    };
    let answer = to_json(&plan);
    project.usage_plans.push(plan);
    Ok(Answer::Json(201, answer))
}

fn get_usage_plan(plan_id: &str) -> Op {
    let plan_id = plan_id.to_string();
    read(move |project| Ok(Answer::Json(200, to_json(usage_plan(project, &plan_id)?))))
}

/// `UpdateUsagePlan`: the patched quota must still be valid.
fn update_usage_plan(call: &Call, plan_id: &str) -> Result<Op, ControlError> {
    let plan_id = plan_id.to_string();
    let ops = patch_operations(call)?;
    Ok(write(Effects::KEYS, move |project| {
        let plan = usage_plan_mut(project, &plan_id)?;
        *plan = patch::usage_plan(plan, &ops)?;
        if let Some(quota) = &plan.quota {
            quota.validate().map_err(bad_request)?;
        }
        Ok(Answer::Json(200, to_json(&*plan)))
    }))
}

fn delete_usage_plan(plan_id: &str) -> Op {
    let plan_id = plan_id.to_string();
    write(Effects::KEYS, move |project| {
        project.remove_usage_plan(&plan_id).map_err(not_found)?;
        Ok(Answer::Empty(202))
    })
}

/// `CreateUsagePlanKey`: a key already in the plan is a 409.
fn create_usage_plan_key(call: &Call, plan_id: &str) -> Result<Op, ControlError> {
    let plan_id = plan_id.to_string();
    let body = call.json()?;
    Ok(write(Effects::KEYS, move |project| {
        let key_id = text(&body, "keyId").ok_or_else(|| bad_request("keyId is required"))?;
        usage_plan(project, &plan_id)?;
        let key = api_key(project, &key_id)?.clone();
        if usage_plan(project, &plan_id)?.api_key_ids.contains(&key_id) {
            return Err(conflict("Usage Plan already contains specified API Key"));
        }
        project
            .set_plan_key(&plan_id, &key_id, true)
            .map_err(bad_request)?;
        Ok(Answer::Json(201, usage_plan_key_json(&key)))
    }))
}

fn list_usage_plan_keys(plan_id: &str) -> Op {
    let plan_id = plan_id.to_string();
    read(move |project| {
        let plan = usage_plan(project, &plan_id)?;
        Ok(item_list(
            project
                .api_keys
                .iter()
                .filter(|k| plan.api_key_ids.contains(&k.id))
                .map(usage_plan_key_json),
        ))
    })
}

fn delete_usage_plan_key(plan_id: &str, key_id: &str) -> Op {
    let (plan_id, key_id) = (plan_id.to_string(), key_id.to_string());
    write(Effects::KEYS, move |project| {
        if !usage_plan(project, &plan_id)?.api_key_ids.contains(&key_id) {
            return Err(not_found("Invalid Usage Plan Key identifier specified"));
        }
        project
            .set_plan_key(&plan_id, &key_id, false)
            .map_err(bad_request)?;
        Ok(Answer::Empty(202))
    })
}
