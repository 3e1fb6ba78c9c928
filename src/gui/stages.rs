//! The stages tab: stage variables, deployment history, roll back.

use super::app::Studio;

impl Studio {
    pub(super) fn stages(&mut self, ui: &mut egui::Ui) {
        let Some(api) = self.workspace.api() else {
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
                let result = self.workspace.set_stage_variables(&stage, &variables);
                self.report(result, |()| {
                    format!("Variables of {stage} changed (deploy or save to keep them)")
                });
            }
        });
        self.stage_variables = Some((stage.clone(), variables));
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
            let result =
                self.workspace
                    .point_stage(&stage, &id)
                    .and_then(|()| match &self.gateway {
                        Some(gateway) => gateway
                            .reload(&self.workspace.project)
                            .map_err(|e| e.to_string()),
                        None => Ok(()),
                    });
            self.report(result, |()| format!("{stage} now serves deployment {id}"));
        }
    }
}
