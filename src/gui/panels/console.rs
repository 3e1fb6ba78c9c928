//! The test console tab: build a request, send it to the running gateway
//! (or test-invoke the draft, as AWS's console does), see status, headers,
//! body, timing and the execution log. The send is a command: it runs on
//! the gateway's runtime and its answer comes back through the queue.

use crate::gateway::Gateway;
use crate::gui::commands::{Command, CommandSender};
use crate::gui::console::{ConsoleRequest, ConsoleResponse};
use crate::gui::highlight::Highlighter;
use crate::gui::widgets::pairs_table;

#[derive(Default)]
pub struct Console {
    pub request: ConsoleRequest,
    /// Show the response body as received, not pretty-printed.
    pub raw: bool,
    pub response: Option<ConsoleResponse>,
    pub pending: bool,
    pub history: Vec<ConsoleRequest>,
}

impl Console {
    /// `curl` for the current request against the gateway at `address`.
    pub fn as_curl(&self, address: &str) -> String {
        let mut command = format!(
            "curl -i -X {} 'http://{address}{}'",
            self.request.method,
            self.request.target()
        );
        for (name, value) in self.request.header_pairs() {
            command.push_str(&format!(" -H '{name}: {value}'"));
        }
        if !self.request.body.is_empty() {
            command.push_str(&format!(
                " --data-raw '{}'",
                self.request.body.replace('\'', "'\\''")
            ));
        }
        command
    }
}

impl Console {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        gateway: Option<&Gateway>,
        highlighter: &mut Highlighter,
        commands: &mut CommandSender,
    ) {
        let request = &mut self.request;
        ui.horizontal(|ui| {
            egui::ComboBox::new("console_method", "Method")
                .selected_text(request.method.clone())
                .show_ui(ui, |ui| {
                    for verb in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
                        ui.selectable_value(&mut request.method, verb.to_string(), verb);
                    }
                });
            let label = ui.label("Stage");
            ui.add_enabled(
                !request.test_invoke,
                egui::TextEdit::singleline(&mut request.stage).desired_width(60.0),
            )
            .labelled_by(label.id);
            let label = ui.label("Path");
            ui.add(
                egui::TextEdit::singleline(&mut request.path)
                    .hint_text("/pets/{petId}")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            ui.checkbox(&mut request.test_invoke, "Test invoke (draft)");
        });
        request.sync_path_params();
        if !request.path_params.is_empty() {
            ui.horizontal(|ui| {
                ui.label("Path parameters:");
                for (name, value) in &mut request.path_params {
                    let label = ui.label(name.as_str());
                    ui.add(egui::TextEdit::singleline(value).desired_width(100.0))
                        .labelled_by(label.id);
                }
            });
        }
        ui.weak(if request.test_invoke {
            format!("Test invoke {}", request.resource_target())
        } else {
            format!("{} {}", request.method, request.target())
        });
        ui.columns(2, |columns| {
            pairs_table(&mut columns[0], "Query parameter", &mut request.query);
            pairs_table(&mut columns[1], "Header", &mut request.headers);
        });
        let label = ui.label("Body");
        ui.add(
            egui::TextEdit::multiline(&mut request.body)
                .desired_rows(4)
                .code_editor(),
        )
        .labelled_by(label.id);
        let send_shortcut = ui.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::Enter,
            ))
        });
        ui.horizontal(|ui| {
            let send = ui
                .add_enabled(
                    !self.pending && gateway.is_some(),
                    egui::Button::new("Send"),
                )
                .clicked();
            if (send || send_shortcut) && gateway.is_some() {
                commands.send(Command::SendConsoleRequest);
            }
            if ui.button("Copy as curl").clicked()
                && let Some(gateway) = gateway
            {
                let curl = self.as_curl(&gateway.local_addr().to_string());
                ui.ctx().copy_text(curl);
            }
            if self.pending {
                ui.spinner();
            }
        });
        if !self.history.is_empty() {
            let mut restore = None;
            ui.collapsing(format!("History ({})", self.history.len()), |ui| {
                for (i, past) in self.history.iter().enumerate().rev().take(20) {
                    let test = if past.test_invoke {
                        " (test invoke)"
                    } else {
                        ""
                    };
                    let target = if past.test_invoke {
                        past.resource_target()
                    } else {
                        past.target()
                    };
                    if ui
                        .selectable_label(false, format!("{} {target}{test}", past.method))
                        .clicked()
                    {
                        restore = Some(i);
                    }
                }
            });
            if let Some(i) = restore {
                self.request = self.history[i].clone();
            }
        }
        ui.separator();
        self.response_view(ui, highlighter);
    }

    /// The last response: status, timing, headers, the body (pretty
    /// unless Raw) and the execution log.
    fn response_view(&mut self, ui: &mut egui::Ui, highlighter: &mut Highlighter) {
        let Some(response) = &self.response else {
            return;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            if let Some(error) = &response.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
                return;
            }
            ui.strong(format!(
                "Status {}   {:.1} ms{}   {} bytes",
                response.status,
                response.total_ms,
                response
                    .integration_ms
                    .map_or(String::new(), |ms| format!(" (integration {ms:.1} ms)")),
                response.body.len()
            ));
            ui.collapsing("Response headers", |ui| {
                for (name, value) in &response.headers {
                    ui.monospace(format!("{name}: {value}"));
                }
            });
            ui.horizontal(|ui| {
                ui.label("Response body");
                ui.checkbox(&mut self.raw, "Raw");
            });
            let content_type = response
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map_or("", |(_, v)| v.as_str());
            let pretty = (!self.raw)
                .then(|| {
                    serde_json::from_str::<serde_json::Value>(&response.body)
                        .ok()
                        .and_then(|v| serde_json::to_string_pretty(&v).ok())
                        .map(|text| (text, "json"))
                        .or_else(|| {
                            (content_type.contains("xml") || response.body.starts_with("<?xml"))
                                .then(|| (response.body.clone(), "xml"))
                        })
                })
                .flatten();
            match pretty {
                Some((text, syntax)) => {
                    let job =
                        highlighter.layout_cached(&text, syntax, ui.visuals().dark_mode, 13.0);
                    ui.label(job);
                }
                None => {
                    ui.monospace(&response.body);
                }
            }
            ui.label("Execution log");
            ui.monospace(&response.execution_log);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_quotes_the_body() {
        let console = Console {
            request: ConsoleRequest {
                method: "POST".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: "{\"name\": \"it's\"}".into(),
                ..ConsoleRequest::default()
            },
            ..Console::default()
        };
        assert_eq!(
            console.as_curl("127.0.0.1:4455"),
            "curl -i -X POST 'http://127.0.0.1:4455/dev/pets' -H 'Content-Type: application/json' --data-raw '{\"name\": \"it'\\''s\"}'"
        );
    }
}
