//! The window: top bar (project, save, undo/redo, deploy, gateway
//! address), the API tree on the left, and tabs for the designer, the
//! test console and the live request log. [`Studio`] is the whole state;
//! [`Studio::ui`] draws it and is what the `egui_kittest` tests drive.

use std::path::{Path, PathBuf};

use crate::gateway::Gateway;
use crate::model::Project;
use crate::openapi::{ExportFormat, ExportOptions, Extensions};

use super::commands::{
    Command, CommandSender, FileAction, FileCommand, FunctionEdit, HttpApiEdit, OpenApiAction,
    OpenApiCommand,
};
use super::highlight::Highlighter;
use super::panels::console::Console;
use super::workspace::{IntegrationSettings, ResponseSettings, Workspace};

pub use super::commands::Tab;

pub struct Studio {
    pub workspace: Workspace,
    pub gateway: Option<Gateway>,
    pub tab: Tab,
    pub console: Console,
    /// Text of the "new resource" and "new method" fields.
    pub new_path_part: String,
    pub new_verb: String,
    /// The selected resource's path and the path part being typed to
    /// rename it.
    pub rename_part: (String, String),
    /// The template being edited: (request side?, content type, text).
    pub template: Option<(bool, String, String)>,
    pub deploy_stage: String,
    /// The description of the next deployment.
    pub deploy_description: String,
    /// The integration settings being edited for the selected method.
    pub integration: Option<IntegrationSettings>,
    /// The integration responses being edited, each with its header
    /// mappings as `Header = source` lines.
    pub responses: Option<Vec<(ResponseSettings, String)>>,
    /// Method request settings being edited: authorization, API key
    /// required, parameter lines.
    pub method_request: Option<(String, bool, String)>,
    /// The Method Request box's validator and body model lines being edited.
    pub request_validation: Option<(String, String)>,
    /// The Method Request box's authorizer choice being edited.
    pub method_authorizer: Option<String>,
    /// The Metrics tab.
    pub metrics: super::panels::metrics::MetricsView,
    /// The API keys tab's fields.
    pub keys: super::panels::keys::KeysView,
    /// The HTTP APIs tab's fields.
    pub http_apis: super::panels::http_apis::HttpApisView,
    /// The WebSocket APIs tab: design, console, connections.
    pub websockets: super::websockets::WebSocketsView,
    /// The model open in the Models tab.
    pub model_draft: Option<super::models::ModelDraft>,
    /// The Logs tab.
    pub logs: super::panels::logs::LogsPanel,
    /// The Stages tab.
    pub stages: super::panels::stages::StagesPanel,
    /// `(revision, stage, answer)` of the last "changes not deployed" check,
    /// so the draft is compared with the deployment once per change, not
    /// once per frame.
    undeployed: Option<(u64, String, bool)>,
    pub(super) highlighter: Highlighter,
    /// The workspace revision the editors' buffers were read at: an undo,
    /// redo or apply elsewhere makes them re-read the model.
    seen_revision: u64,
    /// The control plane's store revision last seen, and the workspace
    /// revision last pushed to it.
    control_seen: u64,
    control_pushed: u64,
    /// The last message for the status bar (errors in red).
    pub status: Result<String, String>,
    /// Which box of the method execution view is open.
    pub method_box: super::designer::MethodBox,
    /// The method responses being edited.
    pub method_responses: Option<Vec<super::workspace::MethodResponseSettings>>,
    /// The sample request the template preview renders against.
    pub preview: super::designer::PreviewSample,
    /// Requests per second for the status bar.
    rate: RateMeter,
    /// Recently opened projects (File -> Recent).
    pub recent: super::recent::RecentProjects,
    pub file: super::panels::file::FileMenu,
    pub openapi: super::panels::openapi::OpenApiMenu,
    pub functions: super::panels::functions::FunctionsView,
    /// What the panels asked for this frame, applied after they drew.
    commands: CommandSender,
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
            rename_part: Default::default(),
            template: None,
            deploy_stage: "dev".into(),
            deploy_description: String::new(),
            integration: None,
            responses: None,
            method_request: None,
            request_validation: None,
            method_authorizer: None,
            stages: Default::default(),
            metrics: Default::default(),
            keys: Default::default(),
            http_apis: Default::default(),
            websockets: Default::default(),
            model_draft: None,
            logs: Default::default(),
            undeployed: None,
            highlighter: Highlighter::new(),
            seen_revision: 0,
            control_seen: 0,
            control_pushed: 0,
            status: Ok("Ready".into()),
            method_box: Default::default(),
            method_responses: None,
            preview: Default::default(),
            rate: RateMeter::default(),
            recent: Default::default(),
            file: Default::default(),
            openapi: Default::default(),
            functions: Default::default(),
            commands: CommandSender::default(),
        }
    }

    /// Drops the method editors' buffers: they re-read the model next frame.
    fn drop_method_editors(&mut self) {
        self.integration = None;
        self.responses = None;
        self.method_request = None;
        self.request_validation = None;
        self.method_authorizer = None;
        self.method_responses = None;
    }

    /// Drops every editor buffer and per-project view state (another
    /// project was opened).
    pub(super) fn reset_editors(&mut self) {
        self.model_draft = None;
        self.functions.draft = None;
        self.template = None;
        self.drop_method_editors();
        self.stages.stage_variables = None;
        self.stages.stage_throttle = None;
        self.logs.selected = None;
        self.undeployed = None;
        self.rename_part = Default::default();
        self.seen_revision = self.workspace.revision;
    }

    /// Re-reads the editors' buffers from the model (after undo, redo or
    /// any applied edit); an open template stays open with the model's text.
    fn reload_editors(&mut self) {
        self.drop_method_editors();
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

    /// The running gateway serves the project as it now is.
    pub(super) fn reload_gateway(&self) -> Result<(), String> {
        super::effects::reload_gateway(self.gateway.as_ref(), &self.workspace.project)
    }

    pub(super) fn report<T>(&mut self, result: Result<T, String>, done: impl FnOnce(T) -> String) {
        self.status = result.map(done);
    }

    /// Draws one frame.
    /// One model, two front doors: changes made through the control plane
    /// (AWS SDKs, CLI, Terraform) show here at once, and the app's edits
    /// reach the control plane. See [`crate::control::store`].
    fn sync_control_plane(&mut self, ctx: &egui::Context) {
        let Some(gateway) = &self.gateway else {
            return;
        };
        let store = gateway.model();
        if store.revision() != self.control_seen {
            let (project, revision) = store.snapshot();
            self.workspace.adopt(project);
            self.control_seen = revision;
            self.control_pushed = self.workspace.revision;
            self.status = Ok("The project changed through the AWS API (saved)".into());
            ctx.request_repaint();
        } else if self.workspace.revision != self.control_pushed {
            if let Ok(revision) =
                store.replace_if(self.control_seen, self.workspace.project.clone())
            {
                self.control_seen = revision;
            }
            self.control_pushed = self.workspace.revision;
        }
        // Changes can arrive while the window is idle.
        ctx.request_repaint_after(std::time::Duration::from_millis(500));
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.sync_control_plane(ui.ctx());
        if self.workspace.revision != self.seen_revision {
            self.seen_revision = self.workspace.revision;
            self.reload_editors();
            // Undo / redo may have changed function definitions.
            self.sync_functions();
        }
        self.file
            .confirm_window(ui.ctx(), &self.workspace, &mut self.commands);
        self.openapi.warnings_window(ui.ctx());
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
                ui.selectable_value(&mut self.tab, Tab::Models, "Models");
                ui.selectable_value(&mut self.tab, Tab::Functions, "Functions");
                ui.selectable_value(&mut self.tab, Tab::Metrics, "Metrics");
                ui.selectable_value(&mut self.tab, Tab::Keys, "API keys");
                ui.selectable_value(&mut self.tab, Tab::HttpApis, "HTTP APIs");
                ui.selectable_value(&mut self.tab, Tab::WebSockets, "WebSockets");
            });
            ui.separator();
            match self.tab {
                Tab::Designer => self.designer(ui),
                Tab::Console => self.console.ui(
                    ui,
                    self.gateway.as_ref(),
                    &mut self.highlighter,
                    &mut self.commands,
                ),
                Tab::Logs => self.logs.ui(ui, self.gateway.as_ref(), &mut self.commands),
                Tab::Stages => self.stages.ui(
                    ui,
                    &self.workspace,
                    self.gateway.as_ref(),
                    &mut self.commands,
                ),
                Tab::Models => self.models_tab(ui),
                Tab::Functions => self.functions.ui(
                    ui,
                    &self.workspace,
                    self.gateway.as_ref(),
                    &mut self.commands,
                ),
                Tab::Metrics => self.metrics.ui(ui, &self.workspace, self.gateway.as_ref()),
                Tab::Keys => self.keys.ui(
                    ui,
                    &self.workspace,
                    self.gateway.as_ref(),
                    &mut self.commands,
                ),
                Tab::HttpApis => self.http_apis.ui(
                    ui,
                    &self.workspace,
                    self.gateway.as_ref(),
                    &mut self.commands,
                ),
                Tab::WebSockets => self.websockets_tab(ui),
            }
        });
        self.apply_commands(ui.ctx());
    }

    /// Applies what the panels asked for this frame, in the order asked.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        let commands = self.commands.take();
        if commands.is_empty() {
            return;
        }
        for command in commands {
            self.apply(command, ctx);
        }
        // The next frame shows the edited model.
        ctx.request_repaint();
    }

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::Undo => self.workspace.undo(),
            Command::Redo => self.workspace.redo(),
            Command::Save => {
                let result = self.workspace.save();
                self.report(result, |()| "Saved".into());
            }
            Command::Deploy => self.deploy(),
            Command::ShowTab(tab) => self.tab = tab,
            Command::Status(status) => self.status = status,
            Command::SendConsoleRequest => {
                if let Some(gateway) = &self.gateway {
                    self.console.pending = true;
                    self.console.history.push(self.console.request.clone());
                    super::effects::send_console_request(
                        gateway,
                        self.workspace.api(),
                        self.console.request.clone(),
                        self.commands.remote(),
                        {
                            let ctx = ctx.clone();
                            move || ctx.request_repaint()
                        },
                    );
                    self.status = Ok("Sending...".into());
                }
            }
            Command::ConsoleAnswer(response) => {
                self.console.response = Some(*response);
                self.console.pending = false;
                self.status = Ok("Response received".into());
            }
            Command::OpenInConsole(request) => {
                self.console.request = *request;
                self.tab = Tab::Console;
            }
            Command::Keys(edit) => {
                let result = self.keys.apply(edit, &mut self.workspace);
                let result = result.and_then(|message| self.reload_gateway().map(|()| message));
                self.report(result, |message| message);
            }
            Command::Function(edit) => self.apply_function_edit(edit, ctx),
            Command::FunctionInvoked(result) => {
                self.functions.pending = false;
                if let Some(result) = result {
                    self.functions.result = Some(result);
                }
            }
            Command::File(command) => self.apply_file(command, ctx),
            Command::OpenApi(command) => self.apply_openapi(command, ctx),
            Command::HttpApi(edit) => self.apply_http_api_edit(edit),
            Command::Stage(edit) => {
                let status = super::panels::stages::apply(
                    edit,
                    &mut self.workspace,
                    self.gateway.as_ref(),
                    &self.deploy_description,
                );
                if let Some(status) = status {
                    self.status = status;
                }
            }
        }
    }

    /// The running gateway runs the function definitions as edited.
    pub(super) fn sync_functions(&self) {
        if let Some(gateway) = &self.gateway {
            gateway.services().functions.update(&self.workspace.project);
        }
    }

    fn apply_function_edit(&mut self, edit: FunctionEdit, ctx: &egui::Context) {
        match edit {
            FunctionEdit::Apply(draft) => {
                let result = self.workspace.apply_function_draft(&draft);
                if let Ok(name) = &result {
                    self.sync_functions();
                    if let Some(draft) = &mut self.functions.draft {
                        draft.original = Some(name.clone());
                    }
                }
                self.report(result, |name| {
                    format!("Function {name} saved in the project")
                });
            }
            FunctionEdit::Delete(name) => {
                let result = self.workspace.delete_function(&name);
                if result.is_ok() {
                    self.sync_functions();
                    self.functions.draft = None;
                }
                self.report(result, |()| format!("Function {name} deleted"));
            }
            FunctionEdit::Invoke {
                function,
                event,
                started,
            } => {
                let result = self.invoke_function(function, event, ctx);
                self.report(result, |()| started);
            }
            FunctionEdit::SetAuthorizer(draft) => {
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
            FunctionEdit::DeleteAuthorizer(id) => {
                let result = self.workspace.delete_authorizer(&id);
                let deleted = result.is_ok();
                self.report(result, |()| "Authorizer deleted".into());
                if deleted {
                    self.functions.authorizer_draft = None;
                }
            }
        }
    }

    /// Invokes `function` with the test `event` on the gateway's runtime;
    /// the answer arrives as [`Command::FunctionInvoked`].
    fn invoke_function(
        &mut self,
        function: String,
        event: String,
        ctx: &egui::Context,
    ) -> Result<(), String> {
        let gateway = self.gateway.as_ref().ok_or("the gateway is not running")?;
        serde_json::from_str::<serde_json::Value>(&event)
            .map_err(|e| format!("The test event is not JSON: {e}"))?;
        super::effects::invoke_function(gateway, function, event, self.commands.remote(), {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        });
        self.functions.pending = true;
        Ok(())
    }

    fn apply_http_api_edit(&mut self, edit: HttpApiEdit) {
        if let HttpApiEdit::Try(route_key) = &edit {
            let index = self.http_apis.selected;
            super::panels::http_apis::try_in_console(
                &self.workspace.project.http_apis[index],
                route_key,
                self.http_apis.token.as_deref(),
                &mut self.console.request,
            );
            self.tab = Tab::Console;
        }
        let result = super::panels::http_apis::apply(
            edit,
            &mut self.http_apis,
            &mut self.workspace,
            self.gateway.as_ref(),
        );
        let result = result.and_then(|message| self.reload_gateway().map(|()| message));
        self.report(result, |message| message);
    }

    fn apply_file(&mut self, command: FileCommand, ctx: &egui::Context) {
        match command {
            FileCommand::PickFolder(action) => {
                let start = self.workspace.project.dir.clone();
                let opened = super::effects::pick_folder(action, start, self.commands.remote(), {
                    let ctx = ctx.clone();
                    move || ctx.request_repaint()
                });
                if let Err(error) = opened {
                    self.status = Err(format!("the file dialog could not start: {error}"));
                }
            }
            FileCommand::FolderPicked(action, Some(folder)) => self.file_request(action, folder),
            FileCommand::FolderPicked(_, None) => {
                self.status = Ok(
                    "No folder chosen (type one under File -> Project folder if no dialog appeared)"
                        .into(),
                );
            }
            FileCommand::Request(action, folder) => self.file_request(action, folder),
            FileCommand::Confirmed {
                action,
                folder,
                save,
            } => {
                if save && let Err(error) = self.workspace.save() {
                    self.status = Err(error);
                    return;
                }
                self.file_action(action, &folder);
            }
        }
    }

    /// Runs `action` on `folder`, first asking when it would drop unsaved
    /// edits.
    fn file_request(&mut self, action: FileAction, folder: PathBuf) {
        if folder.as_os_str().is_empty() {
            self.status = Err("Type a project folder first".into());
            return;
        }
        if action != FileAction::SaveAs && self.workspace.dirty {
            self.file.confirm = Some((action, folder));
            return;
        }
        self.file_action(action, &folder);
    }

    fn file_action(&mut self, action: FileAction, folder: &Path) {
        let result = match action {
            FileAction::Open => Project::load(folder)
                .map_err(|e| e.to_string())
                .and_then(|project| self.switch_to(project)),
            FileAction::New => {
                super::effects::new_project(folder).and_then(|project| self.switch_to(project))
            }
            FileAction::SaveAs => self.save_project_as(folder),
        };
        let shown = folder.display().to_string();
        self.report(result, |()| match action {
            FileAction::Open => format!("Opened {shown}"),
            FileAction::New => format!("Created a new project in {shown}"),
            FileAction::SaveAs => format!("Saved as {shown}"),
        });
    }

    /// Writes the project, deployments included, into `folder` and keeps
    /// working there.
    fn save_project_as(&mut self, folder: &Path) -> Result<(), String> {
        self.workspace
            .project
            .save_as(folder)
            .map_err(|e| e.to_string())?;
        self.workspace.dirty = false;
        self.remember(folder);
        Ok(())
    }

    /// Loads `project` into the designer and serves its deployed stages.
    fn switch_to(&mut self, project: Project) -> Result<(), String> {
        let folder = project.dir.clone();
        let served = self.gateway.as_ref().map_or(Ok(()), |gateway| {
            gateway.reload(&project).map_err(|e| e.to_string())
        });
        self.workspace = super::Workspace::new(project);
        self.reset_editors();
        self.remember(&folder);
        served.map_err(|e| format!("opened, but its deployments cannot be served: {e}"))
    }

    /// The recent list is a convenience: failing to store it is reported
    /// on stderr, not in the window.
    fn remember(&mut self, folder: &Path) {
        if let Err(error) = self.recent.add(folder) {
            eprintln!("portico: could not store the recent projects list: {error}");
        }
    }

    fn apply_openapi(&mut self, command: OpenApiCommand, ctx: &egui::Context) {
        match command {
            OpenApiCommand::PickFile(action) => {
                let start = self.workspace.project.dir.clone();
                let suggested = match self.openapi.format {
                    ExportFormat::Oas30 => "openapi.yaml",
                    ExportFormat::Swagger2 => "swagger.yaml",
                };
                let opened = super::effects::pick_openapi_file(
                    action,
                    start,
                    suggested,
                    self.commands.remote(),
                    {
                        let ctx = ctx.clone();
                        move || ctx.request_repaint()
                    },
                );
                if let Err(error) = opened {
                    self.status = Err(format!("the file dialog could not start: {error}"));
                }
            }
            OpenApiCommand::FilePicked(action, Some(file)) => self.openapi_request(action, &file),
            OpenApiCommand::FilePicked(_, None) => {
                self.status = Ok(
                    "No file chosen (type one under File -> OpenAPI file if no dialog appeared)"
                        .into(),
                );
            }
            OpenApiCommand::Request(action, file) => self.openapi_request(action, &file),
        }
    }

    fn openapi_request(&mut self, action: OpenApiAction, file: &Path) {
        if file.as_os_str().is_empty() {
            self.status = Err("Type an OpenAPI file first".into());
            return;
        }
        match action {
            OpenApiAction::Import => {
                let result = super::effects::import_openapi(file).map(|(api, warnings)| {
                    let name = api.name.clone();
                    let count = warnings.len();
                    self.workspace.push_api(api);
                    self.reset_editors();
                    self.openapi.warnings =
                        (count > 0).then(|| (file.display().to_string(), warnings));
                    (name, count)
                });
                self.report(result, |(name, warnings)| {
                    format!("Imported {name} ({warnings} warnings); deploy it to serve it")
                });
            }
            OpenApiAction::Export => {
                let options = ExportOptions {
                    format: self.openapi.format,
                    extensions: if self.openapi.aws_extensions {
                        Extensions::ALL
                    } else {
                        Extensions::NONE
                    },
                    stage: None,
                };
                let result = self
                    .workspace
                    .api()
                    .ok_or_else(|| "the project has no REST API".to_string())
                    .and_then(|api| super::effects::export_openapi(api, &options, file));
                self.report(result, |()| format!("Exported to {}", file.display()));
            }
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let save = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let deploy = KeyboardShortcut::new(Modifiers::COMMAND, Key::D);
        if ctx.input_mut(|i| i.consume_shortcut(&redo)) {
            self.commands.send(Command::Redo);
        } else if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.commands.send(Command::Undo);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            self.commands.send(Command::Save);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&deploy)) {
            self.commands.send(Command::Deploy);
        }
    }

    fn deploy(&mut self) {
        let stage = self.deploy_stage.clone();
        let result = self.workspace.deploy(&stage, &self.deploy_description);
        if result.is_ok() {
            self.deploy_description.clear();
        }
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
            self.file
                .ui(ui, &self.recent, &mut self.commands, |ui, commands| {
                    self.openapi.ui(ui, commands)
                });
            let folder = self
                .workspace
                .project
                .dir
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            ui.strong(format!("{folder}{dirty}"))
                .on_hover_text(self.workspace.project.dir.display().to_string());
            self.api_picker(ui, &name);
            ui.separator();
            if ui.button("Save").clicked() {
                self.commands.send(Command::Save);
            }
            if ui
                .add_enabled(self.workspace.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                self.commands.send(Command::Undo);
            }
            if ui
                .add_enabled(self.workspace.can_redo(), egui::Button::new("Redo"))
                .clicked()
            {
                self.commands.send(Command::Redo);
            }
            ui.separator();
            let label = ui.label("Stage");
            ui.add(egui::TextEdit::singleline(&mut self.deploy_stage).desired_width(70.0))
                .labelled_by(label.id);
            let label = ui.label("Description");
            ui.add(
                egui::TextEdit::singleline(&mut self.deploy_description)
                    .hint_text("optional")
                    .desired_width(120.0),
            )
            .labelled_by(label.id);
            if ui.button("Deploy").clicked() {
                self.commands.send(Command::Deploy);
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
            ui.separator();
            // Text, not egui's emoji switch: the bundled fonts have no emoji.
            let dark = ui.visuals().dark_mode;
            if ui.selectable_label(dark, "Dark").clicked() {
                ui.ctx().set_theme(egui::Theme::Dark);
            }
            if ui.selectable_label(!dark, "Light").clicked() {
                ui.ctx().set_theme(egui::Theme::Light);
            }
        });
    }

    /// The API picker: every REST API of the project, and a new one.
    fn api_picker(&mut self, ui: &mut egui::Ui, current: &str) {
        let names: Vec<String> = self
            .workspace
            .project
            .rest_apis
            .iter()
            .map(|api| api.name.clone())
            .collect();
        let mut chosen = None;
        let mut add = false;
        egui::ComboBox::new("api_picker", "API")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (i, name) in names.iter().enumerate() {
                    if ui
                        .selectable_label(i == self.workspace.selection.api, name)
                        .clicked()
                    {
                        chosen = Some(i);
                    }
                }
                ui.separator();
                if ui.button("New API").clicked() {
                    add = true;
                }
            });
        if let Some(i) = chosen
            && i != self.workspace.selection.api
        {
            self.workspace.select_api(i);
            self.reset_editors();
        }
        if add {
            let name = format!("API {}", names.len() + 1);
            let result = self.workspace.add_api(&name);
            self.reset_editors();
            self.report(result, |()| {
                format!("{name} created: select / to rename it")
            });
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.status {
                Ok(message) => {
                    ui.label(message);
                }
                Err(message) => {
                    ui.colored_label(ui.visuals().error_fg_color, message);
                }
            }
            let Some(gateway) = &self.gateway else {
                return;
            };
            let per_second = self.rate.sample(gateway.request_log().total());
            let stages: Vec<String> = gateway
                .stage_urls(&self.workspace.project)
                .into_iter()
                .map(|s| s.stage)
                .collect();
            let served = if stages.is_empty() {
                "no stage deployed".to_string()
            } else {
                format!("serving {}", stages.join(", "))
            };
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(format!(
                    "http://{}  |  {served}  |  {per_second:.1} req/s",
                    gateway.local_addr()
                ));
            });
            // Keep the rate fresh while the window is idle.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs(1));
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
            // The console follows the selected method, as the AWS
            // console's Test page does.
            if let Some(verb) = &method
                && let Some(path) = api.resource(&resource).map(|r| r.path.clone())
            {
                let request = &mut self.console.request;
                request.method = if verb == "ANY" {
                    "GET".into()
                } else {
                    verb.clone()
                };
                request.path = path;
                request.stage = self.deploy_stage.clone();
                request.sync_path_params();
            }
            self.workspace.selection.resource_id = Some(resource);
            self.workspace.selection.method = method;
            self.template = None;
            self.drop_method_editors();
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
}

/// Requests per second over the last full second, from the gateway's
/// running request count.
#[derive(Debug, Default)]
struct RateMeter {
    last: Option<(std::time::Instant, u64)>,
    per_second: f64,
}

impl RateMeter {
    fn sample(&mut self, total: u64) -> f64 {
        let now = std::time::Instant::now();
        match self.last {
            None => self.last = Some((now, total)),
            Some((at, count)) => {
                let elapsed = now.duration_since(at).as_secs_f64();
                if elapsed >= 1.0 {
                    self.per_second = total.saturating_sub(count) as f64 / elapsed;
                    self.last = Some((now, total));
                }
            }
        }
        self.per_second
    }
}
