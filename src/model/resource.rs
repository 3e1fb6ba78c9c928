//! `Resource`: one node of an API's resource tree (`pathPart`, `path`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Method;

/// AWS `Resource`, as `GetResources` returns it. The root resource has no
/// `parentId` and no `pathPart`, and its `path` is `/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    /// Methods by HTTP verb (`GET`, `POST`, ..., or `ANY`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, Method>,
}

impl Resource {
    pub fn root() -> Resource {
        Resource {
            id: super::ids::new_rest_api_id(),
            parent_id: None,
            path_part: None,
            path: "/".into(),
            resource_methods: BTreeMap::new(),
        }
    }
}

/// Why a resource operation was refused. The messages are AWS's
/// `BadRequestException` / `ConflictException` messages for `CreateResource`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error(
        "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace."
    )]
    InvalidPathPart(String),
    #[error("Another resource with the same parent already has this name: {0}")]
    Exists(String),
    #[error(
        "A sibling of this resource already has a variable path part -- only one is allowed: {0}"
    )]
    ConflictingVariable(String),
    #[error("Cannot create a child of a resource with a greedy path variable: {0}")]
    UnderGreedy(String),
    #[error("Invalid Resource identifier specified: {0}")]
    NoParent(String),
    #[error("The root resource cannot be renamed or deleted")]
    Root,
}

/// Validates a path part as AWS does: `a-zA-Z0-9._-`, or a `{name}` variable,
/// or a greedy `{name+}` variable.
pub fn validate_path_part(path_part: &str) -> Result<(), ResourceError> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let ok = if let Some(inner) = path_part
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
    {
        plain(inner.strip_suffix('+').unwrap_or(inner))
    } else {
        plain(path_part)
    };
    if ok {
        Ok(())
    } else {
        Err(ResourceError::InvalidPathPart(path_part.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_validate_as_aws() {
        for good in ["pets", "{id}", "{proxy+}", "a.b_c-d", "v1"] {
            assert!(validate_path_part(good).is_ok(), "{good}");
        }
        for bad in [
            "", "{}", "{+}", "pe ts", "a/b", "{id", "id}", "{a}b", "{a+b}", "%20",
        ] {
            assert!(validate_path_part(bad).is_err(), "{bad}");
        }
    }
}
