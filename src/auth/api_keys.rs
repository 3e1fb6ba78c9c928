//! API keys and usage plans at request time: a method with
//! `apiKeyRequired` needs an enabled key (from `x-api-key`, or the
//! authorizer's `usageIdentifierKey`) in a usage plan that includes the API
//! stage; the plan throttles each key (per method where the plan says so)
//! and counts its quota, which survives restarts (`usage.json` in the
//! project directory).
//!
//! AWS's answers: a missing, unknown or disabled key, or a key without a
//! plan for the stage, is 403 `{"message":"Forbidden"}`; over the plan's
//! throttle 429 `{"message":"Too Many Requests"}`; over its quota 429
//! `{"message":"Limit Exceeded"}`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{Project, QuotaSettings};
use crate::throttle::{Limits, TokenBucket, monotonic};

/// What a key may do on one API stage, through one plan.
#[derive(Debug)]
struct Grant {
    plan_id: String,
    api_id: String,
    stage: String,
    throttle: Option<TokenBucket>,
    /// `/resource/path/VERB` -> bucket.
    method_throttles: HashMap<String, TokenBucket>,
    quota: Option<QuotaSettings>,
}

#[derive(Debug)]
struct KeyEntry {
    id: String,
    enabled: bool,
    grants: Vec<Grant>,
}

/// The project's keys and plans, compiled with the routes.
#[derive(Debug, Default)]
pub struct ApiKeys {
    by_value: HashMap<String, KeyEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403 Forbidden.
    Forbidden,
    /// 429 Too Many Requests.
    Throttled,
    /// 429 Limit Exceeded.
    QuotaExceeded,
}

impl ApiKeys {
    pub fn compile(project: &Project) -> ApiKeys {
        let mut by_value = HashMap::new();
        for key in &project.api_keys {
            let mut grants = Vec::new();
            for plan in project
                .usage_plans
                .iter()
                .filter(|p| p.api_key_ids.contains(&key.id))
            {
                for stage in &plan.api_stages {
                    let bucket = |t: &crate::model::ThrottleSettings| {
                        TokenBucket::new(
                            Limits {
                                rate: t.rate_limit,
                                burst: u64::from(t.burst_limit),
                            },
                            monotonic(),
                        )
                    };
                    grants.push(Grant {
                        plan_id: plan.id.clone(),
                        api_id: stage.api_id.clone(),
                        stage: stage.stage.clone(),
                        throttle: plan.throttle.as_ref().map(bucket),
                        method_throttles: stage
                            .throttle
                            .iter()
                            .map(|(k, t)| (k.clone(), bucket(t)))
                            .collect(),
                        quota: plan.quota.clone(),
                    });
                }
            }
            by_value.insert(
                key.value.clone(),
                KeyEntry {
                    id: key.id.clone(),
                    enabled: key.enabled,
                    grants,
                },
            );
        }
        ApiKeys { by_value }
    }

    /// Checks a request for `verb resource_path` on `api_id`/`stage` that
    /// presented `key` (if any), counting it against the plan's quota.
    /// Returns the key's id when it may go on.
    pub fn check(
        &self,
        key: Option<&str>,
        (api_id, stage): (&str, &str),
        (resource_path, verb): (&str, &str),
        usage: &UsageStore,
        now_unix: i64,
    ) -> Result<String, Refusal> {
        let entry = key
            .and_then(|k| self.by_value.get(k))
            .filter(|e| e.enabled)
            .ok_or(Refusal::Forbidden)?;
        let grant = entry
            .grants
            .iter()
            .find(|g| g.api_id == api_id && g.stage == stage)
            .ok_or(Refusal::Forbidden)?;
        let method_key = format!("{resource_path}/{verb}");
        let bucket = grant
            .method_throttles
            .get(&method_key)
            .or(grant.throttle.as_ref());
        if bucket.is_some_and(|b| !b.admit()) {
            return Err(Refusal::Throttled);
        }
        if let Some(quota) = &grant.quota
            && !usage.take(&grant.plan_id, &entry.id, quota, now_unix)
        {
            return Err(Refusal::QuotaExceeded);
        }
        Ok(entry.id.clone())
    }
}

/// Quota counters by (plan id, key id): (period start, requests counted,
/// first period?), kept in `usage.json` beside the project file.
/// (period start, requests counted, is this the first period).
type Counter = (i64, u64, bool);

#[derive(Debug, Default)]
pub struct UsageStore {
    path: Option<PathBuf>,
    counters: Mutex<HashMap<(String, String), Counter>>,
    dirty: AtomicBool,
}

const USAGE_FILE: &str = "usage.json";

impl UsageStore {
    /// The counters saved in `project_dir`, if any.
    pub fn load(project_dir: &Path) -> UsageStore {
        let path = project_dir.join(USAGE_FILE);
        let mut counters = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(serde_json::Value::Array(items)) = serde_json::from_str(&text)
        {
            for item in items {
                if let (Some(plan), Some(key), Some(start), Some(used)) = (
                    item["usagePlanId"].as_str(),
                    item["keyId"].as_str(),
                    item["periodStart"].as_i64(),
                    item["used"].as_u64(),
                ) {
                    let first = item["firstPeriod"].as_bool().unwrap_or(false);
                    counters.insert((plan.to_string(), key.to_string()), (start, used, first));
                }
            }
        }
        UsageStore {
            path: Some(path),
            counters: Mutex::new(counters),
            dirty: AtomicBool::new(false),
        }
    }

    /// Counts one request if the quota allows it.
    pub fn take(&self, plan: &str, key: &str, quota: &QuotaSettings, now_unix: i64) -> bool {
        let start = quota.period_start(now_unix);
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let counter = counters
            .entry((plan.to_string(), key.to_string()))
            .or_insert((start, 0, true));
        if counter.0 != start {
            *counter = (start, 0, false);
        }
        // The first period's limit is less the offset (AWS).
        let limit = if counter.2 {
            quota.limit.saturating_sub(quota.offset)
        } else {
            quota.limit
        };
        if counter.1 >= limit {
            return false;
        }
        counter.1 += 1;
        self.dirty.store(true, Ordering::Release);
        true
    }

    /// Requests counted in the current period, for the GUI and tests.
    pub fn used(&self, plan: &str, key: &str) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters
            .get(&(plan.to_string(), key.to_string()))
            .map_or(0, |c| c.1)
    }

    /// Requests counted in the period `now_unix` falls in (0 once a new
    /// period has begun).
    pub fn used_in_period(
        &self,
        plan: &str,
        key: &str,
        quota: &QuotaSettings,
        now_unix: i64,
    ) -> u64 {
        let start = quota.period_start(now_unix);
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters
            .get(&(plan.to_string(), key.to_string()))
            .filter(|c| c.0 == start)
            .map_or(0, |c| c.1)
    }

    /// Writes the counters if they changed (atomically).
    pub fn flush(&self) {
        let Some(path) = &self.path else {
            return;
        };
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let items: Vec<serde_json::Value> = {
            let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let mut items: Vec<_> = counters
                .iter()
                .map(|((plan, key), (start, used, first))| {
                    serde_json::json!({"usagePlanId": plan, "keyId": key, "periodStart": start, "used": used, "firstPeriod": first})
                })
                .collect();
            items.sort_by_key(|item| item.to_string());
            items
        };
        if crate::model::project::write_json_atomic(path, &items).is_err() {
            self.dirty.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_periods_start_where_aws_says() {
        let quota = |period: &str, offset| QuotaSettings {
            limit: 1,
            period: period.into(),
            offset,
        };
        // 2026-11-25T10:00:00Z is a Wednesday.
        let now = 1_795_600_800;
        assert_eq!(quota("DAY", 0).period_start(now), 1_795_564_800); // 2026-11-25
        assert_eq!(quota("WEEK", 0).period_start(now), 1_795_392_000); // Monday 2026-11-23
        assert_eq!(quota("MONTH", 0).period_start(now), 1_793_491_200); // 2026-11-01
    }

    #[test]
    fn a_quota_resets_at_the_period_boundary() {
        let store = UsageStore::default();
        let quota = QuotaSettings {
            limit: 3,
            period: "DAY".into(),
            offset: 1,
        };
        let day = 1_795_564_800;
        // The first day allows limit - offset = 2.
        assert!(store.take("p", "k", &quota, day + 10));
        assert!(store.take("p", "k", &quota, day + 20));
        assert!(!store.take("p", "k", &quota, day + 86_399));
        // The next days allow the whole limit.
        for _ in 0..3 {
            assert!(store.take("p", "k", &quota, day + 86_400), "a new day");
        }
        assert!(!store.take("p", "k", &quota, day + 86_401));
        assert_eq!(store.used("p", "k"), 3);
    }
}
