//! The stages tab: stage variables, the canary (deploy, live slider,
//! promote, remove, base vs canary traffic), deployment history, roll back.

use crate::gateway::Gateway;
use crate::gui::charts::{Reading, side_chart};
use crate::gui::commands::{CommandSender, StageEdit};
use crate::gui::effects;
use crate::gui::workspace::{CanaryChange, Workspace};
use crate::observe::metrics::Filter;

/// The tab's state: the stage open and the fields being edited.
#[derive(Default)]
pub struct StagesPanel {
    /// The stage the tab edits, and its variables being edited.
    pub stage_variables: Option<(String, Vec<(String, String)>)>,
    /// The stage throttling fields being edited: (stage, rate, burst).
    pub stage_throttle: Option<(String, String, String)>,
    /// The canary slider's value while it moves: (stage, percent).
    pub canary_percent: Option<(String, f64)>,
    /// The canary section's metrics readings (stage, when read, [base,
    /// canary]), refreshed once a second.
    pub canary_readings: Option<(String, std::time::Instant, Box<[Reading; 2]>)>,
}

impl StagesPanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let Some(api) = workspace.api() else {
            ui.label("This project has no REST API.");
            return;
        };
        let stages: Vec<(String, String)> = api
            .stages
            .iter()
            .map(|s| (s.stage_name.clone(), s.deployment_id.clone()))
            .collect();
        let deployments: Vec<(String, String, String)> = api
            .deployments
            .iter()
            .rev()
            .map(|d| {
                (
                    d.id.clone(),
                    d.description.clone().unwrap_or_default(),
                    d.created_date.clone().unwrap_or_default(),
                )
            })
            .collect();
        ui.horizontal(|ui| {
            for (name, _) in &stages {
                let open = self
                    .stage_variables
                    .as_ref()
                    .is_some_and(|(s, _)| s == name);
                if ui.selectable_label(open, format!("Stage {name}")).clicked() {
                    let variables = api
                        .stage(name)
                        .map(|s| {
                            s.variables
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    self.stage_variables = Some((name.clone(), variables));
                }
            }
        });
        let Some((stage, mut variables)) = self.stage_variables.clone() else {
            ui.label("Select a stage.");
            return;
        };
        let serving = stages
            .iter()
            .find(|(name, _)| *name == stage)
            .map(|(_, id)| id.clone())
            .unwrap_or_default();
        ui.separator();
        ui.strong(format!("Stage {stage} serves deployment {serving}"));
        ui.label("Stage variables");
        let mut remove = None;
        for (i, (name, value)) in variables.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let label = ui.label("Name");
                ui.add(egui::TextEdit::singleline(name).desired_width(140.0))
                    .labelled_by(label.id);
                let label = ui.label("Value");
                ui.add(egui::TextEdit::singleline(value).desired_width(260.0))
                    .labelled_by(label.id);
                if ui.button("Remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            variables.remove(i);
        }
        ui.horizontal(|ui| {
            if ui.button("Add variable").clicked() {
                variables.push((String::new(), String::new()));
            }
            if ui.button("Save variables").clicked() {
                commands.send(
                    StageEdit::Variables {
                        stage: stage.clone(),
                        variables: variables.clone(),
                    }
                    .into(),
                );
            }
        });
        self.stage_variables = Some((stage.clone(), variables));
        ui.separator();
        self.throttling_section(ui, workspace, &stage, commands);
        cache_section(ui, workspace, &stage, commands);
        ui.separator();
        self.canary_section(ui, workspace, gateway, &stage, commands);
        ui.separator();
        ui.label("Deployments, newest first");
        let mut rollback = None;
        egui::ScrollArea::vertical()
            .id_salt("deployments")
            .show(ui, |ui| {
                for (id, description, created) in &deployments {
                    ui.horizontal(|ui| {
                        ui.monospace(id);
                        ui.label(created);
                        ui.label(description);
                        if *id == serving {
                            ui.strong("(serving)");
                        } else if ui.button(format!("Roll back {stage} to {id}")).clicked() {
                            rollback = Some(id.clone());
                        }
                    });
                }
            });
        if let Some(id) = rollback {
            commands.send(StageEdit::Rollback { stage, id }.into());
        }
    }

    /// The stage's default method throttling (`*/*`), served at once.
    fn throttling_section(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        stage: &str,
        commands: &mut CommandSender,
    ) {
        let (mut rate, mut burst) = match &self.stage_throttle {
            Some((s, rate, burst)) if s == stage => (rate.clone(), burst.clone()),
            _ => {
                let setting = workspace
                    .api()
                    .and_then(|api| api.stage(stage))
                    .and_then(|s| s.method_settings.get("*/*").cloned())
                    .unwrap_or_default();
                (
                    setting
                        .throttling_rate_limit
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                    setting
                        .throttling_burst_limit
                        .map(|b| b.to_string())
                        .unwrap_or_default(),
                )
            }
        };
        ui.label("Default method throttling (empty: only the account limit applies)");
        ui.horizontal(|ui| {
            let label = ui.label("Rate (requests/s)");
            ui.add(egui::TextEdit::singleline(&mut rate).desired_width(80.0))
                .labelled_by(label.id);
            let label = ui.label("Burst");
            ui.add(egui::TextEdit::singleline(&mut burst).desired_width(80.0))
                .labelled_by(label.id);
            if ui.button("Apply throttling").clicked() {
                commands.send(
                    StageEdit::Throttling {
                        stage: stage.to_string(),
                        rate: rate.clone(),
                        burst: burst.clone(),
                    }
                    .into(),
                );
            }
        });
        self.stage_throttle = Some((stage.to_string(), rate, burst));
    }

    fn canary_section(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        gateway: Option<&Gateway>,
        stage: &str,
        commands: &mut CommandSender,
    ) {
        let canary = workspace
            .api()
            .and_then(|api| api.stage(stage))
            .and_then(|s| s.canary_settings.clone());
        let Some(canary) = canary else {
            ui.horizontal(|ui| {
                ui.label("No canary.");
                if ui.button("Deploy draft as canary").clicked() {
                    commands.send(StageEdit::DeployCanary(stage.to_string()).into());
                }
            });
            return;
        };
        ui.strong(format!("Canary: deployment {}", canary.deployment_id));
        let mut percent = match &self.canary_percent {
            Some((s, p)) if s == stage => *p,
            _ => canary.percent_traffic,
        };
        let response = ui.add(
            egui::Slider::new(&mut percent, 0.0..=100.0)
                .text("% of requests to the canary")
                .fixed_decimals(1),
        );
        if response.changed() {
            commands.send(
                StageEdit::LiveCanaryPercent {
                    stage: stage.to_string(),
                    percent,
                }
                .into(),
            );
            self.canary_percent = Some((stage.to_string(), percent));
        }
        if (response.drag_stopped() || (response.changed() && !response.dragged()))
            && (percent - canary.percent_traffic).abs() > f64::EPSILON
        {
            commands.send(
                StageEdit::Canary {
                    stage: stage.to_string(),
                    change: CanaryChange::Percent(percent),
                }
                .into(),
            );
        }
        ui.horizontal(|ui| {
            for (label, change) in [
                ("Promote canary", CanaryChange::Promote),
                ("Remove canary", CanaryChange::Remove),
            ] {
                if ui.button(label).clicked() {
                    commands.send(
                        StageEdit::Canary {
                            stage: stage.to_string(),
                            change,
                        }
                        .into(),
                    );
                    self.canary_percent = None;
                }
            }
        });
        // Base vs canary from the metrics, read at most once a second:
        // the last minute's counts and five minutes of requests and errors
        // per second, side by side.
        let Some(gateway) = gateway else {
            return;
        };
        let api_id = workspace.api().map(|a| a.id.clone()).unwrap_or_default();
        let fresh = self.canary_readings.as_ref().is_some_and(|(s, at, _)| {
            s == stage && at.elapsed() < std::time::Duration::from_secs(1)
        });
        if !fresh {
            let side = |canary| {
                Reading::take(
                    gateway.metrics(),
                    &Filter {
                        api_id: Some(api_id.clone()),
                        stage: Some(stage.to_string()),
                        method: None,
                        canary: Some(canary),
                    },
                    300,
                )
            };
            self.canary_readings = Some((
                stage.to_string(),
                std::time::Instant::now(),
                Box::new([side(false), side(true)]),
            ));
        }
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
        if let Some((_, _, readings)) = &self.canary_readings {
            let minute = |reading: &Reading| {
                reading
                    .points
                    .iter()
                    .rev()
                    .take(60)
                    .fold((0, 0), |(n, e), p| {
                        (
                            n + p.counts.count,
                            e + p.counts.error_4xx + p.counts.error_5xx,
                        )
                    })
            };
            let ((base, base_errors), (side, side_errors)) =
                (minute(&readings[0]), minute(&readings[1]));
            ui.label(format!(
                "Last minute: base {base} requests ({base_errors} errors), canary {side} requests ({side_errors} errors)"
            ));
            ui.columns(2, |columns| {
                columns[0].label("Base: requests and errors per second");
                side_chart(&mut columns[0], "canary-base", &readings[0]);
                columns[1].label("Canary: requests and errors per second");
                side_chart(&mut columns[1], "canary-side", &readings[1]);
            });
        }
    }
}

/// The stage's response cache: on / off (GET methods cache for 300 s
/// unless their method settings say otherwise) and flush.
fn cache_section(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    stage: &str,
    commands: &mut CommandSender,
) {
    let Some(enabled) = workspace
        .api()
        .and_then(|api| api.stage(stage))
        .map(|s| s.cache_cluster_enabled)
    else {
        return;
    };
    ui.horizontal(|ui| {
        let mut wanted = enabled;
        if ui
            .checkbox(&mut wanted, "Stage cache (GET methods, 300 s by default)")
            .changed()
        {
            commands.send(
                StageEdit::Cache {
                    stage: stage.to_string(),
                    enabled: wanted,
                }
                .into(),
            );
        }
        if enabled && ui.button("Flush stage cache").clicked() {
            commands.send(StageEdit::FlushCache(stage.to_string()).into());
        }
    });
}

/// Applies one of the tab's edits (from the command queue) to the
/// workspace and the running gateway: the status bar's message, if any.
/// `deploy_description` is the top bar's, for a canary deployment.
pub fn apply(
    edit: StageEdit,
    workspace: &mut Workspace,
    gateway: Option<&Gateway>,
    deploy_description: &str,
) -> Option<Result<String, String>> {
    let reload = |workspace: &Workspace| effects::reload_gateway(gateway, &workspace.project);
    let message = match edit {
        StageEdit::Variables { stage, variables } => workspace
            .set_stage_variables(&stage, &variables)
            .map(|()| format!("Variables of {stage} changed (deploy or save to keep them)")),
        StageEdit::Rollback { stage, id } => workspace
            .point_stage(&stage, &id)
            .and_then(|()| reload(workspace))
            .map(|()| format!("{stage} now serves deployment {id}")),
        StageEdit::Throttling { stage, rate, burst } => workspace
            .set_stage_throttling(&stage, &rate, &burst)
            .and_then(|()| reload(workspace))
            .map(|()| format!("Throttling of {stage} applied (save to keep it)")),
        StageEdit::Cache { stage, enabled } => workspace
            .set_stage_cache(&stage, enabled)
            .and_then(|()| reload(workspace))
            .map(|()| {
                format!(
                    "The cache of {stage} is {}",
                    if enabled { "on" } else { "off" }
                )
            }),
        StageEdit::FlushCache(stage) => {
            let flushed = match (gateway, workspace.api()) {
                (Some(gateway), Some(api)) => gateway.flush_cache(&api.id, &stage),
                _ => false,
            };
            if flushed {
                Ok(format!("The cache of {stage} is empty"))
            } else {
                Err(format!("{stage} serves no cache (deploy or save first)"))
            }
        }
        StageEdit::DeployCanary(stage) => workspace
            .deploy_canary(&stage, deploy_description, 10.0)
            .and_then(|id| reload(workspace).map(|()| id))
            .map(|id| format!("Deployment {id} is the canary of {stage} (10% of its traffic)")),
        StageEdit::LiveCanaryPercent { stage, percent } => {
            // Live: the running gateway splits differently from the next
            // request on, without a recompile.
            if let (Some(gateway), Some(api)) = (gateway, workspace.api()) {
                gateway.set_canary_percent(&api.id, &stage, percent);
            }
            return None;
        }
        StageEdit::Canary {
            stage,
            change: CanaryChange::Percent(percent),
        } => workspace
            .change_canary(&stage, CanaryChange::Percent(percent))
            .map(|()| format!("The canary of {stage} serves {percent:.1}% of its traffic")),
        StageEdit::Canary { stage, change } => {
            let label = match change {
                CanaryChange::Promote => "Promote canary",
                _ => "Remove canary",
            };
            workspace
                .change_canary(&stage, change)
                .and_then(|()| reload(workspace))
                .map(|()| format!("{label}: done for {stage}"))
        }
    };
    Some(message)
}
