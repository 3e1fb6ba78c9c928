//! `Model` (a JSON Schema draft 4 document describing a payload) and
//! `RequestValidator` (what a method checks before it integrates).

use serde::{Deserialize, Serialize};

/// The content type AWS gives a model when none is named.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// AWS `Model`. `schema` is kept as the text AWS stores (a JSON Schema
/// draft 4 document); other models are referenced as
/// `https://apigateway.amazonaws.com/restapis/{restapi_id}/models/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default = "json_content_type")]
    pub content_type: String,
}

fn json_content_type() -> String {
    JSON_CONTENT_TYPE.into()
}

impl Model {
    pub fn new(name: &str, schema: &serde_json::Value) -> Model {
        Model {
            id: super::ids::new_resource_id(),
            name: name.to_string(),
            description: None,
            schema: Some(serde_json::to_string_pretty(schema).unwrap_or_default()),
            content_type: json_content_type(),
        }
    }

    /// The URL other models and AWS use to reference this one.
    pub fn url(api_id: &str, name: &str) -> String {
        format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}")
    }

    /// The model name a `$ref` URL points at, if it is a model URL.
    pub fn name_from_url(url: &str) -> Option<&str> {
        let rest = url.strip_prefix("https://apigateway.amazonaws.com/restapis/")?;
        let (_api, name) = rest.split_once("/models/")?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }
}

/// A model name AWS refuses (`BadRequestException`): it holds the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid model name specified: {0}. Model names must be alphanumeric.")]
pub struct ModelNameError(pub String);

/// Validates a model name as AWS does: alphanumeric only.
pub fn validate_model_name(name: &str) -> Result<(), ModelNameError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ModelNameError(name.to_string()));
    }
    Ok(())
}

/// AWS `RequestValidator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestValidator {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub validate_request_body: bool,
    #[serde(default)]
    pub validate_request_parameters: bool,
}

impl RequestValidator {
    pub fn new(name: &str, body: bool, parameters: bool) -> RequestValidator {
        RequestValidator {
            id: super::ids::new_resource_id(),
            name: name.to_string(),
            validate_request_body: body,
            validate_request_parameters: parameters,
        }
    }
}
