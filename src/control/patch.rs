//! AWS's `patchOperations` (`op`, `path`, `value`) on rest APIs and stages,
//! with the paths AWS's API reference lists: `/name`, `/variables/x`,
//! `/*/*/throttling/rateLimit`, `/~1pets/GET/caching/enabled`,
//! `/canarySettings/percentTraffic`, `/cacheClusterEnabled`...

use serde::Deserialize;

use crate::model::{MethodSetting, RestApi, Stage};

use super::rest::{ControlError, bad_request};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
}

pub fn unsupported(op: &Operation) -> ControlError {
    bad_request(format!(
        "Invalid patch path '{}' specified for op '{}'",
        op.path, op.op
    ))
}

fn value(op: &Operation) -> Result<&str, ControlError> {
    op.value.as_deref().ok_or_else(|| {
        bad_request(format!(
            "Invalid patch operation: '{}' needs a value",
            op.path
        ))
    })
}

fn boolean(op: &Operation) -> Result<bool, ControlError> {
    match value(op)? {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(bad_request(format!(
            "Invalid value for {}: expected true or false, found {other:?}",
            op.path
        ))),
    }
}

fn number<T: std::str::FromStr>(op: &Operation) -> Result<T, ControlError> {
    let text = value(op)?;
    text.parse().map_err(|_| {
        bad_request(format!(
            "Invalid value for {}: expected a number, found {text:?}",
            op.path
        ))
    })
}

/// `~1` is `/` and `~0` is `~` in a path segment (JSON Pointer).
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn is_removal(op: &Operation) -> bool {
    op.op == "remove"
}

/// `UpdateRestApi`.
pub fn rest_api(api: &mut RestApi, ops: &[Operation]) -> Result<(), ControlError> {
    for op in ops {
        let segments: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        match (op.op.as_str(), segments.as_slice()) {
            ("replace", ["name"]) => api.name = value(op)?.to_string(),
            ("replace", ["description"]) => api.description = op.value.clone(),
            ("replace", ["version"]) => api.version = op.value.clone(),
            ("replace", ["policy"]) => api.policy = op.value.clone(),
            ("replace", ["apiKeySource"]) => {
                api.api_key_source = serde_json::from_value(serde_json::json!(value(op)?))
                    .map_err(|_| unsupported(op))?
            }
            ("replace", ["minimumCompressionSize"]) => {
                api.minimum_compression_size = match op.value.as_deref() {
                    None | Some("") => None,
                    Some(_) => Some(number(op)?),
                }
            }
            ("replace", ["disableExecuteApiEndpoint"]) => {
                api.disable_execute_api_endpoint = Some(boolean(op)?)
            }
            ("add", ["binaryMediaTypes", kind]) => {
                let kind = unescape(kind);
                if !api.binary_media_types.contains(&kind) {
                    api.binary_media_types.push(kind);
                }
            }
            ("remove", ["binaryMediaTypes", kind]) => {
                let kind = unescape(kind);
                api.binary_media_types.retain(|k| *k != kind);
            }
            _ => return Err(unsupported(op)),
        }
    }
    Ok(())
}

/// `UpdateStage`. `deployments` are the API's deployment ids.
pub fn stage(
    stage: &mut Stage,
    ops: &[Operation],
    deployments: &[String],
) -> Result<(), ControlError> {
    for op in ops {
        let segments: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["variables", name] => {
                let name = unescape(name);
                if is_removal(op) {
                    stage.variables.remove(&name);
                } else {
                    let value = value(op)?.to_string();
                    crate::model::validate_stage_variable(&name, &value).map_err(bad_request)?;
                    stage.variables.insert(name, value);
                }
            }
            ["description"] => stage.description = op.value.clone(),
            ["deploymentId"] => {
                let id = value(op)?;
                if !deployments.iter().any(|d| d == id) {
                    return Err(bad_request("Invalid deployment identifier specified"));
                }
                stage.deployment_id = id.to_string();
            }
            ["cacheClusterEnabled"] => stage.cache_cluster_enabled = boolean(op)?,
            ["cacheClusterSize"] => stage.cache_cluster_size = Some(value(op)?.to_string()),
            ["tracingEnabled"] => {}
            ["canarySettings"] if is_removal(op) => stage.canary_settings = None,
            ["canarySettings", field @ ..] => canary(stage, op, field, deployments)?,
            [resource, verb, group, field] => {
                let key = format!("{resource}/{verb}");
                if is_removal(op) && *group == "*" {
                    stage.method_settings.remove(&key);
                    continue;
                }
                let setting = stage.method_settings.entry(key.clone()).or_default();
                method_setting(setting, op, group, field)?;
                if *setting == MethodSetting::default() {
                    stage.method_settings.remove(&key);
                }
            }
            [resource, verb] if is_removal(op) => {
                stage.method_settings.remove(&format!("{resource}/{verb}"));
            }
            _ => return Err(unsupported(op)),
        }
    }
    Ok(())
}

fn canary(
    stage: &mut Stage,
    op: &Operation,
    field: &[&str],
    deployments: &[String],
) -> Result<(), ControlError> {
    let settings = stage
        .canary_settings
        .as_mut()
        .ok_or_else(|| bad_request("Stage has no canary settings"))?;
    match field {
        ["percentTraffic"] => {
            let percent: f64 = number(op)?;
            crate::model::validate_percent_traffic(percent).map_err(bad_request)?;
            settings.percent_traffic = percent;
        }
        ["useStageCache"] => settings.use_stage_cache = boolean(op)?,
        ["deploymentId"] => {
            let id = value(op)?;
            if !deployments.iter().any(|d| d == id) {
                return Err(bad_request("Invalid deployment identifier specified"));
            }
            settings.deployment_id = id.to_string();
        }
        ["stageVariableOverrides", name] => {
            let name = unescape(name);
            if is_removal(op) {
                settings.stage_variable_overrides.remove(&name);
            } else {
                let value = value(op)?.to_string();
                crate::model::validate_stage_variable(&name, &value).map_err(bad_request)?;
                settings.stage_variable_overrides.insert(name, value);
            }
        }
        _ => return Err(unsupported(op)),
    }
    Ok(())
}

fn method_setting(
    setting: &mut MethodSetting,
    op: &Operation,
    group: &str,
    field: &str,
) -> Result<(), ControlError> {
    let remove = is_removal(op);
    match (group, field) {
        ("throttling", "rateLimit") => {
            setting.throttling_rate_limit = if remove { None } else { Some(number(op)?) }
        }
        ("throttling", "burstLimit") => {
            setting.throttling_burst_limit = if remove { None } else { Some(number(op)?) }
        }
        ("caching", "enabled") => {
            setting.caching_enabled = if remove { None } else { Some(boolean(op)?) }
        }
        ("caching", "ttlInSeconds") => {
            let ttl: u32 = number(op)?;
            if ttl > 3600 {
                return Err(bad_request("Cache TTL must be between 0 and 3600 seconds"));
            }
            setting.cache_ttl_in_seconds = Some(ttl)
        }
        ("caching", "dataEncrypted") => {}
        ("caching", "requireAuthorizationForCacheControl") => {
            setting.require_authorization_for_cache_control = Some(boolean(op)?)
        }
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            let strategy = value(op)?;
            if !matches!(
                strategy,
                "FAIL_WITH_403"
                    | "SUCCEED_WITH_RESPONSE_HEADER"
                    | "SUCCEED_WITHOUT_RESPONSE_HEADER"
            ) {
                return Err(bad_request(format!(
                    "Invalid unauthorizedCacheControlHeaderStrategy: {strategy}"
                )));
            }
            setting.unauthorized_cache_control_header_strategy = Some(strategy.to_string())
        }
        ("metrics", "enabled") => setting.metrics_enabled = Some(boolean(op)?),
        ("logging", "loglevel") => setting.logging_level = Some(value(op)?.to_string()),
        ("logging", "dataTrace") => setting.data_trace_enabled = Some(boolean(op)?),
        _ => return Err(unsupported(op)),
    }
    Ok(())
}
