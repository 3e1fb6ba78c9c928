//! Models (JSON Schema draft 4 payload schemas) and request validation: the
//! Models tab edits an API's models with highlighting and live checking; the
//! Method Request box picks a method's validator and body models.

use crate::gateway::validate::ModelCompiler;
use crate::model::{Model, RequestValidator, RestApi, validate_model_name};

use super::app::Studio;
use super::workspace::Workspace;

/// The validators the AWS console offers, by name: (body, parameters).
pub const STANDARD_VALIDATORS: [(&str, bool, bool); 3] = [
    ("Validate body", true, false),
    ("Validate query string parameters and headers", false, true),
    (
        "Validate body, query string parameters, and headers",
        true,
        true,
    ),
];

/// A model being edited: the name it had (`None` for a new one), its name
/// and schema text as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDraft {
    pub original: Option<String>,
    pub name: String,
    pub schema: String,
}

/// Checks a model as `CreateModel` / `UpdateModel` would: the name, the
/// schema's JSON (with line and column), and the schema itself compiled as
/// draft 4 with references to the API's other models resolved.
pub fn check_model(api: &RestApi, draft: &ModelDraft) -> Result<(), String> {
    validate_model_name(&draft.name).map_err(|e| e.to_string())?;
    if draft.original.as_deref() != Some(draft.name.as_str())
        && api.models.iter().any(|m| m.name == draft.name)
    {
        return Err(format!(
            "Model name already exists for this REST API: {}",
            draft.name
        ));
    }
    let schema: serde_json::Value = serde_json::from_str(&draft.schema).map_err(|e| {
        format!(
            "Line {}, column {}: invalid model schema: {e}",
            e.line(),
            e.column()
        )
    })?;
    if !schema.is_object() {
        return Err("Invalid model schema: expected a JSON object".into());
    }
    let mut trial = api.clone();
    trial
        .models
        .retain(|m| Some(m.name.as_str()) != draft.original.as_deref());
    trial.models.push(Model::new(&draft.name, &schema));
    ModelCompiler::new(&trial)
        .model(&draft.name)
        .map(|_| ())
        .map_err(|e| format!("Invalid model schema: {e}"))
}

impl Workspace {
    /// The selected API's models as (name, schema text).
    pub fn models(&self) -> Vec<(String, String)> {
        self.api()
            .map(|api| {
                api.models
                    .iter()
                    .map(|m| (m.name.clone(), m.schema.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Creates or updates a model (undoable). Renaming updates every method
    /// that uses it.
    pub fn set_model(&mut self, draft: &ModelDraft) -> Result<(), String> {
        check_model(self.api().ok_or("the project has no REST API")?, draft)?;
        let draft = draft.clone();
        self.edit(move |api| {
            let schema = Some(draft.schema.clone());
            match draft.original.as_deref() {
                Some(original) => {
                    let model = api
                        .models
                        .iter_mut()
                        .find(|m| m.name == original)
                        .ok_or("no such model")?;
                    model.name = draft.name.clone();
                    model.schema = schema;
                    if original != draft.name {
                        rename_model_uses(api, original, &draft.name);
                    }
                }
                None => {
                    let mut model = Model::new(&draft.name, &serde_json::Value::Null);
                    model.schema = schema;
                    api.models.push(model);
                }
            }
            Ok(())
        })
    }

    /// Deletes a model no method uses (undoable).
    pub fn delete_model(&mut self, name: &str) -> Result<(), String> {
        let api = self.api().ok_or("the project has no REST API")?;
        for resource in &api.resources {
            for (verb, method) in &resource.resource_methods {
                let uses = method.request_models.values().any(|m| m == name)
                    || method
                        .method_responses
                        .values()
                        .any(|r| r.response_models.values().any(|m| m == name));
                if uses {
                    return Err(format!(
                        "Cannot delete model '{name}', is referenced in method request or response: {verb} {}",
                        resource.path
                    ));
                }
            }
        }
        let name = name.to_string();
        self.edit(move |api| {
            api.models.retain(|m| m.name != name);
            Ok(())
        })
    }

    /// The selected method's validator (its name, or `NONE`) and request
    /// models as `content/type = Model` lines.
    pub fn request_validation(&self) -> Option<(String, String)> {
        let api = self.api()?;
        let method = self.selected_method()?;
        let validator = method
            .request_validator_id
            .as_deref()
            .and_then(|id| api.request_validators.iter().find(|v| v.id == id))
            .map_or_else(|| "NONE".to_string(), |v| v.name.clone());
        let models: Vec<String> = method
            .request_models
            .iter()
            .map(|(ct, model)| format!("{ct} = {model}"))
            .collect();
        Some((validator, models.join("\n")))
    }

    /// The validators a method can pick: the API's and the console's three.
    pub fn validator_choices(&self) -> Vec<String> {
        let mut choices = vec!["NONE".to_string()];
        if let Some(api) = self.api() {
            choices.extend(api.request_validators.iter().map(|v| v.name.clone()));
        }
        for (name, _, _) in STANDARD_VALIDATORS {
            if !choices.iter().any(|c| c == name) {
                choices.push(name.to_string());
            }
        }
        choices
    }

    /// Sets the selected method's validator and request models (undoable).
    /// A console-standard validator the API lacks is created.
    pub fn set_request_validation(&mut self, validator: &str, models: &str) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        let mut parsed = std::collections::BTreeMap::new();
        for line in models.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (content_type, model) = line
                .split_once('=')
                .map(|(c, m)| (c.trim(), m.trim()))
                .ok_or_else(|| format!("{line:?}: expected content/type = ModelName"))?;
            if !content_type.contains('/') && content_type != "$default" {
                return Err(format!("{content_type:?} is not a content type"));
            }
            parsed.insert(content_type.to_string(), model.to_string());
        }
        let validator = validator.to_string();
        self.edit(move |api| {
            for model in parsed.values() {
                if !api.models.iter().any(|m| &m.name == model) {
                    return Err(format!("Invalid model name specified: {model}"));
                }
            }
            let validator_id = if validator == "NONE" {
                None
            } else if let Some(existing) =
                api.request_validators.iter().find(|v| v.name == validator)
            {
                Some(existing.id.clone())
            } else if let Some((name, body, params)) = STANDARD_VALIDATORS
                .iter()
                .find(|(name, _, _)| *name == validator)
            {
                let created = RequestValidator::new(name, *body, *params);
                let id = created.id.clone();
                api.request_validators.push(created);
                Some(id)
            } else {
                return Err(format!("Invalid request validator: {validator}"));
            };
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            method.request_validator_id = validator_id;
            method.request_models = parsed;
            Ok(())
        })
    }
}

fn rename_model_uses(api: &mut RestApi, from: &str, to: &str) {
    for resource in &mut api.resources {
        for method in resource.resource_methods.values_mut() {
            let uses = method.request_models.values_mut().chain(
                method
                    .method_responses
                    .values_mut()
                    .flat_map(|r| r.response_models.values_mut()),
            );
            for model in uses {
                if model == from {
                    *model = to.to_string();
                }
            }
        }
    }
    let (old_url, new_url) = (Model::url(&api.id, from), Model::url(&api.id, to));
    for model in &mut api.models {
        if let Some(schema) = &mut model.schema
            && schema.contains(&old_url)
        {
            *schema = schema.replace(&format!("\"{old_url}\""), &format!("\"{new_url}\""));
        }
    }
}

impl Studio {
    /// The Models tab: the API's models on the left, the selected one's
    /// name and schema on the right, checked as you type.
    pub(super) fn models_tab(&mut self, ui: &mut egui::Ui) {
        let models = self.workspace.models();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(180.0);
                ui.strong("Models");
                for (name, schema) in &models {
                    let open = self
                        .model_draft
                        .as_ref()
                        .is_some_and(|d| d.original.as_deref() == Some(name.as_str()));
                    if ui.selectable_label(open, name).clicked() {
                        self.model_draft = Some(ModelDraft {
                            original: Some(name.clone()),
                            name: name.clone(),
                            schema: schema.clone(),
                        });
                    }
                }
                if models.is_empty() {
                    ui.weak("No models yet");
                }
                if ui.button("New model").clicked() {
                    self.model_draft = Some(ModelDraft {
                        original: None,
                        name: "NewModel".into(),
                        schema: "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\": \"NewModel\",\n  \"type\": \"object\",\n  \"properties\": {}\n}".into(),
                    });
                }
            });
            ui.separator();
            ui.vertical(|ui| self.model_editor(ui));
        });
    }

    fn model_editor(&mut self, ui: &mut egui::Ui) {
        let Some(mut draft) = self.model_draft.clone() else {
            let example = Model::url(
                self.workspace.api().map_or("API_ID", |api| api.id.as_str()),
                "NAME",
            );
            ui.weak(format!(
                "Pick a model, or make a new one. Models are JSON Schema draft 4; reference another model with {{\"$ref\": \"{example}\"}}."
            ));
            return;
        };
        ui.horizontal(|ui| {
            let label = ui.label("Model name");
            ui.add(egui::TextEdit::singleline(&mut draft.name).desired_width(200.0))
                .labelled_by(label.id);
            ui.label("Content type application/json");
        });
        let label = ui.label("Schema (JSON Schema draft 4)");
        let check = self
            .workspace
            .api()
            .map(|api| check_model(api, &draft))
            .unwrap_or(Ok(()));
        let highlighter = &self.highlighter;
        let mut layouter = |ui: &egui::Ui, buffer: &dyn egui::TextBuffer, wrap_width: f32| {
            let mut job =
                highlighter.layout_cached(buffer.as_str(), "json", ui.visuals().dark_mode, 13.0);
            job.wrap.max_width = wrap_width;
            ui.fonts_mut(|fonts| fonts.layout_job(job))
        };
        egui::ScrollArea::vertical()
            .id_salt("model_editor")
            .max_height(360.0)
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(&mut draft.schema)
                        .code_editor()
                        .desired_rows(14)
                        .desired_width(f32::INFINITY)
                        .layouter(&mut layouter),
                )
                .labelled_by(label.id);
            });
        match &check {
            Ok(()) => {
                ui.colored_label(ui.visuals().weak_text_color(), "Valid draft 4 schema");
            }
            Err(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(check.is_ok(), egui::Button::new("Apply model"))
                .clicked()
            {
                let result = self.workspace.set_model(&draft);
                if result.is_ok() {
                    draft.original = Some(draft.name.clone());
                }
                self.report(result, |()| {
                    "Model saved in the draft (not deployed yet)".into()
                });
            }
            if let Some(original) = draft.original.clone()
                && ui.button("Delete model").clicked()
            {
                let result = self.workspace.delete_model(&original);
                let deleted = result.is_ok();
                self.report(result, |()| format!("Model {original} deleted"));
                if deleted {
                    self.model_draft = None;
                    return;
                }
            }
            self.model_draft = Some(draft.clone());
        });
    }

    /// The Method Request box's authorizer choice (`CUSTOM` with one of the
    /// API's Lambda authorizers, or none).
    pub(super) fn method_authorizer_editor(&mut self, ui: &mut egui::Ui) {
        if self.method_authorizer.is_none() {
            self.method_authorizer = self.workspace.method_authorizer();
        }
        let Some(mut chosen) = self.method_authorizer.clone() else {
            return;
        };
        let mut choices = vec!["NONE".to_string()];
        if let Some(api) = self.workspace.api() {
            choices.extend(api.authorizers.iter().map(|a| a.name.clone()));
        }
        ui.group(|ui| {
            ui.strong("Lambda authorizer");
            ui.horizontal(|ui| {
                egui::ComboBox::new("method_authorizer", "Authorizer")
                    .selected_text(chosen.clone())
                    .show_ui(ui, |ui| {
                        for choice in &choices {
                            ui.selectable_value(&mut chosen, choice.clone(), choice);
                        }
                    });
                if ui.button("Apply authorizer choice").clicked() {
                    let result = self.workspace.set_method_authorizer(&chosen);
                    self.report(result, |()| {
                        "Method authorizer updated (not deployed yet)".into()
                    });
                }
            });
        });
        self.method_authorizer = Some(chosen);
    }

    /// The Method Request box's validation part: the validator and the
    /// body model per content type.
    pub(super) fn request_validation_editor(&mut self, ui: &mut egui::Ui) {
        if self.request_validation.is_none() {
            self.request_validation = self.workspace.request_validation();
        }
        let Some((mut validator, mut models)) = self.request_validation.clone() else {
            return;
        };
        ui.group(|ui| {
            ui.strong("Request validation");
            egui::ComboBox::new("request_validator", "Request validator")
                .selected_text(validator.clone())
                .width(320.0)
                .show_ui(ui, |ui| {
                    for choice in self.workspace.validator_choices() {
                        ui.selectable_value(&mut validator, choice.clone(), choice);
                    }
                });
            let label = ui.label("Request body models (one per line: content/type = Model)");
            ui.add(
                egui::TextEdit::multiline(&mut models)
                    .hint_text("application/json = Order")
                    .desired_rows(1)
                    .desired_width(480.0),
            )
            .labelled_by(label.id);
            if ui.button("Apply request validation").clicked() {
                let result = self.workspace.set_request_validation(&validator, &models);
                self.report(result, |()| {
                    "Request validation updated (not deployed yet)".into()
                });
            }
        });
        self.request_validation = Some((validator, models));
    }
}
