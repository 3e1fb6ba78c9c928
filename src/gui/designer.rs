//! The designer tab: a method's boxes as editors (method request,
//! integration request, integration responses) and its mapping templates
//! with highlighting, live preview and parse errors; "Enable CORS" on a
//! resource.

use crate::vtl;

use super::app::Studio;
use super::workspace::{IntegrationSettings, ResponseSettings};

impl Studio {
    pub(super) fn designer(&mut self, ui: &mut egui::Ui) {
        let Some((request_templates, response_templates)) = self.workspace.templates() else {
            if self.workspace.selection.resource_id.is_some() {
                self.resource_editor(ui);
                if ui.button("Enable CORS").clicked() {
                    let result = self.workspace.enable_cors("*");
                    self.report(result, |methods| {
                        format!("CORS enabled: OPTIONS answers {methods} (deploy to serve it)")
                    });
                }
                ui.label("Adds an OPTIONS method answering the preflight, maps Access-Control-Allow-Origin on the other methods and on DEFAULT_4XX/5XX, as the AWS console does.");
            }
            ui.label("Select a method in the tree to edit its mapping templates, or add one.");
            return;
        };
        let selection = self.workspace.selection.clone();
        ui.heading(format!(
            "{} {}",
            selection.method.as_deref().unwrap_or_default(),
            self.workspace
                .api()
                .and_then(|a| selection
                    .resource_id
                    .as_deref()
                    .and_then(|id| a.resource(id)))
                .map_or("", |r| r.path.as_str())
        ));
        if ui.button("Delete method").clicked() {
            let result = self.workspace.delete_method();
            self.report(result, |()| "Method deleted".into());
            return;
        }
        self.execution_boxes(ui);
        match self.method_box {
            MethodBox::MethodRequest => {
                self.method_request_editor(ui);
                self.method_authorizer_editor(ui);
                self.request_validation_editor(ui);
            }
            MethodBox::IntegrationRequest => self.integration_editor(ui),
            MethodBox::IntegrationResponse => self.responses_editor(ui),
            MethodBox::MethodResponse => self.method_responses_editor(ui),
        }
        ui.separator();
        ui.horizontal(|ui| {
            for (request, templates, side) in [
                (true, &request_templates, "Integration request"),
                (false, &response_templates, "Integration response"),
            ] {
                for (content_type, text) in templates {
                    let open = self
                        .template
                        .as_ref()
                        .is_some_and(|(r, ct, _)| *r == request && ct == content_type);
                    if ui
                        .selectable_label(open, format!("{side} template {content_type}"))
                        .clicked()
                    {
                        self.template = Some((request, content_type.clone(), text.clone()));
                    }
                }
            }
        });
        let Some((request, content_type, mut text)) = self.template.clone() else {
            return;
        };
        let label = ui.label(format!(
            "{} template for {content_type}",
            if request { "Request" } else { "Response" }
        ));
        let compiled = vtl::Template::compile(&text);
        let error_lines = compiled
            .as_ref()
            .err()
            .map(|e| line_range(&text, e.line as usize));
        let error_color = ui.visuals().error_fg_color;
        let highlighter = &self.highlighter;
        let mut layouter = |ui: &egui::Ui, buffer: &dyn egui::TextBuffer, wrap_width: f32| {
            let mut job =
                highlighter.layout_cached(buffer.as_str(), "vtl", ui.visuals().dark_mode, 13.0);
            // The line the parse error is on, underlined in the error colour.
            if let Some(range) = &error_lines
                && buffer.as_str().len() >= range.end
            {
                for section in &mut job.sections {
                    if section.byte_range.start.0 < range.end
                        && section.byte_range.end.0 > range.start
                    {
                        section.format.underline = egui::Stroke::new(1.5, error_color);
                        section.format.background = error_color.gamma_multiply(0.15);
                    }
                }
            }
            job.wrap.max_width = wrap_width;
            ui.fonts_mut(|fonts| fonts.layout_job(job))
        };
        let mut edited = false;
        egui::ScrollArea::vertical()
            .id_salt("template_editor")
            .max_height(320.0)
            .show(ui, |ui| {
                ui.horizontal_top(|ui| {
                    // Line numbers, in the editor's font so they line up.
                    let count = text.split('\n').count();
                    let numbers: Vec<String> = (1..=count).map(|n| format!("{n:>3}")).collect();
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(numbers.join("\n"))
                                .font(egui::FontId::monospace(13.0))
                                .weak(),
                        )
                        .selectable(false),
                    );
                    edited = ui
                        .add(
                            egui::TextEdit::multiline(&mut text)
                                .code_editor()
                                .desired_rows(10)
                                .desired_width(f32::INFINITY)
                                .layouter(&mut layouter),
                        )
                        .labelled_by(label.id)
                        .changed();
                });
            });
        if edited {
            self.template = Some((request, content_type.clone(), text.clone()));
        }
        match &compiled {
            Ok(template) => {
                self.preview_sample(ui);
                match self
                    .preview
                    .render(template, &self.workspace, &self.deploy_stage)
                {
                    Ok(rendered) => {
                        ui.label("Preview");
                        ui.monospace(rendered);
                    }
                    Err(error) => {
                        ui.colored_label(error_color, format!("Preview failed: {error}"));
                    }
                }
            }
            Err(error) => {
                ui.colored_label(
                    error_color,
                    format!(
                        "Line {}, column {}: {}",
                        error.line, error.column, error.message
                    ),
                );
                ui.monospace(&error.excerpt);
            }
        }
        if ui.button("Apply template").clicked() {
            let result = self.workspace.set_template(request, &content_type, &text);
            self.report(result, |()| "Template applied (not deployed yet)".into());
        }
    }

    /// AWS's method execution view: four boxes in the order a request
    /// flows, each with a summary; clicking one opens its editor below.
    fn execution_boxes(&mut self, ui: &mut egui::Ui) {
        let Some(api) = self.workspace.api() else {
            return;
        };
        let Some(method) = self
            .workspace
            .selection
            .resource_id
            .as_deref()
            .and_then(|id| api.resource(id))
            .and_then(|r| {
                r.resource_methods
                    .get(self.workspace.selection.method.as_deref()?)
            })
        else {
            return;
        };
        let integration = method.method_integration.as_ref();
        let summaries = [
            (
                MethodBox::MethodRequest,
                format!(
                    "Auth: {}\nAPI key: {}\n{} parameter(s)\nValidator: {}",
                    method.authorization_type,
                    if method.api_key_required {
                        "required"
                    } else {
                        "not required"
                    },
                    method.request_parameters.len(),
                    method
                        .request_validator_id
                        .as_deref()
                        .and_then(|id| api.request_validators.iter().find(|v| v.id == id))
                        .map_or("NONE", |v| v.name.as_str())
                ),
            ),
            (
                MethodBox::IntegrationRequest,
                match integration {
                    None => "No integration".to_string(),
                    Some(i) => match &i.uri {
                        Some(uri) => format!(
                            "{}\n{} {}",
                            i.integration_type.as_str(),
                            i.http_method.as_deref().unwrap_or("ANY"),
                            uri
                        ),
                        None => i.integration_type.as_str().to_string(),
                    },
                },
            ),
            (
                MethodBox::IntegrationResponse,
                match integration {
                    None => String::new(),
                    Some(i) => {
                        let statuses: Vec<&str> = i
                            .integration_responses
                            .values()
                            .map(|r| r.status_code.as_str())
                            .collect();
                        format!("{} response(s)\n{}", statuses.len(), statuses.join(", "))
                    }
                },
            ),
            (
                MethodBox::MethodResponse,
                format!(
                    "{} status(es)\n{}",
                    method.method_responses.len(),
                    method
                        .method_responses
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        ];
        let mut chosen = None;
        ui.horizontal(|ui| {
            for (i, (which, summary)) in summaries.into_iter().enumerate() {
                if i > 0 {
                    ui.label("->");
                }
                ui.group(|ui| {
                    ui.set_width(190.0);
                    ui.vertical(|ui| {
                        if ui
                            .selectable_label(self.method_box == which, which.title())
                            .clicked()
                        {
                            chosen = Some(which);
                        }
                        ui.add(
                            egui::Label::new(egui::RichText::new(summary).small().weak())
                                .wrap_mode(egui::TextWrapMode::Wrap),
                        );
                    });
                });
            }
        });
        if let Some(which) = chosen {
            self.method_box = which;
        }
    }

    /// Method responses: status codes the method declares, with their
    /// response headers and models (the Method Response box).
    pub(super) fn method_responses_editor(&mut self, ui: &mut egui::Ui) {
        if self.method_responses.is_none() {
            self.method_responses = self.workspace.method_responses();
        }
        let Some(mut responses) = self.method_responses.clone() else {
            return;
        };
        let mut remove = None;
        let mut apply = false;
        ui.group(|ui| {
            ui.strong("Method responses");
            for (i, response) in responses.iter_mut().enumerate() {
                ui.horizontal(|ui| {
                    let label = ui.label("HTTP status");
                    ui.add(
                        egui::TextEdit::singleline(&mut response.status_code).desired_width(40.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Response headers");
                    ui.add(
                        egui::TextEdit::multiline(&mut response.headers)
                            .hint_text("Access-Control-Allow-Origin")
                            .desired_rows(1)
                            .desired_width(220.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Models");
                    ui.add(
                        egui::TextEdit::multiline(&mut response.models)
                            .hint_text("application/json = Empty")
                            .desired_rows(1)
                            .desired_width(200.0),
                    )
                    .labelled_by(label.id);
                    if ui.button(format!("Remove status {}", i + 1)).clicked() {
                        remove = Some(i);
                    }
                });
            }
            ui.horizontal(|ui| {
                if ui.button("Add method response").clicked() {
                    responses.push(super::workspace::MethodResponseSettings::default());
                }
                if ui.button("Apply method responses").clicked() {
                    apply = true;
                }
            });
        });
        if let Some(i) = remove {
            responses.remove(i);
        }
        if apply {
            let result = self.workspace.set_method_responses(&responses);
            self.report(result, |()| {
                "Method responses updated (not deployed yet)".into()
            });
        }
        self.method_responses = Some(responses);
    }

    /// The sample request the template preview renders against.
    fn preview_sample(&mut self, ui: &mut egui::Ui) {
        ui.collapsing("Sample request for the preview", |ui| {
            let sample = &mut self.preview;
            ui.horizontal(|ui| {
                let label = ui.label("Path parameters");
                ui.add(
                    egui::TextEdit::singleline(&mut sample.path)
                        .hint_text("petId=7")
                        .desired_width(140.0),
                )
                .labelled_by(label.id);
                let label = ui.label("Query string");
                ui.add(
                    egui::TextEdit::singleline(&mut sample.query)
                        .hint_text("type=dog&page=2")
                        .desired_width(160.0),
                )
                .labelled_by(label.id);
                let label = ui.label("Headers");
                ui.add(
                    egui::TextEdit::singleline(&mut sample.headers)
                        .hint_text("Accept=application/json")
                        .desired_width(160.0),
                )
                .labelled_by(label.id);
            });
            let label = ui.label("Sample body");
            ui.add(
                egui::TextEdit::multiline(&mut sample.body)
                    .code_editor()
                    .desired_rows(3)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
    }

    /// The selected resource: its path, rename (AWS's path-part rules,
    /// descendants follow) and delete (with its subtree).
    fn resource_editor(&mut self, ui: &mut egui::Ui) {
        let Some((path, part, is_root)) = self.workspace.api().and_then(|api| {
            let resource = api.resource(self.workspace.selection.resource_id.as_deref()?)?;
            Some((
                resource.path.clone(),
                resource.path_part.clone().unwrap_or_default(),
                resource.parent_id.is_none(),
            ))
        }) else {
            return;
        };
        ui.heading(format!("Resource {path}"));
        if is_root {
            let current = self
                .workspace
                .api()
                .map(|a| a.name.clone())
                .unwrap_or_default();
            if self.rename_part.0 != "/" {
                self.rename_part = ("/".into(), current);
            }
            ui.horizontal(|ui| {
                let label = ui.label("API name");
                ui.add(egui::TextEdit::singleline(&mut self.rename_part.1).desired_width(180.0))
                    .labelled_by(label.id);
                if ui.button("Rename API").clicked() {
                    let name = self.rename_part.1.clone();
                    let result = self.workspace.rename_api(&name);
                    self.report(result, |()| format!("API renamed to {}", name.trim()));
                }
            });
            ui.separator();
            return;
        }
        if self.rename_part.0 != path {
            self.rename_part = (path.clone(), part);
        }
        ui.horizontal(|ui| {
            let label = ui.label("Rename path part");
            ui.add(egui::TextEdit::singleline(&mut self.rename_part.1).desired_width(140.0))
                .labelled_by(label.id);
            if ui.button("Rename").clicked() {
                let part = self.rename_part.1.clone();
                let result = self.workspace.rename_resource(&part);
                self.report(result, |path| format!("Resource renamed to {path}"));
            }
            if ui.button("Delete resource").clicked() {
                let result = self.workspace.delete_resource();
                self.report(result, |n| {
                    format!(
                        "Deleted {path} ({n} resource{})",
                        if n == 1 { "" } else { "s" }
                    )
                });
            }
        });
        if let Err(error) = crate::model::validate_path_part(self.rename_part.1.trim()) {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        ui.separator();
    }

    /// Integration request settings: type, backend verb and URI (with
    /// `${stageVariables.x}` placeholders), passthrough behaviour, timeout.
    pub(super) fn integration_editor(&mut self, ui: &mut egui::Ui) {
        use crate::model::{IntegrationType, PassthroughBehavior};
        if self.integration.is_none() {
            self.integration = self.workspace.integration().map(IntegrationSettings::of);
        }
        let Some(mut settings) = self.integration.clone() else {
            return;
        };
        ui.group(|ui| {
            ui.strong("Integration request");
            ui.horizontal(|ui| {
                egui::ComboBox::new("integration_type", "Type")
                    .selected_text(settings.integration_type.as_str())
                    .show_ui(ui, |ui| {
                        for kind in [
                            IntegrationType::Mock,
                            IntegrationType::Http,
                            IntegrationType::HttpProxy,
                        ] {
                            ui.selectable_value(
                                &mut settings.integration_type,
                                kind,
                                kind.as_str(),
                            );
                        }
                    });
                egui::ComboBox::new("passthrough", "Passthrough")
                    .selected_text(settings.passthrough_behavior.as_str())
                    .show_ui(ui, |ui| {
                        for behavior in [
                            PassthroughBehavior::WhenNoMatch,
                            PassthroughBehavior::WhenNoTemplates,
                            PassthroughBehavior::Never,
                        ] {
                            ui.selectable_value(
                                &mut settings.passthrough_behavior,
                                behavior,
                                behavior.as_str(),
                            );
                        }
                    });
                let label = ui.label("Timeout (ms)");
                ui.add(egui::DragValue::new(&mut settings.timeout_in_millis).range(50..=29_000))
                    .labelled_by(label.id);
            });
            if settings.integration_type != IntegrationType::Mock {
                ui.horizontal(|ui| {
                    let label = ui.label("Backend method");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.http_method).desired_width(70.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("URI");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.uri)
                            .hint_text("http://${stageVariables.backendHost}/{proxy}")
                            .desired_width(420.0),
                    )
                    .labelled_by(label.id);
                });
            }
            if ui.button("Apply integration").clicked() {
                let result = self.workspace.set_integration(settings.clone());
                self.report(result, |()| "Integration updated (not deployed yet)".into());
            }
        });
        self.integration = Some(settings);
    }

    /// Integration responses: status, selection pattern (matched against the
    /// backend status), header mappings (`X-Total = integration.response.header.X-Total`).
    pub(super) fn responses_editor(&mut self, ui: &mut egui::Ui) {
        if self.responses.is_none() {
            self.responses = self.workspace.integration().map(|integration| {
                ResponseSettings::all_of(integration)
                    .into_iter()
                    .map(|settings| {
                        let lines: Vec<String> = settings
                            .header_mappings
                            .iter()
                            .map(|(header, source)| format!("{header} = {source}"))
                            .collect();
                        (settings, lines.join("\n"))
                    })
                    .collect()
            });
        }
        let Some(mut responses) = self.responses.clone() else {
            return;
        };
        let mut apply = None;
        ui.group(|ui| {
            ui.strong("Integration responses");
            for (i, (settings, mappings)) in responses.iter_mut().enumerate() {
                ui.horizontal(|ui| {
                    let label = ui.label("Status");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.status_code).desired_width(40.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Selection pattern");
                    ui.add(
                        egui::TextEdit::singleline(&mut settings.selection_pattern)
                            .hint_text("default")
                            .desired_width(120.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Header mappings");
                    ui.add(
                        egui::TextEdit::multiline(mappings)
                            .hint_text("X-Total = integration.response.header.X-Total")
                            .desired_rows(1)
                            .desired_width(360.0),
                    )
                    .labelled_by(label.id);
                    if ui.button(format!("Apply response {}", i + 1)).clicked() {
                        apply = Some(i);
                    }
                });
            }
            if ui.button("Add integration response").clicked() {
                responses.push((ResponseSettings::default(), String::new()));
            }
        });
        if let Some(i) = apply {
            let (settings, mappings) = &mut responses[i];
            settings.header_mappings = mappings
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(header, source)| (header.trim().to_string(), source.trim().to_string()))
                .collect();
            let result = self.workspace.set_integration_response(settings);
            if result.is_ok() && settings.key.is_empty() {
                settings.key = settings.status_code.trim().to_string();
            }
            self.report(result, |()| {
                "Integration response updated (not deployed yet)".into()
            });
        }
        self.responses = Some(responses);
    }

    /// Method request settings: authorization type, API key required, the
    /// declared request parameters.
    pub(super) fn method_request_editor(&mut self, ui: &mut egui::Ui) {
        if self.method_request.is_none() {
            self.method_request = self.workspace.method_request();
        }
        let Some((mut authorization, mut api_key, mut parameters)) = self.method_request.clone()
        else {
            return;
        };
        ui.group(|ui| {
            ui.strong("Method request");
            ui.horizontal(|ui| {
                egui::ComboBox::new("authorization", "Authorization")
                    .selected_text(authorization.clone())
                    .show_ui(ui, |ui| {
                        for kind in ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"] {
                            ui.selectable_value(&mut authorization, kind.to_string(), kind);
                        }
                    });
                ui.checkbox(&mut api_key, "API key required");
            });
            let label = ui.label("Request parameters (one per line, 'required' after the name)");
            ui.add(
                egui::TextEdit::multiline(&mut parameters)
                    .hint_text("method.request.querystring.page")
                    .desired_rows(1)
                    .desired_width(480.0),
            )
            .labelled_by(label.id);
            if ui.button("Apply method request").clicked() {
                let result =
                    self.workspace
                        .set_method_request(&authorization, api_key, &parameters);
                self.report(result, |()| {
                    "Method request updated (not deployed yet)".into()
                });
            }
        });
        self.method_request = Some((authorization, api_key, parameters));
    }
}

/// The four boxes of the method execution view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodBox {
    MethodRequest,
    #[default]
    IntegrationRequest,
    IntegrationResponse,
    MethodResponse,
}

impl MethodBox {
    fn title(self) -> &'static str {
        match self {
            MethodBox::MethodRequest => "Method Request",
            MethodBox::IntegrationRequest => "Integration Request",
            MethodBox::IntegrationResponse => "Integration Response",
            MethodBox::MethodResponse => "Method Response",
        }
    }
}

/// Byte range of line `line` (1-based) in `text`, without its newline.
fn line_range(text: &str, line: usize) -> std::ops::Range<usize> {
    let mut start = 0;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            return start..start + l.len().max(1).min(text.len() - start);
        }
        start += l.len() + 1;
    }
    text.len()..text.len()
}

/// The sample request a template's live preview renders against: the
/// method's path parameters, query, headers and body as a user types them,
/// with the selected stage's variables and a `$context` like a real
/// request's.
#[derive(Debug, Clone, Default)]
pub struct PreviewSample {
    /// `name=value` pairs separated by `&` or `,`.
    pub path: String,
    pub query: String,
    pub headers: String,
    pub body: String,
}

impl PreviewSample {
    fn pairs(text: &str) -> Vec<(String, String)> {
        text.split(['&', ','])
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = name.trim();
                (!name.is_empty()).then(|| (name.to_string(), value.trim().to_string()))
            })
            .collect()
    }

    /// Renders `template` as the gateway would for this sample on the
    /// selected method and the deploy stage.
    pub fn render(
        &self,
        template: &vtl::Template,
        workspace: &super::workspace::Workspace,
        stage_name: &str,
    ) -> Result<String, vtl::VtlError> {
        let api = workspace.api();
        let stage_variables: Vec<(String, String)> = api
            .and_then(|a| a.stage(stage_name))
            .map(|stage| {
                stage
                    .variables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut context = crate::gateway::context::RequestContext::new(
            api.map_or("", |a| a.id.as_str()),
            stage_name,
        );
        if let Some(resource) =
            api.and_then(|a| a.resource(workspace.selection.resource_id.as_deref()?))
        {
            context.resource_id = resource.id.as_str().into();
            context.resource_path = resource.path.as_str().into();
        }
        context.http_method = workspace
            .selection
            .method
            .as_deref()
            .unwrap_or_default()
            .into();
        let context = context.to_json();
        let path = Self::pairs(&self.path);
        let query = Self::pairs(&self.query);
        let headers = Self::pairs(&self.headers);
        template
            .render(&vtl::Bindings {
                body: &self.body,
                path: &path,
                querystring: &query,
                header: &headers,
                context: &context,
                stage_variables: &stage_variables,
            })
            .map(|rendered| rendered.output)
    }
}
