//! The HTTP APIs tab: an HTTP API's routes (grouped by path), its
//! integrations (with payload version), authorizers, CORS configuration and
//! stages (auto-deploy, variables, deploy); a token from the local issuer in
//! one click; and "Try in console" for a route, with the token attached.
//! Every change is undoable; auto-deployed stages serve it at once. The
//! tab sends [`HttpApiEdit`] commands; [`apply`] makes them.

use crate::gateway::Gateway;
use crate::gui::commands::{CommandSender, HttpApiEdit};
use crate::gui::console::ConsoleRequest;
use crate::gui::widgets::{field, next_id};
use crate::gui::workspace::Workspace;
use crate::model::{CorsConfiguration, HttpApi, HttpIntegration, HttpStage, Route};

/// The tab's input fields.
#[derive(Debug, Clone)]
pub struct HttpApisView {
    /// The HTTP API shown (index into the project's list).
    pub selected: usize,
    pub new_api_name: String,
    pub route_key: String,
    /// The integration a new route targets (its id).
    pub route_target: String,
    /// `NONE`, or an authorizer id.
    pub route_auth: String,
    pub route_scopes: String,
    pub integration_type: String,
    pub integration_uri: String,
    pub integration_method: String,
    pub payload_version: String,
    /// CORS fields: comma lists, max age, credentials.
    pub cors: Option<(String, String, String, String, bool)>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub stage_name: String,
    pub token_audience: String,
    pub token_scope: String,
    /// The token's user (`sub`) and more claims as a JSON object (e.g.
    /// `{"email": "ada@example.com", "cognito:groups": ["admin"]}`).
    pub token_subject: String,
    pub token_claims: String,
    /// The last token minted.
    pub token: Option<String>,
    /// The parameter-mapping row being added: integration id, status code
    /// (empty for the request), key (`append:header.x`), value.
    pub mapping_integration: String,
    pub mapping_status: String,
    pub mapping_key: String,
    pub mapping_value: String,
}

impl Default for HttpApisView {
    fn default() -> Self {
        HttpApisView {
            selected: 0,
            new_api_name: String::new(),
            route_key: "GET /items/{id}".into(),
            route_target: String::new(),
            route_auth: "NONE".into(),
            route_scopes: String::new(),
            integration_type: "HTTP_PROXY".into(),
            integration_uri: String::new(),
            integration_method: "ANY".into(),
            payload_version: "2.0".into(),
            cors: None,
            jwt_issuer: String::new(),
            jwt_audience: String::new(),
            stage_name: "$default".into(),
            token_audience: String::new(),
            token_scope: String::new(),
            token: None,
            token_subject: "portico-user".into(),
            token_claims: "{}".into(),
            mapping_integration: String::new(),
            mapping_status: String::new(),
            mapping_key: "append:header.x-source".into(),
            mapping_value: "$context.requestId".into(),
        }
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl HttpApisView {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        gateway: Option<&Gateway>,
        commands: &mut CommandSender,
    ) {
        let apis = &workspace.project.http_apis;
        let mut change = None;
        ui.horizontal(|ui| {
            if !apis.is_empty() {
                let label = ui.label("HTTP API");
                self.selected = self.selected.min(apis.len() - 1);
                egui::ComboBox::from_id_salt("http-api")
                    .selected_text(apis[self.selected].name.clone())
                    .show_ui(ui, |ui| {
                        for (i, api) in apis.iter().enumerate() {
                            ui.selectable_value(&mut self.selected, i, &api.name);
                        }
                    })
                    .response
                    .labelled_by(label.id);
            }
            field(ui, "New HTTP API", &mut self.new_api_name, 140.0);
            if ui.button("Create HTTP API").clicked() {
                change = Some(HttpApiEdit::NewApi);
            }
        });
        if let Some(api) = apis.get(self.selected) {
            ui.label(format!(
                "{} ({}): http://{}.execute-api.localhost:{}/",
                api.name,
                api.api_id,
                api.api_id,
                gateway.map_or(crate::gateway::DEFAULT_PORT, |g| g.local_addr().port())
            ));
            self.routes_section(ui, api, &mut change);
            self.integrations_section(ui, api, &mut change);
            self.mappings_section(ui, api, &mut change);
            self.authorizers_section(ui, api, gateway, &mut change);
            self.cors_section(ui, api, &mut change);
            self.stages_section(ui, api, &mut change);
            self.issuer_section(ui, &mut change);
        } else {
            ui.label("This project has no HTTP API yet.");
        }
        if let Some(change) = change {
            commands.send(change.into());
        }
    }

    fn routes_section(
        &mut self,
        ui: &mut egui::Ui,
        api: &HttpApi,
        change: &mut Option<HttpApiEdit>,
    ) {
        ui.separator();
        ui.heading("Routes");
        // Grouped by path, as the console lists them.
        let mut routes: Vec<&Route> = api.routes.iter().collect();
        routes.sort_by_key(|r| {
            let path = r
                .route_key
                .split_once(' ')
                .map_or("", |(_, p)| p)
                .to_string();
            (path, r.route_key.clone())
        });
        egui::Grid::new("http-routes").striped(true).show(ui, |ui| {
            for route in &routes {
                ui.monospace(&route.route_key);
                ui.label(route.target.clone().unwrap_or_else(|| "(no target)".into()));
                ui.label(match route.authorization_type.as_str() {
                    "NONE" => "open".to_string(),
                    kind => format!(
                        "{kind} {}{}",
                        route.authorizer_id.clone().unwrap_or_default(),
                        if route.authorization_scopes.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", route.authorization_scopes.join(" "))
                        }
                    ),
                });
                if ui.button(format!("Try {}", route.route_key)).clicked() {
                    *change = Some(HttpApiEdit::Try(route.route_key.clone()));
                }
                if ui.button(format!("Delete {}", route.route_key)).clicked() {
                    *change = Some(HttpApiEdit::DeleteRoute(route.route_id.clone()));
                }
                ui.end_row();
            }
        });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Route key", &mut self.route_key, 160.0);
            let label = ui.label("Integration");
            egui::ComboBox::from_id_salt("route-target")
                .selected_text(if self.route_target.is_empty() {
                    "none".to_string()
                } else {
                    self.route_target.clone()
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.route_target, String::new(), "none");
                    for integration in &api.integrations {
                        ui.selectable_value(
                            &mut self.route_target,
                            integration.integration_id.clone(),
                            &integration.integration_id,
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            let label = ui.label("Authorizer");
            egui::ComboBox::from_id_salt("route-auth")
                .selected_text(self.route_auth.clone())
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.route_auth, "NONE".to_string(), "NONE");
                    for authorizer in &api.authorizers {
                        ui.selectable_value(
                            &mut self.route_auth,
                            authorizer.authorizer_id.clone(),
                            format!("{} ({})", authorizer.name, authorizer.authorizer_type),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            field(ui, "Scopes", &mut self.route_scopes, 120.0);
            if ui.button("Add route").clicked() {
                *change = Some(HttpApiEdit::AddRoute);
            }
        });
    }

    fn integrations_section(
        &mut self,
        ui: &mut egui::Ui,
        api: &HttpApi,
        change: &mut Option<HttpApiEdit>,
    ) {
        ui.separator();
        ui.heading("Integrations");
        egui::Grid::new("http-integrations")
            .striped(true)
            .show(ui, |ui| {
                for integration in &api.integrations {
                    ui.monospace(&integration.integration_id);
                    ui.label(&integration.integration_type);
                    ui.label(integration.integration_uri.clone().unwrap_or_default());
                    ui.label(match integration.integration_type.as_str() {
                        "AWS_PROXY" => format!(
                            "payload {}",
                            integration
                                .payload_format_version
                                .as_deref()
                                .unwrap_or("2.0")
                        ),
                        _ => integration
                            .integration_method
                            .clone()
                            .unwrap_or_else(|| "ANY".into()),
                    });
                    if ui
                        .button(format!("Delete {}", integration.integration_id))
                        .clicked()
                    {
                        *change = Some(HttpApiEdit::DeleteIntegration(
                            integration.integration_id.clone(),
                        ));
                    }
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Type");
            egui::ComboBox::from_id_salt("integration-type")
                .selected_text(self.integration_type.clone())
                .show_ui(ui, |ui| {
                    for kind in ["HTTP_PROXY", "AWS_PROXY"] {
                        ui.selectable_value(&mut self.integration_type, kind.to_string(), kind);
                    }
                })
                .response
                .labelled_by(label.id);
            field(ui, "URI", &mut self.integration_uri, 320.0);
            if self.integration_type == "AWS_PROXY" {
                let label = ui.label("Payload");
                egui::ComboBox::from_id_salt("payload-version")
                    .selected_text(self.payload_version.clone())
                    .show_ui(ui, |ui| {
                        for version in ["2.0", "1.0"] {
                            ui.selectable_value(
                                &mut self.payload_version,
                                version.to_string(),
                                version,
                            );
                        }
                    })
                    .response
                    .labelled_by(label.id);
            } else {
                field(ui, "Method", &mut self.integration_method, 60.0);
            }
            if ui.button("Add integration").clicked() {
                *change = Some(HttpApiEdit::AddIntegration);
            }
        });
    }

    fn mappings_section(
        &mut self,
        ui: &mut egui::Ui,
        api: &HttpApi,
        change: &mut Option<HttpApiEdit>,
    ) {
        ui.separator();
        ui.heading("Parameter mapping");
        egui::Grid::new("http-mappings")
            .striped(true)
            .show(ui, |ui| {
                for integration in &api.integrations {
                    let requests = integration
                        .request_parameters
                        .iter()
                        .map(|(k, v)| (None, k, v));
                    let responses =
                        integration
                            .response_parameters
                            .iter()
                            .flat_map(|(status, map)| {
                                map.iter().map(move |(k, v)| (Some(status), k, v))
                            });
                    for (status, key, value) in requests.chain(responses) {
                        ui.monospace(&integration.integration_id);
                        ui.label(status.map_or("request".to_string(), |s| format!("response {s}")));
                        ui.monospace(key);
                        ui.monospace(value);
                        if ui
                            .button(format!("Remove {} {key}", integration.integration_id))
                            .clicked()
                        {
                            *change = Some(HttpApiEdit::DeleteMapping(
                                integration.integration_id.clone(),
                                status.cloned(),
                                key.clone(),
                            ));
                        }
                        ui.end_row();
                    }
                }
            });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Mapping integration");
            egui::ComboBox::from_id_salt("mapping-integration")
                .selected_text(self.mapping_integration.clone())
                .show_ui(ui, |ui| {
                    for integration in &api.integrations {
                        ui.selectable_value(
                            &mut self.mapping_integration,
                            integration.integration_id.clone(),
                            &integration.integration_id,
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            field(
                ui,
                "Status (empty: request)",
                &mut self.mapping_status,
                50.0,
            );
            field(ui, "Mapping key", &mut self.mapping_key, 180.0);
            field(ui, "Mapping value", &mut self.mapping_value, 200.0);
            if ui.button("Add mapping").clicked() {
                *change = Some(HttpApiEdit::AddMapping);
            }
        });
    }

    fn authorizers_section(
        &mut self,
        ui: &mut egui::Ui,
        api: &HttpApi,
        gateway: Option<&Gateway>,
        change: &mut Option<HttpApiEdit>,
    ) {
        ui.separator();
        ui.heading("Authorizers");
        for authorizer in &api.authorizers {
            ui.label(format!(
                "{} {} ({}) {}",
                authorizer.authorizer_id,
                authorizer.name,
                authorizer.authorizer_type,
                authorizer
                    .jwt_configuration
                    .as_ref()
                    .map(|c| format!(
                        "issuer {} audience {}",
                        c.issuer.clone().unwrap_or_default(),
                        c.audience.join(",")
                    ))
                    .unwrap_or_default()
            ));
        }
        ui.horizontal_wrapped(|ui| {
            if self.jwt_issuer.is_empty()
                && let Some(gateway) = gateway
            {
                self.jwt_issuer = gateway.issuer().url.clone();
            }
            field(ui, "JWT issuer", &mut self.jwt_issuer, 300.0);
            field(ui, "Audience", &mut self.jwt_audience, 100.0);
            if ui.button("Add JWT authorizer").clicked() {
                *change = Some(HttpApiEdit::AddJwtAuthorizer);
            }
        });
    }

    fn cors_section(&mut self, ui: &mut egui::Ui, api: &HttpApi, change: &mut Option<HttpApiEdit>) {
        ui.separator();
        ui.heading("CORS");
        let cors = self.cors.get_or_insert_with(|| {
            let c = api.cors_configuration.clone().unwrap_or_default();
            (
                c.allow_origins.join(", "),
                c.allow_methods.join(", "),
                c.allow_headers.join(", "),
                c.max_age.map(|a| a.to_string()).unwrap_or_default(),
                c.allow_credentials == Some(true),
            )
        });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Allowed origins", &mut cors.0, 200.0);
            field(ui, "Methods", &mut cors.1, 120.0);
            field(ui, "Headers", &mut cors.2, 160.0);
            field(ui, "Max age", &mut cors.3, 50.0);
            ui.checkbox(&mut cors.4, "Credentials");
            if ui.button("Apply CORS").clicked() {
                *change = Some(HttpApiEdit::Cors);
            }
        });
    }

    fn stages_section(
        &mut self,
        ui: &mut egui::Ui,
        api: &HttpApi,
        change: &mut Option<HttpApiEdit>,
    ) {
        ui.separator();
        ui.heading("Stages");
        for stage in &api.stages {
            ui.horizontal(|ui| {
                ui.monospace(&stage.stage_name);
                let mut auto = stage.auto_deploy;
                if ui
                    .checkbox(&mut auto, format!("Auto-deploy {}", stage.stage_name))
                    .changed()
                {
                    *change = Some(HttpApiEdit::AutoDeploy(stage.stage_name.clone(), auto));
                }
                if !stage.auto_deploy {
                    ui.label(
                        stage
                            .deployment_id
                            .as_ref()
                            .map_or("not deployed".into(), |d| format!("serves {d}")),
                    );
                    if ui.button(format!("Deploy {}", stage.stage_name)).clicked() {
                        *change = Some(HttpApiEdit::Deploy(stage.stage_name.clone()));
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            field(ui, "Stage name", &mut self.stage_name, 100.0);
            if ui.button("Add stage").clicked() {
                *change = Some(HttpApiEdit::AddStage);
            }
        });
    }

    fn issuer_section(&mut self, ui: &mut egui::Ui, change: &mut Option<HttpApiEdit>) {
        ui.separator();
        ui.heading("Local issuer");
        ui.horizontal_wrapped(|ui| {
            field(ui, "Token audience", &mut self.token_audience, 100.0);
            field(ui, "Token scopes", &mut self.token_scope, 160.0);
            field(ui, "Token user", &mut self.token_subject, 100.0);
            field(ui, "Token claims (JSON)", &mut self.token_claims, 240.0);
            if ui.button("Mint token").clicked() {
                *change = Some(HttpApiEdit::Mint);
            }
        });
        if let Some(token) = &self.token {
            ui.horizontal(|ui| {
                let label = ui.label("Token (attached by Try):");
                let mut shown = token.clone();
                ui.add(
                    egui::TextEdit::singleline(&mut shown)
                        .desired_width(600.0)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
                if ui.button("Copy token").clicked() {
                    ui.ctx().copy_text(token.clone());
                }
            });
        }
    }
}

/// Makes an edit of the HTTP APIs tab (all but "Try", which the app
/// applies to its console); returns the status bar's message.
pub fn apply(
    edit: HttpApiEdit,
    view: &mut HttpApisView,
    workspace: &mut Workspace,
    gateway: Option<&Gateway>,
) -> Result<String, String> {
    let index = view.selected;
    // The fields as typed (a new API's edit changes the view).
    let typed = view.clone();
    let typed = &typed;
    match edit {
        HttpApiEdit::NewApi => new_api(view, workspace),
        HttpApiEdit::AddRoute => edit_selected(workspace, index, |api| add_route(api, typed)),
        HttpApiEdit::DeleteRoute(id) => {
            edit_selected(workspace, index, |api| delete_route(api, id))
        }
        HttpApiEdit::AddIntegration => {
            edit_selected(workspace, index, |api| add_integration(api, typed))
        }
        HttpApiEdit::DeleteIntegration(id) => {
            edit_selected(workspace, index, |api| delete_integration(api, id))
        }
        HttpApiEdit::AddMapping => edit_selected(workspace, index, |api| add_mapping(api, typed)),
        HttpApiEdit::DeleteMapping(id, status, key) => {
            edit_selected(workspace, index, |api| delete_mapping(api, id, status, key))
        }
        HttpApiEdit::AddJwtAuthorizer => {
            edit_selected(workspace, index, |api| add_jwt_authorizer(api, typed))
        }
        HttpApiEdit::Cors => cors(typed, workspace, index),
        HttpApiEdit::AddStage => edit_selected(workspace, index, |api| add_stage(api, typed)),
        HttpApiEdit::AutoDeploy(stage, auto) => {
            edit_selected(workspace, index, |api| auto_deploy(api, stage, auto))
        }
        HttpApiEdit::Deploy(stage) => {
            let api_id = workspace.project.http_apis[index].api_id.clone();
            workspace
                .project
                .deploy_http(&api_id, &stage, None)
                .map(|d| {
                    workspace.revision += 1;
                    format!("Deployed to {stage}: deployment {}", d.deployment_id)
                })
                .map_err(|e| e.to_string())
        }
        HttpApiEdit::Mint => {
            let token = mint(typed, gateway)?;
            view.token = Some(token);
            Ok("Token minted (valid for an hour)".into())
        }
        HttpApiEdit::Try(route_key) => Ok(format!("{route_key} is in the console")),
    }
}

/// Applies `edit` to the `index`th HTTP API (undoable) and checks the
/// API as AWS would.
fn edit_selected(
    workspace: &mut Workspace,
    index: usize,
    edit: impl FnOnce(&mut HttpApi) -> Result<String, String>,
) -> Result<String, String> {
    workspace.edit_project(move |project| {
        let api = project
            .http_apis
            .get_mut(index)
            .ok_or_else(|| "no HTTP API selected".to_string())?;
        let message = edit(api)?;
        api.validate().map_err(|e| e.1)?;
        Ok(message)
    })
}

fn new_api(view: &mut HttpApisView, workspace: &mut Workspace) -> Result<String, String> {
    let name = view.new_api_name.trim().to_string();
    if name.is_empty() {
        return Err("An HTTP API needs a name".into());
    }
    let result = workspace.edit_project(|project| {
        let api_id = crate::model::new_rest_api_id();
        project.http_apis.push(HttpApi {
            api_id,
            name: name.clone(),
            protocol_type: "HTTP".into(),
            description: None,
            route_selection_expression: None,
            cors_configuration: None,
            disable_execute_api_endpoint: None,
            routes: Vec::new(),
            integrations: Vec::new(),
            stages: vec![HttpStage {
                stage_name: "$default".into(),
                auto_deploy: true,
                stage_variables: Default::default(),
                description: None,
                deployment_id: None,
                default_route_settings: None,
                route_settings: Default::default(),
            }],
            deployments: Vec::new(),
            authorizers: Vec::new(),
        });
        Ok(format!(
            "HTTP API {name} created with an auto-deployed $default stage"
        ))
    });
    if result.is_ok() {
        view.selected = workspace.project.http_apis.len() - 1;
        view.new_api_name.clear();
        view.cors = None;
    }
    result
}

fn cors(view: &HttpApisView, workspace: &mut Workspace, index: usize) -> Result<String, String> {
    let (origins, methods, headers, max_age, credentials) = view.cors.clone().unwrap_or_default();
    let max_age = match max_age.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| format!("Max age must be a number of seconds: {text:?}"))?,
        ),
    };
    edit_selected(workspace, index, move |api| {
        let cors = CorsConfiguration {
            allow_origins: list(&origins),
            allow_methods: list(&methods),
            allow_headers: list(&headers),
            expose_headers: api
                .cors_configuration
                .as_ref()
                .map(|c| c.expose_headers.clone())
                .unwrap_or_default(),
            max_age,
            allow_credentials: credentials.then_some(true),
        };
        api.cors_configuration = (cors != CorsConfiguration::default()).then_some(cors);
        Ok("CORS configuration applied".into())
    })
}

/// A token from the gateway's local issuer for the tab's claims.
fn mint(view: &HttpApisView, gateway: Option<&Gateway>) -> Result<String, String> {
    let extra = match view.token_claims.trim() {
        "" => Ok(serde_json::Map::new()),
        text => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err("Token claims must be a JSON object".to_string()),
            Err(e) => Err(format!("Token claims: {e}")),
        },
    };
    let (gateway, mut claims) = match (gateway, extra) {
        (None, _) => return Err("The gateway is not running".into()),
        (_, Err(e)) => return Err(e),
        (Some(gateway), Ok(claims)) => (gateway, claims),
    };
    let subject = view.token_subject.trim();
    claims.insert(
        "sub".into(),
        serde_json::json!(if subject.is_empty() {
            "portico-user"
        } else {
            subject
        }),
    );
    if !view.token_audience.trim().is_empty() {
        claims.insert("aud".into(), serde_json::json!(view.token_audience.trim()));
    }
    if !view.token_scope.trim().is_empty() {
        claims.insert("scope".into(), serde_json::json!(view.token_scope.trim()));
    }
    Ok(gateway
        .issuer()
        .mint(claims, std::time::Duration::from_secs(3600)))
}

/// "Try" a route of `api`: the console's request becomes it (the local
/// issuer's last token attached), keeping its body.
pub fn try_in_console(
    api: &HttpApi,
    route_key: &str,
    token: Option<&str>,
    request: &mut ConsoleRequest,
) {
    let (verb, path) = route_key.split_once(' ').map_or(("GET", "/"), |(v, p)| {
        (if v == "ANY" { "GET" } else { v }, p)
    });
    request.method = verb.to_string();
    request.stage = api
        .stages
        .first()
        .map_or("$default".into(), |s| s.stage_name.clone());
    request.path = path.replace("{proxy+}", "x");
    request.test_invoke = false;
    request.query.clear();
    request.headers = vec![(
        "host".into(),
        format!("{}.execute-api.localhost", api.api_id),
    )];
    if let Some(token) = token {
        request
            .headers
            .push(("authorization".into(), format!("Bearer {token}")));
    }
    request.sync_path_params();
}

fn add_route(api: &mut HttpApi, view: &HttpApisView) -> Result<String, String> {
    crate::model::RouteKey::parse(view.route_key.trim()).map_err(|e| e.to_string())?;
    let route_id = next_id("route", api.routes.iter().map(|r| r.route_id.clone()));
    let authorizer = api
        .authorizers
        .iter()
        .find(|a| a.authorizer_id == view.route_auth);
    api.routes.push(Route {
        route_id,
        route_key: view.route_key.trim().to_string(),
        target: (!view.route_target.is_empty())
            .then(|| format!("integrations/{}", view.route_target)),
        authorization_type: match authorizer.map(|a| a.authorizer_type.as_str()) {
            Some("JWT") => "JWT".into(),
            Some(_) => "CUSTOM".into(),
            None => "NONE".into(),
        },
        authorization_scopes: view
            .route_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        authorizer_id: authorizer.map(|a| a.authorizer_id.clone()),
    });
    Ok(format!("Route {} added", view.route_key.trim()))
}

fn delete_route(api: &mut HttpApi, id: String) -> Result<String, String> {
    api.routes.retain(|r| r.route_id != id);
    Ok("Route deleted".into())
}

fn add_integration(api: &mut HttpApi, view: &HttpApisView) -> Result<String, String> {
    let uri = view.integration_uri.trim().to_string();
    if uri.is_empty() {
        return Err("An integration needs a URI (a URL, or a Lambda function ARN)".into());
    }
    let integration_id = next_id(
        "int",
        api.integrations.iter().map(|i| i.integration_id.clone()),
    );
    let lambda = view.integration_type == "AWS_PROXY";
    api.integrations.push(HttpIntegration {
        integration_id: integration_id.clone(),
        integration_type: view.integration_type.clone(),
        integration_uri: Some(uri),
        integration_method: (!lambda).then(|| view.integration_method.trim().to_uppercase()),
        payload_format_version: lambda.then(|| view.payload_version.clone()),
        timeout_in_millis: None,
        request_parameters: Default::default(),
        response_parameters: Default::default(),
    });
    Ok(format!("Integration {integration_id} added"))
}

fn delete_integration(api: &mut HttpApi, id: String) -> Result<String, String> {
    let target = format!("integrations/{id}");
    if api
        .routes
        .iter()
        .any(|r| r.target.as_deref() == Some(target.as_str()))
    {
        return Err(format!("Integration {id} is the target of a route"));
    }
    api.integrations.retain(|i| i.integration_id != id);
    Ok(format!("Integration {id} deleted"))
}

fn add_mapping(api: &mut HttpApi, view: &HttpApisView) -> Result<String, String> {
    let integration = api
        .integrations
        .iter_mut()
        .find(|i| i.integration_id == view.mapping_integration)
        .ok_or("Choose the integration the mapping belongs to")?;
    let key = view.mapping_key.trim().to_string();
    let value = view.mapping_value.trim().to_string();
    let status = view.mapping_status.trim().to_string();
    crate::model::parse_mapping_key(&key, !status.is_empty()).map_err(|e| e.to_string())?;
    if value.is_empty() && !key.starts_with("remove:") {
        return Err("A mapping needs a value (an expression or static text)".into());
    }
    if status.is_empty() {
        integration.request_parameters.insert(key.clone(), value);
    } else {
        integration
            .response_parameters
            .entry(status.clone())
            .or_default()
            .insert(key.clone(), value);
    }
    Ok(format!("Mapping {key} added"))
}

fn delete_mapping(
    api: &mut HttpApi,
    id: String,
    status: Option<String>,
    key: String,
) -> Result<String, String> {
    let integration = api
        .integrations
        .iter_mut()
        .find(|i| i.integration_id == id)
        .ok_or("no such integration")?;
    match &status {
        None => {
            integration.request_parameters.remove(&key);
        }
        Some(status) => {
            if let Some(map) = integration.response_parameters.get_mut(status) {
                map.remove(&key);
                if map.is_empty() {
                    integration.response_parameters.remove(status);
                }
            }
        }
    }
    Ok(format!("Mapping {key} removed"))
}

fn add_jwt_authorizer(api: &mut HttpApi, view: &HttpApisView) -> Result<String, String> {
    let issuer = view.jwt_issuer.trim().to_string();
    if issuer.is_empty() {
        return Err("A JWT authorizer needs an issuer".into());
    }
    let authorizer_id = next_id(
        "auth",
        api.authorizers.iter().map(|a| a.authorizer_id.clone()),
    );
    api.authorizers.push(crate::model::HttpAuthorizer {
        authorizer_id: authorizer_id.clone(),
        name: format!("jwt-{authorizer_id}"),
        authorizer_type: "JWT".into(),
        identity_source: vec!["$request.header.Authorization".into()],
        jwt_configuration: Some(crate::model::JwtConfiguration {
            issuer: Some(issuer),
            audience: list(&view.jwt_audience),
        }),
        authorizer_uri: None,
        authorizer_payload_format_version: None,
        enable_simple_responses: None,
        authorizer_result_ttl_in_seconds: None,
    });
    Ok(format!("JWT authorizer {authorizer_id} added"))
}

fn add_stage(api: &mut HttpApi, view: &HttpApisView) -> Result<String, String> {
    let name = view.stage_name.trim().to_string();
    if name != "$default" {
        crate::model::validate_stage_name(&name).map_err(|e| e.to_string())?;
    }
    if api.stages.iter().any(|s| s.stage_name == name) {
        return Err(format!("Stage {name} already exists"));
    }
    api.stages.push(HttpStage {
        stage_name: name.clone(),
        auto_deploy: true,
        stage_variables: Default::default(),
        description: None,
        deployment_id: None,
        default_route_settings: None,
        route_settings: Default::default(),
    });
    Ok(format!("Stage {name} added (auto-deployed)"))
}

fn auto_deploy(api: &mut HttpApi, stage: String, auto: bool) -> Result<String, String> {
    if let Some(s) = api.stages.iter_mut().find(|s| s.stage_name == stage) {
        s.auto_deploy = auto;
    }
    Ok(format!(
        "Stage {stage} {}",
        if auto {
            "auto-deploys"
        } else {
            "serves its deployment"
        }
    ))
}
