//! File -> Import OpenAPI / Export OpenAPI: a definition file in (as a new
//! API, undoable, its warnings listed in a window) or the selected API's
//! draft out. Files are picked with rfd's dialogs (an effect on its own
//! thread), or typed into the menu's field where no dialog service runs.
//! Both are [`OpenApiCommand`]s.

use std::path::PathBuf;

use crate::gui::commands::{CommandSender, OpenApiAction, OpenApiCommand};
use crate::openapi::ExportFormat;

pub struct OpenApiMenu {
    /// The file typed in the menu.
    pub file: String,
    pub format: ExportFormat,
    pub aws_extensions: bool,
    /// The last import's warnings: (file, warnings), shown until closed.
    pub warnings: Option<(String, Vec<String>)>,
}

impl Default for OpenApiMenu {
    fn default() -> Self {
        OpenApiMenu {
            file: String::new(),
            format: ExportFormat::Oas30,
            aws_extensions: true,
            warnings: None,
        }
    }
}

impl OpenApiMenu {
    /// The OpenAPI part of the File menu.
    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut CommandSender) {
        if ui.button("Import OpenAPI...").clicked() {
            commands.send(OpenApiCommand::PickFile(OpenApiAction::Import).into());
            ui.close();
        }
        if ui.button("Export OpenAPI...").clicked() {
            commands.send(OpenApiCommand::PickFile(OpenApiAction::Export).into());
            ui.close();
        }
        ui.horizontal(|ui| {
            egui::ComboBox::new("export_format", "Export as")
                .selected_text(match self.format {
                    ExportFormat::Oas30 => "OpenAPI 3.0",
                    ExportFormat::Swagger2 => "Swagger 2.0",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.format, ExportFormat::Oas30, "OpenAPI 3.0");
                    ui.selectable_value(&mut self.format, ExportFormat::Swagger2, "Swagger 2.0");
                });
            ui.checkbox(&mut self.aws_extensions, "AWS extensions");
        });
        let label = ui.label("OpenAPI file (.json, .yaml)");
        ui.add(
            egui::TextEdit::singleline(&mut self.file)
                .hint_text("/path/to/openapi.yaml")
                .desired_width(260.0),
        )
        .labelled_by(label.id);
        ui.horizontal(|ui| {
            for (label, action) in [
                ("Import file", OpenApiAction::Import),
                ("Export to file", OpenApiAction::Export),
            ] {
                if ui.button(label).clicked() {
                    let file = PathBuf::from(self.file.trim());
                    commands.send(OpenApiCommand::Request(action, file).into());
                    ui.close();
                }
            }
        });
    }

    /// The last import's warnings, until closed.
    pub fn warnings_window(&mut self, ctx: &egui::Context) {
        let Some((file, warnings)) = &self.warnings else {
            return;
        };
        let mut close = false;
        egui::Window::new("Import warnings")
            .collapsible(false)
            .resizable(true)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{file} was imported; these parts were skipped (AWS's failonwarnings would refuse it):"
                ));
                egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
                    for warning in warnings {
                        ui.label(warning);
                    }
                });
                if ui.button("Close").clicked() {
                    close = true;
                }
            });
        if close {
            self.warnings = None;
        }
    }
}
