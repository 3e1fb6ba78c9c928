//! Phase "throttle": the account's token bucket, then the method's (REST)
//! or the route's (HTTP and WebSocket APIs). Runs after authentication,
//! before validation; changes nothing but the buckets. Each API type
//! answers a refusal its own way (REST's `THROTTLED` gateway response, an
//! HTTP API's 429 `{"message":"Too Many Requests"}`).

use crate::gateway::compile::CompiledMethod;
use crate::gateway::responses::GatewayError;
use crate::gateway::services::Services;
use crate::model::GatewayResponseType;
use crate::observe::ExecutionLog;
use crate::throttle::TokenBucket;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Account,
    Own,
}

/// Takes a token from the account's bucket, then (only when that one
/// admitted) from the method's or route's own; the one that was empty.
pub(crate) fn admit(services: &Services, own: Option<&TokenBucket>) -> Result<(), Exceeded> {
    if services
        .account_throttle
        .as_ref()
        .is_some_and(|b| !b.admit())
    {
        return Err(Exceeded::Account);
    }
    if own.is_some_and(|b| !b.admit()) {
        return Err(Exceeded::Own);
    }
    Ok(())
}

/// Phase: throttling, the account's bucket then the method's (AWS's
/// token buckets); either empty is 429 `Too Many Requests`.
pub(crate) fn throttle(
    method: &CompiledMethod,
    services: &Services,
    log: &mut ExecutionLog,
) -> Result<(), GatewayError> {
    admit(services, method.throttle.as_deref()).map_err(|exceeded| {
        log.push_fmt(format_args!(
            "Request throttled: the {} limit was exceeded",
            match exceeded {
                Exceeded::Account => "account",
                Exceeded::Own => "method",
            }
        ));
        GatewayError::new(GatewayResponseType::Throttled)
    })
}
