//! `Authorizer`: a Lambda (TOKEN / REQUEST) or Cognito user pool authorizer.

use serde::{Deserialize, Serialize};

/// AWS `Authorizer`. `type` is `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub authorizer_type: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "providerARNs"
    )]
    pub provider_arns: Vec<String>,
    /// `custom` for Lambda authorizers, `cognito_user_pools` for Cognito (the
    /// OpenAPI `x-amazon-apigateway-authtype`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials: Option<String>,
    /// `method.request.header.Authorization`, ... (comma-separated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<u32>,
}
