//! The File menu: New, Open, Save, Save As and Recent. Folders are picked
//! with rfd's native dialog (an effect on a thread of its own, so the
//! frame never blocks) or typed into the menu's folder field, which also
//! works where no dialog service runs. Opening another project while the
//! draft has unsaved edits asks first; the gateway switches to serving the
//! opened project. Everything it does is a [`FileCommand`].

use std::path::PathBuf;

use crate::gui::commands::{Command, CommandSender, FileAction, FileCommand};
use crate::gui::recent::RecentProjects;
use crate::gui::workspace::Workspace;

#[derive(Default)]
pub struct FileMenu {
    /// The folder typed in the menu.
    pub folder: String,
    /// An action waiting for "discard unsaved changes?".
    pub confirm: Option<(FileAction, PathBuf)>,
}

impl FileMenu {
    /// The menu; `more` draws the OpenAPI part in its middle.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        recent: &RecentProjects,
        commands: &mut CommandSender,
        more: impl FnOnce(&mut egui::Ui, &mut CommandSender),
    ) {
        ui.menu_button("File", |ui| {
            for (label, action) in [("New...", FileAction::New), ("Open...", FileAction::Open)] {
                if ui.button(label).clicked() {
                    commands.send(FileCommand::PickFolder(action).into());
                    ui.close();
                }
            }
            if ui.button("Save").clicked() {
                commands.send(Command::Save);
                ui.close();
            }
            if ui.button("Save As...").clicked() {
                commands.send(FileCommand::PickFolder(FileAction::SaveAs).into());
                ui.close();
            }
            ui.menu_button("Recent", |ui| {
                if recent.projects.is_empty() {
                    ui.label("No recent projects");
                }
                let mut chosen = None;
                for project in &recent.projects {
                    if ui.button(project.display().to_string()).clicked() {
                        chosen = Some(project.clone());
                    }
                }
                if let Some(project) = chosen {
                    commands.send(FileCommand::Request(FileAction::Open, project).into());
                    ui.close();
                }
            });
            ui.separator();
            more(ui, commands);
            ui.separator();
            let label = ui.label("Project folder");
            ui.add(
                egui::TextEdit::singleline(&mut self.folder)
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
                        let folder = PathBuf::from(self.folder.trim());
                        commands.send(FileCommand::Request(action, folder).into());
                        ui.close();
                    }
                }
            });
        });
    }

    /// The "unsaved changes" question, while one is pending.
    pub fn confirm_window(
        &mut self,
        ctx: &egui::Context,
        workspace: &Workspace,
        commands: &mut CommandSender,
    ) {
        let Some((action, folder)) = self.confirm.clone() else {
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
                    workspace.project.dir.display(),
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
                        self.confirm = None;
                    }
                });
            });
        if let Some(save) = answer {
            self.confirm = None;
            commands.send(
                FileCommand::Confirmed {
                    action,
                    folder,
                    save,
                }
                .into(),
            );
        }
    }
}
