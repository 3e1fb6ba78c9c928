//! The window: top bar (project, save, undo/redo, deploy, gateway
//! address), the API tree on the left, and tabs for the designer, the
//! test console and the live request log. [`Studio`] is the whole state;
//! [`Studio::ui`] draws it and is what the `egui_kittest` tests drive.

use crate::gateway::Gateway;
use crate::vtl;

use super::console::Console;
use super::highlight::Highlighter;
use super::workspace::{IntegrationSettings, ResponseSettings, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Designer,
    Console,
    Logs,
    Stages,
}

pub struct Studio {
    pub workspace: Workspace,
    pub gateway: Option<Gateway>,
    pub tab: Tab,
    pub console: Console,
    /// Text of the "new resource" and "new method" fields.
    pub new_path_part: String,
    pub new_verb: String,
    /// The template being edited: (request side?, content type, text).
    pub template: Option<(bool, String, String)>,
    pub deploy_stage: String,
    /// The integration settings being edited for the selected method.
    pub integration: Option<IntegrationSettings>,
    /// The integration responses being edited, each with its header
    /// mappings as `Header = source` lines.
    pub responses: Option<Vec<(ResponseSettings, String)>>,
    /// Method request settings being edited: authorization, API key
    /// required, parameter lines.
    pub method_request: Option<(String, bool, String)>,
    pub log_filter: String,
    /// The stage the Stages tab edits, and its variables being edited.
    pub stage_variables: Option<(String, Vec<(String, String)>)>,
    pub selected_log: Option<u64>,
    /// `(revision, stage, answer)` of the last "changes not deployed" check,
    /// so the draft is compared with the deployment once per change, not
    /// once per frame.
    undeployed: Option<(u64, String, bool)>,
    highlighter: Highlighter,
    /// The workspace revision the editors' buffers were read at: an undo,
    /// redo or apply elsewhere makes them re-read the model.
    seen_revision: u64,
    /// The last message for the status bar (errors in red).
    pub status: Result<String, String>,
}

impl Studio {
    pub fn new(workspace: Workspace, gateway: Option<Gateway>) -> Studio {
        Studio {
            workspace,
            gateway,
            tab: Tab::Designer,
            console: Console::default(),
            new_path_part: String::new(),
            new_verb: "GET".into(),
            template: None,
            deploy_stage: "dev".into(),
            integration: None,
            responses: None,
            method_request: None,
            log_filter: String::new(),
            stage_variables: None,
            selected_log: None,
            undeployed: None,
            highlighter: Highlighter::new(),
            seen_revision: 0,
            status: Ok("Ready".into()),
        }
    }

    /// Re-reads the editors' buffers from the model (after undo, redo or
    /// any applied edit); an open template stays open with the model's text.
    fn reload_editors(&mut self) {
        self.integration = None;
        self.responses = None;
        self.method_request = None;
        if let Some((request, content_type, _)) = self.template.take() {
            self.template = self
                .workspace
                .templates()
                .and_then(|(requests, responses)| {
                    let side = if request { requests } else { responses };
                    side.get(&content_type)
                        .map(|text| (request, content_type.clone(), text.clone()))
                });
        }
    }

    fn report<T>(&mut self, result: Result<T, String>, done: impl FnOnce(T) -> String) {
        self.status = result.map(done);
    }

    /// Draws one frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.console.poll() {
            self.status = Ok("Response received".into());
        }
        if self.workspace.revision != self.seen_revision {
            self.seen_revision = self.workspace.revision;
            self.reload_editors();
        }
        self.shortcuts(ui.ctx());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("tree")
            .default_size(260.0)
            .resizable(true)
            .show(ui, |ui| self.tree(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Designer, "Designer");
                ui.selectable_value(&mut self.tab, Tab::Console, "Console");
                ui.selectable_value(&mut self.tab, Tab::Logs, "Logs");
                ui.selectable_value(&mut self.tab, Tab::Stages, "Stages");
            });
            ui.separator();
            match self.tab {
                Tab::Designer => self.designer(ui),
                Tab::Console => self.console_tab(ui),
                Tab::Logs => self.logs(ui),
                Tab::Stages => self.stages(ui),
            }
        });
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let save = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let deploy = KeyboardShortcut::new(Modifiers::COMMAND, Key::D);
        if ctx.input_mut(|i| i.consume_shortcut(&redo)) {
            self.workspace.redo();
        } else if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.workspace.undo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            let result = self.workspace.save();
            self.report(result, |()| "Saved".into());
        }
        if ctx.input_mut(|i| i.consume_shortcut(&deploy)) {
            self.deploy();
        }
    }

    fn deploy(&mut self) {
        let stage = self.deploy_stage.clone();
        let result = self.workspace.deploy(&stage, "Deployed from Portico");
        let result = result.and_then(|id| {
            if let Some(gateway) = &self.gateway {
                gateway
                    .reload(&self.workspace.project)
                    .map_err(|e| e.to_string())?;
            }
            Ok(id)
        });
        self.report(result, |id| format!("Deployed to {stage}: deployment {id}"));
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let name = self
                .workspace
                .api()
                .map_or("(no API)".to_string(), |a| a.name.clone());
            let dirty = if self.workspace.dirty { " *" } else { "" };
            ui.strong(format!("Portico: {name}{dirty}"));
            ui.separator();
            if ui.button("Save").clicked() {
                let result = self.workspace.save();
                self.report(result, |()| "Saved".into());
            }
            if ui
                .add_enabled(self.workspace.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                self.workspace.undo();
            }
            if ui
                .add_enabled(self.workspace.can_redo(), egui::Button::new("Redo"))
                .clicked()
            {
                self.workspace.redo();
            }
            ui.separator();
            let label = ui.label("Stage");
            ui.add(egui::TextEdit::singleline(&mut self.deploy_stage).desired_width(70.0))
                .labelled_by(label.id);
            if ui.button("Deploy").clicked() {
                self.deploy();
            }
            let revision = self.workspace.revision;
            let undeployed = match &self.undeployed {
                Some((r, stage, answer)) if *r == revision && *stage == self.deploy_stage => {
                    *answer
                }
                _ => {
                    let answer = self.workspace.has_undeployed_changes(&self.deploy_stage);
                    self.undeployed = Some((revision, self.deploy_stage.clone(), answer));
                    answer
                }
            };
            if undeployed {
                ui.colored_label(ui.visuals().warn_fg_color, "changes not deployed");
            }
            ui.separator();
            match &self.gateway {
                Some(gateway) => ui.label(format!("Gateway on http://{}", gateway.local_addr())),
                None => ui.label("Gateway stopped"),
            };
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| match &self.status {
            Ok(message) => {
                ui.label(message);
            }
            Err(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
        });
    }

    fn tree(&mut self, ui: &mut egui::Ui) {
        ui.heading("Resources");
        let Some(api) = self.workspace.api() else {
            ui.label("This project has no REST API.");
            return;
        };
        let mut select = None;
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() - 120.0)
            .show(ui, |ui| {
                for resource in &api.resources {
                    let depth = resource.path.matches('/').count().saturating_sub(1);
                    let label = if resource.path == "/" {
                        "/".to_string()
                    } else {
                        format!("/{}", resource.path_part.as_deref().unwrap_or_default())
                    };
                    ui.horizontal(|ui| {
                        ui.add_space(depth as f32 * 12.0);
                        let selected = self.workspace.selection.resource_id.as_deref()
                            == Some(resource.id.as_str())
                            && self.workspace.selection.method.is_none();
                        if ui.selectable_label(selected, label).clicked() {
                            select = Some((resource.id.clone(), None));
                        }
                    });
                    for verb in resource.resource_methods.keys() {
                        ui.horizontal(|ui| {
                            ui.add_space(depth as f32 * 12.0 + 16.0);
                            let selected = self.workspace.selection.resource_id.as_deref()
                                == Some(resource.id.as_str())
                                && self.workspace.selection.method.as_deref() == Some(verb);
                            if ui
                                .selectable_label(selected, format!("{verb} {}", resource.path))
                                .clicked()
                            {
                                select = Some((resource.id.clone(), Some(verb.clone())));
                            }
                        });
                    }
                }
            });
        if let Some((resource, method)) = select {
            self.workspace.selection.resource_id = Some(resource);
            self.workspace.selection.method = method;
            self.template = None;
            self.integration = None;
            self.responses = None;
            self.method_request = None;
            self.tab = Tab::Designer;
        }
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Path part");
            ui.add(
                egui::TextEdit::singleline(&mut self.new_path_part)
                    .hint_text("e.g. {id}")
                    .desired_width(110.0),
            )
            .labelled_by(label.id);
            if ui.button("Add resource").clicked() {
                let part = self.new_path_part.clone();
                let result = self.workspace.add_resource(&part);
                if result.is_ok() {
                    self.new_path_part.clear();
                }
                self.report(result, |_| format!("Resource {part} created"));
            }
        });
        ui.horizontal(|ui| {
            egui::ComboBox::new("verb", "Verb")
                .selected_text(self.new_verb.clone())
                .show_ui(ui, |ui| {
                    for verb in [
                        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
                    ] {
                        ui.selectable_value(&mut self.new_verb, verb.to_string(), verb);
                    }
                });
            if ui.button("Add method").clicked() {
                let verb = self.new_verb.clone();
                let result = self.workspace.add_method(&verb);
                self.template = None;
                self.report(result, |()| format!("{verb} method created (MOCK)"));
            }
        });
    }

    fn designer(&mut self, ui: &mut egui::Ui) {
        let Some((request_templates, response_templates)) = self.workspace.templates() else {
            if self.workspace.selection.resource_id.is_some() {
                if ui.button("Enable CORS").clicked() {
                    let result = self.workspace.enable_cors("*");
                    self.report(result, |methods| {
                        format!("CORS enabled: OPTIONS answers {methods} (deploy to serve it)")
                    });
                }
                ui.label("Adds an OPTIONS method answering the preflight, maps Access-Control-Allow-Origin on the other methods and on DEFAULT_4XX/5XX, as the AWS console does.");
            }
            ui.label("Select a method in the tree to edit its mapping templates, or add one.");
            return;
        };
        let selection = self.workspace.selection.clone();
        ui.heading(format!(
            "{} {}",
            selection.method.as_deref().unwrap_or_default(),
            self.workspace
                .api()
                .and_then(|a| selection
                    .resource_id
                    .as_deref()
                    .and_then(|id| a.resource(id)))
                .map_or("", |r| r.path.as_str())
        ));
        if ui.button("Delete method").clicked() {
            let result = self.workspace.delete_method();
            self.report(result, |()| "Method deleted".into());
            return;
        }
        ui.label(
            "Method Request -> Integration Request -> Integration Response -> Method Response",
        );
        self.method_request_editor(ui);
        self.integration_editor(ui);
        self.responses_editor(ui);
        ui.separator();
        ui.horizontal(|ui| {
            for (request, templates, side) in [
                (true, &request_templates, "Integration request"),
                (false, &response_templates, "Integration response"),
            ] {
                for (content_type, text) in templates {
                    let open = self
                        .template
                        .as_ref()
                        .is_some_and(|(r, ct, _)| *r == request && ct == content_type);
                    if ui
                        .selectable_label(open, format!("{side} template {content_type}"))
                        .clicked()
                    {
                        self.template = Some((request, content_type.clone(), text.clone()));
                    }
                }
            }
        });
        let Some((request, content_type, mut text)) = self.template.clone() else {
            return;
        };
        let label = ui.label(format!(
            "{} template for {content_type}",
            if request { "Request" } else { "Response" }
        ));
        let highlighter = &self.highlighter;
        let mut layouter = |ui: &egui::Ui, buffer: &dyn egui::TextBuffer, wrap_width: f32| {
            let mut job =
                highlighter.layout_cached(buffer.as_str(), "vtl", ui.visuals().dark_mode, 13.0);
            job.wrap.max_width = wrap_width;
            ui.fonts_mut(|fonts| fonts.layout_job(job))
        };
        let edited = ui
            .add(
                egui::TextEdit::multiline(&mut text)
                    .code_editor()
                    .desired_rows(10)
                    .desired_width(f32::INFINITY)
                    .layouter(&mut layouter),
            )
            .labelled_by(label.id)
            .changed();
        if edited {
            self.template = Some((request, content_type.clone(), text.clone()));
        }
        match vtl::Template::compile(&text) {
            Ok(template) => {
                let preview = template.render_plain();
                ui.label("Preview (empty request):");
                match preview {
                    Ok(rendered) => {
                        ui.monospace(rendered.output);
                    }
                    Err(error) => {
                        ui.colored_label(ui.visuals().error_fg_color, error.to_string());
                    }
                }
            }
            Err(error) => {
                ui.colored_label(ui.visuals().error_fg_color, error.to_string());
            }
        }
        if ui.button("Apply template").clicked() {
            let result = self.workspace.set_template(request, &content_type, &text);
            self.report(result, |()| "Template applied (not deployed yet)".into());
        }
    }

    fn console_tab(&mut self, ui: &mut egui::Ui) {
        let request = &mut self.console.request;
        ui.horizontal(|ui| {
            egui::ComboBox::new("console_method", "Method")
                .selected_text(request.method.clone())
                .show_ui(ui, |ui| {
                    for verb in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
                        ui.selectable_value(&mut request.method, verb.to_string(), verb);
                    }
                });
            let label = ui.label("Path");
            ui.add(
                egui::TextEdit::singleline(&mut request.path)
                    .hint_text("/dev/pets")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            ui.checkbox(&mut request.test_invoke, "Test invoke (draft)");
        });
        let label = ui.label("Headers (Name: value per line)");
        ui.add(
            egui::TextEdit::multiline(&mut request.headers)
                .desired_rows(2)
                .code_editor(),
        )
        .labelled_by(label.id);
        let label = ui.label("Body");
        ui.add(
            egui::TextEdit::multiline(&mut request.body)
                .desired_rows(4)
                .code_editor(),
        )
        .labelled_by(label.id);
        let send_shortcut = ui.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::Enter,
            ))
        });
        ui.horizontal(|ui| {
            let send = ui
                .add_enabled(
                    !self.console.pending && self.gateway.is_some(),
                    egui::Button::new("Send"),
                )
                .clicked();
            if (send || send_shortcut)
                && let Some(gateway) = &self.gateway
            {
                let ctx = ui.ctx().clone();
                self.console
                    .send(gateway, self.workspace.api(), move || ctx.request_repaint());
                self.status = Ok("Sending...".into());
            }
            if ui.button("Copy as curl").clicked()
                && let Some(gateway) = &self.gateway
            {
                let curl = self.console.as_curl(&gateway.local_addr().to_string());
                ui.ctx().copy_text(curl);
            }
            if self.console.pending {
                ui.spinner();
            }
        });
        ui.separator();
        let Some(response) = &self.console.response else {
            return;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            if let Some(error) = &response.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
                return;
            }
            ui.strong(format!(
                "Status {}   {:.1} ms{}   {} bytes",
                response.status,
                response.total_ms,
                response
                    .integration_ms
                    .map_or(String::new(), |ms| format!(" (integration {ms:.1} ms)")),
                response.body.len()
            ));
            ui.collapsing("Response headers", |ui| {
                for (name, value) in &response.headers {
                    ui.monospace(format!("{name}: {value}"));
                }
            });
            ui.label("Response body");
            match serde_json::from_str::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
            {
                Some(pretty) => {
                    let job = self.highlighter.layout_cached(
                        &pretty,
                        "json",
                        ui.visuals().dark_mode,
                        13.0,
                    );
                    ui.label(job);
                }
                None => {
                    ui.monospace(&response.body);
                }
            }
            ui.label("Execution log");
            ui.monospace(&response.execution_log);
        });
    }

    fn logs(&mut self, ui: &mut egui::Ui) {
        let Some(gateway) = &self.gateway else {
            ui.label("The gateway is not running.");
            return;
        };
        let records = gateway.request_log().since(0);
        ui.horizontal(|ui| {
            ui.label(format!("{} requests", records.len()));
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.log_filter)
                    .hint_text("path, method or status"),
            )
            .labelled_by(label.id);
        });
        let filter = self.log_filter.to_ascii_lowercase();
        let shown: Vec<_> = records
            .iter()
            .rev()
            .filter(|r| {
                filter.is_empty()
                    || r.path.to_ascii_lowercase().contains(&filter)
                    || r.http_method.eq_ignore_ascii_case(&filter)
                    || r.status.to_string().starts_with(&filter)
            })
            .collect();
        let mut clicked = None;
        egui_extras::TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(260.0)
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::remainder())
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::auto())
            .header(18.0, |mut header| {
                for title in ["#", "Stage", "Method", "Path", "Status", "Latency"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, shown.len(), |mut row| {
                    let record = shown[row.index()];
                    row.col(|ui| {
                        if ui
                            .selectable_label(
                                self.selected_log == Some(record.seq),
                                record.seq.to_string(),
                            )
                            .clicked()
                        {
                            clicked = Some(record.seq);
                        }
                    });
                    row.col(|ui| {
                        ui.label(&record.stage);
                    });
                    row.col(|ui| {
                        ui.label(&record.http_method);
                    });
                    row.col(|ui| {
                        ui.label(&record.path);
                    });
                    row.col(|ui| {
                        ui.label(record.status.to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.2} ms", record.latency_us as f64 / 1000.0));
                    });
                });
            });
        if clicked.is_some() {
            self.selected_log = clicked;
        }
        let Some(record) = self
            .selected_log
            .and_then(|seq| records.iter().find(|r| r.seq == seq))
        else {
            return;
        };
        ui.separator();
        if ui.button("Open in console").clicked() {
            self.console.request.method = record.http_method.clone();
            self.console.request.path = format!("/{}{}", record.stage, record.path);
            self.console.request.body = String::from_utf8_lossy(&record.request_body).into_owned();
            self.console.request.test_invoke = false;
            self.tab = Tab::Console;
        }
        egui::ScrollArea::vertical()
            .id_salt("log_detail")
            .show(ui, |ui| {
                ui.monospace(record.execution_log.render());
            });
    }

    fn stages(&mut self, ui: &mut egui::Ui) {
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

    /// Integration request settings: type, backend verb and URI (with
    /// `${stageVariables.x}` placeholders), passthrough behaviour, timeout.
    fn integration_editor(&mut self, ui: &mut egui::Ui) {
        use crate::model::{IntegrationType, PassthroughBehavior};
        if self.integration.is_none() {
            self.integration = self.workspace.integration().map(IntegrationSettings::of);
        }
        let Some(mut settings) = self.integration.clone() else {
            return;
        };
        ui.group(|ui| {
            ui.strong("Integration request");
            ui.horizontal(|ui| {
                egui::ComboBox::new("integration_type", "Type")
                    .selected_text(settings.integration_type.as_str())
                    .show_ui(ui, |ui| {
                        for kind in [
                            IntegrationType::Mock,
                            IntegrationType::Http,
                            IntegrationType::HttpProxy,
                        ] {
                            ui.selectable_value(
                                &mut settings.integration_type,
                                kind,
                                kind.as_str(),
                            );
                        }
                    });
                egui::ComboBox::new("passthrough", "Passthrough")
                    .selected_text(settings.passthrough_behavior.as_str())
                    .show_ui(ui, |ui| {
                        for behavior in [
                            PassthroughBehavior::WhenNoMatch,
                            PassthroughBehavior::WhenNoTemplates,
                            PassthroughBehavior::Never,
                        ] {
                            ui.selectable_value(
                                &mut settings.passthrough_behavior,
                                behavior,
                                behavior.as_str(),
                            );
                        }
                    });
                let label = ui.label("Timeout (ms)");
                ui.add(egui::DragValue::new(&mut settings.timeout_in_millis).range(50..=29_000))
                    .labelled_by(label.id);
            });
            if settings.integration_type != IntegrationType::Mock {
                ui.horizontal(|ui| {
                    let label = ui.label("Backend method");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.http_method).desired_width(70.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("URI");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.uri)
                            .hint_text("http://${stageVariables.backendHost}/{proxy}")
                            .desired_width(420.0),
                    )
                    .labelled_by(label.id);
                });
            }
            if ui.button("Apply integration").clicked() {
                let result = self.workspace.set_integration(settings.clone());
                self.report(result, |()| "Integration updated (not deployed yet)".into());
            }
        });
        self.integration = Some(settings);
    }

    /// Integration responses: status, selection pattern (matched against the
    /// backend status), header mappings (`X-Total = integration.response.header.X-Total`).
    fn responses_editor(&mut self, ui: &mut egui::Ui) {
        if self.responses.is_none() {
            self.responses = self.workspace.integration().map(|integration| {
                ResponseSettings::all_of(integration)
                    .into_iter()
                    .map(|settings| {
                        let lines: Vec<String> = settings
                            .header_mappings
                            .iter()
                            .map(|(header, source)| format!("{header} = {source}"))
                            .collect();
                        (settings, lines.join("\n"))
                    })
                    .collect()
            });
        }
        let Some(mut responses) = self.responses.clone() else {
            return;
        };
        let mut apply = None;
        ui.group(|ui| {
            ui.strong("Integration responses");
            for (i, (settings, mappings)) in responses.iter_mut().enumerate() {
                ui.horizontal(|ui| {
                    let label = ui.label("Status");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.status_code).desired_width(40.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Selection pattern");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.selection_pattern)
                            .hint_text("default")
                            .desired_width(120.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Header mappings");
                    ui.add(
                        egui::TextEdit::multiline(mappings)
                            .hint_text("X-Total = integration.response.header.X-Total")
                            .desired_rows(1)
                            .desired_width(360.0),
                    )
                    .labelled_by(label.id);
                    if ui.button(format!("Apply response {}", i + 1)).clicked() {
                        apply = Some(i);
                    }
                });
            }
            if ui.button("Add integration response").clicked() {
                responses.push((ResponseSettings::default(), String::new()));
            }
        });
        if let Some(i) = apply {
            let (settings, mappings) = &mut responses[i];
            settings.header_mappings = mappings
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(header, source)| (header.trim().to_string(), source.trim().to_string()))
                .collect();
            let result = self.workspace.set_integration_response(settings);
            if result.is_ok() && settings.key.is_empty() {
                settings.key = settings.status_code.trim().to_string();
            }
            self.report(result, |()| {
                "Integration response updated (not deployed yet)".into()
            });
        }
        self.responses = Some(responses);
    }

    /// Method request settings: authorization type, API key required, the
    /// declared request parameters.
    fn method_request_editor(&mut self, ui: &mut egui::Ui) {
        if self.method_request.is_none() {
            self.method_request = self.workspace.method_request();
        }
        let Some((mut authorization, mut api_key, mut parameters)) = self.method_request.clone()
        else {
            return;
        };
        ui.group(|ui| {
            ui.strong("Method request");
            ui.horizontal(|ui| {
                egui::ComboBox::new("authorization", "Authorization")
                    .selected_text(authorization.clone())
                    .show_ui(ui, |ui| {
                        for kind in ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"] {
                            ui.selectable_value(&mut authorization, kind.to_string(), kind);
                        }
                    });
                ui.checkbox(&mut api_key, "API key required");
            });
            let label = ui.label("Request parameters (one per line, 'required' after the name)");
            ui.add(
                egui::TextEdit::multiline(&mut parameters)
                    .hint_text("method.request.querystring.page")
                    .desired_rows(1)
                    .desired_width(480.0),
            )
            .labelled_by(label.id);
            if ui.button("Apply method request").clicked() {
                let result =
                    self.workspace
                        .set_method_request(&authorization, api_key, &parameters);
                self.report(result, |()| {
                    "Method request updated (not deployed yet)".into()
                });
            }
        });
        self.method_request = Some((authorization, api_key, parameters));
    }
}
