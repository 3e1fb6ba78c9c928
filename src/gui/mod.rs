//! The desktop app (eframe/egui): the designer, the test console and the
//! live request log over one project and the embedded gateway.
//!
//! State, view and effects are apart: [`workspace::Workspace`] holds the
//! model and its edits, [`app::Studio`] draws it and sends console
//! requests through the gateway's runtime, never blocking the frame.

pub mod app;
pub mod console;
mod designer;
pub mod highlight;
mod logs;
mod stages;
pub mod workspace;

use std::path::Path;

use crate::gateway::{Gateway, GatewayConfig};
use crate::model::Project;

pub use app::Studio;
pub use workspace::Workspace;

struct StudioApp {
    studio: Studio,
}

impl eframe::App for StudioApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.studio.ui(ui);
        // Keep the live log moving while requests arrive.
        if self.studio.tab == app::Tab::Logs {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }
}

/// Opens the window on `project_dir` with the gateway serving its deployed
/// stages per `config`. Returns when the window closes.
pub fn run(project_dir: &Path, config: &GatewayConfig) -> Result<(), String> {
    let project = Project::load(project_dir).map_err(|e| e.to_string())?;
    let gateway = Gateway::start(&project, config).map_err(|e| e.to_string())?;
    println!(
        "Portico gateway listening on http://{}",
        gateway.local_addr()
    );
    let studio = Studio::new(Workspace::new(project), Some(gateway));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Portico")
            .with_inner_size([1200.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Portico",
        options,
        Box::new(move |_creation| Ok(Box::new(StudioApp { studio }))),
    )
    .map_err(|e| format!("the window could not open: {e}"))
}
