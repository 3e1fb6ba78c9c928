//! AWS's `patchOperations` (`op`, `path`, `value`) on rest APIs and stages,
//! with the paths AWS's API reference lists: `/name`, `/variables/x`,
//! `/*/*/throttling/rateLimit`, `/~1pets/GET/caching/enabled`,
//! `/canarySettings/percentTraffic`, `/cacheClusterEnabled`...

use serde::Deserialize;

use crate::model::{MethodSetting, RestApi, Stage};

use crate::control::error::{ControlError, bad_request};

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

/// Patch operations on any entity through its JSON form, as AWS's
/// `Update*` operations for methods, integrations, responses, authorizers,
/// models, validators, keys and plans take them: `replace` / `add` /
/// `remove` at a path (`/apiKeyRequired`, `/requestTemplates/application~1json`,
/// `/requestParameters/method.request.header.x`,
/// `/cacheKeyParameters/method.request.path.id` on a list). A value lands
/// as the type the field has: `"true"` on a boolean field is `true`; under a
/// map listed in `boolean_maps` it is a boolean too. Fields in `fixed`
/// cannot change.
pub fn entity<T: serde::Serialize + serde::de::DeserializeOwned>(
    entity: &T,
    ops: &[Operation],
    fixed: &[&str],
    boolean_maps: &[&str],
) -> Result<T, ControlError> {
    let mut json = serde_json::to_value(entity).map_err(|e| bad_request(e.to_string()))?;
    for op in ops {
        let path: Vec<String> = op
            .path
            .trim_start_matches('/')
            .split('/')
            .map(unescape)
            .collect();
        if path
            .first()
            .is_none_or(|f| f.is_empty() || fixed.contains(&f.as_str()))
        {
            return Err(unsupported(op));
        }
        let (last, parents) = path.split_last().expect("not empty");
        let mut target = &mut json;
        for name in parents {
            let Some(map) = target.as_object_mut() else {
                return Err(unsupported(op));
            };
            target = map
                .entry(name.clone())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
        }
        let boolean_map = parents.len() == 1 && boolean_maps.contains(&parents[0].as_str());
        match (op.op.as_str(), target) {
            ("add", serde_json::Value::Array(items)) if !last.is_empty() => {
                if !items.iter().any(|i| i.as_str() == Some(last)) {
                    items.push(serde_json::json!(last));
                }
            }
            ("remove", serde_json::Value::Array(items)) => {
                items.retain(|i| i.as_str() != Some(last));
            }
            ("remove", serde_json::Value::Object(map)) => {
                map.remove(last);
            }
            ("replace" | "add", serde_json::Value::Object(map)) => {
                let text = op.value.clone().unwrap_or_default();
                let new = match map.get(last) {
                    Some(serde_json::Value::Bool(_)) => serde_json::json!(boolean(op)?),
                    Some(serde_json::Value::Number(_)) => serde_json::json!(number::<f64>(op)?),
                    _ if boolean_map => serde_json::json!(boolean(op)?),
                    _ => serde_json::Value::String(text),
                };
                map.insert(last.clone(), new);
            }
            _ => return Err(unsupported(op)),
        }
    }
    // Whole numbers go back as integers, for integer fields.
    fn integers(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Number(n) => {
                if let Some(f) = n.as_f64()
                    && f.fract() == 0.0
                    && f.abs() < 9e15
                {
                    *value = serde_json::json!(f as i64);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(integers),
            serde_json::Value::Object(map) => map.values_mut().for_each(integers),
            _ => {}
        }
    }
    integers(&mut json);
    serde_json::from_value(json).map_err(|e| bad_request(format!("Invalid patch: {e}")))
}

/// `UpdateUsagePlan`: `/name`, `/throttle/rateLimit`, `/throttle/burstLimit`,
/// `/quota/limit`, `/quota/period`, `/quota/offset`, and `/apiStages` with
/// `add` / `remove` of `"apiId:stage"`.
pub fn usage_plan(
    plan: &crate::model::UsagePlan,
    ops: &[Operation],
) -> Result<crate::model::UsagePlan, ControlError> {
    let mut plan = plan.clone();
    let mut rest = Vec::new();
    for op in ops {
        match (op.op.as_str(), op.path.as_str()) {
            ("add", "/apiStages") => {
                let (api_id, stage) = value(op)?
                    .split_once(':')
                    .ok_or_else(|| bad_request("Invalid API stage: expected apiId:stage"))?;
                if !plan
                    .api_stages
                    .iter()
                    .any(|s| s.api_id == api_id && s.stage == stage)
                {
                    plan.api_stages.push(crate::model::ApiStage {
                        api_id: api_id.to_string(),
                        stage: stage.to_string(),
                        throttle: Default::default(),
                    });
                }
            }
            ("remove", "/apiStages") => {
                let (api_id, stage) = value(op)?
                    .split_once(':')
                    .ok_or_else(|| bad_request("Invalid API stage: expected apiId:stage"))?;
                plan.api_stages
                    .retain(|s| !(s.api_id == api_id && s.stage == stage));
            }
            ("remove", "/throttle") => plan.throttle = None,
            ("remove", "/quota") => plan.quota = None,
            _ => rest.push(op.clone()),
        }
    }
    // Fields of an absent throttle or quota start from AWS's zero values.
    let touches = |prefix: &str| rest.iter().any(|o| o.path.starts_with(prefix));
    if touches("/throttle/") && plan.throttle.is_none() {
        plan.throttle = Some(crate::model::ThrottleSettings {
            burst_limit: 0,
            rate_limit: 0.0,
        });
    }
    if touches("/quota/") && plan.quota.is_none() {
        plan.quota = Some(crate::model::QuotaSettings {
            limit: 0,
            period: "DAY".into(),
            offset: 0,
        });
    }
    entity(&plan, &rest, &["id", "apiKeyIds", "apiStages"], &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> Operation {
        Operation {
            op: op.into(),
            path: path.into(),
            value: value.map(str::to_string),
            from: None,
        }
    }

    #[test]
    fn entity_patches_keep_field_types() {
        let method: crate::model::Method = serde_json::from_value(serde_json::json!({
            "httpMethod": "GET", "authorizationType": "NONE"
        }))
        .unwrap();
        let patched = entity(
            &method,
            &[
                op("replace", "/apiKeyRequired", Some("true")),
                op(
                    "add",
                    "/requestParameters/method.request.header.x-id",
                    Some("true"),
                ),
                op("replace", "/operationName", Some("GetThing")),
            ],
            &["httpMethod"],
            &["requestParameters"],
        )
        .unwrap();
        assert!(patched.api_key_required);
        assert!(patched.request_parameters["method.request.header.x-id"]);
        assert_eq!(patched.operation_name.as_deref(), Some("GetThing"));
        let refused = entity(
            &method,
            &[op("replace", "/httpMethod", Some("PUT"))],
            &["httpMethod"],
            &[],
        );
        assert_eq!(refused.unwrap_err().kind, "BadRequestException");
        let wrong = entity(
            &method,
            &[op("replace", "/apiKeyRequired", Some("yes"))],
            &[],
            &[],
        );
        assert!(wrong.is_err());
    }

    #[test]
    fn list_fields_take_add_and_remove_of_items() {
        let integration: crate::model::Integration = serde_json::from_value(serde_json::json!({
            "type": "MOCK", "cacheKeyParameters": ["method.request.path.a"]
        }))
        .unwrap();
        let patched = entity(
            &integration,
            &[
                op("add", "/cacheKeyParameters/method.request.path.b", None),
                op("remove", "/cacheKeyParameters/method.request.path.a", None),
                op("replace", "/timeoutInMillis", Some("5000")),
                op("add", "/requestTemplates/application~1json", Some("{}")),
            ],
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(patched.cache_key_parameters, ["method.request.path.b"]);
        assert_eq!(patched.timeout_in_millis, 5000);
        assert_eq!(patched.request_templates["application/json"], "{}");
    }

    #[test]
    fn stage_paths_as_aws_documents_them() {
        let mut stage = crate::model::Stage::new("dev", "d1");
        super::stage(
            &mut stage,
            &[
                op("replace", "/variables/who", Some("x")),
                op("replace", "/*/*/throttling/rateLimit", Some("100")),
                op("replace", "/~1pets/GET/caching/enabled", Some("true")),
                op("replace", "/cacheClusterEnabled", Some("true")),
                op("replace", "/deploymentId", Some("d2")),
            ],
            &["d1".into(), "d2".into()],
        )
        .unwrap();
        assert_eq!(stage.variables["who"], "x");
        assert_eq!(
            stage.method_settings["*/*"].throttling_rate_limit,
            Some(100.0)
        );
        assert_eq!(
            stage.method_settings["~1pets/GET"].caching_enabled,
            Some(true)
        );
        assert!(stage.cache_cluster_enabled);
        assert_eq!(stage.deployment_id, "d2");
        let missing = super::stage(
            &mut stage,
            &[op("replace", "/deploymentId", Some("zz"))],
            &[],
        );
        assert!(missing.is_err());
    }
}
