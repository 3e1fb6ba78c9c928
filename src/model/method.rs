//! `Method` and `MethodResponse`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Integration;

/// The verbs `PutMethod` takes, in AWS's order for its error message.
pub(super) const METHOD_VERBS: [&str; 8] = [
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
];

/// Why a method operation (`PutMethod`, "Enable CORS") was refused; the
/// messages are AWS's `BadRequestException` / `ConflictException` ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodError {
    #[error("Invalid HttpMethod specified. Valid options are {}", METHOD_VERBS.join(","))]
    InvalidVerb,
    #[error("Invalid Resource identifier specified: {0}")]
    NoResource(String),
    #[error("Method already exists for this resource")]
    Exists,
    #[error("invalid Access-Control-Allow-Origin {0:?}")]
    InvalidAllowOrigin(String),
}

/// AWS `Method`: one HTTP verb on a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Method {
    pub http_method: String,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`.
    #[serde(default = "none")]
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// OAuth scopes a Cognito authorizer checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    /// `method.request.{path,querystring,header}.name` -> required.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    /// Content type -> model name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    /// By status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
    /// OpenAPI operation extensions (`x-...`) Portico does not interpret,
    /// kept so an export gives them back.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

fn none() -> String {
    "NONE".into()
}

impl Method {
    pub fn new(http_method: &str) -> Method {
        Method {
            http_method: http_method.to_string(),
            authorization_type: none(),
            authorizer_id: None,
            authorization_scopes: Vec::new(),
            api_key_required: false,
            operation_name: None,
            request_validator_id: None,
            request_parameters: BTreeMap::new(),
            request_models: BTreeMap::new(),
            method_responses: BTreeMap::new(),
            method_integration: None,
            extensions: serde_json::Map::new(),
        }
    }
}

/// AWS `MethodResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodResponse {
    pub status_code: String,
    /// `method.response.header.name` -> required.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_models: BTreeMap<String, String>,
}
