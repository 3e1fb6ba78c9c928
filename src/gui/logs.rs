//! The live request log tab: newest first, filtered, each request's
//! execution log, "Open in console".

use super::app::{Studio, Tab};

impl Studio {
    pub(super) fn logs(&mut self, ui: &mut egui::Ui) {
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
}
