//! The Functions tab: the project's local Lambda functions (definition,
//! cold / warm state, invoke with a test event, live log) and the API's
//! Lambda authorizers with "Test authorizer".

use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

use crate::auth::lambda_authorizer::{Decision, evaluate, parse_result};
use crate::functions::Outcome;
use crate::model::FunctionDefinition;

use super::app::Studio;

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

/// A function definition being edited, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDraft {
    /// The name it had (`None` for a new function).
    pub original: Option<String>,
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub code: String,
    pub timeout: String,
    pub memory: String,
    /// Empty for the default.
    pub concurrency: String,
    /// `K=V` lines.
    pub environment: String,
}

impl FunctionDraft {
    fn of(definition: &FunctionDefinition) -> FunctionDraft {
        FunctionDraft {
            original: Some(definition.function_name.clone()),
            name: definition.function_name.clone(),
            runtime: definition.runtime.clone(),
            handler: definition.handler.clone(),
            code: definition.code_uri.clone(),
            timeout: definition.timeout.to_string(),
            memory: definition.memory_size.to_string(),
            concurrency: definition
                .reserved_concurrent_executions
                .map(|c| c.to_string())
                .unwrap_or_default(),
            environment: definition
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The definition this draft describes, checked as `CreateFunction`.
    pub fn definition(&self) -> Result<FunctionDefinition, String> {
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<u32>()
                .map_err(|_| format!("{what} must be a whole number: {text:?}"))
        };
        let mut definition = FunctionDefinition::new(
            self.name.trim(),
            self.runtime.trim(),
            self.handler.trim(),
            self.code.trim(),
        );
        definition.timeout = number(&self.timeout, "Timeout")?;
        definition.memory_size = number(&self.memory, "Memory")?;
        definition.reserved_concurrent_executions = if self.concurrency.trim().is_empty() {
            None
        } else {
            Some(number(&self.concurrency, "Concurrency")?)
        };
        for line in self
            .environment
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("Environment line {line:?}: expected KEY=value"))?;
            definition
                .environment
                .insert(k.trim().to_string(), v.to_string());
        }
        definition.validate().map_err(|e| e.to_string())?;
        Ok(definition)
    }
}

/// The last test invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeResult {
    pub function: String,
    pub error: bool,
    pub text: String,
    pub millis: u128,
}

pub struct FunctionsView {
    pub draft: Option<FunctionDraft>,
    /// The test event (JSON).
    pub event: String,
    pub result: Option<InvokeResult>,
    pending: Option<Receiver<InvokeResult>>,
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
            pending: None,
            token: String::new(),
            authorizer_draft: None,
        }
    }
}

impl FunctionsView {
    /// Picks up a finished invocation; true when one arrived.
    pub fn poll(&mut self) -> bool {
        let Some(receiver) = &self.pending else {
            return false;
        };
        match receiver.try_recv() {
            Ok(result) => {
                self.result = Some(result);
                self.pending = None;
                true
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.pending = None;
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => false,
        }
    }

    pub fn waiting(&self) -> bool {
        self.pending.is_some()
    }
}

impl Studio {
    /// Applies the draft (undoable) and hands the definitions to the
    /// running gateway.
    pub fn apply_function(&mut self) -> Result<String, String> {
        let draft = self.functions.draft.clone().ok_or("nothing to apply")?;
        let definition = draft.definition()?;
        let name = definition.function_name.clone();
        let code_dir = definition.code_dir(&self.workspace.project.dir);
        if !code_dir.is_dir() {
            return Err(format!(
                "Code directory {} does not exist",
                code_dir.display()
            ));
        }
        self.workspace.edit_functions(|functions| {
            if draft.original.as_deref() != Some(name.as_str())
                && functions.iter().any(|f| f.function_name == name)
            {
                return Err(format!("Function already exist: {name}"));
            }
            match draft.original.as_deref() {
                Some(original) => {
                    let slot = functions
                        .iter_mut()
                        .find(|f| f.function_name == original)
                        .ok_or("no such function")?;
                    *slot = definition;
                }
                None => functions.push(definition),
            }
            Ok(())
        })?;
        self.sync_functions();
        if let Some(draft) = &mut self.functions.draft {
            draft.original = Some(name.clone());
        }
        Ok(name)
    }

    pub fn delete_function(&mut self, name: &str) -> Result<(), String> {
        let name = name.to_string();
        self.workspace.edit_functions(|functions| {
            let before = functions.len();
            functions.retain(|f| f.function_name != name);
            if functions.len() == before {
                return Err(format!("Function not found: {name}"));
            }
            Ok(())
        })?;
        self.sync_functions();
        self.functions.draft = None;
        Ok(())
    }

    /// The running gateway runs the definitions as edited.
    pub(super) fn sync_functions(&self) {
        if let Some(gateway) = &self.gateway {
            gateway.services().functions.update(&self.workspace.project);
        }
    }

    /// Invokes `function` with the test event on the gateway's runtime; the
    /// answer arrives in [`FunctionsView::poll`].
    pub fn invoke_function(&mut self, function: &str) -> Result<(), String> {
        let gateway = self.gateway.as_ref().ok_or("the gateway is not running")?;
        serde_json::from_str::<serde_json::Value>(&self.functions.event)
            .map_err(|e| format!("The test event is not JSON: {e}"))?;
        let host = gateway.services().functions;
        let payload = bytes::Bytes::from(self.functions.event.clone());
        let function = function.to_string();
        let (sender, receiver) = channel();
        gateway.spawn(async move {
            let started = Instant::now();
            let outcome = host.invoke(&function, payload).await;
            let millis = started.elapsed().as_millis();
            let (error, text) = match outcome {
                Ok(Outcome::Success(body)) => (false, String::from_utf8_lossy(&body).into_owned()),
                Ok(Outcome::Error { payload, .. }) => {
                    (true, String::from_utf8_lossy(&payload).into_owned())
                }
                Err(e) => (true, e.to_string()),
            };
            let _ = sender.send(InvokeResult {
                function,
                error,
                text,
                millis,
            });
        });
        self.functions.pending = Some(receiver);
        Ok(())
    }

    pub(super) fn functions_tab(&mut self, ui: &mut egui::Ui) {
        let definitions = self.workspace.project.functions.clone();
        let status = self
            .gateway
            .as_ref()
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
                        .functions
                        .draft
                        .as_ref()
                        .is_some_and(|d| d.original.as_deref() == Some(name.as_str()));
                    if ui
                        .selectable_label(open, format!("{name}  ({state})"))
                        .clicked()
                    {
                        self.functions.draft = Some(FunctionDraft::of(definition));
                        self.functions.authorizer_draft = None;
                    }
                }
                if definitions.is_empty() {
                    ui.weak("No functions yet");
                }
                if ui.button("New function").clicked() {
                    self.functions.draft = Some(FunctionDraft {
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
                self.authorizers_panel(ui);
            });
            ui.separator();
            ui.vertical(|ui| {
                if self.functions.authorizer_draft.is_some() {
                    self.authorizer_editor(ui);
                } else {
                    self.function_editor(ui);
                }
            });
        });
    }

    fn authorizer_editor(&mut self, ui: &mut egui::Ui) {
        let Some(mut draft) = self.functions.authorizer_draft.clone() else {
            return;
        };
        let functions: Vec<String> = self
            .workspace
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
        self.functions.authorizer_draft = Some(draft.clone());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(check.is_ok(), egui::Button::new("Apply authorizer"))
                .clicked()
            {
                let result = self.workspace.set_authorizer(&draft);
                if let Ok(id) = &result
                    && let Some(d) = &mut self.functions.authorizer_draft
                {
                    d.id = Some(id.clone());
                }
                self.report(result, |_| {
                    "Authorizer saved in the draft (not deployed yet)".into()
                });
            }
            if let Some(id) = draft.id.clone()
                && ui.button("Delete authorizer").clicked()
            {
                let result = self.workspace.delete_authorizer(&id);
                let deleted = result.is_ok();
                self.report(result, |()| "Authorizer deleted".into());
                if deleted {
                    self.functions.authorizer_draft = None;
                }
            }
        });
    }

    fn function_editor(&mut self, ui: &mut egui::Ui) {
        let Some(mut draft) = self.functions.draft.clone() else {
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
        self.functions.draft = Some(draft.clone());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(check.is_ok(), egui::Button::new("Apply function"))
                .clicked()
            {
                let result = self.apply_function();
                self.report(result, |name| {
                    format!("Function {name} saved in the project")
                });
            }
            if let Some(original) = draft.original.clone()
                && ui.button("Delete function").clicked()
            {
                let result = self.delete_function(&original);
                self.report(result, |()| format!("Function {original} deleted"));
            }
        });
        let Some(name) = draft.original.clone() else {
            return;
        };
        ui.separator();
        let label = ui.label("Test event (JSON)");
        ui.add(
            egui::TextEdit::multiline(&mut self.functions.event)
                .code_editor()
                .desired_rows(4)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!self.functions.waiting(), egui::Button::new("Invoke"))
                .clicked()
            {
                let result = self.invoke_function(&name);
                self.report(result, |()| format!("Invoking {name}..."));
            }
            if self.functions.waiting() {
                ui.spinner();
            }
        });
        if let Some(result) = self.functions.result.clone().filter(|r| r.function == name) {
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
        let lines = self
            .gateway
            .as_ref()
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
    fn authorizers_panel(&mut self, ui: &mut egui::Ui) {
        ui.strong("Authorizers");
        let Some(api) = self.workspace.api() else {
            return;
        };
        let authorizers = api.authorizers.clone();
        let api_id = api.id.clone();
        if ui.button("New authorizer").clicked() {
            self.functions.authorizer_draft = Some(AuthorizerDraft {
                id: None,
                name: "MyAuthorizer".into(),
                kind: "TOKEN".into(),
                function: self
                    .workspace
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
        ui.add(egui::TextEdit::singleline(&mut self.functions.token).desired_width(200.0))
            .labelled_by(label.id);
        for authorizer in authorizers {
            let function = authorizer
                .authorizer_uri
                .as_deref()
                .and_then(crate::model::function_from_uri)
                .map(|(name, _)| name.to_string());
            if ui
                .selectable_label(
                    self.functions
                        .authorizer_draft
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
                self.functions.authorizer_draft = Some(AuthorizerDraft::of(&authorizer));
            }
            if authorizer.authorizer_type == "TOKEN"
                && let Some(function) = function
                && ui
                    .add_enabled(
                        !self.functions.waiting(),
                        egui::Button::new(format!("Test authorizer {}", authorizer.name)),
                    )
                    .clicked()
            {
                let method_arn = format!(
                    "arn:aws:execute-api:{}:{}:{api_id}/test-invoke-stage/GET/",
                    crate::model::function::REGION,
                    crate::model::function::ACCOUNT_ID
                );
                self.functions.event = serde_json::json!({
                    "type": "TOKEN",
                    "authorizationToken": self.functions.token,
                    "methodArn": method_arn,
                })
                .to_string();
                let result = self.invoke_function(&function);
                self.report(result, |()| {
                    format!("Testing authorizer {}...", authorizer.name)
                });
                if let Some(definition) = self
                    .workspace
                    .project
                    .functions
                    .iter()
                    .find(|f| f.function_name == function)
                {
                    self.functions.draft = Some(FunctionDraft::of(definition));
                    self.functions.authorizer_draft = None;
                }
            }
        }
        if let Some(result) = &self.functions.result
            && self.functions.event.contains("\"TOKEN\"")
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
                        let arn = serde_json::from_str::<serde_json::Value>(&self.functions.event)
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

/// An authorizer being edited, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerDraft {
    /// The id of the authorizer it edits (`None` for a new one).
    pub id: Option<String>,
    pub name: String,
    /// `TOKEN` or `REQUEST`.
    pub kind: String,
    pub function: String,
    pub identity_source: String,
    pub validation: String,
    pub ttl: String,
}

impl AuthorizerDraft {
    pub fn of(authorizer: &crate::model::Authorizer) -> AuthorizerDraft {
        AuthorizerDraft {
            id: Some(authorizer.id.clone()),
            name: authorizer.name.clone(),
            kind: authorizer.authorizer_type.clone(),
            function: authorizer
                .authorizer_uri
                .as_deref()
                .and_then(crate::model::function_from_uri)
                .map(|(name, _)| name.to_string())
                .unwrap_or_default(),
            identity_source: authorizer.identity_source.clone().unwrap_or_default(),
            validation: authorizer
                .identity_validation_expression
                .clone()
                .unwrap_or_default(),
            ttl: authorizer
                .authorizer_result_ttl_in_seconds
                .unwrap_or(crate::auth::lambda_authorizer::DEFAULT_TTL_SECONDS)
                .to_string(),
        }
    }

    /// The authorizer this draft describes, checked as `CreateAuthorizer`
    /// and compiled as the gateway would.
    pub fn authorizer(&self) -> Result<crate::model::Authorizer, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Give the authorizer a name".into());
        }
        if !matches!(self.kind.as_str(), "TOKEN" | "REQUEST") {
            return Err(format!("Invalid authorizer type {}", self.kind));
        }
        let function = self.function.trim();
        if function.is_empty() {
            return Err("Pick the authorizer's function".into());
        }
        let ttl: u32 = self
            .ttl
            .trim()
            .parse()
            .ok()
            .filter(|t| *t <= 3600)
            .ok_or("Result TTL must be 0 to 3600 seconds")?;
        let optional = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        };
        let authorizer = crate::model::Authorizer {
            id: self
                .id
                .clone()
                .unwrap_or_else(crate::model::new_resource_id),
            name: name.to_string(),
            authorizer_type: self.kind.clone(),
            provider_arns: Vec::new(),
            auth_type: Some("custom".into()),
            authorizer_uri: Some(format!(
                "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/arn:aws:lambda:{region}:{account}:function:{function}/invocations",
                region = crate::model::function::REGION,
                account = crate::model::function::ACCOUNT_ID
            )),
            authorizer_credentials: None,
            identity_source: optional(&self.identity_source).or_else(|| {
                (self.kind == "TOKEN").then(|| "method.request.header.Authorization".to_string())
            }),
            identity_validation_expression: optional(&self.validation),
            authorizer_result_ttl_in_seconds: Some(ttl),
        };
        crate::auth::lambda_authorizer::CompiledAuthorizer::compile(
            &authorizer,
            authorizer.authorizer_uri.as_deref().unwrap_or_default(),
        )?;
        Ok(authorizer)
    }
}

impl super::workspace::Workspace {
    /// Creates or updates an authorizer of the selected API (undoable).
    pub fn set_authorizer(&mut self, draft: &AuthorizerDraft) -> Result<String, String> {
        let authorizer = draft.authorizer()?;
        self.edit(move |api| {
            if api
                .authorizers
                .iter()
                .any(|a| a.name == authorizer.name && a.id != authorizer.id)
            {
                return Err(format!(
                    "Authorizer name already exists: {}",
                    authorizer.name
                ));
            }
            let id = authorizer.id.clone();
            match api.authorizers.iter_mut().find(|a| a.id == authorizer.id) {
                Some(existing) => *existing = authorizer,
                None => api.authorizers.push(authorizer),
            }
            Ok(id)
        })
    }

    /// Deletes an authorizer no method uses (undoable).
    pub fn delete_authorizer(&mut self, id: &str) -> Result<(), String> {
        let id = id.to_string();
        self.edit(move |api| {
            for resource in &api.resources {
                for (verb, method) in &resource.resource_methods {
                    if method.authorizer_id.as_deref() == Some(id.as_str()) {
                        return Err(format!(
                            "Cannot delete authorizer: {verb} {} uses it",
                            resource.path
                        ));
                    }
                }
            }
            api.authorizers.retain(|a| a.id != id);
            Ok(())
        })
    }

    /// The selected method's authorizer name, or `NONE`.
    pub fn method_authorizer(&self) -> Option<String> {
        let api = self.api()?;
        let method = self.selected_method()?;
        Some(
            method
                .authorizer_id
                .as_deref()
                .filter(|_| method.authorization_type == "CUSTOM")
                .and_then(|id| api.authorizers.iter().find(|a| a.id == id))
                .map_or_else(|| "NONE".to_string(), |a| a.name.clone()),
        )
    }

    /// Guards the selected method with the named authorizer (`CUSTOM`), or
    /// with none (`NONE`).
    pub fn set_method_authorizer(&mut self, name: &str) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        let name = name.to_string();
        self.edit(move |api| {
            let id = if name == "NONE" {
                None
            } else {
                Some(
                    api.authorizers
                        .iter()
                        .find(|a| a.name == name)
                        .map(|a| a.id.clone())
                        .ok_or_else(|| format!("Invalid authorizer: {name}"))?,
                )
            };
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            method.authorization_type = if id.is_some() { "CUSTOM" } else { "NONE" }.into();
            method.authorizer_id = id;
            Ok(())
        })
    }
}
