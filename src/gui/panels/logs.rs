//! The live request log tab: newest first, filtered, each request's
//! execution log, "Open in console".

use crate::gateway::Gateway;
use crate::gui::commands::{Command, CommandSender};
use crate::gui::console::ConsoleRequest;

/// The tab's state: the filter being typed, the requests it shows and the
/// one selected.
#[derive(Default)]
pub struct LogsPanel {
    pub filter: String,
    view: LogView,
    /// The request whose details show below the table.
    pub selected: Option<u64>,
}

impl LogsPanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let Some(gateway) = gateway else {
            ui.label("The gateway is not running.");
            return;
        };
        let filter = self.filter.trim().to_ascii_lowercase();
        let view = &mut self.view;
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
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("e.g. post 4xx /pets stage:prod"),
            )
            .labelled_by(label.id);
        });
        let shown: Vec<_> = self.view.shown.iter().rev().collect();
        let mut clicked = None;
        egui_extras::TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(260.0)
            .column(egui_extras::Column::auto().at_least(56.0))
            .column(egui_extras::Column::auto().at_least(90.0))
            .column(egui_extras::Column::auto().at_least(40.0))
            .column(egui_extras::Column::auto().at_least(52.0))
            .column(egui_extras::Column::remainder())
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::auto())
            .column(egui_extras::Column::auto())
            .header(18.0, |mut header| {
                for title in [
                    "#",
                    "Time (UTC)",
                    "Stage",
                    "Method",
                    "Path",
                    "Status",
                    "Latency",
                    "Canary",
                ] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, shown.len(), |mut row| {
                    let record = shown[row.index()];
                    let selected = self.selected == Some(record.seq);
                    row.set_selected(selected);
                    // Every cell selects the row (a click anywhere on it).
                    let cells = [
                        record.seq.to_string(),
                        clock(record.at),
                        record.stage.to_string(),
                        record.http_method.to_string(),
                        record.path.clone(),
                        record.status.to_string(),
                        format!("{:.2} ms", record.latency_us as f64 / 1000.0),
                        if record.canary { "yes" } else { "no" }.to_string(),
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
            self.selected = clicked;
        }
        let Some(record) = self
            .selected
            .and_then(|seq| shown.iter().copied().find(|r| r.seq == seq))
        else {
            return;
        };
        ui.separator();
        if ui.button("Open in console").clicked() {
            let request = ConsoleRequest {
                method: record.http_method.to_string(),
                stage: record.stage.to_string(),
                path: record.path.clone(),
                path_params: Vec::new(),
                query: crate::gateway::MethodRequest::parse_query(&record.raw_query),
                headers: record
                    .request_headers
                    .iter()
                    .filter(|(name, _)| !matches!(*name, "host" | "content-length"))
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect(),
                body: String::from_utf8_lossy(&record.request_body).into_owned(),
                test_invoke: false,
            };
            commands.send(Command::OpenInConsole(Box::new(request)));
        }
        detail(ui, record);
    }
}

/// One request in full: headers, bodies and its execution log.
fn detail(ui: &mut egui::Ui, record: &crate::observe::RequestRecord) {
    egui::ScrollArea::vertical()
        .id_salt("log_detail")
        .show(ui, |ui| {
            let query = if record.raw_query.is_empty() {
                String::new()
            } else {
                format!("?{}", record.raw_query)
            };
            ui.strong(format!(
                "{} /{}{}{query} -> {}   {:.2} ms{}   request id {}",
                record.http_method,
                record.stage,
                record.path,
                record.status,
                record.latency_us as f64 / 1000.0,
                record
                    .integration_latency_us
                    .map_or(String::new(), |us| format!(
                        " (integration {:.2} ms)",
                        us as f64 / 1000.0
                    )),
                record.request_id
            ));
            ui.collapsing("Request headers and body", |ui| {
                for (name, value) in record.request_headers.iter() {
                    ui.monospace(format!("{name}: {value}"));
                }
                ui.separator();
                ui.monospace(String::from_utf8_lossy(&record.request_body));
            });
            ui.collapsing("Response headers and body", |ui| {
                for (name, value) in record.response_headers.iter() {
                    ui.monospace(format!("{name}: {value}"));
                }
                ui.separator();
                ui.monospace(String::from_utf8_lossy(&record.response_body));
            });
            ui.label("Execution log");
            ui.monospace(record.execution_log.render());
        });
}

/// `HH:MM:SS.mmm` (UTC) of a request, for the log's time column.
fn clock(at: std::time::SystemTime) -> String {
    let since = at
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        since.subsec_millis()
    )
}

/// The live log as the tab shows it: the requests matching the filter,
/// oldest first, kept across frames.
#[derive(Default)]
struct LogView {
    filter: String,
    last_seq: u64,
    total: usize,
    shown: std::collections::VecDeque<std::sync::Arc<crate::observe::RequestRecord>>,
}

impl LogView {
    /// Every word of the filter must match: an HTTP verb (`post`), a
    /// status or status class (`404`, `4xx`, `5`), a stage (`stage:prod`),
    /// `canary` (served by a stage's canary), or else a piece of the path
    /// (`/pets`).
    fn matches(&self, record: &crate::observe::RequestRecord) -> bool {
        self.filter
            .split_whitespace()
            .all(|term| term_matches(term, record))
    }
}

const VERBS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "any",
];

fn term_matches(term: &str, record: &crate::observe::RequestRecord) -> bool {
    if VERBS.contains(&term) {
        return record.http_method.eq_ignore_ascii_case(term);
    }
    if let Some(stage) = term.strip_prefix("stage:") {
        return record.stage.eq_ignore_ascii_case(stage);
    }
    if term == "canary" {
        return record.canary;
    }
    let class = term.trim_end_matches('x');
    if !class.is_empty() && class.len() <= 3 && class.bytes().all(|b| b.is_ascii_digit()) {
        return itoa::Buffer::new().format(record.status).starts_with(class);
    }
    record.path.to_ascii_lowercase().contains(term)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: &str, stage: &str, path: &str, status: u16) -> crate::observe::RequestRecord {
        crate::observe::RequestRecord {
            seq: 1,
            request_id: String::new(),
            at: std::time::SystemTime::now(),
            api_id: Default::default(),
            stage: stage.into(),
            canary: false,
            http_method: method.into(),
            path: path.into(),
            raw_query: String::new(),
            resource_path: None,
            status,
            latency_us: 0,
            integration_latency_us: None,
            request_headers: Default::default(),
            request_body: Default::default(),
            response_headers: Default::default(),
            response_body: Default::default(),
            execution_log: Default::default(),
        }
    }

    #[test]
    fn filter_words_all_match() {
        let view = |filter: &str| LogView {
            filter: filter.into(),
            ..Default::default()
        };
        let post = record("POST", "prod", "/pets/7", 404);
        assert!(view("").matches(&post));
        assert!(view("4xx").matches(&post));
        assert!(view("post 4xx /pets").matches(&post));
        assert!(view("40").matches(&post));
        assert!(view("stage:prod 404").matches(&post));
        assert!(!view("get").matches(&post));
        assert!(!view("5xx").matches(&post));
        assert!(!view("post stage:dev").matches(&post));
        assert!(!view("/toys").matches(&post));
    }
}
