//! Lambda authorizers (TOKEN and REQUEST): identity sources, the event the
//! function gets, the IAM policy it returns evaluated against the method
//! ARN, and the result cache keyed by the identity sources.
//!
//! AWS's behaviour (API Gateway developer guide, "Use API Gateway Lambda
//! authorizers", and the knowledge-center articles on 401 and 403 errors):
//! a missing identity source or one failing `identityValidationExpression`
//! is 401 `{"message":"Unauthorized"}` without calling the function; a
//! function error whose message is `Unauthorized` is 401; a policy that
//! denies the method ARN is 403 (`... with an explicit deny` when a Deny
//! statement matches); any other function failure or a malformed answer is
//! 500 `AuthorizerConfigurationException`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::{Map, Value};

use crate::model::Authorizer;

/// AWS's default result TTL.
pub const DEFAULT_TTL_SECONDS: u32 = 300;
/// At most this many cached results per authorizer (oldest dropped first).
const CACHE_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    Header(String),
    Query(String),
    StageVariable(String),
    Context(String),
}

impl IdentitySource {
    fn parse(text: &str) -> Result<IdentitySource, String> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("method.request.header.") {
            Ok(IdentitySource::Header(name.to_ascii_lowercase()))
        } else if let Some(name) = text.strip_prefix("method.request.querystring.") {
            Ok(IdentitySource::Query(name.to_string()))
        } else if let Some(name) = text.strip_prefix("stageVariables.") {
            Ok(IdentitySource::StageVariable(name.to_string()))
        } else if let Some(name) = text.strip_prefix("context.") {
            Ok(IdentitySource::Context(name.to_string()))
        } else {
            Err(format!(
                "invalid identity source {text:?} (expected method.request.header.X, method.request.querystring.X, stageVariables.X or context.X)"
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerKind {
    Token,
    Request,
}

/// What a successful authorization gives the rest of the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorized {
    pub principal_id: String,
    /// The policy's statements, evaluated per method ARN (a cached result
    /// is reused for other methods, as on AWS).
    pub statements: Vec<Statement>,
    pub context: Map<String, Value>,
    pub usage_identifier_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// Why the policy does not let the request through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

#[derive(Debug)]
pub struct CompiledAuthorizer {
    pub id: String,
    pub name: String,
    pub kind: AuthorizerKind,
    pub function: String,
    pub identity_sources: Vec<IdentitySource>,
    pub validation: Option<Regex>,
    pub ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Authorized)>>,
}

impl CompiledAuthorizer {
    /// Compiles a Lambda authorizer; `uri` already has its stage variables
    /// substituted.
    pub fn compile(authorizer: &Authorizer, uri: &str) -> Result<CompiledAuthorizer, String> {
        let kind = match authorizer.authorizer_type.as_str() {
            "TOKEN" => AuthorizerKind::Token,
            "REQUEST" => AuthorizerKind::Request,
            other => {
                return Err(format!(
                    "authorizer {}: type {other} is not supported locally (TOKEN and REQUEST are)",
                    authorizer.name
                ));
            }
        };
        let function = crate::model::function_from_uri(uri)
            .map(|(name, _)| name.to_string())
            .ok_or_else(|| {
                format!(
                    "authorizer {}: invalid authorizerUri {uri:?}",
                    authorizer.name
                )
            })?;
        let identity_sources = match authorizer.identity_source.as_deref() {
            Some(sources) if !sources.trim().is_empty() => sources
                .split(',')
                .map(IdentitySource::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("authorizer {}: {e}", authorizer.name))?,
            _ if kind == AuthorizerKind::Token => {
                vec![IdentitySource::Header("authorization".into())]
            }
            _ => Vec::new(),
        };
        if kind == AuthorizerKind::Token
            && !matches!(identity_sources.as_slice(), [IdentitySource::Header(_)])
        {
            return Err(format!(
                "authorizer {}: a TOKEN authorizer's identity source is one header",
                authorizer.name
            ));
        }
        let validation = match authorizer.identity_validation_expression.as_deref() {
            Some(expression) if kind == AuthorizerKind::Token && !expression.is_empty() => {
                Some(Regex::new(&format!("^(?:{expression})$")).map_err(|e| {
                    format!(
                        "authorizer {}: identityValidationExpression: {e}",
                        authorizer.name
                    )
                })?)
            }
            _ => None,
        };
        Ok(CompiledAuthorizer {
            id: authorizer.id.clone(),
            name: authorizer.name.clone(),
            kind,
            function,
            identity_sources,
            validation,
            ttl: Duration::from_secs(u64::from(
                authorizer
                    .authorizer_result_ttl_in_seconds
                    .unwrap_or(DEFAULT_TTL_SECONDS),
            )),
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn cached(&self, key: &str) -> Option<Authorized> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(key) {
            Some((at, result)) if at.elapsed() < self.ttl => Some(result.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn store(&self, key: String, result: &Authorized) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), result.clone()));
    }
}

/// Reads an authorizer function's answer: `principalId`, `policyDocument`
/// with `Statement`s, optional `context` (string, number or boolean values)
/// and `usageIdentifierKey`.
pub fn parse_result(payload: &[u8]) -> Result<Authorized, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("Invalid JSON in response: {e}"))?;
    let principal_id = match value.get("principalId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("Invalid JSON in response: principalId is missing".into()),
    };
    let document = value
        .get("policyDocument")
        .filter(|d| d.is_object())
        .ok_or("Could not parse policy: policyDocument is missing")?;
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => return Err("Could not parse policy: Statement is missing".into()),
    };
    let strings = |value: Option<&Value>| -> Result<Vec<String>, String> {
        match value {
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or("Could not parse policy".to_string())
                })
                .collect(),
            _ => Err("Could not parse policy: a statement lacks Action or Resource".into()),
        }
    };
    let mut parsed = Vec::with_capacity(statements.len());
    for statement in statements {
        let allow = match statement.get("Effect").and_then(Value::as_str) {
            Some(effect) if effect.eq_ignore_ascii_case("allow") => true,
            Some(effect) if effect.eq_ignore_ascii_case("deny") => false,
            _ => return Err("Could not parse policy: Effect must be Allow or Deny".into()),
        };
        parsed.push(Statement {
            allow,
            actions: strings(statement.get("Action"))?,
            resources: strings(statement.get("Resource"))?,
        });
    }
    let context = match value.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => {
            if map.values().any(|v| v.is_object() || v.is_array()) {
                return Err(
                    "Invalid JSON in response: context values must be strings, numbers or booleans"
                        .into(),
                );
            }
            map.clone()
        }
        Some(_) => return Err("Invalid JSON in response: context is not an object".into()),
    };
    Ok(Authorized {
        principal_id,
        statements: parsed,
        context,
        usage_identifier_key: value
            .get("usageIdentifierKey")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// IAM-style wildcard match: `*` any run of characters, `?` one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Evaluates the policy for `method_arn`: an explicit Deny wins, then any
/// Allow; nothing matching is an implicit deny.
pub fn evaluate(statements: &[Statement], method_arn: &str) -> Decision {
    let applies = |s: &Statement| {
        s.actions
            .iter()
            .any(|a| wildcard_match(&a.to_ascii_lowercase(), "execute-api:invoke"))
            && s.resources.iter().any(|r| wildcard_match(r, method_arn))
    };
    if statements.iter().any(|s| !s.allow && applies(s)) {
        Decision::ExplicitDeny
    } else if statements.iter().any(|s| s.allow && applies(s)) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_policy_evaluation() {
        assert!(wildcard_match(
            "arn:aws:execute-api:*:*:abc/*/GET/*",
            "arn:aws:execute-api:us-east-1:0:abc/dev/GET/pets/7"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        let allow = |r: &str| Statement {
            allow: true,
            actions: vec!["execute-api:Invoke".into()],
            resources: vec![r.into()],
        };
        let deny = |r: &str| Statement {
            allow: false,
            actions: vec!["execute-api:*".into()],
            resources: vec![r.into()],
        };
        let arn = "arn:aws:execute-api:us-east-1:000000000000:api/dev/GET/pets";
        assert_eq!(evaluate(&[allow("*")], arn), Decision::Allow);
        assert_eq!(
            evaluate(&[allow("*"), deny("*/GET/*")], arn),
            Decision::ExplicitDeny
        );
        assert_eq!(evaluate(&[allow("*/POST/*")], arn), Decision::ImplicitDeny);
        assert_eq!(evaluate(&[], arn), Decision::ImplicitDeny);
    }

    #[test]
    fn results_are_parsed_strictly() {
        let ok = parse_result(br#"{"principalId": "u1", "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["*"]}]}, "context": {"tier": "gold", "n": 1, "b": true}}"#).unwrap();
        assert_eq!(ok.principal_id, "u1");
        assert_eq!(ok.context["tier"], "gold");
        for bad in [
            &br#"null"#[..],
            br#"{"policyDocument": {"Statement": []}}"#,
            br#"{"principalId": "u"}"#,
            br#"{"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}}"#,
            br#"{"principalId": "u", "policyDocument": {"Statement": []}, "context": {"o": {"a": 1}}}"#,
        ] {
            assert!(parse_result(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
