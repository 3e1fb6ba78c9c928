//! The control plane's one error type, as the AWS SDKs read it: an HTTP
//! status, the `x-amzn-ErrorType` name and a `{"message": ...}` body.
//! Every operation (REST APIs today, `apigatewayv2` later) reports through
//! it, so one error is shaped the same way whichever operation found it.

use crate::model::ProjectError;

/// An error as the AWS SDKs read it: status, `x-amzn-ErrorType`, message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

/// 404 `NotFoundException`: AWS's answer for an unknown id or name.
pub fn not_found(message: impl std::fmt::Display) -> ControlError {
    ControlError {
        status: 404,
        kind: "NotFoundException",
        message: message.to_string(),
    }
}

/// 400 `BadRequestException`: the request itself is wrong.
pub fn bad_request(message: impl std::fmt::Display) -> ControlError {
    ControlError {
        status: 400,
        kind: "BadRequestException",
        message: message.to_string(),
    }
}

/// 409 `ConflictException`: the name or key is already taken.
pub fn conflict(message: impl std::fmt::Display) -> ControlError {
    ControlError {
        status: 409,
        kind: "ConflictException",
        message: message.to_string(),
    }
}

/// A path the control plane does not know: AWS answers such requests with
/// 404 `UnknownOperationException`-style errors; boto3 never sends them.
pub fn unknown_operation(method: &http::Method, path: &str) -> ControlError {
    not_found(format!("No operation for {method} {path}"))
}

impl From<ProjectError> for ControlError {
    fn from(error: ProjectError) -> Self {
        match error {
            ProjectError::Rejected(message) => bad_request(message),
            other => ControlError {
                status: 500,
                kind: "InternalFailureException",
                message: other.to_string(),
            },
        }
    }
}
