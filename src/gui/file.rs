//! The File menu: New, Open, Save, Save As and Recent. Folders are picked
//! with rfd's native dialog (on a thread of its own, so the frame never
//! blocks) or typed into the menu's folder field, which also works where no
//! dialog service runs. Opening another project while the draft has unsaved
//! edits asks first; the gateway switches to serving the opened project.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};

use crate::model::{Project, RestApi};

use super::app::Studio;
use super::workspace::Workspace;

/// What a picked folder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    New,
    Open,
    SaveAs,
}

impl FileAction {
    fn title(self) -> &'static str {
        match self {
            FileAction::New => "New project: choose an empty folder",
            FileAction::Open => "Open project: choose its folder",
            FileAction::SaveAs => "Save project as: choose an empty folder",
        }
    }
}

#[derive(Default)]
pub struct FileMenu {
    /// The folder typed in the menu.
    pub folder: String,
    /// A native dialog is open; its answer arrives here.
    dialog: Option<Receiver<(FileAction, Option<PathBuf>)>>,
    /// An action waiting for "discard unsaved changes?".
    pub confirm: Option<(FileAction, PathBuf)>,
}

impl Studio {
    pub(super) fn file_menu(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("File", |ui| {
            for (label, action) in [("New...", FileAction::New), ("Open...", FileAction::Open)] {
                if ui.button(label).clicked() {
                    self.pick_folder(action);
                    ui.close();
                }
            }
            if ui.button("Save").clicked() {
                let result = self.workspace.save();
                self.report(result, |()| "Saved".into());
                ui.close();
            }
            if ui.button("Save As...").clicked() {
                self.pick_folder(FileAction::SaveAs);
                ui.close();
            }
            ui.menu_button("Recent", |ui| {
                if self.recent.projects.is_empty() {
                    ui.label("No recent projects");
                }
                let mut chosen = None;
                for project in &self.recent.projects {
                    if ui.button(project.display().to_string()).clicked() {
                        chosen = Some(project.clone());
                    }
                }
                if let Some(project) = chosen {
                    self.file_request(FileAction::Open, project);
                    ui.close();
                }
            });
            ui.separator();
            self.openapi_menu(ui);
            ui.separator();
            let label = ui.label("Project folder");
            ui.add(
                egui::TextEdit::singleline(&mut self.file.folder)
                    .hint_text("/path/to/project")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            ui.horizontal(|ui| {
                for (label, action) in [
                    ("Open folder", FileAction::Open),
                    ("New project in folder", FileAction::New),
                    ("Save as folder", FileAction::SaveAs),
                ] {
                    if ui.button(label).clicked() {
                        let folder = PathBuf::from(self.file.folder.trim());
                        self.file_request(action, folder);
                        ui.close();
                    }
                }
            });
        });
    }

    /// Opens the native folder dialog; the answer is picked up by
    /// [`Studio::poll_file_dialog`].
    fn pick_folder(&mut self, action: FileAction) {
        let start = self.workspace.project.dir.clone();
        match run_dialog(action, move || {
            rfd::AsyncFileDialog::new()
                .set_title(action.title())
                .set_directory(&start)
                .pick_folder()
        }) {
            Ok(receiver) => self.file.dialog = Some(receiver),
            Err(error) => self.status = Err(format!("the file dialog could not start: {error}")),
        }
    }

    /// Picks up the native dialog's answer, if it came.
    pub(super) fn poll_file_dialog(&mut self) {
        let Some(receiver) = &self.file.dialog else {
            return;
        };
        match receiver.try_recv() {
            Ok((action, Some(folder))) => {
                self.file.dialog = None;
                self.file_request(action, folder);
            }
            Ok((_, None)) | Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.file.dialog = None;
                self.status = Ok(
                    "No folder chosen (type one under File -> Project folder if no dialog appeared)"
                        .into(),
                );
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
        }
    }

    /// Runs `action` on `folder`, first asking when it would drop unsaved
    /// edits.
    pub fn file_request(&mut self, action: FileAction, folder: PathBuf) {
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
            FileAction::Open => self.open_project(folder),
            FileAction::New => self.new_project(folder),
            FileAction::SaveAs => self.save_project_as(folder),
        };
        let shown = folder.display().to_string();
        self.report(result, |()| match action {
            FileAction::Open => format!("Opened {shown}"),
            FileAction::New => format!("Created a new project in {shown}"),
            FileAction::SaveAs => format!("Saved as {shown}"),
        });
    }

    /// The "unsaved changes" question, while one is pending.
    pub(super) fn confirm_window(&mut self, ctx: &egui::Context) {
        let Some((action, folder)) = self.file.confirm.clone() else {
            return;
        };
        let mut answer = None;
        egui::Window::new("Unsaved changes")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ctx, |ui| {
                ui.label(format!(
                    "{} has unsaved changes. Save them before opening {}?",
                    self.workspace.project.dir.display(),
                    folder.display()
                ));
                ui.horizontal(|ui| {
                    if ui.button("Save and continue").clicked() {
                        answer = Some(true);
                    }
                    if ui.button("Discard changes").clicked() {
                        answer = Some(false);
                    }
                    if ui.button("Cancel").clicked() {
                        self.file.confirm = None;
                    }
                });
            });
        if let Some(save) = answer {
            self.file.confirm = None;
            if save && let Err(error) = self.workspace.save() {
                self.status = Err(error);
                return;
            }
            self.file_action(action, &folder);
        }
    }

    /// Loads the project in `folder` into the designer and serves its
    /// deployed stages.
    pub fn open_project(&mut self, folder: &Path) -> Result<(), String> {
        let project = Project::load(folder).map_err(|e| e.to_string())?;
        self.switch_to(project)
    }

    /// Creates a project with one empty REST API (named after the folder)
    /// in `folder`, which must not hold a project yet, and opens it.
    pub fn new_project(&mut self, folder: &Path) -> Result<(), String> {
        if folder.join(crate::model::project::PROJECT_FILE).exists() {
            return Err(format!(
                "{} already holds a project: use Open",
                folder.display()
            ));
        }
        let name = folder
            .file_name()
            .map_or("My API".to_string(), |n| n.to_string_lossy().into_owned());
        let mut project = Project::new(folder);
        project.rest_apis.push(RestApi::new(&name));
        project.save().map_err(|e| e.to_string())?;
        self.switch_to(project)
    }

    /// Writes the project, deployments included, into `folder` and keeps
    /// working there.
    pub fn save_project_as(&mut self, folder: &Path) -> Result<(), String> {
        self.workspace
            .project
            .save_as(folder)
            .map_err(|e| e.to_string())?;
        self.workspace.dirty = false;
        self.remember(folder);
        Ok(())
    }

    fn switch_to(&mut self, project: Project) -> Result<(), String> {
        let folder = project.dir.clone();
        let served = match &self.gateway {
            Some(gateway) => gateway.reload(&project).map_err(|e| e.to_string()),
            None => Ok(()),
        };
        self.workspace = Workspace::new(project);
        self.reset_editors();
        self.remember(&folder);
        served.map_err(|e| format!("opened, but its deployments cannot be served: {e}"))
    }

    fn remember(&mut self, folder: &Path) {
        if let Err(error) = self.recent.add(folder) {
            warn_recent_not_stored(&error);
        }
    }
}

/// The recent list is a convenience: failing to store it is reported on
/// stderr, not in the window.
fn warn_recent_not_stored(error: &str) {
    eprintln!("portico: could not store the recent projects list: {error}");
}

/// Runs a native dialog on a thread of its own (the frame never waits);
/// its answer, tagged with `action`, arrives on the returned channel.
pub(super) fn run_dialog<A, F>(
    action: A,
    dialog: impl FnOnce() -> F + Send + 'static,
) -> std::io::Result<Receiver<(A, Option<PathBuf>)>>
where
    A: Send + 'static,
    F: std::future::Future<Output = Option<rfd::FileHandle>>,
{
    let (sender, receiver) = channel();
    std::thread::Builder::new()
        .name("portico-file-dialog".into())
        .spawn(move || {
            let picked = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .and_then(|runtime| runtime.block_on(dialog()))
                .map(|handle| handle.path().to_path_buf());
            let _ = sender.send((action, picked));
        })?;
    Ok(receiver)
}
