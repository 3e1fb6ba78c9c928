//! Phase "authenticate" of HTTP APIs: a route's JWT authorizer or its
//! REQUEST (Lambda) authorizer. Runs after throttling, before integrate;
//! gives the `requestContext.authorizer` the integration sees.

use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Map, Value, json};

use super::mapping::Sources;
use super::payload::{event_v1, event_v2};
use super::stage::{HttpRequest, LambdaAuthorizer, RouteJwt, message};
use crate::gateway::responses::Reply;
use crate::gateway::services::Services;

/// `requestContext.authorizer.jwt`: the claims (as strings, as AWS passes
/// them) and the token's scopes.
pub(crate) fn authorizer_context(verified: &crate::auth::jwt::Verified) -> Value {
    let claims: Map<String, Value> = verified
        .claims
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or(i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    let scopes = if verified.scopes.is_empty() {
        Value::Null
    } else {
        json!(verified.scopes)
    };
    json!({"jwt": {"claims": claims, "scopes": scopes}})
}

/// A route with a REQUEST authorizer: the identity sources (all must be
/// there, else 401 without calling the function), the cached answer or the
/// function's, read as a simple response or an IAM policy on the route's
/// ARN; 403 `Forbidden` when it denies, 500 when it fails. The context the
/// function returned on success.
pub(crate) async fn authorize_lambda(
    authorizer: &LambdaAuthorizer,
    sources: &Sources<'_>,
    services: &Services,
) -> Result<Value, Reply> {
    let mut identity = Vec::new();
    for source in &authorizer.identity_sources {
        let value = source
            .strip_prefix('$')
            .and_then(|expression| sources.lookup(expression))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| message(401, "Unauthorized"))?;
        identity.push(value);
    }
    let key = identity.join("\u{1f}");
    let caching = !authorizer.ttl.is_zero() && !identity.is_empty();
    if caching
        && let Some((at, answer)) = authorizer
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
        && at.elapsed() < authorizer.ttl
    {
        return answer.ok_or_else(|| message(403, "Forbidden"));
    }
    let request = sources.request;
    let stage = sources.stage;
    let arn = format!(
        "arn:aws:execute-api:us-east-1:000000000000:{}/{}/{}{}",
        stage.api_id, stage.stage_name, request.method, request.path
    );
    let event = if authorizer.version_2 {
        let mut event = event_v2(stage, sources.route_key, sources.parameters, request);
        if let Some(object) = event.as_object_mut() {
            object.remove("body");
            object.remove("isBase64Encoded");
            object.insert("type".into(), json!("REQUEST"));
            object.insert("routeArn".into(), json!(arn));
            object.insert("identitySource".into(), json!(identity));
        }
        event
    } else {
        let mut event = event_v1(stage, sources.route_key, sources.parameters, request);
        if let Some(object) = event.as_object_mut() {
            object.remove("body");
            object.remove("isBase64Encoded");
            object.insert("type".into(), json!("REQUEST"));
            object.insert("methodArn".into(), json!(arn));
            object.insert("identitySource".into(), json!(identity.join(",")));
        }
        event
    };
    let outcome = services
        .functions
        .invoke(&authorizer.function, Bytes::from(event.to_string()))
        .await;
    let payload = match outcome {
        Ok(crate::functions::Outcome::Success(payload)) => payload,
        _ => return Err(message(500, "Internal Server Error")),
    };
    let answer: Option<Value> = if authorizer.simple {
        let value: Value =
            serde_json::from_slice(&payload).map_err(|_| message(500, "Internal Server Error"))?;
        match value.get("isAuthorized") {
            Some(Value::Bool(true)) => Some(value.get("context").cloned().unwrap_or(json!({}))),
            Some(Value::Bool(false)) => None,
            _ => return Err(message(500, "Internal Server Error")),
        }
    } else {
        let parsed = crate::auth::lambda_authorizer::parse_result(&payload)
            .map_err(|_| message(500, "Internal Server Error"))?;
        match crate::auth::lambda_authorizer::evaluate(&parsed.statements, &arn) {
            crate::auth::lambda_authorizer::Decision::Allow => {
                let mut context = parsed.context.clone();
                context.insert("principalId".into(), json!(parsed.principal_id));
                Some(Value::Object(context))
            }
            _ => None,
        }
    };
    if caching {
        authorizer
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (std::time::Instant::now(), answer.clone()));
    }
    answer.ok_or_else(|| message(403, "Forbidden"))
}

/// A JWT route: the token from its header (with or without `Bearer `),
/// checked; 401 `Unauthorized` or 403 `Forbidden` with AWS's
/// `www-authenticate` otherwise.
pub(crate) async fn authorize(
    jwt: &RouteJwt,
    request: &HttpRequest,
    services: &Services,
) -> Result<crate::auth::jwt::Verified, Reply> {
    let unauthorized = |error: &str, description: &str, status: u16, text: &str| {
        let mut reply = message(status, text);
        let scope = jwt.scopes.join(" ");
        if let Ok(value) = HeaderValue::from_str(&format!(
            "Bearer scope=\"{scope}\" error=\"{error}\" error_description=\"{description}\""
        )) {
            reply.headers.insert(http::header::WWW_AUTHENTICATE, value);
        }
        reply
    };
    let token = request
        .headers
        .get(jwt.header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| message(401, "Unauthorized"))?;
    services
        .jwks
        .verify(token, &jwt.issuer, &jwt.audiences, &jwt.scopes)
        .await
        .map_err(|error| {
            if error.insufficient_scope {
                unauthorized("insufficient_scope", &error.description, 403, "Forbidden")
            } else {
                unauthorized("invalid_token", &error.description, 401, "Unauthorized")
            }
        })
}
