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
            .column(egui_extras::Column::auto().at_least(56.0))
            .column(egui_extras::Column::auto().at_least(40.0))
            .column(egui_extras::Column::auto().at_least(52.0))
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
                    let selected = self.selected_log == Some(record.seq);
                    row.set_selected(selected);
                    // Every cell selects the row (a click anywhere on it).
                    let cells = [
                        record.seq.to_string(),
                        record.stage.clone(),
                        record.http_method.clone(),
                        record.path.clone(),
                        record.status.to_string(),
                        format!("{:.2} ms", record.latency_us as f64 / 1000.0),
                    ];
                    for text in cells {
                        row.col(|ui| {
                            // Cells never wrap: a column grows to its text.
                            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                            if ui.selectable_label(selected, text).clicked() {
                                clicked = Some(record.seq);
                            }
                        });
                    }
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
            let request = &mut self.console.request;
            request.method = record.http_method.clone();
            request.stage = record.stage.clone();
            request.path = record.path.clone();
            request.path_params.clear();
            request.query = crate::gateway::MethodRequest::parse_query(&record.raw_query);
            request.headers = record
                .request_headers
                .iter()
                .filter(|(name, _)| !matches!(*name, "host" | "content-length"))
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            request.body = String::from_utf8_lossy(&record.request_body).into_owned();
            request.test_invoke = false;
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
