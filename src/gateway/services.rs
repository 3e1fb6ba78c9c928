//! The clients and shared state every API type's phases use: the HTTP
//! integration's pool, the local functions, the account's throttle, API
//! keys and JWT key sets. Built once per gateway; cloned cheaply.

use std::sync::Arc;

use crate::integrations::HttpIntegration;

/// Clients the integrations share.
#[derive(Debug, Clone, Default)]
pub struct Services {
    pub http: HttpIntegration,
    pub functions: crate::functions::FunctionHost,
    /// The account-level bucket (none for test invoke, which AWS does not
    /// throttle).
    pub account_throttle: Option<Arc<crate::throttle::TokenBucket>>,
    /// API keys and usage plans, swapped on reload, and the quota counters
    /// (none for test invoke, which skips the API key check as AWS's does).
    pub api_keys: Option<ApiKeyServices>,
    /// JWT authorizers' key sets, by issuer.
    pub jwks: Arc<crate::auth::jwt::Jwks>,
}

#[derive(Debug, Clone)]
pub struct ApiKeyServices {
    pub keys: Arc<arc_swap::ArcSwap<crate::auth::api_keys::ApiKeys>>,
    pub usage: Arc<crate::auth::api_keys::UsageStore>,
}
