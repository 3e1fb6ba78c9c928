//! `Stage`: a named pointer at a deployment, with stage variables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// AWS `Stage`. Only stages are served; what they serve is the deployment
/// they point at, never the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Stage variables: `${stageVariables.name}` in URIs, `$stageVariables`
    /// in templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
    /// A canary: another deployment taking a share of the stage's traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_settings: Option<CanarySettings>,
    /// The stage's response cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache_cluster_enabled: bool,
    /// AWS's cache sizes in GB (`0.5`, `1.6`, ...); locally the cache holds
    /// at most [`LOCAL_CACHE_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_cluster_size: Option<String>,
    /// Per-method settings by `resourcePath/httpMethod` (`~1pets/GET`,
    /// slashes escaped as `~1`), and `*/*` for the stage's default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_settings: BTreeMap<String, MethodSetting>,
}

/// AWS `MethodSetting` (the throttling part is served; the rest is kept).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caching_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_ttl_in_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_authorization_for_cache_control: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthorized_cache_control_header_strategy: Option<String>,
}

/// The most bytes a stage's local response cache holds.
pub const LOCAL_CACHE_BYTES: usize = 64 << 20;

impl Stage {
    /// A stage pointing at `deployment_id`, with nothing else set.
    pub fn new(stage_name: &str, deployment_id: &str) -> Stage {
        Stage {
            stage_name: stage_name.to_string(),
            deployment_id: deployment_id.to_string(),
            description: None,
            variables: BTreeMap::new(),
            created_date: None,
            last_updated_date: None,
            canary_settings: None,
            method_settings: BTreeMap::new(),
            cache_cluster_enabled: false,
            cache_cluster_size: None,
        }
    }

    /// The setting that applies to `verb` on `resource_path`: the method's
    /// own (`~1pets~1{id}/GET`, or unescaped), else the stage's `*/*`.
    pub fn method_setting(&self, resource_path: &str, verb: &str) -> Option<&MethodSetting> {
        let escaped = format!("{}/{verb}", resource_path.replace('/', "~1"));
        let plain = format!("{resource_path}/{verb}");
        self.method_settings
            .get(&escaped)
            .or_else(|| self.method_settings.get(&plain))
            .or_else(|| self.method_settings.get("*/*"))
    }
}

/// AWS `CanarySettings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanarySettings {
    pub deployment_id: String,
    /// The share of requests the canary serves, 0.0 to 100.0.
    #[serde(default)]
    pub percent_traffic: f64,
    /// Stage variables the canary sees instead of the stage's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variable_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub use_stage_cache: bool,
}

/// Why a stage setting was refused: AWS's `BadRequestException` rules for
/// stage names, stage variables and a canary's `percentTraffic`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StageError {
    #[error("percentTraffic must be between 0.0 and 100.0: {0}")]
    PercentTraffic(f64),
    #[error("Stage name only allows a-zA-Z0-9_- and at most 128 characters: {0:?}")]
    Name(String),
    #[error("Stage variable name only allows [A-Za-z0-9_]: {0:?}")]
    VariableName(String),
    #[error(
        "Stage variable value only allows [A-Za-z0-9-._~:/?#&=,] and at most 512 characters: {0:?}"
    )]
    VariableValue(String),
}

/// AWS's bounds for `percentTraffic`.
pub fn validate_percent_traffic(percent: f64) -> Result<(), StageError> {
    if percent.is_finite() && (0.0..=100.0).contains(&percent) {
        Ok(())
    } else {
        Err(StageError::PercentTraffic(percent))
    }
}

/// AWS's rule for stage names: alphanumerics, hyphens and underscores, at
/// most 128 characters.
pub fn validate_stage_name(name: &str) -> Result<(), StageError> {
    if name.is_empty()
        || name.len() > 128
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(StageError::Name(name.to_string()));
    }
    Ok(())
}

/// AWS's rule for stage variable names (`[A-Za-z0-9_]+`) and values
/// (`[A-Za-z0-9-._~:/?#&=,]+`, at most 512 characters).
pub fn validate_stage_variable(name: &str, value: &str) -> Result<(), StageError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StageError::VariableName(name.to_string()));
    }
    if value.len() > 512
        || !value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'&' | b'=' | b','
                )
        })
    {
        return Err(StageError::VariableValue(value.to_string()));
    }
    Ok(())
}
