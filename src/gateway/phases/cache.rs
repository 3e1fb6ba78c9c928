//! Phase "cache lookup" (REST): the stage cache for a method with caching
//! on. Runs after validation; a hit ends the request with the cached reply,
//! a miss gives the key the answer is stored under.

use super::route::Routed;
use crate::gateway::compile::CompiledStage;
use crate::gateway::endpoint::header_text;
use crate::gateway::request::MethodRequest;
use crate::gateway::responses::{GatewayError, Reply};
use crate::model::GatewayResponseType;
use crate::observe::ExecutionLog;

pub(crate) enum CacheLookup {
    Hit(Reply),
    /// Not cached (or invalidated): the key to store the answer under.
    Miss(String),
}

/// The `Warning` a response carries when its `Cache-Control: max-age=0`
/// was ignored (`SUCCEED_WITH_RESPONSE_HEADER`). AWS documents that it adds
/// a warning header but not its text: this text is Portico's.
pub const CACHE_CONTROL_IGNORED_WARNING: &str =
    "199 - \"Cache-Control header ignored: the caller is not authorized to invalidate the cache\"";

/// Phase: the stage cache, for a method with caching on. The key is the
/// verb, the resource path and the values of the integration's
/// `cacheKeyParameters`. `Cache-Control: max-age=0` invalidates the entry
/// when the method does not require authorization for that; when it does,
/// the caller would need IAM's `execute-api:InvalidateCache`, which no
/// local caller has yet, so the method's
/// `unauthorizedCacheControlHeaderStrategy` decides: refuse with 403, or
/// ignore the header with or without a `Warning`.
pub(crate) fn cache_lookup(
    stage: &CompiledStage,
    request: &MethodRequest,
    routed: &Routed,
    log: &mut ExecutionLog,
    warning: &mut Option<&'static str>,
) -> Result<Option<CacheLookup>, GatewayError> {
    let (Some(cache), Some(caching)) = (stage.cache.as_ref(), routed.method.caching.as_ref())
    else {
        return Ok(None);
    };
    let mut key = format!("{} {}", routed.method.http_method, routed.resource_path);
    for parameter in &caching.key_parameters {
        let value = if let Some(name) = parameter.strip_prefix("method.request.path.") {
            routed
                .path_parameters
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        } else if let Some(name) = parameter.strip_prefix("method.request.querystring.") {
            request
                .query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        } else {
            parameter
                .strip_prefix("method.request.header.")
                .map(|name| header_text(&request.headers, name.to_ascii_lowercase().as_str()))
        };
        key.push('\u{1f}');
        key.push_str(parameter);
        key.push('=');
        key.push_str(value.as_deref().unwrap_or_default());
    }
    let invalidate = header_text(&request.headers, http::header::CACHE_CONTROL)
        .split(',')
        .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"));
    if invalidate && !caching.require_authorization {
        log.push("Invalidating the cache entry (Cache-Control: max-age=0)");
        cache.remove(&key);
        return Ok(Some(CacheLookup::Miss(key)));
    }
    if invalidate {
        use crate::gateway::compile::UnauthorizedCacheControl as U;
        match caching.unauthorized {
            U::FailWith403 => {
                log.push(
                    "Cache invalidation refused: the caller is not authorized \
                     (unauthorizedCacheControlHeaderStrategy FAIL_WITH_403)",
                );
                return Err(GatewayError::new(GatewayResponseType::AccessDenied));
            }
            U::SucceedWithResponseHeader => {
                log.push(
                    "Ignoring Cache-Control: the caller is not authorized to invalidate the cache",
                );
                *warning = Some(CACHE_CONTROL_IGNORED_WARNING);
            }
            U::SucceedWithoutResponseHeader => {
                log.push(
                    "Ignoring Cache-Control: the caller is not authorized to invalidate the cache",
                );
            }
        }
    }
    Ok(Some(match cache.get(&key) {
        Some(reply) => {
            log.push("Sending response from the stage cache");
            CacheLookup::Hit(reply)
        }
        None => CacheLookup::Miss(key),
    }))
}
