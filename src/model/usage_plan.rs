//! API keys and usage plans (AWS `ApiKey`, `UsagePlan`, usage plan keys).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// AWS `ApiKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// What clients send in `x-api-key`.
    pub value: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn enabled() -> bool {
    true
}

impl ApiKey {
    /// A new key with a generated 40-character value (AWS's length).
    pub fn generate(name: &str) -> ApiKey {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value: String = (0..40)
            .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
            .collect();
        ApiKey {
            id: super::ids::new_resource_id(),
            name: name.to_string(),
            value,
            enabled: true,
            description: None,
        }
    }
}

/// AWS `ThrottleSettings`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleSettings {
    pub burst_limit: u32,
    pub rate_limit: f64,
}

/// AWS `QuotaSettings`: `limit` requests per `period` (`DAY`, `WEEK`,
/// `MONTH`); `offset` requests are subtracted from the limit in the first
/// period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaSettings {
    pub limit: u64,
    pub period: String,
    #[serde(default)]
    pub offset: u64,
}

/// AWS `ApiStage` of a usage plan, with per-method throttles keyed
/// `/resource/path/VERB`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttle: BTreeMap<String, ThrottleSettings>,
}

/// AWS `UsagePlan`; `apiKeyIds` are its usage plan keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_stages: Vec<ApiStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSettings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_key_ids: Vec<String>,
}

/// Why a change to API keys or usage plans was refused; the messages are
/// AWS's where AWS has one (`Invalid API Key identifier specified: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsagePlanError {
    #[error("Invalid quota period {0}: expected DAY, WEEK or MONTH")]
    QuotaPeriod(String),
    #[error("Quota offset {offset} is larger than the limit {limit}")]
    QuotaOffset { offset: u64, limit: u64 },
    #[error("An API key needs a name")]
    KeyNameMissing,
    #[error("API Key value should be at least 20 characters")]
    KeyValueTooShort,
    #[error("API Key value already exists")]
    KeyValueExists,
    /// `api-key add --plan`: no plan with that id or name.
    #[error("no such usage plan: {0:?}")]
    NoSuchPlan(String),
    #[error("A usage plan needs a name")]
    PlanNameMissing,
    #[error("no such API: {0}")]
    NoSuchApi(String),
    #[error("API {api_name} has no stage {stage}")]
    NoSuchStage { api_name: String, stage: String },
    #[error("The rate limit must be a number, 0 or more")]
    RateLimit,
    #[error("Invalid API Key identifier specified: {0}")]
    InvalidKeyId(String),
    #[error("Invalid Usage Plan ID specified: {0}")]
    InvalidPlanId(String),
}

impl QuotaSettings {
    pub fn validate(&self) -> Result<(), UsagePlanError> {
        if !matches!(self.period.as_str(), "DAY" | "WEEK" | "MONTH") {
            return Err(UsagePlanError::QuotaPeriod(self.period.clone()));
        }
        if self.offset > self.limit {
            return Err(UsagePlanError::QuotaOffset {
                offset: self.offset,
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// The start of the period `unix_seconds` falls in, as Unix seconds:
    /// UTC midnight, Monday of the week, or the first of the month.
    pub fn period_start(&self, unix_seconds: i64) -> i64 {
        const DAY: i64 = 86_400;
        let day = unix_seconds.div_euclid(DAY);
        match self.period.as_str() {
            // 1970-01-01 was a Thursday: three days after a Monday.
            "WEEK" => (day - (day + 3).rem_euclid(7)) * DAY,
            "MONTH" => {
                // Julian day number of 1970-01-01.
                const EPOCH_JULIAN: i64 = 2_440_588;
                let date = time::OffsetDateTime::from_unix_timestamp(unix_seconds)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                    .date();
                let first = date.replace_day(1).unwrap_or(date);
                (i64::from(first.to_julian_day()) - EPOCH_JULIAN) * DAY
            }
            _ => day * DAY,
        }
    }
}

impl super::Project {
    /// Adds an API key: a generated value, or `value` (AWS: at least 20
    /// characters, unique); optionally joined to a usage plan (id or name).
    pub fn add_api_key(
        &mut self,
        name: &str,
        value: Option<&str>,
        plan: Option<&str>,
    ) -> Result<ApiKey, UsagePlanError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(UsagePlanError::KeyNameMissing);
        }
        let mut key = ApiKey::generate(name);
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            if value.len() < 20 {
                return Err(UsagePlanError::KeyValueTooShort);
            }
            key.value = value.to_string();
        }
        if self.api_keys.iter().any(|k| k.value == key.value) {
            return Err(UsagePlanError::KeyValueExists);
        }
        if let Some(plan) = plan {
            let plan = self
                .usage_plans
                .iter_mut()
                .find(|p| p.id == plan || p.name == plan)
                .ok_or_else(|| UsagePlanError::NoSuchPlan(plan.to_string()))?;
            plan.api_key_ids.push(key.id.clone());
        }
        self.api_keys.push(key.clone());
        Ok(key)
    }

    /// Adds a usage plan covering one API stage, with an optional throttle
    /// (rate, burst) and quota (limit, period); returns its id.
    pub fn add_usage_plan(
        &mut self,
        name: &str,
        api_id: &str,
        stage: &str,
        throttle: Option<ThrottleSettings>,
        quota: Option<QuotaSettings>,
    ) -> Result<String, UsagePlanError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(UsagePlanError::PlanNameMissing);
        }
        let api = self
            .rest_apis
            .iter()
            .find(|a| a.id == api_id)
            .ok_or_else(|| UsagePlanError::NoSuchApi(api_id.to_string()))?;
        if api.stage(stage).is_none() {
            return Err(UsagePlanError::NoSuchStage {
                api_name: api.name.clone(),
                stage: stage.to_string(),
            });
        }
        if let Some(throttle) = &throttle
            && !(throttle.rate_limit >= 0.0 && throttle.rate_limit.is_finite())
        {
            return Err(UsagePlanError::RateLimit);
        }
        let quota = match quota {
            Some(mut quota) => {
                quota.period = quota.period.to_ascii_uppercase();
                quota.validate()?;
                Some(quota)
            }
            None => None,
        };
        let plan = UsagePlan {
            id: super::new_resource_id(),
            name: name.to_string(),
            api_stages: vec![ApiStage {
                api_id: api_id.to_string(),
                stage: stage.to_string(),
                throttle: BTreeMap::new(),
            }],
            throttle,
            quota,
            api_key_ids: Vec::new(),
        };
        let id = plan.id.clone();
        self.usage_plans.push(plan);
        Ok(id)
    }

    /// Deletes an API key and its usage plan memberships.
    pub fn remove_api_key(&mut self, key_id: &str) -> Result<(), UsagePlanError> {
        let before = self.api_keys.len();
        self.api_keys.retain(|k| k.id != key_id);
        if self.api_keys.len() == before {
            return Err(UsagePlanError::InvalidKeyId(key_id.to_string()));
        }
        for plan in &mut self.usage_plans {
            plan.api_key_ids.retain(|k| k != key_id);
        }
        Ok(())
    }

    /// Deletes a usage plan.
    pub fn remove_usage_plan(&mut self, plan_id: &str) -> Result<(), UsagePlanError> {
        let before = self.usage_plans.len();
        self.usage_plans.retain(|p| p.id != plan_id);
        if self.usage_plans.len() == before {
            return Err(UsagePlanError::InvalidPlanId(plan_id.to_string()));
        }
        Ok(())
    }

    /// Adds a key to a plan (`member`) or takes it out.
    pub fn set_plan_key(
        &mut self,
        plan_id: &str,
        key_id: &str,
        member: bool,
    ) -> Result<(), UsagePlanError> {
        if !self.api_keys.iter().any(|k| k.id == key_id) {
            return Err(UsagePlanError::InvalidKeyId(key_id.to_string()));
        }
        let plan = self
            .usage_plans
            .iter_mut()
            .find(|p| p.id == plan_id)
            .ok_or_else(|| UsagePlanError::InvalidPlanId(plan_id.to_string()))?;
        plan.api_key_ids.retain(|k| k != key_id);
        if member {
            plan.api_key_ids.push(key_id.to_string());
        }
        Ok(())
    }

    /// Turns a key on or off (a disabled key is refused with 403).
    pub fn set_api_key_enabled(
        &mut self,
        key_id: &str,
        enabled: bool,
    ) -> Result<(), UsagePlanError> {
        let key = self
            .api_keys
            .iter_mut()
            .find(|k| k.id == key_id)
            .ok_or_else(|| UsagePlanError::InvalidKeyId(key_id.to_string()))?;
        key.enabled = enabled;
        Ok(())
    }
}
