//! The Functions tab: the project's local Lambda functions (definition,
//! cold / warm state, invoke with a test event, live log) and the API's
//! Lambda authorizers with "Test authorizer". Applying, deleting and
//! invoking are [`FunctionEdit`] commands; an invocation's answer comes
//! back as `Command::FunctionInvoked`.

use crate::auth::lambda_authorizer::{Decision, evaluate, parse_result};
use crate::gateway::Gateway;
use crate::gui::commands::{CommandSender, FunctionEdit, InvokeResult};
use crate::gui::workspace::{AuthorizerDraft, FunctionDraft, Workspace};

/// Runtimes offered in the editor (any `python3.x`, `nodejs*`, `provided*`
/// can be typed in the project file).
const RUNTIMES: [&str; 6] = [
    "python3.13",
    "python3.12",
    "nodejs22.x",
    "nodejs20.x",
    "provided.al2023",
    "provided.al2",
];

pub struct FunctionsView {
    pub draft: Option<FunctionDraft>,
    /// The test event (JSON).
    pub event: String,
    pub result: Option<InvokeResult>,
    /// An invocation is under way (its answer comes through the queue).
    pub pending: bool,
    /// The token (TOKEN authorizers) for "Test authorizer".
    pub token: String,
    pub authorizer_draft: Option<AuthorizerDraft>,
}

impl Default for FunctionsView {
    fn default() -> Self {
        FunctionsView {
            draft: None,
            event: "{}".into(),
            result: None,
            pending: false,
            token: String::new(),
            authorizer_draft: None,
        }
    }
}

impl FunctionsView {
    pub fn waiting(&self) -> bool {
        self.pending
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let definitions = workspace.project.functions.clone();
        let status = gateway
            .map(|g| g.services().functions.status())
            .unwrap_or_default();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(220.0);
                ui.strong("Functions");
                for definition in &definitions {
                    let name = &definition.function_name;
                    let state = match status.iter().find(|(n, _)| n == name) {
                        Some((_, s)) if s.failed.is_some() => {
                            format!("failed: {}", s.failed.as_deref().unwrap_or_default())
                        }
                        Some((_, s)) if s.workers > 0 => {
                            format!("warm: {} worker(s), {} busy", s.workers, s.busy)
                        }
                        _ => "cold".to_string(),
                    };
                    let open = self
                        .draft
                        .as_ref()
                        .is_some_and(|d| d.original.as_deref() == Some(name.as_str()));
                    if ui
                        .selectable_label(open, format!("{name}  ({state})"))
                        .clicked()
                    {
                        self.draft = Some(FunctionDraft::of(definition));
                        self.authorizer_draft = None;
                    }
                }
                if definitions.is_empty() {
                    ui.weak("No functions yet");
                }
                if ui.button("New function").clicked() {
                    self.draft = Some(FunctionDraft {
                        original: None,
                        name: "myFunction".into(),
                        runtime: "python3.12".into(),
                        handler: "app.handler".into(),
                        code: "functions/myFunction".into(),
                        timeout: "3".into(),
                        memory: "128".into(),
                        concurrency: String::new(),
                        environment: String::new(),
                    });
                }
                ui.separator();
                self.authorizers_panel(ui, workspace, commands);
            });
            ui.separator();
            ui.vertical(|ui| {
                if self.authorizer_draft.is_some() {
                    self.authorizer_editor(ui, workspace, commands);
                } else {
                    self.function_editor(ui, gateway, commands);
                }
            });
        });
    }

    fn authorizer_editor(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        commands: &mut CommandSender,
    ) {
        let Some(mut draft) = self.authorizer_draft.clone() else {
            return;
        };
        let functions: Vec<String> = workspace
            .project
            .functions
            .iter()
            .map(|f| f.function_name.clone())
            .collect();
        ui.strong("Lambda authorizer");
        egui::Grid::new("authorizer_fields")
            .num_columns(2)
            .show(ui, |ui| {
                let field = |ui: &mut egui::Ui, label: &str, value: &mut String| {
                    let label = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).desired_width(360.0))
                        .labelled_by(label.id);
                    ui.end_row();
                };
                field(ui, "Authorizer name", &mut draft.name);
                let label = ui.label("Type");
                egui::ComboBox::from_id_salt("authorizer_type")
                    .selected_text(draft.kind.clone())
                    .show_ui(ui, |ui| {
                        for kind in ["TOKEN", "REQUEST"] {
                            ui.selectable_value(&mut draft.kind, kind.to_string(), kind);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Function");
                egui::ComboBox::from_id_salt("authorizer_function")
                    .selected_text(draft.function.clone())
                    .show_ui(ui, |ui| {
                        for function in &functions {
                            ui.selectable_value(&mut draft.function, function.clone(), function);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                field(ui, "Identity sources", &mut draft.identity_source);
                field(ui, "Token validation (regex)", &mut draft.validation);
                field(ui, "Result TTL (s)", &mut draft.ttl);
            });
        let check = draft.authorizer();
        if let Err(message) = &check {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        self.authorizer_draft = Some(draft.clone());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(check.is_ok(), egui::Button::new("Apply authorizer"))
                .clicked()
            {
                commands.send(FunctionEdit::SetAuthorizer(draft.clone()).into());
            }
            if let Some(id) = draft.id.clone()
                && ui.button("Delete authorizer").clicked()
            {
                commands.send(FunctionEdit::DeleteAuthorizer(id).into());
            }
        });
    }

    fn function_editor(
        &mut self,
        ui: &mut egui::Ui,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let Some(mut draft) = self.draft.clone() else {
            ui.weak("Pick a function or make a new one. Functions run as real processes (python3, node, or your own bootstrap) behind the Lambda Runtime API.");
            return;
        };
        egui::Grid::new("function_fields")
            .num_columns(2)
            .show(ui, |ui| {
                let field = |ui: &mut egui::Ui, label: &str, value: &mut String| {
                    let label = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).desired_width(320.0))
                        .labelled_by(label.id);
                    ui.end_row();
                };
                field(ui, "Function name", &mut draft.name);
                let label = ui.label("Runtime");
                egui::ComboBox::from_id_salt("function_runtime")
                    .selected_text(draft.runtime.clone())
                    .show_ui(ui, |ui| {
                        for runtime in RUNTIMES {
                            ui.selectable_value(&mut draft.runtime, runtime.to_string(), runtime);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                field(ui, "Handler", &mut draft.handler);
                field(ui, "Code directory", &mut draft.code);
                field(ui, "Timeout (s)", &mut draft.timeout);
                field(ui, "Memory (MB)", &mut draft.memory);
                field(ui, "Concurrency", &mut draft.concurrency);
            });
        let label = ui.label("Environment (KEY=value per line)");
        ui.add(
            egui::TextEdit::multiline(&mut draft.environment)
                .desired_rows(2)
                .desired_width(480.0),
        )
        .labelled_by(label.id);
        let check = draft.definition();
        if let Err(message) = &check {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        self.draft = Some(draft.clone());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(check.is_ok(), egui::Button::new("Apply function"))
                .clicked()
            {
                commands.send(FunctionEdit::Apply(draft.clone()).into());
            }
            if let Some(original) = draft.original.clone()
                && ui.button("Delete function").clicked()
            {
                commands.send(FunctionEdit::Delete(original).into());
            }
        });
        let Some(name) = draft.original.clone() else {
            return;
        };
        ui.separator();
        let label = ui.label("Test event (JSON)");
        ui.add(
            egui::TextEdit::multiline(&mut self.event)
                .code_editor()
                .desired_rows(4)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!self.waiting(), egui::Button::new("Invoke"))
                .clicked()
            {
                commands.send(
                    FunctionEdit::Invoke {
                        function: name.clone(),
                        event: self.event.clone(),
                        started: format!("Invoking {name}..."),
                    }
                    .into(),
                );
            }
            if self.waiting() {
                ui.spinner();
            }
        });
        if let Some(result) = self.result.clone().filter(|r| r.function == name) {
            let title = if result.error {
                format!("Function error ({} ms)", result.millis)
            } else {
                format!("Result ({} ms)", result.millis)
            };
            if result.error {
                ui.colored_label(ui.visuals().error_fg_color, title);
            } else {
                ui.strong(title);
            }
            ui.add(egui::Label::new(egui::RichText::new(&result.text).monospace()).wrap());
        }
        ui.separator();
        ui.strong("Log");
        let lines = gateway
            .and_then(|g| g.services().functions.log(&name))
            .map(|log| log.since(0))
            .unwrap_or_default();
        // Both ways: REPORT lines are wider than the pane.
        egui::ScrollArea::both()
            .id_salt("function_log")
            .max_height(260.0)
            .stick_to_bottom(true)
            .show(ui, |ui| {
                if lines.is_empty() {
                    ui.weak("Nothing yet: invoke the function or call a method that uses it.");
                }
                for line in lines.iter().rev().take(500).rev() {
                    ui.add(egui::Label::new(egui::RichText::new(&line.text).monospace()).extend());
                }
            });
    }

    /// The selected API's Lambda authorizers with "Test authorizer": the
    /// function gets a TOKEN event for the token typed, and the policy it
    /// returns is evaluated for `GET /` of the draft.
    fn authorizers_panel(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        commands: &mut CommandSender,
    ) {
        ui.strong("Authorizers");
        let Some(api) = workspace.api() else {
            return;
        };
        let authorizers = api.authorizers.clone();
        let api_id = api.id.clone();
        if ui.button("New authorizer").clicked() {
            self.authorizer_draft = Some(AuthorizerDraft {
                id: None,
                name: "MyAuthorizer".into(),
                kind: "TOKEN".into(),
                function: workspace
                    .project
                    .functions
                    .first()
                    .map(|f| f.function_name.clone())
                    .unwrap_or_default(),
                identity_source: "method.request.header.Authorization".into(),
                validation: String::new(),
                ttl: "300".into(),
            });
        }
        if authorizers.is_empty() {
            ui.weak("This API has no authorizers");
            return;
        }
        let label = ui.label("Token");
        ui.add(egui::TextEdit::singleline(&mut self.token).desired_width(200.0))
            .labelled_by(label.id);
        for authorizer in authorizers {
            let function = authorizer
                .authorizer_uri
                .as_deref()
                .and_then(crate::model::function_from_uri)
                .map(|(name, _)| name.to_string());
            if ui
                .selectable_label(
                    self.authorizer_draft
                        .as_ref()
                        .is_some_and(|d| d.id.as_deref() == Some(authorizer.id.as_str())),
                    format!(
                        "{} ({}, {})",
                        authorizer.name,
                        authorizer.authorizer_type,
                        function.as_deref().unwrap_or("no function")
                    ),
                )
                .clicked()
            {
                self.authorizer_draft = Some(AuthorizerDraft::of(&authorizer));
            }
            if authorizer.authorizer_type == "TOKEN"
                && let Some(function) = function
                && ui
                    .add_enabled(
                        !self.waiting(),
                        egui::Button::new(format!("Test authorizer {}", authorizer.name)),
                    )
                    .clicked()
            {
                let method_arn = format!(
                    "arn:aws:execute-api:{}:{}:{api_id}/test-invoke-stage/GET/",
                    crate::model::function::REGION,
                    crate::model::function::ACCOUNT_ID
                );
                self.event = serde_json::json!({
                    "type": "TOKEN",
                    "authorizationToken": self.token,
                    "methodArn": method_arn,
                })
                .to_string();
                commands.send(
                    FunctionEdit::Invoke {
                        function: function.clone(),
                        event: self.event.clone(),
                        started: format!("Testing authorizer {}...", authorizer.name),
                    }
                    .into(),
                );
                if let Some(definition) = workspace
                    .project
                    .functions
                    .iter()
                    .find(|f| f.function_name == function)
                {
                    self.draft = Some(FunctionDraft::of(definition));
                    self.authorizer_draft = None;
                }
            }
        }
        if let Some(result) = &self.result
            && self.event.contains("\"TOKEN\"")
        {
            let verdict = if result.error {
                if result.text.contains("\"Unauthorized\"") {
                    "401 Unauthorized".to_string()
                } else {
                    "500 authorizer configuration error".to_string()
                }
            } else {
                match parse_result(result.text.as_bytes()) {
                    Ok(parsed) => {
                        let arn = serde_json::from_str::<serde_json::Value>(&self.event)
                            .ok()
                            .and_then(|e| e["methodArn"].as_str().map(str::to_string))
                            .unwrap_or_default();
                        match evaluate(&parsed.statements, &arn) {
                            Decision::Allow => {
                                format!("Allow for principal {}", parsed.principal_id)
                            }
                            Decision::ExplicitDeny => "403 explicit deny".to_string(),
                            Decision::ImplicitDeny => "403 (no statement allows GET /)".to_string(),
                        }
                    }
                    Err(reason) => format!("500: {reason}"),
                }
            };
            ui.label(format!("Decision: {verdict}"));
        }
    }
}
