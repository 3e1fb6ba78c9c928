//! The live request log tab: newest first, filtered, each request's
//! execution log, "Open in console".

use super::app::{Studio, Tab};

impl Studio {
    pub(super) fn logs(&mut self, ui: &mut egui::Ui) {
        let Some(gateway) = &self.gateway else {
            ui.label("The gateway is not running.");
            return;
        };
        let filter = self.log_filter.trim().to_ascii_lowercase();
        let view = &mut self.log_view;
        if view.filter != filter {
            *view = LogView {
                filter,
                ..LogView::default()
            };
        }
        // Only the requests that arrived since the last frame are fetched
        // and filtered; the view keeps at most the gateway log's capacity.
        let new = gateway.request_log().since(view.last_seq);
        if let Some(last) = new.last() {
            view.last_seq = last.seq;
        }
        view.total += new.len();
        for record in new {
            if view.matches(&record) {
                view.shown.push_back(record);
            }
        }
        let capacity = gateway.request_log().capacity();
        while view.shown.len() > capacity {
            view.shown.pop_front();
        }
        ui.horizontal(|ui| {
            ui.label(format!("{} requests", view.total.min(capacity)));
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.log_filter)
                    .hint_text("path, method or status"),
            )
            .labelled_by(label.id);
        });
        let shown: Vec<_> = self.log_view.shown.iter().rev().collect();
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
            .and_then(|seq| shown.iter().copied().find(|r| r.seq == seq))
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

/// The live log as the tab shows it: the requests matching the filter,
/// oldest first, kept across frames.
#[derive(Default)]
pub struct LogView {
    filter: String,
    last_seq: u64,
    total: usize,
    shown: std::collections::VecDeque<std::sync::Arc<crate::observe::RequestRecord>>,
}

impl LogView {
    fn matches(&self, record: &crate::observe::RequestRecord) -> bool {
        self.filter.is_empty()
            || record.path.to_ascii_lowercase().contains(&self.filter)
            || record.http_method.eq_ignore_ascii_case(&self.filter)
            || itoa::Buffer::new()
                .format(record.status)
                .starts_with(&self.filter)
    }
}
