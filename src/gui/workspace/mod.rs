//! What the designer edits: the project, the selection, undo/redo and the
//! dirty flag. Every edit goes through a method here (which calls the
//! model's operations, so AWS's rules live once) and is undoable; panels
//! only read this and call these. Stage edits are in `stages.rs`, the
//! Functions tab's drafts and edits in `functions.rs`.

mod functions;
mod stages;

use std::collections::BTreeMap;

use crate::model::{Project, RestApi};

pub use functions::{AuthorizerDraft, FunctionDraft};
pub use stages::CanaryChange;

/// The integration fields the designer edits.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationSettings {
    pub integration_type: crate::model::IntegrationType,
    pub http_method: String,
    pub uri: String,
    pub passthrough_behavior: crate::model::PassthroughBehavior,
    pub timeout_in_millis: u32,
}

impl IntegrationSettings {
    pub fn of(integration: &crate::model::Integration) -> IntegrationSettings {
        IntegrationSettings {
            integration_type: integration.integration_type,
            http_method: integration
                .http_method
                .clone()
                .unwrap_or_else(|| "GET".into()),
            uri: integration.uri.clone().unwrap_or_default(),
            passthrough_behavior: integration.passthrough_behavior,
            timeout_in_millis: integration.timeout_in_millis,
        }
    }
}

/// An integration response as the designer edits it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseSettings {
    /// The key in `integrationResponses` (the status code it was added with).
    pub key: String,
    pub status_code: String,
    /// Empty for the default response.
    pub selection_pattern: String,
    /// `(header name, source expression)`: `X-Total` <- `integration.response.header.X-Total`.
    pub header_mappings: Vec<(String, String)>,
}

impl ResponseSettings {
    pub fn all_of(integration: &crate::model::Integration) -> Vec<ResponseSettings> {
        integration
            .integration_responses
            .iter()
            .map(|(key, response)| ResponseSettings {
                key: key.clone(),
                status_code: response.status_code.clone(),
                selection_pattern: response.selection_pattern.clone().unwrap_or_default(),
                header_mappings: response
                    .response_parameters
                    .iter()
                    .map(|(target, source)| {
                        (
                            target
                                .strip_prefix("method.response.header.")
                                .unwrap_or(target)
                                .to_string(),
                            source.clone(),
                        )
                    })
                    .collect(),
            })
            .collect()
    }
}

/// One method response as its editor shows it: status, declared headers
/// (`Name` or `Name required` per line), models (`type = Model` per line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodResponseSettings {
    pub status_code: String,
    pub headers: String,
    pub models: String,
}

/// What the tree has selected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub api: usize,
    pub resource_id: Option<String>,
    pub method: Option<String>,
}

pub struct Workspace {
    pub project: Project,
    pub selection: Selection,
    /// Unsaved edits.
    pub dirty: bool,
    /// Counts changes to the APIs (edits, undo, redo, deploys), so views
    /// can cache what they derive from them.
    pub revision: u64,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
}

/// What undo restores: the APIs, the function definitions, the API keys,
/// the usage plans and the HTTP APIs.
type Snapshot = (
    Vec<RestApi>,
    Vec<crate::model::FunctionDefinition>,
    Vec<crate::model::ApiKey>,
    Vec<crate::model::UsagePlan>,
    Vec<crate::model::HttpApi>,
    Vec<crate::model::WebSocketApi>,
);

/// How many edits undo remembers.
const UNDO_DEPTH: usize = 200;

impl Workspace {
    pub fn new(project: Project) -> Workspace {
        let selection = Selection {
            api: 0,
            resource_id: project
                .rest_apis
                .first()
                .and_then(|api| api.root().map(|r| r.id.clone())),
            method: None,
        };
        Workspace {
            project,
            selection,
            dirty: false,
            revision: 0,
            undo: Vec::new(),
            redo: Vec::new(),
        }
    }

    pub fn api(&self) -> Option<&RestApi> {
        self.project.rest_apis.get(self.selection.api)
    }

    /// Runs `edit` on the selected API; on success the previous state goes
    /// on the undo stack and the project is marked dirty; on failure
    /// nothing changes.
    pub(super) fn edit<T>(
        &mut self,
        edit: impl FnOnce(&mut RestApi) -> Result<T, String>,
    ) -> Result<T, String> {
        let index = self.selection.api;
        self.transact(|project| {
            let api = project
                .rest_apis
                .get_mut(index)
                .ok_or_else(|| "the project has no REST API".to_string())?;
            edit(api)
        })
    }

    /// Runs `change` on the project; on success the previous APIs and
    /// functions go on the undo stack and the project is marked dirty; on
    /// failure nothing changes.
    fn transact<T>(
        &mut self,
        change: impl FnOnce(&mut Project) -> Result<T, String>,
    ) -> Result<T, String> {
        let before = self.snapshot();
        match change(&mut self.project) {
            Ok(value) => {
                self.remember(before);
                Ok(value)
            }
            Err(error) => {
                self.restore(before);
                Err(error)
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        (
            self.project.rest_apis.clone(),
            self.project.functions.clone(),
            self.project.api_keys.clone(),
            self.project.usage_plans.clone(),
            self.project.http_apis.clone(),
            self.project.web_socket_apis.clone(),
        )
    }

    fn restore(&mut self, snapshot: Snapshot) -> Snapshot {
        let apis = std::mem::replace(&mut self.project.rest_apis, snapshot.0);
        let functions = std::mem::replace(&mut self.project.functions, snapshot.1);
        let keys = std::mem::replace(&mut self.project.api_keys, snapshot.2);
        let plans = std::mem::replace(&mut self.project.usage_plans, snapshot.3);
        let http_apis = std::mem::replace(&mut self.project.http_apis, snapshot.4);
        let web_socket_apis = std::mem::replace(&mut self.project.web_socket_apis, snapshot.5);
        (apis, functions, keys, plans, http_apis, web_socket_apis)
    }

    /// Puts the state before a successful edit on the undo stack.
    fn remember(&mut self, before: Snapshot) {
        self.undo.push(before);
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.dirty = true;
        self.revision += 1;
    }

    /// Takes `project` as changed elsewhere (through the control plane,
    /// which has saved it): the selection stays where it still exists; undo
    /// history ends here, so that an undo never reverts someone else's
    /// change.
    pub fn adopt(&mut self, project: Project) {
        self.project = project;
        self.undo.clear();
        self.redo.clear();
        self.dirty = false;
        self.revision += 1;
        let api = self.project.rest_apis.get(self.selection.api);
        let resource_ok = api.is_some_and(|api| {
            self.selection
                .resource_id
                .as_ref()
                .is_none_or(|id| api.resource(id).is_some())
        });
        if !resource_ok {
            self.select_api(if api.is_some() { self.selection.api } else { 0 });
        }
    }

    /// Runs `edit` on the whole project (undoable): for API keys and usage
    /// plans.
    pub fn edit_project<T>(
        &mut self,
        edit: impl FnOnce(&mut Project) -> Result<T, String>,
    ) -> Result<T, String> {
        self.transact(edit)
    }

    /// Runs `edit` on the project's function definitions (undoable).
    pub fn edit_functions<T>(
        &mut self,
        edit: impl FnOnce(&mut Vec<crate::model::FunctionDefinition>) -> Result<T, String>,
    ) -> Result<T, String> {
        self.transact(|project| edit(&mut project.functions))
    }

    /// Selects the `index`th API (its root resource).
    pub fn select_api(&mut self, index: usize) {
        if index < self.project.rest_apis.len() {
            self.selection = Selection {
                api: index,
                resource_id: self.project.rest_apis[index].root().map(|r| r.id.clone()),
                method: None,
            };
            self.revision += 1;
        }
    }

    /// Adds a new REST API with only its root resource (undoable) and
    /// selects it.
    pub fn add_api(&mut self, name: &str) -> Result<(), String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("Give the API a name".into());
        }
        self.push_api(RestApi::new(name));
        Ok(())
    }

    /// Adds `api` to the project (undoable) and selects it.
    pub fn push_api(&mut self, api: RestApi) {
        let before = self.snapshot();
        self.project.rest_apis.push(api);
        self.remember(before);
        self.select_api(self.project.rest_apis.len() - 1);
    }

    /// Renames the selected API.
    pub fn rename_api(&mut self, name: &str) -> Result<(), String> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err("Give the API a name".into());
        }
        self.edit(|api| {
            api.name = name;
            Ok(())
        })
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) {
        if let Some(previous) = self.undo.pop() {
            let current = self.restore(previous);
            self.redo.push(current);
            self.dirty = true;
            self.revision += 1;
            self.fix_selection();
        }
    }

    pub fn redo(&mut self) {
        if let Some(next) = self.redo.pop() {
            let current = self.restore(next);
            self.undo.push(current);
            self.dirty = true;
            self.revision += 1;
            self.fix_selection();
        }
    }

    /// Drops a selection that no longer exists (after undo).
    fn fix_selection(&mut self) {
        if self.selection.api >= self.project.rest_apis.len() {
            self.selection.api = self.project.rest_apis.len().saturating_sub(1);
        }
        let exists = self.api().is_some_and(|api| {
            self.selection
                .resource_id
                .as_deref()
                .and_then(|id| api.resource(id))
                .is_some_and(|r| {
                    self.selection
                        .method
                        .as_deref()
                        .is_none_or(|m| r.resource_methods.contains_key(m))
                })
        });
        if !exists {
            self.selection.method = None;
            self.selection.resource_id = self.api().and_then(|a| a.root().map(|r| r.id.clone()));
        }
    }

    /// Adds a child of the selected resource (AWS's path-part rules) and
    /// selects it.
    pub fn add_resource(&mut self, path_part: &str) -> Result<String, String> {
        let parent = self
            .selection
            .resource_id
            .clone()
            .ok_or("select a parent resource first")?;
        let id = self.edit(|api| {
            api.create_resource(&parent, path_part.trim())
                .map_err(|e| e.to_string())
        })?;
        self.selection.resource_id = Some(id.clone());
        self.selection.method = None;
        Ok(id)
    }

    /// Renames the selected resource's path part (descendants follow).
    pub fn rename_resource(&mut self, path_part: &str) -> Result<String, String> {
        let id = self
            .selection
            .resource_id
            .clone()
            .ok_or("select a resource first")?;
        self.edit(|api| {
            api.rename_resource(&id, path_part.trim())
                .map_err(|e| e.to_string())?;
            Ok(api
                .resource(&id)
                .map(|r| r.path.clone())
                .unwrap_or_default())
        })
    }

    /// Deletes the selected resource and its subtree; selects its parent.
    pub fn delete_resource(&mut self) -> Result<usize, String> {
        let id = self
            .selection
            .resource_id
            .clone()
            .ok_or("select a resource first")?;
        let parent = self
            .api()
            .and_then(|a| a.resource(&id))
            .and_then(|r| r.parent_id.clone());
        let removed = self.edit(|api| api.delete_resource(&id).map_err(|e| e.to_string()))?;
        self.selection.resource_id = parent;
        self.selection.method = None;
        Ok(removed)
    }

    /// Adds a MOCK method to the selected resource and selects it.
    pub fn add_method(&mut self, verb: &str) -> Result<(), String> {
        let resource = self
            .selection
            .resource_id
            .clone()
            .ok_or("select a resource first")?;
        let verb = verb.trim().to_ascii_uppercase();
        self.edit(|api| {
            api.put_mock_method(&resource, &verb)
                .map_err(|e| e.to_string())
        })?;
        self.selection.method = Some(verb);
        Ok(())
    }

    /// Deletes the selected method.
    pub fn delete_method(&mut self) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        self.edit(|api| {
            api.resource_mut(&resource)
                .and_then(|r| r.resource_methods.remove(&verb))
                .map(|_| ())
                .ok_or_else(|| "no such method".to_string())
        })?;
        self.selection.method = None;
        Ok(())
    }

    pub(super) fn selected_method_key(&self) -> Option<(String, String)> {
        Some((
            self.selection.resource_id.clone()?,
            self.selection.method.clone()?,
        ))
    }

    /// The selected method in the draft.
    pub(super) fn selected_method(&self) -> Option<&crate::model::Method> {
        let (resource, verb) = self.selected_method_key()?;
        self.api()?.resource(&resource)?.resource_methods.get(&verb)
    }

    /// The selected method's integration templates: request templates and
    /// the default (or first) integration response's templates.
    pub fn templates(&self) -> Option<(BTreeMap<String, String>, BTreeMap<String, String>)> {
        let integration = self.selected_method()?.method_integration.as_ref()?;
        let response = integration
            .integration_responses
            .values()
            .find(|r| r.selection_pattern.is_none())
            .or_else(|| integration.integration_responses.values().next())
            .map(|r| r.response_templates.clone())
            .unwrap_or_default();
        Some((integration.request_templates.clone(), response))
    }

    /// Sets a mapping template of the selected method (request side, or the
    /// default integration response's).
    pub fn set_template(
        &mut self,
        request: bool,
        content_type: &str,
        text: &str,
    ) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        self.edit(|api| {
            let integration = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .and_then(|m| m.method_integration.as_mut())
                .ok_or("the method has no integration")?;
            let templates = if request {
                &mut integration.request_templates
            } else {
                let key = integration
                    .integration_responses
                    .iter()
                    .find(|(_, r)| r.selection_pattern.is_none())
                    .or_else(|| integration.integration_responses.iter().next())
                    .map(|(k, _)| k.clone())
                    .ok_or("the integration has no response")?;
                let response = integration
                    .integration_responses
                    .get_mut(&key)
                    .ok_or("the integration has no response")?;
                &mut response.response_templates
            };
            templates.insert(content_type.to_string(), text.to_string());
            Ok(())
        })
    }

    /// "Enable CORS" on the selected resource (see `model::cors`).
    pub fn enable_cors(&mut self, allow_origin: &str) -> Result<String, String> {
        let resource = self
            .selection
            .resource_id
            .clone()
            .ok_or("select a resource first")?;
        self.edit(|api| {
            api.enable_cors(&resource, allow_origin)
                .map_err(|e| e.to_string())
        })
    }

    /// The selected method's integration.
    pub fn integration(&self) -> Option<&crate::model::Integration> {
        self.selected_method()?.method_integration.as_ref()
    }

    /// Replaces the selected method's integration settings, with AWS's
    /// `PutIntegration` checks: an HTTP integration needs an absolute
    /// http(s) URI, `timeoutInMillis` is 50 to 29,000.
    pub fn set_integration(&mut self, settings: IntegrationSettings) -> Result<(), String> {
        use crate::model::IntegrationType;
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        let is_http = matches!(
            settings.integration_type,
            IntegrationType::Http | IntegrationType::HttpProxy
        );
        let uri = settings.uri.trim().to_string();
        if is_http && !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err("Invalid HTTP endpoint specified for URI".into());
        }
        if !(50..=29_000).contains(&settings.timeout_in_millis) {
            return Err("Timeout should be between 50 ms and 29000 ms".into());
        }
        self.edit(|api| {
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            let integration = method
                .method_integration
                .get_or_insert_with(|| crate::model::Integration::new(settings.integration_type));
            integration.integration_type = settings.integration_type;
            integration.uri = (!uri.is_empty()).then_some(uri);
            integration.http_method =
                is_http.then(|| settings.http_method.trim().to_ascii_uppercase());
            integration.passthrough_behavior = settings.passthrough_behavior;
            integration.timeout_in_millis = settings.timeout_in_millis;
            if integration.integration_responses.is_empty()
                && settings.integration_type != IntegrationType::HttpProxy
            {
                integration.integration_responses.insert(
                    "200".into(),
                    crate::model::IntegrationResponse {
                        status_code: "200".into(),
                        selection_pattern: None,
                        response_parameters: BTreeMap::new(),
                        response_templates: BTreeMap::new(),
                        content_handling: None,
                    },
                );
            }
            Ok(())
        })
    }

    /// Adds or replaces an integration response of the selected method, with
    /// `PutIntegrationResponse`'s checks (a status code 100-599, a selection
    /// pattern that compiles, mapping sources AWS accepts), and declares the
    /// matching method response and its headers, which AWS requires first.
    pub fn set_integration_response(&mut self, settings: &ResponseSettings) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        let status = settings.status_code.trim().to_string();
        if !status
            .parse::<u16>()
            .is_ok_and(|s| (100..=599).contains(&s))
        {
            return Err(format!(
                "Invalid status code {status:?}: expected 100 to 599"
            ));
        }
        let pattern = settings.selection_pattern.trim().to_string();
        if !pattern.is_empty() {
            regex::Regex::new(&pattern)
                .map_err(|e| format!("Invalid selection pattern specified: {e}"))?;
        }
        let mut parameters = BTreeMap::new();
        for (header, source) in &settings.header_mappings {
            let header = header.trim();
            if header.is_empty() {
                continue;
            }
            crate::gateway::mapping::Source::parse(source)?;
            parameters.insert(
                format!("method.response.header.{header}"),
                source.trim().to_string(),
            );
        }
        let key = if settings.key.is_empty() {
            status.clone()
        } else {
            settings.key.clone()
        };
        self.edit(|api| {
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            let declared = method
                .method_responses
                .entry(status.clone())
                .or_insert_with(|| crate::model::MethodResponse {
                    status_code: status.clone(),
                    response_parameters: BTreeMap::new(),
                    response_models: BTreeMap::new(),
                });
            for target in parameters.keys() {
                declared
                    .response_parameters
                    .entry(target.clone())
                    .or_insert(false);
            }
            let integration = method
                .method_integration
                .as_mut()
                .ok_or("the method has no integration")?;
            let templates = integration
                .integration_responses
                .get(&key)
                .map(|r| r.response_templates.clone())
                .unwrap_or_default();
            integration.integration_responses.insert(
                key.clone(),
                crate::model::IntegrationResponse {
                    status_code: status.clone(),
                    selection_pattern: (!pattern.is_empty()).then_some(pattern.clone()),
                    response_parameters: parameters.clone(),
                    response_templates: templates,
                    content_handling: None,
                },
            );
            Ok(())
        })
    }

    /// The selected method's request settings: authorization, API key
    /// required, and its declared request parameters as
    /// `method.request.querystring.page` lines (`required` after the name).
    pub fn method_request(&self) -> Option<(String, bool, String)> {
        let method = self.selected_method()?;
        let lines: Vec<String> = method
            .request_parameters
            .iter()
            .map(|(name, required)| {
                if *required {
                    format!("{name} required")
                } else {
                    name.clone()
                }
            })
            .collect();
        Some((
            method.authorization_type.clone(),
            method.api_key_required,
            lines.join("\n"),
        ))
    }

    /// Sets the selected method's request settings, with `PutMethod`'s
    /// checks: a known authorization type, and parameters named
    /// `method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.NAME`.
    pub fn set_method_request(
        &mut self,
        authorization_type: &str,
        api_key_required: bool,
        parameters: &str,
    ) -> Result<(), String> {
        const TYPES: [&str; 4] = ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];
        if !TYPES.contains(&authorization_type) {
            return Err(format!("Invalid authorization type {authorization_type}"));
        }
        let mut declared = BTreeMap::new();
        for line in parameters.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (name, required) = match line.strip_suffix("required") {
                Some(name) => (name.trim(), true),
                None => (line, false),
            };
            let valid = [
                "path",
                "querystring",
                "header",
                "multivaluequerystring",
                "multivalueheader",
            ]
            .iter()
            .any(|kind| {
                name.strip_prefix(&format!("method.request.{kind}."))
                    .is_some_and(|n| {
                        !n.is_empty()
                            && n.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"._$-".contains(&b))
                    })
            });
            if !valid {
                return Err(format!(
                    "Invalid method request parameter {name:?}: expected method.request.{{path|querystring|header|multivaluequerystring|multivalueheader}}.NAME"
                ));
            }
            declared.insert(name.to_string(), required);
        }
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        self.edit(|api| {
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            method.authorization_type = authorization_type.to_string();
            method.api_key_required = api_key_required;
            method.request_parameters = declared;
            Ok(())
        })
    }

    /// The selected method's method responses, as the Method Response box
    /// edits them.
    pub fn method_responses(&self) -> Option<Vec<MethodResponseSettings>> {
        let method = self.selected_method()?;
        Some(
            method
                .method_responses
                .values()
                .map(|response| MethodResponseSettings {
                    status_code: response.status_code.clone(),
                    headers: response
                        .response_parameters
                        .iter()
                        .map(|(name, required)| {
                            let name = name.strip_prefix("method.response.header.").unwrap_or(name);
                            if *required {
                                format!("{name} required")
                            } else {
                                name.to_string()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                    models: response
                        .response_models
                        .iter()
                        .map(|(content_type, model)| format!("{content_type} = {model}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                })
                .collect(),
        )
    }

    /// Replaces the selected method's method responses (AWS's
    /// `PutMethodResponse` checks: a `[1-5]XX` status, header names,
    /// `content/type = Model` lines). A status an integration response
    /// still maps to cannot go.
    pub fn set_method_responses(
        &mut self,
        responses: &[MethodResponseSettings],
    ) -> Result<(), String> {
        let mut built = BTreeMap::new();
        for settings in responses {
            let status = settings.status_code.trim();
            let valid_status = status.len() == 3
                && status.bytes().all(|b| b.is_ascii_digit())
                && (b'1'..=b'5').contains(&status.as_bytes()[0]);
            if !valid_status {
                return Err(format!(
                    "Invalid status code {status:?}: expected a number from 100 to 599"
                ));
            }
            let mut parameters = BTreeMap::new();
            for line in settings
                .headers
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let (name, required) = match line.strip_suffix("required") {
                    Some(name) => (name.trim(), true),
                    None => (line, false),
                };
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(format!("Invalid response header name {name:?}"));
                }
                parameters.insert(format!("method.response.header.{name}"), required);
            }
            let mut models = BTreeMap::new();
            for line in settings
                .models
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let Some((content_type, model)) = line.split_once('=') else {
                    return Err(format!(
                        "Invalid response model line {line:?}: expected content/type = ModelName"
                    ));
                };
                let (content_type, model) = (content_type.trim(), model.trim());
                if !content_type.contains('/')
                    || model.is_empty()
                    || !model.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(format!(
                        "Invalid response model line {line:?}: expected content/type = ModelName (letters and digits)"
                    ));
                }
                models.insert(content_type.to_string(), model.to_string());
            }
            if built
                .insert(
                    status.to_string(),
                    crate::model::MethodResponse {
                        status_code: status.to_string(),
                        response_parameters: parameters,
                        response_models: models,
                    },
                )
                .is_some()
            {
                return Err(format!("Status {status} is listed twice"));
            }
        }
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        self.edit(|api| {
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            if let Some(integration) = &method.method_integration
                && let Some(used) = integration
                    .integration_responses
                    .values()
                    .find(|r| !built.contains_key(&r.status_code))
            {
                return Err(format!(
                    "Method response {} is used by an integration response; change or remove that first",
                    used.status_code
                ));
            }
            method.method_responses = built;
            Ok(())
        })
    }

    /// Writes the project atomically.
    pub fn save(&mut self) -> Result<(), String> {
        self.project.save().map_err(|e| e.to_string())?;
        self.dirty = false;
        Ok(())
    }
}
