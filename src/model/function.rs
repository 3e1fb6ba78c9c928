//! `FunctionDefinition`: a local Lambda function (AWS's `CreateFunction`
//! fields that matter locally): runtime, handler, code directory,
//! environment, timeout, memory, reserved concurrency.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The account id every local ARN carries.
pub const ACCOUNT_ID: &str = "000000000000";
pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionDefinition {
    pub function_name: String,
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, ...
    pub runtime: String,
    /// `module.function` (python, node); informational for `provided`.
    pub handler: String,
    /// The code directory, relative to the project directory or absolute.
    pub code_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Seconds, 1 to 900 (AWS's default 3).
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    /// MB, 128 to 10240 (AWS's default 128).
    #[serde(default = "default_memory")]
    pub memory_size: u32,
    /// The most concurrent executions (workers); `None` is the local
    /// default, [`DEFAULT_CONCURRENCY`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

/// Workers a function may run at once when no reserved concurrency is set.
pub const DEFAULT_CONCURRENCY: u32 = 10;

fn default_timeout() -> u32 {
    3
}

fn default_memory() -> u32 {
    128
}

/// The language family of a runtime identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    Python,
    Node,
    /// The code directory's `bootstrap` executable speaks the Runtime API.
    Provided,
}

impl FunctionDefinition {
    pub fn new(name: &str, runtime: &str, handler: &str, code_uri: &str) -> FunctionDefinition {
        FunctionDefinition {
            function_name: name.to_string(),
            runtime: runtime.to_string(),
            handler: handler.to_string(),
            code_uri: code_uri.to_string(),
            description: None,
            environment: BTreeMap::new(),
            timeout: default_timeout(),
            memory_size: default_memory(),
            reserved_concurrent_executions: None,
        }
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}",
            self.function_name
        )
    }

    pub fn kind(&self) -> Option<RuntimeKind> {
        runtime_kind(&self.runtime)
    }

    /// The code directory, resolved against the project directory.
    pub fn code_dir(&self, project_dir: &Path) -> PathBuf {
        let path = Path::new(&self.code_uri);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            project_dir.join(path)
        }
    }

    pub fn concurrency(&self) -> u32 {
        self.reserved_concurrent_executions
            .unwrap_or(DEFAULT_CONCURRENCY)
            .max(1)
    }

    /// `CreateFunction`'s checks that apply locally.
    pub fn validate(&self) -> Result<(), FunctionError> {
        let name = &self.function_name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(FunctionError::Name(name.clone()));
        }
        if self.kind().is_none() {
            return Err(FunctionError::Runtime(self.runtime.clone()));
        }
        if self.kind() != Some(RuntimeKind::Provided)
            && !self
                .handler
                .rsplit_once('.')
                .is_some_and(|(module, function)| !module.is_empty() && !function.is_empty())
        {
            return Err(FunctionError::Handler(self.handler.clone()));
        }
        if !(1..=900).contains(&self.timeout) {
            return Err(FunctionError::Timeout(self.timeout));
        }
        if !(128..=10240).contains(&self.memory_size) {
            return Err(FunctionError::MemorySize(self.memory_size));
        }
        if self.reserved_concurrent_executions == Some(0) {
            return Err(FunctionError::ZeroConcurrency);
        }
        Ok(())
    }
}

/// A function definition `CreateFunction` would refuse; each holds the
/// value refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    #[error("Function name must be 1 to 64 characters of a-zA-Z0-9-_: {0:?}")]
    Name(String),
    #[error("Unsupported runtime {0:?}: expected python3.x, nodejs*, or provided*")]
    Runtime(String),
    #[error("Handler must be module.function (e.g. app.handler): {0:?}")]
    Handler(String),
    #[error("Timeout must be 1 to 900 seconds: {0}")]
    Timeout(u32),
    #[error("Memory size must be 128 to 10240 MB: {0}")]
    MemorySize(u32),
    #[error("Reserved concurrency 0 would never run the function")]
    ZeroConcurrency,
}

pub fn runtime_kind(runtime: &str) -> Option<RuntimeKind> {
    if runtime.starts_with("python3") {
        Some(RuntimeKind::Python)
    } else if runtime.starts_with("nodejs") {
        Some(RuntimeKind::Node)
    } else if runtime.starts_with("provided") {
        Some(RuntimeKind::Provided)
    } else {
        None
    }
}

/// The function a Lambda integration or authorizer URI names, with its
/// qualifier (alias or version) if any:
/// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]/invocations`,
/// or a bare function ARN or name.
pub fn function_from_uri(uri: &str) -> Option<(&str, Option<&str>)> {
    let arn = match uri.find("/functions/") {
        Some(i) => {
            let rest = &uri[i + "/functions/".len()..];
            rest.strip_suffix("/invocations").unwrap_or(rest)
        }
        None => uri,
    };
    let tail = match arn.find(":function:") {
        Some(i) => &arn[i + ":function:".len()..],
        None if !arn.contains(':') && !arn.contains('/') => arn,
        None => return None,
    };
    let (name, qualifier) = match tail.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (tail, None),
    };
    (!name.is_empty()).then_some((name, qualifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_from_integration_uris() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello/invocations";
        assert_eq!(function_from_uri(uri), Some(("hello", None)));
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello:live/invocations";
        assert_eq!(function_from_uri(uri), Some(("hello", Some("live"))));
        assert_eq!(
            function_from_uri("arn:aws:lambda:us-east-1:000000000000:function:f:3"),
            Some(("f", Some("3")))
        );
        assert_eq!(function_from_uri("hello"), Some(("hello", None)));
        assert_eq!(function_from_uri("http://example.com/x"), None);
    }
}
