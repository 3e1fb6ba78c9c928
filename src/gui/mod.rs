//! The desktop app (eframe/egui): the designer, the test console and the
//! live request log over one project and the embedded gateway.
//!
//! State, view and effects are apart: [`workspace::Workspace`] holds the
//! model and its edits, [`app::Studio`] draws it and sends console
//! requests through the gateway's runtime, never blocking the frame.

pub mod app;
pub mod charts;
pub mod commands;
pub mod console;
pub mod designer;
pub mod effects;
pub mod highlight;
pub mod models;
pub mod panels;
pub mod recent;
pub mod websockets;
pub mod widgets;
pub mod workspace;

use std::path::Path;

use crate::gateway::{Gateway, GatewayConfig};
use crate::model::Project;

pub use app::Studio;
pub use workspace::Workspace;

struct StudioApp {
    studio: Studio,
}

/// How many requests the window's live log keeps (a ring buffer: the
/// oldest go first).
pub const LOG_CAPACITY: usize = 100_000;
/// ... and at most this many bytes of requests, responses and execution
/// logs, so large bodies shorten the history instead of growing memory.
pub const LOG_BYTES: usize = 64 << 20;

/// What the window remembers between runs (eframe storage).
const STORAGE_KEY: &str = "portico.ui";

impl eframe::App for StudioApp {
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let tab = self.studio.tab.storage_name();
        storage.set_string(STORAGE_KEY, format!("{tab}\n{}", self.studio.deploy_stage));
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.studio.ui(ui);
        // Keep the live log moving while requests arrive.
        if matches!(self.studio.tab, app::Tab::Logs | app::Tab::Functions) {
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
    let mut studio = Studio::new(Workspace::new(project), Some(gateway));
    studio.recent = recent::RecentProjects::for_user();
    let _ = studio.recent.add(project_dir);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Portico")
            .with_inner_size([1200.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Portico",
        options,
        Box::new(move |creation| {
            if let Some(saved) = creation.storage.and_then(|s| s.get_string(STORAGE_KEY)) {
                let mut lines = saved.lines();
                studio.tab = app::Tab::from_storage_name(lines.next());
                if let Some(stage) = lines.next().filter(|s| !s.is_empty()) {
                    studio.deploy_stage = stage.to_string();
                }
            }
            Ok(Box::new(StudioApp { studio }))
        }),
    )
    .map_err(|e| format!("the window could not open: {e}"))
}
