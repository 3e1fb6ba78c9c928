//! Phase "API key" (REST): the key of a method with `apiKeyRequired`, and
//! its usage plan's throttle and quota. Runs after the authorizer (whose
//! `usageIdentifierKey` may be the key); sets `$context.identity.apiKey`.

use crate::gateway::compile::{CompiledMethod, CompiledStage};
use crate::gateway::context::RequestContext;
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::GatewayError;
use crate::gateway::services::Services;
use crate::model::GatewayResponseType;
use crate::observe::ExecutionLog;

/// Phase: the API key of a method that requires one, and its usage plan's
/// throttle and quota.
pub(crate) fn api_key(
    stage: &CompiledStage,
    request: &MethodRequest,
    method: &CompiledMethod,
    context: &mut RequestContext,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    let Some(keys) = services
        .api_keys
        .as_ref()
        .filter(|_| method.api_key_required)
    else {
        return Ok(());
    };
    let presented = if stage.api_key_from_authorizer {
        context.usage_identifier_key.clone()
    } else {
        request
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let checked = keys.keys.load().check(
        presented.as_deref(),
        (&stage.api_id, &stage.stage_name),
        (&context.resource_path, &context.http_method),
        &keys.usage,
        now,
    );
    use crate::auth::api_keys::Refusal;
    match checked {
        Ok(id) => {
            log.push_fmt(format_args!("API Key {id} authorized"));
            context.api_key = presented.map(|value| (value, id));
            Ok(())
        }
        Err(Refusal::Forbidden) => {
            log.push("API Key not authorized: missing, unknown, disabled, or in no usage plan for this stage");
            Err(GatewayError::new(GatewayResponseType::InvalidApiKey))
        }
        Err(Refusal::Throttled) => {
            log.push("Request throttled by the usage plan");
            Err(GatewayError::new(GatewayResponseType::Throttled))
        }
        Err(Refusal::QuotaExceeded) => {
            log.push("Usage plan quota exceeded");
            Err(GatewayError::new(GatewayResponseType::QuotaExceeded))
        }
    }
}
