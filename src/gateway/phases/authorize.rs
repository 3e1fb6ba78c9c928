//! Phase "authenticate" (REST): the method's authorizer (a Lambda
//! authorizer, TOKEN or REQUEST; other types are refused as unsupported).
//! Runs after route, before the API key check; may set
//! `$context.authorizer.*` and the usage identifier key.

use std::time::Instant;

use bytes::Bytes;

use super::integrate::{function_arn, log_lambda_call, proxy_event_of};
use super::route::Routed;
use crate::gateway::compile::CompiledStage;
use crate::gateway::context::RequestContext;
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::GatewayError;
use crate::gateway::services::Services;
use crate::model::GatewayResponseType;
use crate::observe::{ExecutionLog, Lossy};

/// Phase: the method's authorizer, if it has one.
pub(crate) async fn authorize(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    use crate::gateway::compile::Authorization;
    match &routed.method.authorization {
        Authorization::None => Ok(()),
        Authorization::Unsupported(kind) => {
            log.push_fmt(format_args!(
                "Execution failed due to configuration error: {kind} authorization is not supported by this version of Portico"
            ));
            Err(GatewayError::new(
                GatewayResponseType::AuthorizerConfigurationError,
            ))
        }
        Authorization::Lambda(authorizer) => {
            lambda_authorize(authorizer, stage, request, routed, context, services, log).await
        }
    }
}

/// A Lambda authorizer: identity sources, cache, the function, the policy.
pub(crate) async fn lambda_authorize(
    authorizer: &crate::auth::lambda_authorizer::CompiledAuthorizer,
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    use crate::auth::lambda_authorizer::{
        AuthorizerKind, Decision, IdentitySource, evaluate, parse_result,
    };
    let unauthorized = || GatewayError::new(GatewayResponseType::Unauthorized);
    let configuration = || GatewayError::new(GatewayResponseType::AuthorizerConfigurationError);
    log.push_fmt(format_args!(
        "Starting authorizer: {} for request: {}",
        authorizer.id, context.request_id
    ));
    let values: Vec<Option<String>> = authorizer
        .identity_sources
        .iter()
        .map(|source| match source {
            IdentitySource::Header(name) => request
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            IdentitySource::Query(name) => request
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            IdentitySource::StageVariable(name) => stage
                .stage_variables
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            IdentitySource::Context(name) => context.get(name),
        })
        .map(|v| v.filter(|v| !v.is_empty()))
        .collect();
    let missing = values.iter().any(Option::is_none);
    if missing && (authorizer.kind == AuthorizerKind::Token || !authorizer.ttl.is_zero()) {
        log.push("Unauthorized request: an identity source is missing or empty");
        return Err(unauthorized());
    }
    if let (Some(regex), Some(Some(token))) = (&authorizer.validation, values.first())
        && !regex.is_match(token)
    {
        log.push(
            "Unauthorized request: the token does not match the identity validation expression",
        );
        return Err(unauthorized());
    }
    let masked: Vec<String> = values
        .iter()
        .map(|v| {
            let v = v.as_deref().unwrap_or_default();
            let tail: String = v
                .chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        })
        .collect();
    log.push_fmt(format_args!("Incoming identity: {}", masked.join(", ")));
    let method_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        crate::model::function::REGION,
        crate::model::function::ACCOUNT_ID,
        stage.api_id,
        stage.stage_name,
        request.http_method,
        request.path
    );
    let key: String = values
        .iter()
        .map(|v| v.as_deref().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\u{1f}");
    let started = Instant::now();
    let result = match authorizer.cached(&key) {
        Some(cached) => {
            log.push("Using cached authorizer result");
            cached
        }
        None => {
            let event = match authorizer.kind {
                AuthorizerKind::Token => serde_json::json!({
                    "type": "TOKEN",
                    "authorizationToken": values.first().cloned().flatten().unwrap_or_default(),
                    "methodArn": method_arn,
                }),
                AuthorizerKind::Request => {
                    let mut event = proxy_event_of(stage, request, routed, context, &[]);
                    if let serde_json::Value::Object(map) = &mut event {
                        map.remove("body");
                        map.remove("isBase64Encoded");
                        map.insert("type".into(), "REQUEST".into());
                        map.insert("methodArn".into(), method_arn.clone().into());
                    }
                    event
                }
            };
            let arn = function_arn(services, &authorizer.function);
            log_lambda_call(log, &arn, None);
            let outcome = services
                .functions
                .invoke(&authorizer.function, Bytes::from(event.to_string()))
                .await;
            match outcome {
                Err(error) => {
                    log.push_fmt(format_args!(
                        "Execution failed due to configuration error: {error}"
                    ));
                    log.push("AuthorizerConfigurationException");
                    return Err(configuration());
                }
                Ok(crate::functions::Outcome::Error { payload, .. }) => {
                    let message = crate::integrations::lambda::error_message(&payload);
                    log.push_with("Authorizer result body before parsing: ", Lossy(&payload));
                    if message == "Unauthorized" {
                        log.push("Unauthorized request: the authorizer answered Unauthorized");
                        return Err(unauthorized());
                    }
                    log.push("Execution failed due to configuration error: Authorizer error");
                    log.push("AuthorizerConfigurationException");
                    return Err(configuration());
                }
                Ok(crate::functions::Outcome::Success(payload)) => {
                    log.push_with("Authorizer result body before parsing: ", Lossy(&payload));
                    match parse_result(&payload) {
                        Ok(result) => {
                            authorizer.store(key, &result);
                            result
                        }
                        Err(reason) => {
                            log.push_fmt(format_args!(
                                "Execution failed due to configuration error: {reason}"
                            ));
                            log.push("AuthorizerConfigurationException");
                            return Err(configuration());
                        }
                    }
                }
            }
        }
    };
    match evaluate(&result.statements, &method_arn) {
        Decision::Allow => {
            log.push_fmt(format_args!(
                "Using valid authorizer policy for principal: {}",
                result.principal_id
            ));
            log.push("Successfully completed authorizer execution");
            context.usage_identifier_key = result.usage_identifier_key.clone();
            let authorizer_context = &mut context.authorizer;
            authorizer_context.insert("principalId".into(), result.principal_id.clone().into());
            for (key, value) in &result.context {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                authorizer_context.insert(key.clone(), text.into());
            }
            authorizer_context.insert(
                "integrationLatency".into(),
                (started.elapsed().as_millis() as u64).into(),
            );
            Ok(())
        }
        Decision::ExplicitDeny => {
            log.push("The client is not authorized to perform this operation (explicit deny).");
            Err(GatewayError::with_message(
                GatewayResponseType::AccessDenied,
                "User is not authorized to access this resource with an explicit deny",
            ))
        }
        Decision::ImplicitDeny => {
            log.push("The client is not authorized to perform this operation.");
            Err(GatewayError::new(GatewayResponseType::AccessDenied))
        }
    }
}
