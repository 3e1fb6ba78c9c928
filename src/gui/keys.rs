//! The API keys tab: API keys (generate or import a value, enable,
//! delete, usage against each plan's quota) and usage plans (stage,
//! throttle, quota, which keys belong). Every change is undoable and the
//! running gateway applies it at once.

use super::app::Studio;
use crate::model::{QuotaSettings, ThrottleSettings};

/// The tab's input fields.
#[derive(Debug, Clone)]
pub struct KeysView {
    pub key_name: String,
    /// Empty: generate a value.
    pub key_value: String,
    /// The plan a new key joins (plan id), if any.
    pub key_plan: Option<String>,
    pub plan_name: String,
    pub plan_stage: String,
    pub plan_rate: String,
    pub plan_burst: String,
    pub quota_limit: String,
    pub quota_period: String,
}

impl Default for KeysView {
    fn default() -> Self {
        KeysView {
            key_name: String::new(),
            key_value: String::new(),
            key_plan: None,
            plan_name: String::new(),
            plan_stage: String::new(),
            plan_rate: String::new(),
            plan_burst: String::new(),
            quota_limit: String::new(),
            quota_period: "DAY".into(),
        }
    }
}

/// A labelled one-line text field.
fn field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32, hint: &str) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .desired_width(width)
            .hint_text(hint),
    )
    .labelled_by(label.id);
}

/// The plan's throttle and quota from the form's text; errors name the
/// field.
fn plan_limits(
    view: &KeysView,
) -> Result<(Option<ThrottleSettings>, Option<QuotaSettings>), String> {
    let (rate, burst) = (view.plan_rate.trim(), view.plan_burst.trim());
    let throttle = match (rate.is_empty(), burst.is_empty()) {
        (true, true) => None,
        (false, false) => Some(ThrottleSettings {
            rate_limit: rate
                .parse()
                .map_err(|_| format!("Rate must be a number of requests per second: {rate:?}"))?,
            burst_limit: burst
                .parse()
                .map_err(|_| format!("Burst must be a whole number of requests: {burst:?}"))?,
        }),
        _ => return Err("A throttle needs both a rate and a burst".into()),
    };
    let limit = view.quota_limit.trim();
    let quota = if limit.is_empty() {
        None
    } else {
        Some(QuotaSettings {
            limit: limit
                .parse()
                .map_err(|_| format!("Quota must be a whole number of requests: {limit:?}"))?,
            period: view.quota_period.clone(),
            offset: 0,
        })
    };
    Ok((throttle, quota))
}

enum Change {
    AddKey,
    Enable(String, bool),
    DeleteKey(String),
    AddPlan,
    Member(String, String, bool),
    DeletePlan(String),
}

impl Studio {
    pub(super) fn keys_tab(&mut self, ui: &mut egui::Ui) {
        let project = &self.workspace.project;
        let stages: Vec<(String, String, String)> = project
            .rest_apis
            .iter()
            .flat_map(|api| {
                api.stages
                    .iter()
                    .map(|s| (api.id.clone(), api.name.clone(), s.stage_name.clone()))
            })
            .collect();
        let keys = project.api_keys.clone();
        let plans = project.usage_plans.clone();
        let mut change = None;
        let view = &mut self.keys;

        ui.heading("API keys");
        ui.label("Methods with \"API key required\" accept these in x-api-key, for the stages of the key's usage plans.");
        egui::Grid::new("api-keys")
            .striped(true)
            .num_columns(5)
            .show(ui, |ui| {
                ui.strong("Name");
                ui.strong("Value (x-api-key)");
                ui.strong("Enabled");
                ui.strong("Usage this period");
                ui.strong("");
                ui.end_row();
                for key in &keys {
                    ui.label(&key.name);
                    ui.monospace(&key.value);
                    let mut enabled = key.enabled;
                    if ui
                        .checkbox(&mut enabled, format!("Enabled {}", key.name))
                        .changed()
                    {
                        change = Some(Change::Enable(key.id.clone(), enabled));
                    }
                    let usage: Vec<String> = plans
                        .iter()
                        .filter(|p| p.api_key_ids.contains(&key.id))
                        .map(|plan| match (&plan.quota, &self.gateway) {
                            (Some(quota), Some(gateway)) => format!(
                                "{}: {} of {} per {}",
                                plan.name,
                                gateway.quota_used(&plan.id, &key.id, quota),
                                quota.limit,
                                quota.period
                            ),
                            _ => format!("{}: no quota", plan.name),
                        })
                        .collect();
                    ui.label(if usage.is_empty() {
                        "in no usage plan".to_string()
                    } else {
                        usage.join("; ")
                    });
                    if ui.button(format!("Delete key {}", key.name)).clicked() {
                        change = Some(Change::DeleteKey(key.id.clone()));
                    }
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Key name", &mut view.key_name, 140.0, "e.g. partner-a");
            field(
                ui,
                "Value",
                &mut view.key_value,
                300.0,
                "generated when empty (20+ characters)",
            );
            let label = ui.label("Plan");
            let selected = view
                .key_plan
                .as_ref()
                .and_then(|id| plans.iter().find(|p| p.id == *id))
                .map_or("none".to_string(), |p| p.name.clone());
            egui::ComboBox::from_id_salt("key-plan")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut view.key_plan, None, "none");
                    for plan in &plans {
                        ui.selectable_value(&mut view.key_plan, Some(plan.id.clone()), &plan.name);
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Add API key").clicked() {
                change = Some(Change::AddKey);
            }
        });

        ui.separator();
        ui.heading("Usage plans");
        egui::Grid::new("usage-plans")
            .striped(true)
            .num_columns(6)
            .show(ui, |ui| {
                ui.strong("Name");
                ui.strong("Stages");
                ui.strong("Throttle");
                ui.strong("Quota");
                ui.strong("Keys");
                ui.strong("");
                ui.end_row();
                for plan in &plans {
                    ui.label(&plan.name);
                    ui.label(
                        plan.api_stages
                            .iter()
                            .map(|s| {
                                let api = stages
                                    .iter()
                                    .find(|(id, _, _)| *id == s.api_id)
                                    .map_or(s.api_id.as_str(), |(_, name, _)| name.as_str());
                                format!("{api} {}", s.stage)
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    ui.label(plan.throttle.as_ref().map_or("none".into(), |t| {
                        format!("{} req/s, burst {}", t.rate_limit, t.burst_limit)
                    }));
                    ui.label(
                        plan.quota
                            .as_ref()
                            .map_or("none".into(), |q| format!("{} per {}", q.limit, q.period)),
                    );
                    ui.horizontal(|ui| {
                        for key in &keys {
                            let mut member = plan.api_key_ids.contains(&key.id);
                            if ui
                                .checkbox(&mut member, format!("{} in {}", key.name, plan.name))
                                .changed()
                            {
                                change =
                                    Some(Change::Member(plan.id.clone(), key.id.clone(), member));
                            }
                        }
                    });
                    if ui.button(format!("Delete plan {}", plan.name)).clicked() {
                        change = Some(Change::DeletePlan(plan.id.clone()));
                    }
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Plan name", &mut view.plan_name, 120.0, "e.g. Gold");
            let label = ui.label("Stage");
            egui::ComboBox::from_id_salt("plan-stage")
                .selected_text(if view.plan_stage.is_empty() {
                    "choose".to_string()
                } else {
                    view.plan_stage.replace('\u{1f}', " ")
                })
                .show_ui(ui, |ui| {
                    for (api_id, api_name, stage) in &stages {
                        let value = format!("{api_id}\u{1f}{stage}");
                        ui.selectable_value(
                            &mut view.plan_stage,
                            value,
                            format!("{api_name} {stage}"),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            field(ui, "Rate", &mut view.plan_rate, 60.0, "req/s");
            field(ui, "Burst", &mut view.plan_burst, 60.0, "requests");
            field(ui, "Quota", &mut view.quota_limit, 80.0, "requests");
            let label = ui.label("per");
            egui::ComboBox::from_id_salt("quota-period")
                .selected_text(view.quota_period.clone())
                .show_ui(ui, |ui| {
                    for period in ["DAY", "WEEK", "MONTH"] {
                        ui.selectable_value(&mut view.quota_period, period.to_string(), period);
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Add usage plan").clicked() {
                change = Some(Change::AddPlan);
            }
        });

        if let Some(change) = change {
            self.apply_keys_change(change);
        }
    }

    fn apply_keys_change(&mut self, change: Change) {
        let view = self.keys.clone();
        let result = match change {
            Change::AddKey => {
                let value = view.key_value.clone();
                let plan = view.key_plan.clone();
                self.workspace
                    .edit_project(|p| p.add_api_key(&view.key_name, Some(&value), plan.as_deref()))
                    .map(|key| {
                        self.keys.key_name.clear();
                        self.keys.key_value.clear();
                        format!("API key {} added: {}", key.name, key.value)
                    })
            }
            Change::Enable(id, enabled) => self
                .workspace
                .edit_project(|p| p.set_api_key_enabled(&id, enabled))
                .map(|()| format!("API key {}", if enabled { "enabled" } else { "disabled" })),
            Change::DeleteKey(id) => self
                .workspace
                .edit_project(|p| p.remove_api_key(&id))
                .map(|()| "API key deleted".to_string()),
            Change::AddPlan => match (plan_limits(&view), view.plan_stage.split_once('\u{1f}')) {
                (Err(e), _) => Err(e),
                (_, None) => Err("Choose the stage the plan covers".into()),
                (Ok((throttle, quota)), Some((api_id, stage))) => self
                    .workspace
                    .edit_project(|p| {
                        p.add_usage_plan(&view.plan_name, api_id, stage, throttle, quota)
                    })
                    .map(|_| {
                        self.keys.plan_name.clear();
                        format!("Usage plan {} added", view.plan_name.trim())
                    }),
            },
            Change::Member(plan, key, member) => self
                .workspace
                .edit_project(|p| p.set_plan_key(&plan, &key, member))
                .map(|()| "Usage plan keys changed".to_string()),
            Change::DeletePlan(id) => self
                .workspace
                .edit_project(|p| p.remove_usage_plan(&id))
                .map(|()| "Usage plan deleted".to_string()),
        };
        let result = result.and_then(|message| self.reload_gateway().map(|()| message));
        self.report(result, |message| message);
    }
}
