//! The gateway's throttling settings: the token buckets themselves live in
//! [`crate::throttle`] (below `auth`, whose usage plans use them too) and
//! are re-exported here; this module turns an apigatewayv2 stage's route
//! settings into a bucket.

pub use crate::throttle::*;

/// The bucket an apigatewayv2 stage's settings give a route (HTTP and
/// WebSocket APIs): `routeSettings` for its key, else
/// `defaultRouteSettings`; none when neither sets a limit. A limit left out
/// takes the account's.
pub fn route_bucket(stage: &crate::model::HttpStage, route_key: &str) -> Option<TokenBucket> {
    stage
        .route_settings
        .get(route_key)
        .or(stage.default_route_settings.as_ref())
        .filter(|s| s.throttling_rate_limit.is_some() || s.throttling_burst_limit.is_some())
        .map(|s| {
            let defaults = Limits::ACCOUNT_DEFAULT;
            TokenBucket::new(
                Limits {
                    rate: s.throttling_rate_limit.unwrap_or(defaults.rate),
                    burst: s.throttling_burst_limit.map_or(defaults.burst, u64::from),
                },
                monotonic(),
            )
        })
}
