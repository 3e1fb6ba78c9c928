//! The API keys tab: API keys (generate or import a value, enable,
//! delete, usage against each plan's quota) and usage plans (stage,
//! throttle, quota, which keys belong). Every change is undoable and the
//! running gateway applies it at once.

use crate::gateway::Gateway;
use crate::gui::commands::{Command, CommandSender, KeysEdit};
use crate::gui::workspace::Workspace;
use crate::model::{ApiKey, QuotaSettings, ThrottleSettings, UsagePlan};

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

impl KeysView {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let project = &workspace.project;
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
        self.keys_section(ui, &keys, &plans, gateway, &mut change);
        ui.separator();
        self.plans_section(ui, &keys, &plans, &stages, &mut change);

        if let Some(change) = change {
            commands.send(change);
        }
    }

    /// The keys table and the "Add API key" form.
    fn keys_section(
        &mut self,
        ui: &mut egui::Ui,
        keys: &[ApiKey],
        plans: &[UsagePlan],
        gateway: Option<&Gateway>,
        change: &mut Option<Command>,
    ) {
        let view = self;
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
                for key in keys {
                    ui.label(&key.name);
                    ui.monospace(&key.value);
                    let mut enabled = key.enabled;
                    if ui
                        .checkbox(&mut enabled, format!("Enabled {}", key.name))
                        .changed()
                    {
                        *change = Some(KeysEdit::Enable(key.id.clone(), enabled).into());
                    }
                    let usage: Vec<String> = plans
                        .iter()
                        .filter(|p| p.api_key_ids.contains(&key.id))
                        .map(|plan| match (&plan.quota, gateway) {
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
                        *change = Some(KeysEdit::DeleteKey(key.id.clone()).into());
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
                    for plan in plans {
                        ui.selectable_value(&mut view.key_plan, Some(plan.id.clone()), &plan.name);
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Add API key").clicked() {
                *change = Some(
                    KeysEdit::AddKey {
                        name: view.key_name.clone(),
                        value: view.key_value.clone(),
                        plan: view.key_plan.clone(),
                    }
                    .into(),
                );
            }
        });
    }

    /// The usage plans table and the "Add usage plan" form.
    fn plans_section(
        &mut self,
        ui: &mut egui::Ui,
        keys: &[ApiKey],
        plans: &[UsagePlan],
        stages: &[(String, String, String)],
        change: &mut Option<Command>,
    ) {
        let view = self;
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
                for plan in plans {
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
                        for key in keys {
                            let mut member = plan.api_key_ids.contains(&key.id);
                            if ui
                                .checkbox(&mut member, format!("{} in {}", key.name, plan.name))
                                .changed()
                            {
                                *change = Some(
                                    KeysEdit::Member(plan.id.clone(), key.id.clone(), member)
                                        .into(),
                                );
                            }
                        }
                    });
                    if ui.button(format!("Delete plan {}", plan.name)).clicked() {
                        *change = Some(KeysEdit::DeletePlan(plan.id.clone()).into());
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
                    for (api_id, api_name, stage) in stages {
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
                *change = Some(view.add_plan());
            }
        });
    }

    /// The command the "Add usage plan" button sends: the plan, or the
    /// form's error for the status bar.
    fn add_plan(&self) -> Command {
        match (plan_limits(self), self.plan_stage.split_once('\u{1f}')) {
            (Err(e), _) => Command::Status(Err(e)),
            (_, None) => Command::Status(Err("Choose the stage the plan covers".into())),
            (Ok((throttle, quota)), Some((api_id, stage))) => KeysEdit::AddPlan {
                name: self.plan_name.clone(),
                api_id: api_id.to_string(),
                stage: stage.to_string(),
                throttle,
                quota,
            }
            .into(),
        }
    }

    /// Applies one of the tab's edits (from the command queue): the status
    /// bar's message, and the form's fields cleared once their key or plan
    /// exists.
    pub fn apply(&mut self, edit: KeysEdit, workspace: &mut Workspace) -> Result<String, String> {
        match edit {
            KeysEdit::AddKey { name, value, plan } => workspace
                .edit_project(|p| {
                    p.add_api_key(&name, Some(&value), plan.as_deref())
                        .map_err(|e| e.to_string())
                })
                .map(|key| {
                    self.key_name.clear();
                    self.key_value.clear();
                    format!("API key {} added: {}", key.name, key.value)
                }),
            KeysEdit::Enable(id, enabled) => workspace
                .edit_project(|p| {
                    p.set_api_key_enabled(&id, enabled)
                        .map_err(|e| e.to_string())
                })
                .map(|()| format!("API key {}", if enabled { "enabled" } else { "disabled" })),
            KeysEdit::DeleteKey(id) => workspace
                .edit_project(|p| p.remove_api_key(&id).map_err(|e| e.to_string()))
                .map(|()| "API key deleted".to_string()),
            KeysEdit::AddPlan {
                name,
                api_id,
                stage,
                throttle,
                quota,
            } => workspace
                .edit_project(|p| {
                    p.add_usage_plan(&name, &api_id, &stage, throttle, quota)
                        .map_err(|e| e.to_string())
                })
                .map(|_| {
                    self.plan_name.clear();
                    format!("Usage plan {} added", name.trim())
                }),
            KeysEdit::Member(plan, key, member) => workspace
                .edit_project(|p| {
                    p.set_plan_key(&plan, &key, member)
                        .map_err(|e| e.to_string())
                })
                .map(|()| "Usage plan keys changed".to_string()),
            KeysEdit::DeletePlan(id) => workspace
                .edit_project(|p| p.remove_usage_plan(&id).map_err(|e| e.to_string()))
                .map(|()| "Usage plan deleted".to_string()),
        }
    }
}
