//! Stages: `CreateStage`, `GetStages`, `GetStage`, `UpdateStage`,
//! `DeleteStage`, and `GetExport` (a stage's deployment as OpenAPI).
//! `FlushStageCache` works on what is served, so the gateway answers it.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, bad_request, conflict};
use crate::control::operation::{Answer, Call, Effects, Op, read, write};
use crate::model::{Project, Stage};

use super::edit::{Routed, list_in_api, patch_api, read_api};
use super::json::{parse, text, to_json};
use super::lookup::{api, api_mut, stage, stage_mut};
use super::patch;

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::POST, ["restapis", api_id, "stages"]) => {
            let (api_id, body) = (api_id.to_string(), call.json());
            body.map(|body| {
                write(Effects::ROUTES, move |project| {
                    create_stage(project, &api_id, body)
                })
            })
        }
        (M::GET, ["restapis", api_id, "stages"]) => {
            list_stages(api_id, call.query("deploymentId").map(str::to_string))
        }
        (M::GET, ["restapis", api_id, "stages", name]) => {
            let name = name.to_string();
            read_api(api_id, move |api| Ok(to_json(stage(api, &name)?)))
        }
        (M::PATCH, ["restapis", api_id, "stages", name]) => update_stage(call, api_id, name),
        (M::DELETE, ["restapis", api_id, "stages", name]) => Ok(delete_stage(api_id, name)),
        (M::GET, ["restapis", api_id, "stages", name, "exports", format]) => {
            Ok(get_export(call, api_id, name, format))
        }
        _ => return None,
    })
}

/// `CreateStage`: a stage pointing at an existing deployment.
fn create_stage(
    project: &mut Project,
    api_id: &str,
    mut body: Map<String, Value>,
) -> Result<Answer, ControlError> {
    let api = api_mut(project, api_id)?;
    let name = text(&body, "stageName").ok_or_else(|| bad_request("stageName is required"))?;
    crate::model::validate_stage_name(&name).map_err(bad_request)?;
    if api.stage(&name).is_some() {
        return Err(conflict("Stage already exists"));
    }
    let deployment =
        text(&body, "deploymentId").ok_or_else(|| bad_request("deploymentId is required"))?;
    if !api.deployments.iter().any(|d| d.id == deployment) {
        return Err(bad_request("Invalid deployment identifier specified"));
    }
    body.remove("tags");
    body.remove("tracingEnabled");
    body.remove("documentationVersion");
    let now = crate::model::now_rfc3339();
    body.insert("createdDate".into(), json!(now));
    body.insert("lastUpdatedDate".into(), json!(now));
    let stage: Stage = parse(Value::Object(body))?;
    for (name, value) in &stage.variables {
        crate::model::validate_stage_variable(name, value).map_err(bad_request)?;
    }
    let answer = to_json(&stage);
    api.stages.push(stage);
    Ok(Answer::Json(201, answer))
}

/// `GetStages`, of one deployment with `deploymentId`.
fn list_stages(api_id: &str, deployment_id: Option<String>) -> Result<Op, ControlError> {
    list_in_api(api_id, move |api| {
        api.stages
            .iter()
            .filter(|s| deployment_id.as_ref().is_none_or(|d| *d == s.deployment_id))
            .map(to_json)
            .collect()
    })
}

/// `UpdateStage`: a `deploymentId` must name one of the API's deployments.
fn update_stage(call: &Call, api_id: &str, name: &str) -> Result<Op, ControlError> {
    let name = name.to_string();
    patch_api(call, Effects::ROUTES, api_id, move |api, ops| {
        let deployments: Vec<String> = api.deployments.iter().map(|d| d.id.clone()).collect();
        let stage = stage_mut(api, &name)?;
        patch::stage(stage, ops, &deployments)?;
        stage.last_updated_date = Some(crate::model::now_rfc3339());
        Ok(to_json(&*stage))
    })
}

/// `DeleteStage`: the stage and the usage plans' entries for it.
fn delete_stage(api_id: &str, name: &str) -> Op {
    let (api_id, name) = (api_id.to_string(), name.to_string());
    write(Effects::ROUTES, move |project| {
        let api = api_mut(project, &api_id)?;
        stage(api, &name)?;
        api.stages.retain(|s| s.stage_name != name);
        for plan in &mut project.usage_plans {
            plan.api_stages
                .retain(|s| !(s.api_id == api_id && s.stage == name));
        }
        Ok(Answer::Empty(202))
    })
}

/// `GetExport`: YAML when the `Accept` header asks for it.
fn get_export(call: &Call, api_id: &str, name: &str, format: &str) -> Op {
    let (api_id, name, format) = (api_id.to_string(), name.to_string(), format.to_string());
    let extensions = call.query("extensions").map(str::to_string);
    let yaml = call.accept.is_some_and(|a| a.contains("yaml"));
    read(move |project| {
        export(
            project,
            &api_id,
            &name,
            &format,
            extensions.as_deref(),
            yaml,
        )
    })
}

/// The stage's deployment as OpenAPI 3.0 or Swagger 2.0.
fn export(
    project: &Project,
    api_id: &str,
    stage_name: &str,
    format: &str,
    extensions: Option<&str>,
    yaml: bool,
) -> Result<Answer, ControlError> {
    use crate::openapi::{ExportFormat, ExportOptions, Extensions};
    let api = api(project, api_id)?;
    let stage = stage(api, stage_name)?;
    let format = match format {
        "oas30" => ExportFormat::Oas30,
        "swagger" => ExportFormat::Swagger2,
        other => return Err(bad_request(format!("Invalid export type: {other}"))),
    };
    let extensions = match extensions {
        None | Some("") => Extensions::NONE,
        Some(list) => Extensions::parse(list).map_err(bad_request)?,
    };
    let deployed = project
        .snapshot(api_id, &stage.deployment_id)
        .map(|s| &s.rest_api)
        .unwrap_or(api);
    let url = format!("https://{api_id}.execute-api.localhost/{stage_name}");
    let document = crate::openapi::export(
        deployed,
        &ExportOptions {
            format,
            extensions,
            stage: Some((stage_name.to_string(), url)),
        },
    )
    .map_err(|e| bad_request(e.to_string()))?;
    let content_type = if yaml {
        "application/yaml"
    } else {
        "application/json"
    };
    Ok(Answer::Text(
        200,
        content_type.into(),
        crate::openapi::to_text(&document, yaml),
    ))
}
