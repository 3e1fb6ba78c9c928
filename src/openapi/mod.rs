//! OpenAPI import and export with API Gateway's `x-amazon-apigateway-*`
//! extensions: OpenAPI 3.0 / 3.1 and Swagger 2.0, JSON or YAML, in; OpenAPI
//! 3.0 or Swagger 2.0 out. The model keeps AWS's field names, so both
//! directions are mappings between a JSON document and [`RestApi`].
//!
//! [`RestApi`]: crate::model::RestApi

mod export;
pub mod http;
mod import;
mod pointer;

pub use export::{ExportFormat, ExportOptions, Extensions, export, to_text};
pub use import::{ImportMode, Imported, import, import_into};

use serde_json::Value;

/// Why a document could not be imported or exported. `Display` is one line
/// naming where (line and column for syntax, a JSON pointer for content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenApiError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{pointer}: {message}")]
    Invalid { pointer: String, message: String },
    /// `fail_on_warnings` was set and the import warned.
    #[error("import failed on warnings: {}", .0.join("; "))]
    Warnings(Vec<String>),
}

impl OpenApiError {
    pub(crate) fn invalid(pointer: &str, message: impl Into<String>) -> OpenApiError {
        OpenApiError::Invalid {
            pointer: if pointer.is_empty() {
                "/".into()
            } else {
                pointer.into()
            },
            message: message.into(),
        }
    }
}

/// Parses a definition as JSON when it starts with `{`, as YAML otherwise.
pub fn parse_document(text: &str) -> Result<Value, OpenApiError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|error| {
            let message = error.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            OpenApiError::Syntax {
                line: error.line().max(1),
                column: error.column().max(1),
                message,
            }
        });
    }
    serde_yaml_ng::from_str::<Value>(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        let message = error.to_string();
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        OpenApiError::Syntax {
            line,
            column,
            message,
        }
    })
}

/// The document's flavour, from its `openapi` / `swagger` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

impl SpecVersion {
    pub fn of(document: &Value) -> Result<SpecVersion, OpenApiError> {
        if let Some(version) = document.get("openapi") {
            return match version.as_str() {
                Some(v) if v.starts_with("3.0") => Ok(SpecVersion::OpenApi30),
                Some(v) if v.starts_with("3.1") => Ok(SpecVersion::OpenApi31),
                _ => Err(OpenApiError::invalid(
                    "/openapi",
                    format!("expected \"3.0.x\" or \"3.1.x\", found {version}"),
                )),
            };
        }
        match document.get("swagger") {
            Some(Value::String(v)) if v == "2.0" => Ok(SpecVersion::Swagger2),
            Some(other) => Err(OpenApiError::invalid(
                "/swagger",
                format!("expected \"2.0\", found {other}"),
            )),
            None if document.is_object() => Err(OpenApiError::invalid(
                "",
                "expected an \"openapi\" (3.0.x, 3.1.x) or \"swagger\" (2.0) field",
            )),
            None => Err(OpenApiError::invalid(
                "",
                "expected an OpenAPI document (an object)",
            )),
        }
    }
}
