//! The WebSocket APIs tab: an API's routes and integrations (add and
//! delete, two-way or not), its stages; a **WebSocket console** (a
//! tokio-tungstenite client run on the gateway's runtime: connect with
//! headers and query, send text or JSON frames, saved messages, a timeline
//! of frames in and out with the route each message hit, disconnect); and
//! the **connections panel** (every live connection, "send to this
//! connection" and "disconnect" through the `@connections` operations).

use std::sync::mpsc::{Receiver, channel};

use super::app::Studio;
use super::widgets::{field, next_id};
use crate::model::{
    HttpStage, RouteResponse, WebSocketApi, WebSocketIntegration, WebSocketIntegrationResponse,
    WebSocketRoute,
};

/// One line of the console's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Epoch milliseconds.
    pub at_ms: i64,
    /// `sent`, `received`, `connected`, `closed`, `error`.
    pub kind: &'static str,
    pub text: String,
    /// The route a sent message took (from the gateway's frame record).
    pub route_key: Option<String>,
}

/// What the console's client task reports.
#[derive(Debug)]
enum ClientEvent {
    Connected,
    Received(String),
    Closed(String),
    Failed(String),
}

/// A console connection: commands to the client task, events back.
struct Session {
    commands: tokio::sync::mpsc::UnboundedSender<Option<String>>,
    events: Receiver<ClientEvent>,
    /// The `User-Agent` the console connected with: how it finds its own
    /// connection id in the gateway's registry.
    user_agent: String,
    connection_id: Option<String>,
    /// The gateway's frame records read so far.
    frames_seen: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

/// The tab's state.
#[derive(Debug)]
pub struct WebSocketsView {
    pub selected: usize,
    pub new_api_name: String,
    pub route_key: String,
    pub route_target: String,
    pub two_way: bool,
    pub integration_type: String,
    pub integration_uri: String,
    /// MOCK / HTTP / AWS: the `$default` response template of a new
    /// integration.
    pub response_template: String,
    pub stage_name: String,
    /// Console: the stage, `Name: value` header lines, `k=v&...` query.
    pub console_stage: String,
    pub console_headers: String,
    pub console_query: String,
    pub message: String,
    pub saved: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    session: Option<Session>,
    /// Connections panel: the text to send, per connection id.
    pub outgoing: std::collections::HashMap<String, String>,
}

impl Default for WebSocketsView {
    fn default() -> Self {
        WebSocketsView {
            selected: 0,
            new_api_name: String::new(),
            route_key: "sendmessage".into(),
            route_target: String::new(),
            two_way: false,
            integration_type: "MOCK".into(),
            integration_uri: String::new(),
            response_template: String::new(),
            stage_name: "dev".into(),
            console_stage: String::new(),
            console_headers: String::new(),
            console_query: String::new(),
            message: r#"{"action": "whoami"}"#.into(),
            saved: vec![
                r#"{"action": "whoami"}"#.into(),
                r#"{"action": "sendmessage", "data": "hello"}"#.into(),
            ],
            timeline: Vec::new(),
            session: None,
            outgoing: Default::default(),
        }
    }
}

impl WebSocketsView {
    pub fn connected(&self) -> bool {
        self.session.is_some()
    }

    /// The console's own connection id, once the gateway has it.
    pub fn connection_id(&self) -> Option<&str> {
        self.session.as_ref()?.connection_id.as_deref()
    }
}

/// `text` cut to about `max` characters: its start, `...`, its end.
fn shorten(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(3) / 2;
    let start: String = chars[..keep].iter().collect();
    let end: String = chars[chars.len() - keep..].iter().collect();
    format!("{start}...{end}")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn clock(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        seconds.div_euclid(3600).rem_euclid(24),
        seconds.div_euclid(60).rem_euclid(60),
        seconds.rem_euclid(60),
        ms.rem_euclid(1000)
    )
}

type ApiEdit = Box<dyn FnOnce(&mut WebSocketApi) -> Result<String, String>>;

enum Change {
    NewApi,
    AddRoute,
    DeleteRoute(String),
    AddIntegration,
    DeleteIntegration(String),
    AddStage,
    AutoDeploy(String, bool),
    Deploy(String),
}

impl Studio {
    pub(super) fn websockets_tab(&mut self, ui: &mut egui::Ui) {
        self.poll_web_socket_console();
        let apis = self.workspace.project.web_socket_apis.clone();
        let mut change = None;
        ui.horizontal(|ui| {
            let view = &mut self.websockets;
            if !apis.is_empty() {
                let label = ui.label("WebSocket API");
                view.selected = view.selected.min(apis.len() - 1);
                egui::ComboBox::from_id_salt("ws-api")
                    .selected_text(apis[view.selected].name.clone())
                    .show_ui(ui, |ui| {
                        for (i, api) in apis.iter().enumerate() {
                            ui.selectable_value(&mut view.selected, i, &api.name);
                        }
                    })
                    .response
                    .labelled_by(label.id);
            }
            field(ui, "New WebSocket API", &mut view.new_api_name, 140.0);
            if ui.button("Create WebSocket API").clicked() {
                change = Some(Change::NewApi);
            }
        });
        let Some(api) = apis.get(self.websockets.selected) else {
            ui.label("This project has no WebSocket API yet.");
            if let Some(change) = change {
                self.apply_web_socket_change(change);
            }
            return;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label(format!(
                "{} ({}), route selection {}",
                api.name, api.api_id, api.route_selection_expression
            ));
            self.web_socket_design(ui, api, &mut change);
            ui.separator();
            self.web_socket_console(ui, api);
            ui.separator();
            self.connections_panel(ui, api);
        });
        if let Some(change) = change {
            self.apply_web_socket_change(change);
        }
    }

    fn web_socket_design(
        &mut self,
        ui: &mut egui::Ui,
        api: &WebSocketApi,
        change: &mut Option<Change>,
    ) {
        let view = &mut self.websockets;
        ui.heading("Routes");
        egui::Grid::new("ws-routes").striped(true).show(ui, |ui| {
            for route in &api.routes {
                ui.monospace(&route.route_key);
                ui.label(route.target.clone().unwrap_or_else(|| "(no target)".into()));
                ui.label(if route.route_response_selection_expression.is_some() {
                    "two-way"
                } else {
                    "one-way"
                });
                if ui.button(format!("Delete {}", route.route_key)).clicked() {
                    *change = Some(Change::DeleteRoute(route.route_id.clone()));
                }
                ui.end_row();
            }
        });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Route key", &mut view.route_key, 120.0);
            let label = ui.label("Integration");
            egui::ComboBox::from_id_salt("ws-route-target")
                .selected_text(if view.route_target.is_empty() {
                    "none".to_string()
                } else {
                    view.route_target.clone()
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut view.route_target, String::new(), "none");
                    for integration in &api.integrations {
                        ui.selectable_value(
                            &mut view.route_target,
                            integration.integration_id.clone(),
                            &integration.integration_id,
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.checkbox(&mut view.two_way, "Two-way");
            if ui.button("Add route").clicked() {
                *change = Some(Change::AddRoute);
            }
        });
        ui.heading("Integrations");
        egui::Grid::new("ws-integrations")
            .striped(true)
            .show(ui, |ui| {
                for integration in &api.integrations {
                    ui.monospace(&integration.integration_id);
                    ui.label(&integration.integration_type);
                    // Long ARNs would push the row's buttons out of the
                    // window: the start and the end, the full URI on hover.
                    let uri = integration.integration_uri.clone().unwrap_or_default();
                    ui.label(shorten(&uri, 64)).on_hover_text(&uri);
                    if ui
                        .button(format!("Delete {}", integration.integration_id))
                        .clicked()
                    {
                        *change = Some(Change::DeleteIntegration(
                            integration.integration_id.clone(),
                        ));
                    }
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Type");
            egui::ComboBox::from_id_salt("ws-integration-type")
                .selected_text(view.integration_type.clone())
                .show_ui(ui, |ui| {
                    for kind in ["MOCK", "AWS_PROXY", "AWS", "HTTP", "HTTP_PROXY"] {
                        ui.selectable_value(&mut view.integration_type, kind.to_string(), kind);
                    }
                })
                .response
                .labelled_by(label.id);
            if view.integration_type != "MOCK" {
                field(ui, "URI", &mut view.integration_uri, 300.0);
            }
            field(ui, "Response template", &mut view.response_template, 220.0);
            if ui.button("Add integration").clicked() {
                *change = Some(Change::AddIntegration);
            }
        });
        ui.heading("Stages");
        for stage in &api.stages {
            ui.horizontal(|ui| {
                ui.monospace(&stage.stage_name);
                let mut auto = stage.auto_deploy;
                if ui
                    .checkbox(&mut auto, format!("Auto-deploy {}", stage.stage_name))
                    .changed()
                {
                    *change = Some(Change::AutoDeploy(stage.stage_name.clone(), auto));
                }
                if !stage.auto_deploy {
                    ui.label(
                        stage
                            .deployment_id
                            .as_ref()
                            .map_or("not deployed".into(), |d| format!("serves {d}")),
                    );
                    if ui.button(format!("Deploy {}", stage.stage_name)).clicked() {
                        *change = Some(Change::Deploy(stage.stage_name.clone()));
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            field(ui, "Stage name", &mut view.stage_name, 100.0);
            if ui.button("Add stage").clicked() {
                *change = Some(Change::AddStage);
            }
        });
    }

    fn web_socket_console(&mut self, ui: &mut egui::Ui, api: &WebSocketApi) {
        ui.heading("WebSocket console");
        let port = self
            .gateway
            .as_ref()
            .map_or(crate::gateway::DEFAULT_PORT, |g| g.local_addr().port());
        let view = &mut self.websockets;
        if view.console_stage.is_empty()
            || !api
                .stages
                .iter()
                .any(|s| s.stage_name == view.console_stage)
        {
            view.console_stage = api
                .stages
                .first()
                .map(|s| s.stage_name.clone())
                .unwrap_or_default();
        }
        let url = format!(
            "ws://127.0.0.1:{port}/restapis/{}/{}/_user_request_/",
            api.api_id, view.console_stage
        );
        let mut connect = false;
        let mut disconnect = false;
        let mut send = None;
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Stage");
            egui::ComboBox::from_id_salt("ws-console-stage")
                .selected_text(view.console_stage.clone())
                .show_ui(ui, |ui| {
                    for stage in &api.stages {
                        ui.selectable_value(
                            &mut view.console_stage,
                            stage.stage_name.clone(),
                            &stage.stage_name,
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.monospace(&url);
        });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Query", &mut view.console_query, 160.0);
            let label = ui.label("Headers (Name: value per line)");
            ui.add(
                egui::TextEdit::multiline(&mut view.console_headers)
                    .desired_rows(1)
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            if view.session.is_none() {
                if ui.button("Connect").clicked() {
                    connect = true;
                }
            } else {
                ui.label(match view.connection_id() {
                    Some(id) => format!("connected as {id}"),
                    None => "connecting".into(),
                });
                if ui.button("Disconnect").clicked() {
                    disconnect = true;
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Message");
            ui.add(
                egui::TextEdit::multiline(&mut view.message)
                    .desired_rows(2)
                    .desired_width(380.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
            ui.vertical(|ui| {
                if ui
                    .add_enabled(view.session.is_some(), egui::Button::new("Send frame"))
                    .clicked()
                {
                    send = Some(view.message.clone());
                }
                if ui.button("Save message").clicked() && !view.saved.contains(&view.message) {
                    view.saved.push(view.message.clone());
                }
                if ui.button("Format JSON").clicked()
                    && let Ok(value) = serde_json::from_str::<serde_json::Value>(&view.message)
                {
                    view.message = value.to_string();
                }
            });
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Saved:");
            for saved in view.saved.clone() {
                if ui.small_button(&saved).clicked() {
                    view.message = saved;
                }
            }
        });
        egui::Grid::new("ws-timeline").striped(true).show(ui, |ui| {
            for entry in view.timeline.iter().rev().take(200) {
                ui.monospace(clock(entry.at_ms));
                ui.label(match entry.kind {
                    "sent" => "out",
                    "received" => "in",
                    other => other,
                });
                ui.label(entry.route_key.clone().unwrap_or_default());
                ui.monospace(&entry.text);
                ui.end_row();
            }
        });
        if connect {
            self.connect_web_socket_console(url);
        }
        if let Some(text) = send {
            self.send_web_socket_frame(text);
        }
        if disconnect && let Some(session) = &self.websockets.session {
            let _ = session.commands.send(None);
        }
    }

    /// Starts the console's client on the gateway's runtime.
    pub fn connect_web_socket_console(&mut self, url: String) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let Some(gateway) = &self.gateway else {
            self.status = Err("The gateway is not running".into());
            return;
        };
        let view = &mut self.websockets;
        let query = view.console_query.trim().trim_start_matches('?');
        let target = if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        };
        let mut request = match target.as_str().into_client_request() {
            Ok(request) => request,
            Err(error) => {
                self.status = Err(format!("{target}: {error}"));
                return;
            }
        };
        let user_agent = format!("Portico console {}", uuid::Uuid::new_v4());
        for line in view.console_headers.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            match (
                http::header::HeaderName::from_bytes(name.trim().as_bytes()),
                http::HeaderValue::from_str(value.trim()),
            ) {
                (Ok(name), Ok(value)) => {
                    request.headers_mut().insert(name, value);
                }
                _ => {
                    self.status = Err(format!("Not a header: {line:?}"));
                    return;
                }
            }
        }
        if let Ok(value) = http::HeaderValue::from_str(&user_agent) {
            request
                .headers_mut()
                .insert(http::header::USER_AGENT, value);
        }
        let (commands, mut command_receiver) = tokio::sync::mpsc::unbounded_channel();
        let (events, event_receiver) = channel();
        gateway.spawn(async move {
            use futures_util::{SinkExt, StreamExt};
            use tokio_tungstenite::tungstenite::Message;
            let mut socket = match tokio_tungstenite::connect_async(request).await {
                Ok((socket, _)) => socket,
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    let _ = events.send(ClientEvent::Failed(format!(
                        "the handshake was refused: {}",
                        response.status()
                    )));
                    return;
                }
                Err(error) => {
                    let _ = events.send(ClientEvent::Failed(error.to_string()));
                    return;
                }
            };
            let _ = events.send(ClientEvent::Connected);
            loop {
                tokio::select! {
                    command = command_receiver.recv() => match command {
                        Some(Some(text)) => {
                            if socket.send(Message::text(text)).await.is_err() {
                                let _ = events.send(ClientEvent::Closed("send failed".into()));
                                return;
                            }
                        }
                        _ => {
                            let _ = socket.close(None).await;
                            let _ = events.send(ClientEvent::Closed("closed by the console".into()));
                            return;
                        }
                    },
                    message = socket.next() => match message {
                        Some(Ok(Message::Text(text))) => {
                            let _ = events.send(ClientEvent::Received(text.as_str().to_string()));
                        }
                        Some(Ok(Message::Binary(data))) => {
                            let _ = events.send(ClientEvent::Received(String::from_utf8_lossy(&data).into_owned()));
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let _ = events.send(ClientEvent::Closed(frame.map_or("closed".into(), |f| {
                                format!("closed by the gateway: {} {}", u16::from(f.code), f.reason)
                            })));
                            return;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            let _ = events.send(ClientEvent::Closed(error.to_string()));
                            return;
                        }
                        None => {
                            let _ = events.send(ClientEvent::Closed("closed".into()));
                            return;
                        }
                    },
                }
            }
        });
        view.timeline.push(TimelineEntry {
            at_ms: now_ms(),
            kind: "connecting",
            text: target,
            route_key: None,
        });
        view.session = Some(Session {
            commands,
            events: event_receiver,
            user_agent,
            connection_id: None,
            frames_seen: 0,
        });
    }

    /// Sends a frame from the console.
    pub fn send_web_socket_frame(&mut self, text: String) {
        let view = &mut self.websockets;
        let Some(session) = &view.session else {
            return;
        };
        if session.commands.send(Some(text.clone())).is_ok() {
            view.timeline.push(TimelineEntry {
                at_ms: now_ms(),
                kind: "sent",
                text,
                route_key: None,
            });
        }
    }

    /// Takes the client's events, learns the console's connection id from
    /// the gateway, and annotates sent frames with the route they took.
    pub fn poll_web_socket_console(&mut self) {
        let Some(gateway) = &self.gateway else {
            return;
        };
        let view = &mut self.websockets;
        let Some(session) = &mut view.session else {
            return;
        };
        let mut ended = false;
        while let Ok(event) = session.events.try_recv() {
            let (kind, text) = match event {
                ClientEvent::Connected => ("connected", String::new()),
                ClientEvent::Received(text) => ("received", text),
                ClientEvent::Closed(reason) => {
                    ended = true;
                    ("closed", reason)
                }
                ClientEvent::Failed(reason) => {
                    ended = true;
                    ("error", reason)
                }
            };
            view.timeline.push(TimelineEntry {
                at_ms: now_ms(),
                kind,
                text,
                route_key: None,
            });
        }
        let connections = gateway.connections();
        if session.connection_id.is_none() {
            session.connection_id = connections
                .list()
                .iter()
                .find(|c| c.info.user_agent.as_deref() == Some(session.user_agent.as_str()))
                .map(|c| c.info.connection_id.clone());
        }
        if let Some(id) = &session.connection_id {
            for frame in connections.frames_since(session.frames_seen) {
                session.frames_seen = frame.seq;
                if frame.connection_id != *id || frame.direction != "in" {
                    continue;
                }
                if let Some(entry) = view
                    .timeline
                    .iter_mut()
                    .find(|e| e.kind == "sent" && e.route_key.is_none())
                {
                    entry.route_key = Some(frame.route_key.unwrap_or_else(|| "(none)".into()));
                }
            }
        }
        if ended {
            view.session = None;
        }
    }

    fn connections_panel(&mut self, ui: &mut egui::Ui, api: &WebSocketApi) {
        ui.heading("Connections");
        let Some(gateway) = &self.gateway else {
            ui.label("The gateway is not running.");
            return;
        };
        let live: Vec<_> = gateway
            .connections()
            .list()
            .into_iter()
            .filter(|c| c.info.api_id == api.api_id)
            .collect();
        if live.is_empty() {
            ui.label("No live connections.");
            return;
        }
        let mut action: Option<(String, Option<String>)> = None;
        for connection in &live {
            let info = &connection.info;
            ui.horizontal_wrapped(|ui| {
                ui.monospace(&info.connection_id);
                ui.label(format!(
                    "{} since {} from {} ({}), active {}",
                    info.stage,
                    clock(info.connected_at),
                    info.source_ip,
                    info.user_agent.clone().unwrap_or_default(),
                    clock(connection.last_active_ms())
                ));
            });
            ui.horizontal_wrapped(|ui| {
                let text = self
                    .websockets
                    .outgoing
                    .entry(info.connection_id.clone())
                    .or_default();
                let label = ui.label(format!("Frame for {}", info.connection_id));
                ui.add(egui::TextEdit::singleline(text).desired_width(220.0))
                    .labelled_by(label.id);
                if ui
                    .button(format!("Send to {}", info.connection_id))
                    .clicked()
                {
                    action = Some((info.connection_id.clone(), Some(text.clone())));
                }
                if ui
                    .button(format!("Disconnect {}", info.connection_id))
                    .clicked()
                {
                    action = Some((info.connection_id.clone(), None));
                }
            });
        }
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
        match action {
            Some((id, Some(text))) => {
                self.status = if gateway.connections().post(&id, bytes::Bytes::from(text)) {
                    Ok(format!("Sent to {id}"))
                } else {
                    Err(format!("{id} is gone"))
                };
            }
            Some((id, None)) => {
                self.status = if gateway.connections().close(&id) {
                    Ok(format!("Closing {id}"))
                } else {
                    Err(format!("{id} is gone"))
                };
            }
            None => {}
        }
    }

    fn apply_web_socket_change(&mut self, change: Change) {
        let index = self.websockets.selected;
        let route_key = self.websockets.route_key.trim().to_string();
        let route_target = self.websockets.route_target.clone();
        let two_way = self.websockets.two_way;
        let integration_type = self.websockets.integration_type.clone();
        let integration_uri = self.websockets.integration_uri.trim().to_string();
        let response_template = self.websockets.response_template.clone();
        let stage_name = self.websockets.stage_name.trim().to_string();
        let edit = |f: ApiEdit| {
            move |project: &mut crate::model::Project| {
                let api = project
                    .web_socket_apis
                    .get_mut(index)
                    .ok_or_else(|| "no WebSocket API selected".to_string())?;
                let message = f(api)?;
                api.validate().map_err(|e| e.1)?;
                Ok(message)
            }
        };
        let result: Result<String, String> = match change {
            Change::NewApi => {
                let name = self.websockets.new_api_name.trim().to_string();
                if name.is_empty() {
                    Err("A WebSocket API needs a name".into())
                } else {
                    let result = self.workspace.edit_project(|project| {
                        let mut api =
                            WebSocketApi::new(&crate::model::new_rest_api_id(), name.as_str());
                        api.stages.push(HttpStage {
                            stage_name: "dev".into(),
                            auto_deploy: true,
                            stage_variables: Default::default(),
                            description: None,
                            deployment_id: None,
                            default_route_settings: None,
                            route_settings: Default::default(),
                        });
                        project.web_socket_apis.push(api);
                        Ok(format!(
                            "WebSocket API {name} created with an auto-deployed dev stage"
                        ))
                    });
                    if result.is_ok() {
                        self.websockets.selected = self.workspace.project.web_socket_apis.len() - 1;
                        self.websockets.new_api_name.clear();
                    }
                    result
                }
            }
            Change::AddRoute => self.workspace.edit_project(edit(Box::new(move |api| {
                let route_id = next_id("route", api.routes.iter().map(|r| r.route_id.clone()));
                api.routes.push(WebSocketRoute {
                    route_id: route_id.clone(),
                    route_key: route_key.clone(),
                    target: (!route_target.is_empty())
                        .then(|| format!("integrations/{route_target}")),
                    authorization_type: "NONE".into(),
                    authorizer_id: None,
                    api_key_required: false,
                    route_response_selection_expression: two_way.then(|| "$default".into()),
                    route_responses: if two_way {
                        vec![RouteResponse {
                            route_response_id: format!("{route_id}rr"),
                            route_response_key: "$default".into(),
                        }]
                    } else {
                        Vec::new()
                    },
                });
                Ok(format!("Route {route_key} added"))
            }))),
            Change::DeleteRoute(id) => self.workspace.edit_project(edit(Box::new(move |api| {
                api.routes.retain(|r| r.route_id != id);
                Ok("Route deleted".into())
            }))),
            Change::AddIntegration => self.workspace.edit_project(edit(Box::new(move |api| {
                let integration_id = next_id(
                    "int",
                    api.integrations.iter().map(|i| i.integration_id.clone()),
                );
                let mock = integration_type == "MOCK";
                let templated = matches!(integration_type.as_str(), "MOCK" | "HTTP" | "AWS");
                api.integrations.push(WebSocketIntegration {
                    integration_id: integration_id.clone(),
                    integration_type: integration_type.clone(),
                    integration_uri: (!mock).then(|| integration_uri.clone()),
                    integration_method: None,
                    template_selection_expression: None,
                    request_templates: if mock {
                        [("$default".to_string(), "{\"statusCode\": 200}".to_string())].into()
                    } else {
                        Default::default()
                    },
                    request_parameters: Default::default(),
                    passthrough_behavior: None,
                    timeout_in_millis: None,
                    integration_responses: if templated && !response_template.trim().is_empty() {
                        vec![WebSocketIntegrationResponse {
                            integration_response_id: format!("{integration_id}ok"),
                            integration_response_key: "$default".into(),
                            template_selection_expression: None,
                            response_templates: [(
                                "$default".to_string(),
                                response_template.clone(),
                            )]
                            .into(),
                        }]
                    } else {
                        Vec::new()
                    },
                });
                Ok(format!("Integration {integration_id} added"))
            }))),
            Change::DeleteIntegration(id) => {
                self.workspace.edit_project(edit(Box::new(move |api| {
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
                })))
            }
            Change::AddStage => self.workspace.edit_project(edit(Box::new(move |api| {
                crate::model::validate_stage_name(&stage_name).map_err(|e| e.to_string())?;
                if api.stages.iter().any(|s| s.stage_name == stage_name) {
                    return Err(format!("Stage {stage_name} exists"));
                }
                api.stages.push(HttpStage {
                    stage_name: stage_name.clone(),
                    auto_deploy: true,
                    stage_variables: Default::default(),
                    description: None,
                    deployment_id: None,
                    default_route_settings: None,
                    route_settings: Default::default(),
                });
                Ok(format!("Stage {stage_name} added (auto-deploy)"))
            }))),
            Change::AutoDeploy(stage, on) => {
                self.workspace.edit_project(edit(Box::new(move |api| {
                    let stage = api
                        .stages
                        .iter_mut()
                        .find(|s| s.stage_name == stage)
                        .ok_or("no such stage")?;
                    stage.auto_deploy = on;
                    Ok(format!(
                        "Auto-deploy {} for {}",
                        if on { "on" } else { "off" },
                        stage.stage_name
                    ))
                })))
            }
            Change::Deploy(stage) => {
                let api_id = self.workspace.project.web_socket_apis[index].api_id.clone();
                self.workspace
                    .project
                    .deploy_web_socket(&api_id, &stage, None)
                    .map(|d| {
                        self.workspace.revision += 1;
                        format!("Deployed to {stage}: deployment {}", d.deployment_id)
                    })
                    .map_err(|e| e.to_string())
            }
        };
        let result = result.and_then(|message| self.reload_gateway().map(|()| message));
        self.report(result, |message| message);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_uris_keep_their_start_and_end() {
        assert_eq!(super::shorten("short", 64), "short");
        let arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:chat/invocations";
        let shown = super::shorten(arn, 64);
        assert!(shown.starts_with("arn:aws:apigateway:") && shown.ends_with("chat/invocations"));
        assert!(shown.chars().count() <= 64);
    }
}
