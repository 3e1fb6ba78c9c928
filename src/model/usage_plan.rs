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

impl QuotaSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.period.as_str(), "DAY" | "WEEK" | "MONTH") {
            return Err(format!(
                "Invalid quota period {}: expected DAY, WEEK or MONTH",
                self.period
            ));
        }
        if self.offset > self.limit {
            return Err(format!(
                "Quota offset {} is larger than the limit {}",
                self.offset, self.limit
            ));
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
