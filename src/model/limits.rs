//! Length limits on what a project stores, so that no front door (the
//! control plane, an import, the app) can put megabytes into a name.
//!
//! AWS documents few of these; where it does, its number is used:
//! - a resource policy: 8,192 characters ("Length, in characters, of API
//!   Gateway resource policy", <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html>);
//! - names and descriptions: AWS documents no limit, so Portico allows
//!   1,024 and 4,096 characters (the longest a user would type or an
//!   importer would carry; a 9 MB name was accepted before).
//!
//! Owns the check; imports only `serde_json` (and `thiserror` for its error).

use serde_json::Value;

pub const MAX_NAME_CHARS: usize = 1024;
pub const MAX_DESCRIPTION_CHARS: usize = 4096;
pub const MAX_POLICY_CHARS: usize = 8192;

/// A field longer than its limit: where (a JSON pointer), which key, its
/// length and the limit, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {key} is {chars} characters long; at most {limit} are allowed")]
pub struct TooLong {
    pub pointer: String,
    pub key: String,
    pub chars: usize,
    pub limit: usize,
}

/// The first field of `document` (a project, an API...) longer than its
/// limit: where (a JSON pointer) and a message naming the limit.
pub fn check(document: &Value) -> Result<(), TooLong> {
    let mut pointer = String::new();
    walk(document, &mut pointer)
}

fn limit_of(key: &str) -> Option<usize> {
    match key {
        "name" | "stageName" | "pathPart" => Some(MAX_NAME_CHARS),
        "description" => Some(MAX_DESCRIPTION_CHARS),
        "policy" => Some(MAX_POLICY_CHARS),
        _ => None,
    }
}

fn walk(value: &Value, pointer: &mut String) -> Result<(), TooLong> {
    match value {
        Value::Object(entries) => {
            for (key, value) in entries {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if let (Some(limit), Value::String(text)) = (limit_of(key), value) {
                    let chars = text.chars().count();
                    if chars > limit {
                        return Err(TooLong {
                            pointer: pointer.clone(),
                            key: key.clone(),
                            chars,
                            limit,
                        });
                    }
                }
                walk(value, pointer)?;
                pointer.truncate(length);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(itoa::Buffer::new().format(index));
                walk(item, pointer)?;
                pointer.truncate(length);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_names_descriptions_and_policies_are_found_with_their_place() {
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        let error = check(&json!({"restApis": [{"name": "ok"}, {"name": long}]}))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("/restApis/1/name: name is 1025 characters"),
            "{error}"
        );
        let policy = "p".repeat(MAX_POLICY_CHARS + 1);
        assert!(check(&json!({"restApis": [{"policy": policy}]})).is_err());
        let description = "d".repeat(MAX_DESCRIPTION_CHARS);
        assert!(
            check(&json!({"x": {"description": description, "name": "é".repeat(1024)}})).is_ok()
        );
    }
}
