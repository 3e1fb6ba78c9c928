//! The workspace's stage edits of the selected REST API: variables,
//! throttling, cache, rollback, deployments and canaries.

use std::collections::BTreeMap;

use super::Workspace;

/// A change to a stage's canary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CanaryChange {
    Promote,
    Remove,
    Percent(f64),
}

impl Workspace {
    /// Replaces a stage's variables (AWS's name and value rules).
    pub fn set_stage_variables(
        &mut self,
        stage: &str,
        variables: &[(String, String)],
    ) -> Result<(), String> {
        let mut checked = BTreeMap::new();
        for (name, value) in variables {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            crate::model::validate_stage_variable(name, value).map_err(|e| e.to_string())?;
            checked.insert(name.to_string(), value.clone());
        }
        self.edit(|api| {
            let stage = api
                .stage_mut(stage)
                .ok_or_else(|| format!("Invalid stage identifier specified: {stage}"))?;
            stage.variables = checked;
            Ok(())
        })
    }

    /// Sets the stage's default method throttling (`methodSettings["*/*"]`);
    /// both empty removes it. AWS's bounds: rate and burst not negative.
    pub fn set_stage_throttling(
        &mut self,
        stage: &str,
        rate: &str,
        burst: &str,
    ) -> Result<(), String> {
        let (rate, burst) = (rate.trim(), burst.trim());
        let limits = if rate.is_empty() && burst.is_empty() {
            None
        } else {
            let rate: f64 = rate
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| {
                    format!("Rate must be a number of requests per second, 0 or more: {rate:?}")
                })?;
            let burst: u32 = burst.parse().map_err(|_| {
                format!("Burst must be a whole number of requests, 0 or more: {burst:?}")
            })?;
            Some((rate, burst))
        };
        self.edit(|api| {
            let stage = api
                .stage_mut(stage)
                .ok_or_else(|| format!("Invalid stage identifier specified: {stage}"))?;
            match limits {
                Some((rate, burst)) => {
                    let setting = stage.method_settings.entry("*/*".into()).or_default();
                    setting.throttling_rate_limit = Some(rate);
                    setting.throttling_burst_limit = Some(burst);
                }
                None => {
                    if let Some(setting) = stage.method_settings.get_mut("*/*") {
                        setting.throttling_rate_limit = None;
                        setting.throttling_burst_limit = None;
                    }
                    stage
                        .method_settings
                        .retain(|_, s| *s != crate::model::MethodSetting::default());
                }
            }
            Ok(())
        })
    }

    /// Turns the stage's response cache on or off (undoable).
    pub fn set_stage_cache(&mut self, stage: &str, enabled: bool) -> Result<(), String> {
        self.edit(|api| {
            let stage = api
                .stage_mut(stage)
                .ok_or_else(|| format!("Invalid stage identifier specified: {stage}"))?;
            stage.cache_cluster_enabled = enabled;
            if enabled && stage.cache_cluster_size.is_none() {
                stage.cache_cluster_size = Some("0.5".into());
            }
            Ok(())
        })
    }

    /// Points `stage` at an earlier deployment ("roll back") and saves.
    pub fn point_stage(&mut self, stage: &str, deployment_id: &str) -> Result<(), String> {
        self.edit(|api| {
            if !api.deployments.iter().any(|d| d.id == deployment_id) {
                return Err(format!(
                    "Invalid deployment identifier specified: {deployment_id}"
                ));
            }
            let stage = api
                .stage_mut(stage)
                .ok_or_else(|| format!("Invalid stage identifier specified: {stage}"))?;
            stage.deployment_id = deployment_id.to_string();
            Ok(())
        })?;
        self.save()
    }

    /// Whether the draft differs from what `stage` serves.
    pub fn has_undeployed_changes(&self, stage: &str) -> bool {
        let Some(api) = self.api() else {
            return false;
        };
        let Some(stage) = api.stage(stage) else {
            return true;
        };
        match self.project.snapshot(&api.id, &stage.deployment_id) {
            Some(snapshot) => {
                snapshot.rest_api.resources != api.resources
                    || snapshot.rest_api.gateway_responses != api.gateway_responses
                    || snapshot.rest_api.binary_media_types != api.binary_media_types
            }
            None => true,
        }
    }

    /// Deploys the draft as `stage`'s canary with `percent` of its traffic.
    pub fn deploy_canary(
        &mut self,
        stage: &str,
        description: &str,
        percent: f64,
    ) -> Result<String, String> {
        let api_id = self.api().ok_or("the project has no REST API")?.id.clone();
        let description = (!description.trim().is_empty()).then_some(description.trim());
        let deployment = self
            .project
            .deploy_canary(&api_id, stage, description, percent, &Default::default())
            .map_err(|e| e.to_string())?;
        self.dirty = false;
        self.revision += 1;
        Ok(deployment.id)
    }

    /// Promotes or removes `stage`'s canary, or sets its share (saved).
    pub fn change_canary(&mut self, stage: &str, change: CanaryChange) -> Result<(), String> {
        let api_id = self.api().ok_or("the project has no REST API")?.id.clone();
        match change {
            CanaryChange::Promote => self.project.promote_canary(&api_id, stage),
            CanaryChange::Remove => self.project.remove_canary(&api_id, stage),
            CanaryChange::Percent(percent) => {
                self.project.set_canary_percent(&api_id, stage, percent)
            }
        }
        .map_err(|e| e.to_string())?;
        self.dirty = false;
        self.revision += 1;
        Ok(())
    }

    /// Snapshots the selected API into a new deployment on `stage` and saves.
    pub fn deploy(&mut self, stage: &str, description: &str) -> Result<String, String> {
        let api_id = self.api().ok_or("the project has no REST API")?.id.clone();
        let variables = self
            .api()
            .and_then(|a| a.stage(stage))
            .map(|s| s.variables.clone())
            .unwrap_or_default();
        let description = (!description.trim().is_empty()).then_some(description.trim());
        let deployment = self
            .project
            .deploy(&api_id, stage, description, &variables)
            .map_err(|e| e.to_string())?;
        self.dirty = false;
        self.revision += 1;
        Ok(deployment.id)
    }
}
