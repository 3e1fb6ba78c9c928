//! File -> Import OpenAPI / Export OpenAPI: a definition file in (as a new
//! API, undoable, its warnings listed in a window) or the selected API's
//! draft out. Files are picked with rfd's dialogs on their own thread, or
//! typed into the menu's field where no dialog service runs.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use crate::openapi::{self, ExportFormat, ExportOptions, Extensions};

use super::app::Studio;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiAction {
    Import,
    Export,
}

pub struct OpenApiMenu {
    /// The file typed in the menu.
    pub file: String,
    pub format: ExportFormat,
    pub aws_extensions: bool,
    dialog: Option<Receiver<(OpenApiAction, Option<PathBuf>)>>,
    /// The last import's warnings: (file, warnings), shown until closed.
    pub warnings: Option<(String, Vec<String>)>,
}

impl Default for OpenApiMenu {
    fn default() -> Self {
        OpenApiMenu {
            file: String::new(),
            format: ExportFormat::Oas30,
            aws_extensions: true,
            dialog: None,
            warnings: None,
        }
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

impl Studio {
    /// The OpenAPI part of the File menu.
    pub(super) fn openapi_menu(&mut self, ui: &mut egui::Ui) {
        if ui.button("Import OpenAPI...").clicked() {
            self.pick_openapi_file(OpenApiAction::Import);
            ui.close();
        }
        if ui.button("Export OpenAPI...").clicked() {
            self.pick_openapi_file(OpenApiAction::Export);
            ui.close();
        }
        ui.horizontal(|ui| {
            egui::ComboBox::new("export_format", "Export as")
                .selected_text(match self.openapi.format {
                    ExportFormat::Oas30 => "OpenAPI 3.0",
                    ExportFormat::Swagger2 => "Swagger 2.0",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut self.openapi.format,
                        ExportFormat::Oas30,
                        "OpenAPI 3.0",
                    );
                    ui.selectable_value(
                        &mut self.openapi.format,
                        ExportFormat::Swagger2,
                        "Swagger 2.0",
                    );
                });
            ui.checkbox(&mut self.openapi.aws_extensions, "AWS extensions");
        });
        let label = ui.label("OpenAPI file (.json, .yaml)");
        ui.add(
            egui::TextEdit::singleline(&mut self.openapi.file)
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
                    let file = PathBuf::from(self.openapi.file.trim());
                    self.openapi_request(action, &file);
                    ui.close();
                }
            }
        });
    }

    fn pick_openapi_file(&mut self, action: OpenApiAction) {
        let start = self.workspace.project.dir.clone();
        let suggested = match self.openapi.format {
            ExportFormat::Oas30 => "openapi.yaml",
            ExportFormat::Swagger2 => "swagger.yaml",
        };
        let opened = super::file::run_dialog(action, move || {
            let dialog = rfd::AsyncFileDialog::new()
                .set_directory(&start)
                .add_filter("OpenAPI", &["json", "yaml", "yml"]);
            async move {
                match action {
                    OpenApiAction::Import => {
                        dialog
                            .set_title("Import an OpenAPI definition")
                            .pick_file()
                            .await
                    }
                    OpenApiAction::Export => {
                        dialog
                            .set_title("Export the API as OpenAPI")
                            .set_file_name(suggested)
                            .save_file()
                            .await
                    }
                }
            }
        });
        match opened {
            Ok(receiver) => self.openapi.dialog = Some(receiver),
            Err(error) => self.status = Err(format!("the file dialog could not start: {error}")),
        }
    }

    /// Picks up the dialog's answer, if it came.
    pub(super) fn poll_openapi_dialog(&mut self) {
        let Some(receiver) = &self.openapi.dialog else {
            return;
        };
        match receiver.try_recv() {
            Ok((action, Some(file))) => {
                self.openapi.dialog = None;
                self.openapi_request(action, &file);
            }
            Ok((_, None)) | Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.openapi.dialog = None;
                self.status = Ok(
                    "No file chosen (type one under File -> OpenAPI file if no dialog appeared)"
                        .into(),
                );
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
        }
    }

    pub fn openapi_request(&mut self, action: OpenApiAction, file: &Path) {
        if file.as_os_str().is_empty() {
            self.status = Err("Type an OpenAPI file first".into());
            return;
        }
        match action {
            OpenApiAction::Import => {
                let result = self.import_openapi(file);
                self.report(result, |(name, warnings)| {
                    format!("Imported {name} ({warnings} warnings); deploy it to serve it")
                });
            }
            OpenApiAction::Export => {
                let result = self.export_openapi(file);
                self.report(result, |()| format!("Exported to {}", file.display()));
            }
        }
    }

    /// Imports `file` as a new API (undoable) and selects it; returns its
    /// name and how many warnings the import gave (listed in a window).
    pub fn import_openapi(&mut self, file: &Path) -> Result<(String, usize), String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let at_file = |e: openapi::OpenApiError| match e {
            openapi::OpenApiError::Syntax {
                line,
                column,
                message,
            } => format!("{}:{line}:{column}: {message}", file.display()),
            other => format!("{}: {other}", file.display()),
        };
        let document = openapi::parse_document(&text).map_err(at_file)?;
        let imported = openapi::import(&document).map_err(at_file)?;
        let name = imported.api.name.clone();
        let count = imported.warnings.len();
        self.workspace.push_api(imported.api);
        self.reset_editors();
        self.openapi.warnings =
            (count > 0).then(|| (file.display().to_string(), imported.warnings));
        Ok((name, count))
    }

    /// Writes the selected API's draft to `file` (YAML for .yaml / .yml).
    pub fn export_openapi(&mut self, file: &Path) -> Result<(), String> {
        let api = self.workspace.api().ok_or("the project has no REST API")?;
        let options = ExportOptions {
            format: self.openapi.format,
            extensions: if self.openapi.aws_extensions {
                Extensions::ALL
            } else {
                Extensions::NONE
            },
            stage: None,
        };
        let document = openapi::export(api, &options).map_err(|e| e.to_string())?;
        let text = openapi::to_text(&document, is_yaml(file));
        crate::model::project::write_text_atomic(file, &text).map_err(|e| e.to_string())
    }

    /// The last import's warnings, until closed.
    pub(super) fn openapi_warnings_window(&mut self, ctx: &egui::Context) {
        let Some((file, warnings)) = &self.openapi.warnings else {
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
            self.openapi.warnings = None;
        }
    }
}
