//! Who may call a method: Lambda authorizers (API keys, IAM and Cognito
//! arrive with their issues).

pub mod api_keys;
pub mod jwt;
pub mod lambda_authorizer;
pub mod sigv4;
