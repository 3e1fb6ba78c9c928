//! Phase "throttle": the account's token bucket, then the method's or
//! route's. Runs after authentication, before validation; changes nothing
//! but the buckets.

use crate::gateway::compile::CompiledMethod;
use crate::gateway::responses::GatewayError;
use crate::gateway::services::Services;
use crate::model::GatewayResponseType;
use crate::observe::ExecutionLog;

/// Phase: throttling, the account's bucket then the method's (AWS's
/// token buckets); either empty is 429 `Too Many Requests`.
pub(crate) fn throttle(
    method: &CompiledMethod,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    let account = services
        .account_throttle
        .as_ref()
        .is_some_and(|b| !b.admit());
    let method_limit = !account && method.throttle.as_ref().is_some_and(|b| !b.admit());
    if account || method_limit {
        log.push_fmt(format_args!(
            "Request throttled: the {} limit was exceeded",
            if account { "account" } else { "method" }
        ));
        return Err(GatewayError::new(GatewayResponseType::Throttled));
    }
    Ok(())
}
