//! Deployments: `CreateDeployment` (optionally onto a stage, or as its
//! canary), `GetDeployments`, `GetDeployment`, `UpdateDeployment`,
//! `DeleteDeployment`.

use std::collections::BTreeMap;

use http::Method as M;
use serde_json::{Map, Value};

use crate::control::error::{ControlError, bad_request};
use crate::control::operation::{Answer, Call, Effects, Op, write};
use crate::model::{Deployment, Project};

use super::edit::{Routed, change_api, list_in_api, patch_api, patched, read_api};
use super::json::{parse, text, to_json};
use super::lookup::{api, api_mut, deployment, deployment_mut};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::POST, ["restapis", api_id, "deployments"]) => {
            let (api_id, body) = (api_id.to_string(), call.json());
            body.map(|body| {
                write(Effects::ROUTES, move |project| {
                    create_deployment(project, &api_id, &body)
                })
            })
        }
        (M::GET, ["restapis", api_id, "deployments"]) => {
            list_in_api(api_id, |api| api.deployments.iter().map(to_json).collect())
        }
        (M::GET, ["restapis", api_id, "deployments", deployment_id]) => {
            let deployment_id = deployment_id.to_string();
            read_api(api_id, move |api| {
                Ok(to_json(deployment(api, &deployment_id)?))
            })
        }
        (M::PATCH, ["restapis", api_id, "deployments", deployment_id]) => {
            update_deployment(call, api_id, deployment_id)
        }
        (M::DELETE, ["restapis", api_id, "deployments", deployment_id]) => {
            delete_deployment(api_id, deployment_id)
        }
        _ => return None,
    })
}

/// `CreateDeployment`: a snapshot of the draft; with `stageName` the stage
/// points at it (created if needed); with `canarySettings` too it becomes
/// that stage's canary instead.
fn create_deployment(
    project: &mut Project,
    api_id: &str,
    body: &Map<String, Value>,
) -> Result<Answer, ControlError> {
    api(project, api_id)?;
    let description = text(body, "description");
    let variables: BTreeMap<String, String> = match body.get("variables") {
        Some(v) => parse(v.clone())?,
        None => Default::default(),
    };
    let deployment = match (text(body, "stageName"), body.get("canarySettings")) {
        (Some(stage_name), Some(canary)) => {
            deploy_canary(project, api_id, &stage_name, description.as_deref(), canary)?
        }
        (Some(stage_name), None) => deploy_stage(
            project,
            api_id,
            &stage_name,
            description.as_deref(),
            &variables,
            body,
        )?,
        (None, _) => project.create_deployment(api_id, description.as_deref())?,
    };
    Ok(Answer::Json(201, to_json(&deployment)))
}

/// A deployment that becomes `stage_name`'s canary (`canarySettings`).
fn deploy_canary(
    project: &mut Project,
    api_id: &str,
    stage_name: &str,
    description: Option<&str>,
    canary: &Value,
) -> Result<Deployment, ControlError> {
    let percent = canary
        .get("percentTraffic")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let overrides: BTreeMap<String, String> = match canary.get("stageVariableOverrides") {
        Some(v) => parse(v.clone())?,
        None => Default::default(),
    };
    let deployment = project.deploy_canary(api_id, stage_name, description, percent, &overrides)?;
    if let Some(settings) = api_mut(project, api_id)?
        .stage_mut(stage_name)
        .and_then(|s| s.canary_settings.as_mut())
    {
        settings.use_stage_cache = canary
            .get("useStageCache")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    Ok(deployment)
}

/// A deployment `stage_name` points at (the stage made if needed), with
/// the body's `stageDescription` and cache settings.
fn deploy_stage(
    project: &mut Project,
    api_id: &str,
    stage_name: &str,
    description: Option<&str>,
    variables: &BTreeMap<String, String>,
    body: &Map<String, Value>,
) -> Result<Deployment, ControlError> {
    let deployment = project.deploy(api_id, stage_name, description, variables)?;
    let stage = api_mut(project, api_id)?
        .stage_mut(stage_name)
        .expect("deploy made the stage");
    if let Some(text) = text(body, "stageDescription") {
        stage.description = Some(text);
    }
    if let Some(enabled) = body.get("cacheClusterEnabled").and_then(Value::as_bool) {
        stage.cache_cluster_enabled = enabled;
    }
    if let Some(size) = text(body, "cacheClusterSize") {
        stage.cache_cluster_size = Some(size);
    }
    Ok(deployment)
}

fn update_deployment(call: &Call, api_id: &str, deployment_id: &str) -> Result<Op, ControlError> {
    let deployment_id = deployment_id.to_string();
    patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
        patched(
            deployment_mut(api, &deployment_id)?,
            ops,
            &["id", "createdDate"],
            &[],
        )
    })
}

/// `DeleteDeployment`: refused while a stage (or a stage's canary) points
/// at it.
fn delete_deployment(api_id: &str, deployment_id: &str) -> Result<Op, ControlError> {
    let deployment_id = deployment_id.to_string();
    change_api(Effects::ROUTES, api_id, move |api| {
        deployment(api, &deployment_id)?;
        let in_use = api.stages.iter().any(|s| {
            s.deployment_id == deployment_id
                || s.canary_settings
                    .as_ref()
                    .is_some_and(|c| c.deployment_id == deployment_id)
        });
        if in_use {
            return Err(bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        api.deployments.retain(|d| d.id != deployment_id);
        Ok(Answer::Empty(202))
    })
}
