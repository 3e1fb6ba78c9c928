//! The JSON shapes the control plane answers with and reads: AWS's names,
//! lists under `item`, and the few resources AWS shows differently from how
//! the model stores them (a RestApi without its parts, a resource's methods
//! as empty objects, an API key without its value).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::control::error::{ControlError, bad_request};
use crate::control::operation::Answer;
use crate::model::{ApiKey, Resource, RestApi};

/// 200 with a list, under AWS's `item` member.
pub(super) fn item_list(items: impl IntoIterator<Item = Value>) -> Answer {
    let items: Vec<Value> = items.into_iter().collect();
    Answer::Json(200, json!({ "item": items }))
}

/// A body's string member.
pub(super) fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

/// A body in a model type; a mismatch is a BadRequestException naming it.
pub(super) fn parse<T: DeserializeOwned>(value: Value) -> Result<T, ControlError> {
    serde_json::from_value(value).map_err(|e| bad_request(format!("Invalid request: {e}")))
}

/// A model type as AWS shows it (the model's serde names are AWS's).
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A RestApi as AWS shows it: its own fields and `rootResourceId`, not its
/// resources, stages or deployments.
pub(super) fn rest_api_json(api: &RestApi) -> Value {
    let mut value = to_json(api);
    if let Value::Object(map) = &mut value {
        for key in [
            "resources",
            "deployments",
            "stages",
            "models",
            "requestValidators",
            "authorizers",
            "gatewayResponses",
            "documentation",
            "extensions",
        ] {
            map.remove(key);
        }
        if let Some(root) = api.root() {
            map.insert("rootResourceId".into(), json!(root.id));
        }
    }
    value
}

/// An import's answer: the API and, if any, the importer's warnings.
pub(super) fn with_warnings(mut answer: Value, warnings: &[String]) -> Value {
    if !warnings.is_empty() {
        answer["warnings"] = json!(warnings);
    }
    answer
}

/// A resource; without `embed=methods` each method is an empty object, as
/// AWS lists them.
pub(super) fn resource_json(resource: &Resource, embed: bool) -> Value {
    let mut value = to_json(resource);
    if !embed && let Some(Value::Object(methods)) = value.get_mut("resourceMethods") {
        for method in methods.values_mut() {
            *method = json!({});
        }
    }
    value
}

/// An API key; its value only when asked for (`includeValue(s)`) or just
/// created.
pub(super) fn api_key_json(key: &ApiKey, include_value: bool) -> Value {
    let mut value = json!({
        "id": key.id,
        "name": key.name,
        "enabled": key.enabled,
        "stageKeys": [],
    });
    if let Some(description) = &key.description {
        value["description"] = json!(description);
    }
    if include_value {
        value["value"] = json!(key.value);
    }
    value
}

/// A usage plan's key (`UsagePlanKey`).
pub(super) fn usage_plan_key_json(key: &ApiKey) -> Value {
    json!({ "id": key.id, "type": "API_KEY", "name": key.name, "value": key.value })
}
