//! GUI flows with egui_kittest: find widgets by label, click, type, step
//! frames, and assert on the workspace and on what the real embedded
//! gateway answered.

mod common;

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portico::gateway::{Gateway, GatewayConfig};
use portico::gui::{Studio, Workspace, app::Tab};
use portico::model::Project;

fn studio(project: &TempProject) -> Studio {
    let loaded = project.load();
    let config = GatewayConfig {
        port: 0,
        worker_threads: 1,
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(&loaded, &config).expect("gateway starts");
    Studio::new(Workspace::new(loaded), Some(gateway))
}

fn harness(studio: Studio) -> Harness<'static, Studio> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, studio: &mut Studio| studio.ui(ui), studio)
}

/// Step frames until `done` holds (the console answers on another thread).
fn run_until(harness: &mut Harness<'_, Studio>, done: impl Fn(&Studio) -> bool) {
    for _ in 0..200 {
        harness.step();
        if done(harness.state()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the condition never held");
}

/// The issue's flow: add `{id}` under /pets and a GET with MOCK, edit its
/// template, deploy to dev, send GET /dev/pets/7 from the console and
/// see the response and the execution log; then undo.
#[test]
fn design_deploy_and_test_a_method() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();

    // Select /pets in the tree; `{petId}` already exists there, so add a
    // new child `toys` with a GET method.
    harness.get_by_label("/pets").click();
    harness.run();
    harness.get_by_label("Add resource").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(message) if message.contains("path part only allow")),
        "an empty path part is refused: {:?}",
        harness.state().status
    );
    harness.state_mut().new_path_part = "toys".into();
    harness.get_by_label("Add resource").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap();
    assert!(
        api.resource_by_path("/pets/toys").is_some(),
        "{:?}",
        harness.state().status
    );
    assert!(harness.state().workspace.dirty);

    harness.get_by_label("Add method").click();
    harness.run();
    let toys = api_method(harness.state());
    assert_eq!(toys.as_deref(), Some("GET"));

    // Open the response template and write one that uses the request.
    harness
        .get_by_label("Integration response template application/json")
        .click();
    harness.run();
    if let Some((_, _, text)) = harness.state_mut().template.as_mut() {
        *text = "{\"toy\": \"ball\", \"stage\": \"$context.stage\"}".into();
    }
    harness.run();
    harness.get_by_label("Apply template").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Template applied (not deployed yet)".into())
    );

    harness.get_by_label("Deploy").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Ok(message) if message.starts_with("Deployed to dev")),
        "{:?}",
        harness.state().status
    );

    // Console: a real request to the real gateway.
    harness.get_by_label("Console").click();
    harness.run();
    harness.state_mut().console.request.path = "/pets/toys".into();
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    let response = harness.state().console.response.clone().unwrap();
    assert_eq!(response.error, None);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "{\"toy\": \"ball\", \"stage\": \"dev\"}");
    assert!(
        response
            .execution_log
            .contains("Method completed with status: 200"),
        "{}",
        response.execution_log
    );
    harness.run();
    harness.get_by_label_contains("Status 200");

    // The live log shows it; "Open in console" copies it back.
    harness.get_by_label("Logs").click();
    harness.run();
    assert_eq!(harness.state().tab, Tab::Logs);
    harness.get_by_label("/pets/toys");

    // Undo removes the method again (the deployment stays).
    harness.get_by_label("Designer").click();
    harness.run();
    for _ in 0..2 {
        harness.get_by_label("Undo").click();
        harness.run();
    }
    assert!(
        harness
            .state()
            .workspace
            .api()
            .unwrap()
            .resource_by_path("/pets/toys")
            .is_some_and(|r| r.resource_methods.is_empty())
    );
}

/// Selects `/pets`, adds the child `path_part` and a GET (MOCK) on it.
fn add_get_under_pets(harness: &mut Harness<'_, Studio>, path_part: &str) {
    harness.get_by_label("/pets").click();
    harness.run();
    harness.state_mut().new_path_part = path_part.into();
    harness.get_by_label("Add resource").click();
    harness.run();
    harness.get_by_label("Add method").click();
    harness.run();
}

/// `GET path` against the studio's running gateway: status, headers, body.
fn served(harness: &Harness<'_, Studio>, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let address = harness
        .state()
        .gateway
        .as_ref()
        .expect("a gateway")
        .local_addr();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let response = client()
            .get(format!("http://{address}{path}"))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap_or_default())
    })
}

fn api_method(studio: &Studio) -> Option<String> {
    studio.workspace.selection.method.clone()
}

/// Test invoke runs the draft without deploying, as AWS's console does.
#[test]
fn test_invoke_runs_the_draft() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Console").click();
    harness.run();
    {
        let request = &mut harness.state_mut().console.request;
        request.path = "/pets/5".into();
        request.test_invoke = true;
    }
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    let response = harness.state().console.response.clone().unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.body.contains("\"id\": \"5\""), "{}", response.body);
    assert!(
        response
            .execution_log
            .contains("Method request path: {petId=5}")
    );
}

/// "Enable CORS" does what the AWS console does; after a deploy a real
/// browser-style preflight passes and error responses carry the header.
#[test]
fn enable_cors_answers_a_real_preflight() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("/pets").click();
    harness.run();
    harness.get_by_label("Enable CORS").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Ok(m) if m.contains("GET,POST,OPTIONS")),
        "{:?}",
        harness.state().status
    );
    harness.get_by_label_contains("changes not deployed");
    harness.get_by_label("Deploy").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("changes not deployed")
            .is_none()
    );

    let address = harness.state().gateway.as_ref().unwrap().local_addr();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let preflight = client
            .request(
                reqwest::Method::OPTIONS,
                format!("http://{address}/dev/pets"),
            )
            .header("origin", "http://app.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 200);
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        assert_eq!(
            preflight.headers()["access-control-allow-methods"],
            "GET,POST,OPTIONS"
        );
        assert_eq!(
            preflight.headers()["access-control-allow-headers"],
            portico::model::DEFAULT_ALLOW_HEADERS
        );
    });
    assert_eq!(
        served(&harness, "/dev/pets").1["access-control-allow-origin"],
        "*"
    );
    let (status, headers, _) = served(&harness, "/dev/nope");
    assert_eq!(status, 403);
    assert_eq!(headers["access-control-allow-origin"], "*");
}

/// Stage variables edited in the Stages tab, and a roll back to an
/// earlier deployment that the running gateway serves at once.
#[test]
fn stage_variables_and_rollback() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    let old_deployment = harness
        .state()
        .workspace
        .api()
        .unwrap()
        .stage("dev")
        .unwrap()
        .deployment_id
        .clone();
    harness.get_by_label("Stages").click();
    harness.run();
    harness.get_by_label("Stage dev").click();
    harness.run();
    harness.get_by_label("Add variable").click();
    harness.run();
    if let Some((_, variables)) = harness.state_mut().stages.stage_variables.as_mut() {
        let last = variables.last_mut().unwrap();
        *last = ("color".into(), "blue".into());
    }
    harness.get_by_label("Save variables").click();
    harness.run();
    let stage = harness
        .state()
        .workspace
        .api()
        .unwrap()
        .stage("dev")
        .unwrap()
        .clone();
    assert_eq!(
        stage.variables.get("color").map(String::as_str),
        Some("blue")
    );

    // A new deployment with a changed welcome message, then roll back.
    {
        let workspace = &mut harness.state_mut().workspace;
        workspace.selection.resource_id = workspace.api().unwrap().root().map(|r| r.id.clone());
        workspace.selection.method = Some("GET".into());
        workspace
            .set_template(false, "application/json", "{\"message\": \"new\"}")
            .unwrap();
    }
    harness.get_by_label("Deploy").click();
    harness.run();
    assert_eq!(served(&harness, "/dev/").2, "{\"message\": \"new\"}");
    harness
        .get_by_label(&format!("Roll back dev to {old_deployment}"))
        .click();
    harness.run();
    assert_eq!(
        harness
            .state()
            .workspace
            .api()
            .unwrap()
            .stage("dev")
            .unwrap()
            .deployment_id,
        old_deployment,
        "{:?}",
        harness.state().status
    );
    let reloaded = portico::model::Project::load(&project.path()).unwrap();
    assert_eq!(
        reloaded.rest_apis[0].stage("dev").unwrap().deployment_id,
        old_deployment
    );
    assert!(
        served(&harness, "/dev/")
            .2
            .contains("Welcome to the Portico PetStore")
    );
}

/// The integration request editor: switch a new MOCK method to HTTP_PROXY
/// against a real backend (refusing a URI that is not http(s) first),
/// deploy, and call it through the console.
#[test]
fn integration_editor_switches_to_http_proxy() {
    let upstream = start_upstream(Upstream::Echo);
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    add_get_under_pets(&mut harness, "backend");
    {
        let settings = harness
            .state_mut()
            .integration
            .as_mut()
            .expect("the editor is open");
        assert_eq!(
            settings.integration_type,
            portico::model::IntegrationType::Mock
        );
        settings.integration_type = portico::model::IntegrationType::HttpProxy;
        settings.uri = "ftp://nowhere".into();
    }
    harness.run();
    harness.get_by_label("Apply integration").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Err("Invalid HTTP endpoint specified for URI".into())
    );
    harness.state_mut().integration.as_mut().unwrap().uri = format!("http://{upstream}/from-gui");
    harness.get_by_label("Apply integration").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Integration updated (not deployed yet)".into())
    );
    harness.get_by_label("Deploy").click();
    harness.run();
    harness.get_by_label("Console").click();
    harness.run();
    harness.state_mut().console.request.path = "/pets/backend?q=1".into();
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    let response = harness.state().console.response.clone().unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    let echo: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(echo["path"], "/from-gui");
    assert_eq!(echo["query"], "q=1");
}

/// The integration responses editor: on an HTTP method, add a response
/// selected by `4\d{2}` with a header mapped from the backend's header
/// (an invalid pattern refused first); after Deploy the real gateway picks
/// it for a backend 404.
#[test]
fn integration_responses_select_by_backend_status() {
    let upstream = start_upstream(Upstream::Fixed(
        404,
        vec![("x-reason", "no such pet")],
        "{}",
    ));
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    add_get_under_pets(&mut harness, "lookup");
    {
        let settings = harness.state_mut().integration.as_mut().unwrap();
        settings.integration_type = portico::model::IntegrationType::Http;
        settings.uri = format!("http://{upstream}/pets");
    }
    // One frame so the URI row appears and the button settles.
    harness.run();
    harness.get_by_label("Apply integration").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Integration updated (not deployed yet)".into())
    );
    harness.get_by_label("Integration Response").click();
    harness.run();
    harness.get_by_label("Add integration response").click();
    harness.run();
    {
        let responses = harness.state_mut().responses.as_mut().unwrap();
        let (settings, mappings) = responses.last_mut().unwrap();
        settings.status_code = "404".into();
        settings.selection_pattern = "4\\d{2".into();
        *mappings = "X-Reason = integration.response.header.x-reason".into();
    }
    harness.run();
    harness.get_by_label("Apply response 2").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.starts_with("Invalid selection pattern")),
        "{:?}",
        harness.state().status
    );
    harness
        .state_mut()
        .responses
        .as_mut()
        .unwrap()
        .last_mut()
        .unwrap()
        .0
        .selection_pattern = "4\\d{2}".into();
    harness.get_by_label("Apply response 2").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Integration response updated (not deployed yet)".into())
    );
    harness.get_by_label("Deploy").click();
    harness.run();
    let (status, headers, _) = served(&harness, "/dev/pets/lookup");
    assert_eq!(status, 404);
    assert_eq!(headers["x-reason"], "no such pet");
}

/// The method request editor writes AWS's fields (an unknown parameter
/// source is refused) and undo takes them back.
#[test]
fn method_request_settings_are_validated_and_undoable() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("GET /pets").click();
    harness.run();
    harness.get_by_label("Method Request").click();
    harness.run();
    harness.state_mut().method_request.as_mut().unwrap().2 = "method.request.cookie.x".into();
    harness.run();
    harness.get_by_label("Apply method request").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.starts_with("Invalid method request parameter")),
        "{:?}",
        harness.state().status
    );
    {
        let settings = harness.state_mut().method_request.as_mut().unwrap();
        settings.1 = true;
        settings.2 =
            "method.request.querystring.page required\nmethod.request.header.X-Trace".into();
    }
    harness.run();
    harness.get_by_label("Apply method request").click();
    harness.run();
    let method = |studio: &Studio| {
        studio
            .workspace
            .api()
            .unwrap()
            .resource_by_path("/pets")
            .unwrap()
            .resource_methods["GET"]
            .clone()
    };
    let updated = method(harness.state());
    assert!(updated.api_key_required);
    assert_eq!(
        updated
            .request_parameters
            .get("method.request.querystring.page"),
        Some(&true)
    );
    assert_eq!(
        updated
            .request_parameters
            .get("method.request.header.X-Trace"),
        Some(&false)
    );
    harness.get_by_label("Undo").click();
    harness.run();
    let restored = method(harness.state());
    assert!(!restored.api_key_required);
    assert!(restored.request_parameters.is_empty());
    // The editor shows the model again, not the undone edit.
    assert_eq!(
        harness.state().method_request,
        Some(("NONE".to_string(), false, String::new()))
    );
}

/// The live log shows what the gateway served, newest first, and the
/// filter narrows it by status.
#[test]
fn live_log_filters_by_status() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    for path in ["/dev/pets", "/dev/nope"] {
        served(&harness, path);
    }
    harness.get_by_label("Logs").click();
    harness.run();
    // The status column: both requests, then only the 403 one.
    harness.get_by_label("200");
    harness.get_by_label("403");
    harness.get_by_label("/nope");
    harness.state_mut().logs.filter = "403".into();
    harness.run();
    harness.get_by_label("403");
    assert!(harness.query_by_label("200").is_none());
}

/// Light theme, a deployment description, and a past console request
/// restored from the history.
#[test]
fn theme_description_and_console_history() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Light").click();
    harness.run();
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);

    harness.state_mut().deploy_description = "first from the GUI".into();
    harness.get_by_label("Deploy").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap().clone();
    let serving = &api.stage("dev").unwrap().deployment_id;
    let deployment = api.deployments.iter().find(|d| &d.id == serving).unwrap();
    assert_eq!(
        deployment.description.as_deref(),
        Some("first from the GUI")
    );
    assert!(harness.state().deploy_description.is_empty());

    harness.get_by_label("Console").click();
    harness.run();
    harness.state_mut().console.request.path = "/pets/3".into();
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    harness.state_mut().console.request.path = "/other".into();
    harness.run();
    harness.get_by_label("History (1)").click();
    harness.run();
    harness.get_by_label("GET /dev/pets/3").click();
    harness.run();
    assert_eq!(harness.state().console.request.path, "/pets/3");
}

/// Rename a resource (descendants follow, AWS's rules shown inline), delete
/// it with its subtree, undo brings it back.
#[test]
fn rename_and_delete_resources() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    add_get_under_pets(&mut harness, "toys");
    harness.get_by_label("/pets").click();
    harness.run();
    harness.get_by_label_contains("Resource /pets");

    harness.state_mut().rename_part.1 = "an imal".into();
    harness.run();
    harness.get_by_label_contains("path part only allow");
    harness.get_by_label("Rename").click();
    harness.run();
    assert!(harness.state().status.is_err());

    harness.state_mut().rename_part.1 = "animals".into();
    harness.run();
    harness.get_by_label("Rename").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Resource renamed to /animals".into())
    );
    let api = harness.state().workspace.api().unwrap();
    assert!(api.resource_by_path("/pets").is_none());
    assert!(
        api.resource_by_path("/animals/toys")
            .is_some_and(|r| r.resource_methods.contains_key("GET"))
    );
    assert!(api.resource_by_path("/animals/{petId}").is_some());

    harness.get_by_label("Delete resource").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap();
    assert!(
        api.resources
            .iter()
            .all(|r| !r.path.starts_with("/animals")),
        "{:?}",
        harness.state().status
    );
    assert_eq!(
        harness.state().workspace.selection.resource_id,
        api.root().map(|r| r.id.clone())
    );
    harness.get_by_label("Undo").click();
    harness.run();
    assert!(
        harness
            .state()
            .workspace
            .api()
            .unwrap()
            .resource_by_path("/animals/toys")
            .is_some()
    );
}

/// File menu: New (asks about unsaved edits: Cancel keeps them, Save and
/// continue writes them), Save As copies deployments, Recent reopens, and
/// the gateway serves whichever project is open.
#[test]
fn file_menu_new_save_as_and_recent() {
    let first = TempProject::petstore();
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut studio = studio(&first);
    studio.recent = portico::gui::recent::RecentProjects::load(&scratch.path().join("recent.json"));
    // As `portico` does for the project it opens with.
    studio.recent.add(&first.path()).expect("stored");
    let mut harness = harness(studio);
    harness.run();
    assert_eq!(served(&harness, "/dev/pets").0, 200);

    add_get_under_pets(&mut harness, "toys");
    assert!(harness.state().workspace.dirty);
    let fresh = scratch.path().join("fresh");
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().file.folder = fresh.display().to_string();
    harness.get_by_label("New project in folder").click();
    harness.run();
    harness.get_by_label_contains("has unsaved changes");
    harness.get_by_label("Cancel").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.dir, first.path());
    assert!(harness.state().workspace.dirty);

    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("New project in folder").click();
    harness.run();
    harness.get_by_label("Save and continue").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok(format!("Created a new project in {}", fresh.display()))
    );
    // The edit was saved to the first project before switching.
    let saved = portico::model::Project::load(&first.path()).expect("loads");
    assert!(saved.rest_apis[0].resource_by_path("/pets/toys").is_some());
    let state = harness.state();
    assert_eq!(state.workspace.project.dir, fresh);
    assert_eq!(
        state.workspace.api().map(|a| a.name.as_str()),
        Some("fresh")
    );
    assert!(!state.workspace.dirty);
    assert_eq!(
        state.recent.projects.first(),
        Some(&fresh.canonicalize().unwrap())
    );
    // Nothing of the new project is deployed: the old stage is gone.
    assert_eq!(served(&harness, "/dev/pets").0, 403);

    // Reopen the first project from File -> Recent; Save As copies it,
    // deployments included, and the copy serves the same stage.
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Recent").click();
    harness.run();
    harness
        .get_by_label(&first.path().canonicalize().unwrap().display().to_string())
        .click();
    harness.run();
    assert_eq!(
        harness.state().workspace.project.dir,
        first.path().canonicalize().unwrap()
    );
    assert_eq!(served(&harness, "/dev/pets").0, 200);
    let copy = scratch.path().join("copy");
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().file.folder = copy.display().to_string();
    harness.get_by_label("Save as folder").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok(format!("Saved as {}", copy.display()))
    );
    let copied = portico::model::Project::load(&copy).expect("the copy loads");
    let api = &copied.rest_apis[0];
    let dev = api.stage("dev").expect("dev stage");
    assert!(copied.snapshot(&api.id, &dev.deployment_id).is_some());
    // Saving over an existing project is refused.
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().file.folder = fresh.display().to_string();
    harness.get_by_label("Save as folder").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.contains("a project already exists there")),
        "{:?}",
        harness.state().status
    );
}

/// Selecting a method prefills the console; `{petId}` becomes a field;
/// query and header rows are sent; "Open in console" from the live log
/// restores all of it.
#[test]
fn console_path_parameters_query_and_header_tables() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("GET /pets/{petId}").click();
    harness.run();
    harness.get_by_label("Console").click();
    harness.run();
    assert_eq!(harness.state().console.request.path, "/pets/{petId}");
    harness.get_by_label("petId").click();
    harness.run();
    harness.get_by_label("petId").type_text("42");
    harness.run();
    harness.get_by_label("Add query parameter").click();
    harness.run();
    harness.get_by_label("Add header").click();
    harness.run();
    {
        let request = &mut harness.state_mut().console.request;
        assert_eq!(
            request.path_params,
            [("petId".to_string(), "42".to_string())]
        );
        request.query[0] = ("color".into(), "dark red".into());
        request.headers[0] = ("X-Trace".into(), "abc".into());
    }
    harness.run();
    harness.get_by_label("GET /dev/pets/42?color=dark%20red");
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    let response = harness.state().console.response.clone().unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    assert!(
        response.body.contains("\"id\": \"42\""),
        "{}",
        response.body
    );
    assert!(
        response
            .execution_log
            .contains("Method request query string: {color=dark red}"),
        "{}",
        response.execution_log
    );
    assert!(
        response
            .execution_log
            .to_lowercase()
            .contains("x-trace=abc"),
        "{}",
        response.execution_log
    );

    // Replay from the live log after clearing the console.
    harness.state_mut().console.request = Default::default();
    harness.get_by_label("Logs").click();
    harness.run();
    harness.get_by_label("/pets/42").click();
    harness.run();
    harness.get_by_label("Open in console").click();
    harness.run();
    let request = &harness.state().console.request;
    assert_eq!(request.target(), "/dev/pets/42?color=dark%20red");
    assert!(
        request
            .headers
            .iter()
            .any(|(k, v)| k == "x-trace" && v == "abc"),
        "{:?}",
        request.headers
    );
}

/// The template editor: line numbers, a parse error named by line and
/// column under the editor, and a live preview of the sample request with
/// the stage's variables.
#[test]
fn template_preview_renders_the_sample_request() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("GET /pets/{petId}").click();
    harness.run();
    harness
        .get_by_label("Integration request template application/json")
        .click();
    harness.run();
    if let Some((_, _, text)) = harness.state_mut().template.as_mut() {
        *text = "{\n  \"name\": \"$input.json('$.name')\",\n  #if($x \n}".into();
    }
    harness.run();
    harness.get_by_label("Line 4, column 1: expected ')' to close #if");
    harness.get_by_label("  1\n  2\n  3\n  4");

    if let Some((_, _, text)) = harness.state_mut().template.as_mut() {
        *text = "{\"name\": $input.json('$.name'), \"id\": \"$input.params('petId')\", \"q\": \"$input.params().querystring.page\", \"stage\": \"$context.stage\"}".into();
    }
    harness.run();
    harness
        .get_by_label("Sample request for the preview")
        .click();
    harness.run();
    {
        let preview = &mut harness.state_mut().preview;
        preview.body = "{\"name\": \"Rex\"}".into();
        preview.path = "petId=7".into();
        preview.query = "page=2".into();
    }
    harness.run();
    harness.get_by_label("{\"name\": \"Rex\", \"id\": \"7\", \"q\": \"2\", \"stage\": \"dev\"}");
}

/// The method execution view's four boxes; the Method Response box edits
/// status codes, declared headers and models, with AWS's checks.
#[test]
fn method_response_box_edits_statuses_headers_and_models() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("GET /pets").click();
    harness.run();
    for title in [
        "Method Request",
        "Integration Request",
        "Integration Response",
    ] {
        harness.get_by_label(title);
    }
    harness.get_by_label("Method Response").click();
    harness.run();
    harness.get_by_label("Add method response").click();
    harness.run();
    {
        let responses = harness.state_mut().method_responses.as_mut().unwrap();
        let added = responses.last_mut().unwrap();
        added.status_code = "700".into();
    }
    harness.get_by_label("Apply method responses").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.contains("from 100 to 599")),
        "{:?}",
        harness.state().status
    );
    {
        let responses = harness.state_mut().method_responses.as_mut().unwrap();
        let added = responses.last_mut().unwrap();
        added.status_code = "404".into();
        added.headers = "X-Reason required\nRetry-After".into();
        added.models = "application/json = Error".into();
    }
    harness.get_by_label("Apply method responses").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("Method responses updated (not deployed yet)".into())
    );
    let api = harness.state().workspace.api().unwrap();
    let method = &api.resource_by_path("/pets").unwrap().resource_methods["GET"];
    let declared = &method.method_responses["404"];
    assert_eq!(
        declared
            .response_parameters
            .get("method.response.header.X-Reason"),
        Some(&true)
    );
    assert_eq!(
        declared
            .response_parameters
            .get("method.response.header.Retry-After"),
        Some(&false)
    );
    assert_eq!(declared.response_models["application/json"], "Error");
    harness.get_by_label_contains("2 status(es)");

    // 200 is what the integration response maps to: it cannot go.
    harness.get_by_label("Remove status 1").click();
    harness.run();
    harness.get_by_label("Apply method responses").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.contains("Method response 200 is used")),
        "{:?}",
        harness.state().status
    );
}

/// Keyboard shortcuts: Ctrl+Z / Ctrl+Shift+Z undo and redo, Ctrl+S saves,
/// Ctrl+D deploys, Ctrl+Enter sends from the console.
#[test]
fn keyboard_shortcuts() {
    use egui::{Key, Modifiers};
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    add_get_under_pets(&mut harness, "toys");
    let has_toys = |harness: &Harness<'_, Studio>| {
        harness
            .state()
            .workspace
            .api()
            .unwrap()
            .resource_by_path("/pets/toys")
            .is_some()
    };
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert!(!has_toys(&harness));
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    harness.run();
    assert!(has_toys(&harness));

    harness.key_press_modifiers(Modifiers::COMMAND, Key::S);
    harness.run();
    assert!(!harness.state().workspace.dirty);
    let saved = portico::model::Project::load(&project.path()).expect("loads");
    assert!(saved.rest_apis[0].resource_by_path("/pets/toys").is_some());

    harness.key_press_modifiers(Modifiers::COMMAND, Key::D);
    harness.run();
    assert!(
        matches!(&harness.state().status, Ok(m) if m.starts_with("Deployed to dev")),
        "{:?}",
        harness.state().status
    );
    harness.get_by_label("Console").click();
    harness.run();
    harness.state_mut().console.request.path = "/pets/toys".into();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    run_until(&mut harness, |studio| studio.console.response.is_some());
    assert_eq!(
        harness.state().console.response.as_ref().unwrap().status,
        200
    );
}

/// The API picker: a new API, renamed from its root resource, selected and
/// switched back; the tree follows the picked API.
#[test]
fn api_picker_adds_renames_and_switches() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("API").click();
    harness.run();
    harness.get_by_label("New API").click();
    harness.run();
    assert_eq!(harness.state().workspace.selection.api, 1);
    assert_eq!(harness.state().workspace.api().unwrap().name, "API 2");
    assert!(
        harness.query_by_label("/pets").is_none(),
        "the tree shows the new API"
    );
    harness.state_mut().rename_part.1 = "Orders".into();
    harness.get_by_label("Rename API").click();
    harness.run();
    assert_eq!(harness.state().workspace.api().unwrap().name, "Orders");

    harness.get_by_label("API").click();
    harness.run();
    harness.get_by_label("PetStore").click();
    harness.run();
    assert_eq!(harness.state().workspace.selection.api, 0);
    harness.get_by_label("/pets");
    harness.get_by_label("API").click();
    harness.run();
    harness.get_by_label("Orders").click();
    harness.run();
    // Undoing the rename and the creation while the new API is selected
    // falls back to the remaining one.
    harness.get_by_label("Undo").click();
    harness.run();
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.rest_apis.len(), 1);
    assert_eq!(harness.state().workspace.api().unwrap().name, "PetStore");
    harness.get_by_label("/pets");
}

/// File -> Import OpenAPI adds the definition as a new, selected API
/// (undoable) and lists the import's warnings; File -> Export OpenAPI
/// writes the selected API's draft.
#[test]
fn openapi_import_and_export_from_the_file_menu() {
    let project = TempProject::petstore();
    let scratch = tempfile::tempdir().expect("temp dir");
    let spec = scratch.path().join("toys.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.1\ninfo: {title: Toys, version: '1'}\npaths:\n  /toys:\n    get:\n      parameters:\n        - {name: session, in: cookie}\n      responses:\n        '200': {description: ok}\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates: {application/json: '{\"statusCode\": 200}'}\n        responses: {default: {statusCode: '200'}}\n",
    )
    .expect("write spec");
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().openapi.file = spec.display().to_string();
    harness.get_by_label("Import file").click();
    harness.run();
    let state = harness.state();
    assert_eq!(
        state.status,
        Ok("Imported Toys (1 warnings); deploy it to serve it".into())
    );
    assert_eq!(state.workspace.api().map(|a| a.name.as_str()), Some("Toys"));
    assert_eq!(state.workspace.project.rest_apis.len(), 2);
    harness.get_by_label("Import warnings");
    harness.get_by_label_contains("cookie parameters are not supported");
    harness.get_by_label("Close").click();
    harness.run();
    assert!(harness.state().openapi.warnings.is_none());

    // Export the imported API as Swagger 2.0 JSON, without AWS extensions.
    let out = scratch.path().join("toys-swagger.json");
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().openapi.file = out.display().to_string();
    harness.state_mut().openapi.format = portico::openapi::ExportFormat::Swagger2;
    harness.state_mut().openapi.aws_extensions = false;
    harness.get_by_label("Export to file").click();
    harness.run();
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(exported["swagger"], "2.0");
    assert_eq!(exported["info"]["title"], "Toys");
    assert!(
        exported["paths"]["/toys"]["get"]
            .get("x-amazon-apigateway-integration")
            .is_none()
    );

    // A broken file is an error naming the file, line and column.
    std::fs::write(&spec, "openapi: 3.0.1\ninfo: [\n").expect("write");
    harness.get_by_label("File").click();
    harness.run();
    harness.state_mut().openapi.file = spec.display().to_string();
    harness.get_by_label("Import file").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.starts_with(&format!("{}:3:", spec.display()))),
        "{:?}",
        harness.state().status
    );

    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.rest_apis.len(), 1);
}

/// The Models tab checks a schema as it is typed (JSON position, draft 4
/// validity) and applies it; the Method Request box picks a validator and
/// body model; the test invoke then validates against it.
#[test]
fn models_and_request_validation_from_the_designer() {
    let project = TempProject::copy_of("projects/orders");
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Models").click();
    harness.run();
    harness.get_by_label("LineItem").click();
    harness.run();
    assert_eq!(
        harness
            .state()
            .model_draft
            .as_ref()
            .map(|d| d.name.as_str()),
        Some("LineItem")
    );
    harness.state_mut().model_draft.as_mut().unwrap().schema =
        "{\n  \"type\": \"object\",\n  \"properties\": {\"sku\": }\n}".into();
    harness.run();
    harness.get_by_label_contains("Line 3, column");
    harness.state_mut().model_draft.as_mut().unwrap().schema =
        r#"{"type": "object", "properties": {"sku": {"type": 7}}}"#.into();
    harness.run();
    harness.get_by_label_contains("Invalid model schema");

    // A new model, applied, then used by POST /orders's validator.
    harness.get_by_label("New model").click();
    harness.run();
    {
        let draft = harness.state_mut().model_draft.as_mut().unwrap();
        draft.name = "Ping".into();
        draft.schema = r#"{"type": "object", "required": ["ping"]}"#.into();
    }
    harness.run();
    harness.get_by_label("Valid draft 4 schema");
    harness.get_by_label("Apply model").click();
    harness.run();
    assert!(
        harness
            .state()
            .workspace
            .models()
            .iter()
            .any(|(n, _)| n == "Ping")
    );

    harness.get_by_label("GET /orders/{orderId}").click();
    harness.run();
    harness.get_by_label("Method Request").click();
    harness.run();
    assert_eq!(
        harness.state().request_validation,
        Some(("NONE".to_string(), String::new()))
    );
    harness.state_mut().request_validation =
        Some(("Validate body".into(), "application/json = Ping".into()));
    harness.run();
    harness.get_by_label("Apply request validation").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap().clone();
    let method = &api
        .resource_by_path("/orders/{orderId}")
        .unwrap()
        .resource_methods["GET"];
    let validator = api
        .request_validators
        .iter()
        .find(|v| Some(&v.id) == method.request_validator_id.as_ref())
        .expect("the console's standard validator was created");
    assert_eq!(validator.name, "Validate body");
    assert!(validator.validate_request_body && !validator.validate_request_parameters);
    assert_eq!(method.request_models["application/json"], "Ping");

    // An unknown model is refused; the model in use cannot be deleted.
    harness.state_mut().request_validation =
        Some(("Validate body".into(), "application/json = Nope".into()));
    harness.run();
    harness.get_by_label("Apply request validation").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Err("Invalid model name specified: Nope".into())
    );
    assert!(harness.state_mut().workspace.delete_model("Ping").is_err());
}

/// The Functions tab: invoke a function with a test event on the real
/// runtime and see its result and log; add a function (checked, undoable);
/// test the API's TOKEN authorizer and see its decision.
#[test]
fn functions_tab_invokes_edits_and_tests_authorizers() {
    let project = TempProject::copy_of("projects/functions");
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Functions").click();
    harness.run();
    harness.get_by_label_contains("calc  (cold)").click();
    harness.run();
    harness.state_mut().functions.event = r#"{"a": 6, "b": 7, "op": "mul"}"#.into();
    harness.get_by_label("Invoke").click();
    run_until(&mut harness, |s| s.functions.result.is_some());
    let result = harness.state().functions.result.clone().unwrap();
    assert!(!result.error);
    assert_eq!(result.text, r#"{"result": 42}"#);
    harness.run();
    harness.get_by_label_contains("calc  (warm: 1 worker(s)");
    harness.get_by_label_contains("REPORT RequestId: ");

    // A new function: a missing code directory is refused, then fixed.
    harness.get_by_label("New function").click();
    harness.run();
    {
        let draft = harness.state_mut().functions.draft.as_mut().unwrap();
        draft.name = "calc2".into();
        draft.code = "functions/nowhere".into();
    }
    harness.run();
    harness.get_by_label("Apply function").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.starts_with("Code directory")),
        "{:?}",
        harness.state().status
    );
    harness.state_mut().functions.draft.as_mut().unwrap().code = "functions/calc".into();
    harness
        .state_mut()
        .functions
        .draft
        .as_mut()
        .unwrap()
        .timeout = "0".into();
    harness.run();
    harness.get_by_label_contains("Timeout must be 1 to 900 seconds");
    harness
        .state_mut()
        .functions
        .draft
        .as_mut()
        .unwrap()
        .timeout = "5".into();
    harness.run();
    harness.get_by_label("Apply function").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.functions.len(), 4);
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.functions.len(), 3);

    // Test the TOKEN authorizer with a token.
    harness.state_mut().functions.token = "allow-ada".into();
    harness.run();
    harness.get_by_label("Test authorizer tokenAuth").click();
    run_until(&mut harness, |s| {
        s.functions
            .result
            .as_ref()
            .is_some_and(|r| r.function == "auth")
    });
    harness.run();
    harness.get_by_label("Decision: Allow for principal ada");
}

/// Authorizers are made and edited in the Functions tab (checked as the
/// gateway compiles them) and chosen per method in the Method Request box.
#[test]
fn authorizer_editor_and_method_authorizer_choice() {
    let project = TempProject::copy_of("projects/functions");
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Functions").click();
    harness.run();
    harness.get_by_label("New authorizer").click();
    harness.run();
    {
        let draft = harness
            .state_mut()
            .functions
            .authorizer_draft
            .as_mut()
            .unwrap();
        draft.name = "Keys".into();
        draft.kind = "REQUEST".into();
        draft.function = "auth".into();
        draft.identity_source = "method.request.header.X-Key".into();
        draft.ttl = "9999".into();
    }
    harness.run();
    harness.get_by_label("Result TTL must be 0 to 3600 seconds");
    harness
        .state_mut()
        .functions
        .authorizer_draft
        .as_mut()
        .unwrap()
        .identity_source = "header.X-Key".into();
    harness
        .state_mut()
        .functions
        .authorizer_draft
        .as_mut()
        .unwrap()
        .ttl = "0".into();
    harness.run();
    harness.get_by_label_contains("invalid identity source");
    harness
        .state_mut()
        .functions
        .authorizer_draft
        .as_mut()
        .unwrap()
        .identity_source = "method.request.header.X-Key".into();
    harness.run();
    harness.get_by_label("Apply authorizer").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap().clone();
    let keys = api
        .authorizers
        .iter()
        .find(|a| a.name == "Keys")
        .expect("created");
    assert_eq!(keys.authorizer_type, "REQUEST");
    assert_eq!(keys.authorizer_result_ttl_in_seconds, Some(0));
    assert!(
        keys.authorizer_uri
            .as_deref()
            .unwrap()
            .ends_with("function:auth/invocations")
    );

    harness.get_by_label("GET /hello").click();
    harness.run();
    harness.get_by_label("Method Request").click();
    harness.run();
    assert_eq!(harness.state().method_authorizer.as_deref(), Some("NONE"));
    harness.state_mut().method_authorizer = Some("Keys".into());
    harness.run();
    harness.get_by_label("Apply authorizer choice").click();
    harness.run();
    let api = harness.state().workspace.api().unwrap().clone();
    let method = &api.resource_by_path("/hello").unwrap().resource_methods["GET"];
    assert_eq!(method.authorization_type, "CUSTOM");
    assert_eq!(method.authorizer_id.as_deref(), Some(keys.id.as_str()));
    // In use: it cannot be deleted.
    assert!(
        harness
            .state_mut()
            .workspace
            .delete_authorizer(&keys.id)
            .is_err()
    );
}

/// The Stages tab deploys the draft as a canary (10%), the gateway serves
/// it at once, the live log's Canary column marks canary requests, and
/// Promote makes the canary the stage's deployment.
#[test]
fn canary_from_the_stages_tab() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Stages").click();
    harness.run();
    harness.get_by_label("Stage dev").click();
    harness.run();
    harness.get_by_label("Deploy draft as canary").click();
    harness.run();
    let canary = harness
        .state()
        .workspace
        .api()
        .unwrap()
        .stage("dev")
        .unwrap()
        .canary_settings
        .clone()
        .expect("a canary");
    assert_eq!(canary.percent_traffic, 10.0);
    // The running gateway has it: at 100% every request is the canary's.
    let api_id = harness.state().workspace.api().unwrap().id.clone();
    let gateway = harness.state().gateway.as_ref().unwrap();
    assert!(gateway.set_canary_percent(&api_id, "dev", 100.0));
    let addr = gateway.local_addr();
    {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream
            .write_all(b"GET /dev/pets HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("sends");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reads");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    harness.get_by_label("Logs").click();
    run_until(&mut harness, |s| {
        s.gateway
            .as_ref()
            .unwrap()
            .request_log()
            .since(0)
            .iter()
            .any(|r| r.canary)
    });
    harness.run();
    harness.get_by_label("Canary");
    assert!(
        !harness
            .query_all_by_label("yes")
            .collect::<Vec<_>>()
            .is_empty()
    );

    // The metrics are read in whole seconds: wait for the request's.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    harness.get_by_label("Stages").click();
    harness.run();
    // The metrics count the request on the canary's side.
    harness.get_by_label_contains("canary 1 requests (0 errors)");
    harness.get_by_label("Canary: requests and errors per second");
    harness.get_by_label("Promote canary").click();
    harness.run();
    let stage = harness
        .state()
        .workspace
        .api()
        .unwrap()
        .stage("dev")
        .unwrap()
        .clone();
    assert_eq!(stage.deployment_id, canary.deployment_id);
    assert!(stage.canary_settings.is_none());
}

/// The Stages tab sets the stage's default method throttling; the running
/// gateway applies it at once (429 beyond the burst); bad input is refused.
#[test]
fn stage_throttling_from_the_stages_tab() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Stages").click();
    harness.run();
    harness.get_by_label("Stage dev").click();
    harness.run();
    harness.state_mut().stages.stage_throttle = Some(("dev".into(), "fast".into(), "2".into()));
    harness.run();
    harness.get_by_label("Apply throttling").click();
    harness.run();
    assert!(
        matches!(&harness.state().status, Err(m) if m.starts_with("Rate must be")),
        "{:?}",
        harness.state().status
    );
    harness.state_mut().stages.stage_throttle = Some(("dev".into(), "0.5".into(), "2".into()));
    harness.run();
    harness.get_by_label("Apply throttling").click();
    harness.run();
    let setting = harness
        .state()
        .workspace
        .api()
        .unwrap()
        .stage("dev")
        .unwrap()
        .method_settings["*/*"]
        .clone();
    assert_eq!(setting.throttling_rate_limit, Some(0.5));
    assert_eq!(setting.throttling_burst_limit, Some(2));
    let addr = harness.state().gateway.as_ref().unwrap().local_addr();
    let statuses: Vec<String> = (0..4)
        .map(|_| {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr).expect("connects");
            stream
                .write_all(
                    b"GET /dev/pets HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                )
                .expect("sends");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).expect("reads");
            answer[9..12].to_string()
        })
        .collect();
    assert_eq!(statuses, ["200", "200", "429", "429"]);
}

/// The Stages tab turns the stage cache on (the running gateway caches GET
/// answers at once) and flushes it.
#[test]
fn stage_cache_from_the_stages_tab() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("Stages").click();
    harness.run();
    harness.get_by_label("Stage dev").click();
    harness.run();
    harness
        .get_by_label("Stage cache (GET methods, 300 s by default)")
        .click();
    harness.run();
    assert!(
        harness
            .state()
            .workspace
            .api()
            .unwrap()
            .stage("dev")
            .unwrap()
            .cache_cluster_enabled
    );
    harness.get_by_label("Flush stage cache").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Ok("The cache of dev is empty".into())
    );
}

/// The Metrics tab shows what the gateway served: totals with AWS's metric
/// names for the chosen stage and method, and the charts.
#[test]
fn metrics_tab_counts_what_was_served() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    let addr = harness.state().gateway.as_ref().unwrap().local_addr();
    for path in ["/dev/pets", "/dev/pets", "/dev/nope", "/prod/pets"] {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("sends");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reads");
    }
    // The tab reads whole seconds: wait for the one the requests fell in.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    harness.get_by_label("Metrics").click();
    harness.run();
    harness.get_by_label_contains("Count 4   4XXError 1   5XXError 0");
    harness.get_by_label("Requests per second");
    harness.get_by_label("Latency");
    harness.state_mut().metrics.stage = Some("dev".into());
    harness.run();
    harness.get_by_label_contains("Count 3   4XXError 1");
    harness.state_mut().metrics.method = Some(("/pets".into(), "GET".into()));
    harness.run();
    harness.get_by_label_contains("Count 2   4XXError 0");
    harness.get_by_label("Last 30 min").click();
    harness.run();
    assert_eq!(harness.state().metrics.window_secs, 1800);
    harness.get_by_label_contains("Count 2   4XXError 0");
}

/// Sends `GET path` with an `x-api-key` to the studio's gateway; the status.
fn keyed_get(harness: &Harness<'_, Studio>, path: &str, key: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = harness.state().gateway.as_ref().unwrap().local_addr();
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nx-api-key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer[9..12].parse().unwrap()
}

/// The API keys tab: a usage plan with a quota on dev, a key in it; the
/// running gateway accepts the key at once, counts its quota (shown as
/// usage) and refuses it once disabled; undo brings a deleted key back.
#[test]
fn api_keys_and_usage_plans_tab() {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let api = &mut loaded.rest_apis[0];
    let id = api.id.clone();
    let pets = api
        .resources
        .iter_mut()
        .find(|r| r.path == "/pets")
        .unwrap();
    pets.resource_methods
        .get_mut("GET")
        .unwrap()
        .api_key_required = true;
    loaded
        .deploy(&id, "dev", None, &Default::default())
        .unwrap();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("API keys").click();
    harness.run();
    assert_eq!(harness.state().tab, Tab::Keys);
    {
        let keys = &mut harness.state_mut().keys;
        keys.plan_name = "Gold".into();
        keys.quota_limit = "2".into();
    }
    harness.get_by_label("Add usage plan").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Err("Choose the stage the plan covers".into())
    );
    harness.state_mut().keys.plan_stage = format!("{id}\u{1f}dev");
    harness.get_by_label("Add usage plan").click();
    harness.run();
    let plan = harness.state().workspace.project.usage_plans[0].clone();
    assert_eq!(plan.name, "Gold");
    assert_eq!(plan.quota.as_ref().unwrap().limit, 2);
    {
        let keys = &mut harness.state_mut().keys;
        keys.key_name = "partner".into();
        keys.key_value = "short".into();
        keys.key_plan = Some(plan.id.clone());
    }
    harness.get_by_label("Add API key").click();
    harness.run();
    assert_eq!(
        harness.state().status,
        Err("API Key value should be at least 20 characters".into())
    );
    harness.state_mut().keys.key_value.clear();
    harness.get_by_label("Add API key").click();
    harness.run();
    let key = harness.state().workspace.project.api_keys[0].clone();
    assert_eq!(key.value.len(), 40, "a generated value");
    assert!(
        harness.state().workspace.project.usage_plans[0]
            .api_key_ids
            .contains(&key.id)
    );
    harness.get_by_label(key.value.as_str());

    assert_eq!(keyed_get(&harness, "/dev/pets", "not-a-key"), 403);
    assert_eq!(keyed_get(&harness, "/dev/pets", &key.value), 200);
    assert_eq!(keyed_get(&harness, "/dev/pets", &key.value), 200);
    assert_eq!(keyed_get(&harness, "/dev/pets", &key.value), 429, "quota");
    harness.run();
    harness.get_by_label("Gold: 2 of 2 per DAY");

    harness.get_by_label("Enabled partner").click();
    harness.run();
    assert!(!harness.state().workspace.project.api_keys[0].enabled);
    assert_eq!(
        keyed_get(&harness, "/dev/pets", &key.value),
        403,
        "disabled"
    );

    harness.get_by_label("Delete key partner").click();
    harness.run();
    assert!(harness.state().workspace.project.api_keys.is_empty());
    assert!(
        harness.state().workspace.project.usage_plans[0]
            .api_key_ids
            .is_empty()
    );
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.api_keys.len(), 1);
}

/// One model, two front doors: an edit in the app reaches the control
/// plane, and an API created through the control plane (as an AWS SDK
/// would) appears in the app at once, saved.
#[test]
fn control_plane_changes_show_live() {
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("/pets").click();
    harness.run();
    harness.state_mut().new_path_part = "toys".into();
    harness.get_by_label("Add resource").click();
    harness.run();
    let gateway = harness.state().gateway.as_ref().unwrap();
    assert!(
        gateway.model().read(|p| p.rest_apis[0]
            .resources
            .iter()
            .any(|r| r.path == "/pets/toys")),
        "the app's edit reached the control plane"
    );
    let url = format!("http://{}/restapis", gateway.local_addr());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        client()
            .post(url)
            .json(&serde_json::json!({"name": "from-sdk"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    run_until(&mut harness, |s| {
        s.workspace
            .project
            .rest_apis
            .iter()
            .any(|a| a.name == "from-sdk")
    });
    let state = harness.state();
    assert!(
        state.workspace.project.rest_apis[0]
            .resources
            .iter()
            .any(|r| r.path == "/pets/toys"),
        "the app's edit is kept"
    );
    assert!(!state.workspace.dirty, "the control plane saved it");
    assert!(
        matches!(&state.status, Ok(m) if m.contains("AWS API")),
        "{:?}",
        state.status
    );
    let saved = Project::load(&project.path()).unwrap();
    assert!(saved.rest_apis.iter().any(|a| a.name == "from-sdk"));
}

/// The HTTP APIs tab: create an HTTP API, an HTTP_PROXY integration and a
/// route (served at once by its auto-deployed $default stage), a JWT
/// authorizer on the local issuer, a minted token, and "Try" puts the
/// route in the console with the token attached; undo takes a route back.
#[test]
fn http_apis_tab_builds_and_tries_an_api() {
    let backend = start_upstream(Upstream::Echo);
    let project = TempProject::petstore();
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("HTTP APIs").click();
    harness.run();
    harness.state_mut().http_apis.new_api_name = "Shop".into();
    harness.get_by_label("Create HTTP API").click();
    harness.run();
    let api = harness.state().workspace.project.http_apis[0].clone();
    assert_eq!(api.stages[0].stage_name, "$default");
    {
        let view = &mut harness.state_mut().http_apis;
        view.integration_type = "HTTP_PROXY".into();
        view.integration_uri = format!("http://{backend}/{{proxy}}");
    }
    harness.get_by_label("Add integration").click();
    harness.run();
    {
        let view = &mut harness.state_mut().http_apis;
        view.route_key = "GET /items/{proxy+}".into();
        view.route_target = "int001".into();
    }
    harness.get_by_label("Add route").click();
    harness.run();
    let served = |harness: &Harness<'_, Studio>, path: &str, token: Option<&str>| -> u16 {
        use std::io::{Read, Write};
        let addr = harness.state().gateway.as_ref().unwrap().local_addr();
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}.execute-api.localhost\r\n{auth}Connection: close\r\n\r\n",
            api.api_id
        );
        stream.write_all(request.as_bytes()).expect("sends");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reads");
        answer[9..12].parse().unwrap()
    };
    assert_eq!(served(&harness, "/items/a/b", None), 200, "served at once");
    assert_eq!(served(&harness, "/nothing", None), 404);
    // The parameter-mapping table: a bad key is refused; a response
    // mapping for the backend's 200 overwrites the status.
    {
        let view = &mut harness.state_mut().http_apis;
        view.mapping_integration = "int001".into();
        view.mapping_status = "200".into();
        view.mapping_key = "overwrite:querystring.q".into();
        view.mapping_value = "x".into();
    }
    harness.get_by_label("Add mapping").click();
    harness.run();
    assert!(
        harness.state().status.is_err(),
        "no query strings on responses"
    );
    harness.state_mut().http_apis.mapping_key = "overwrite:statuscode".into();
    harness.state_mut().http_apis.mapping_value = "202".into();
    harness.get_by_label("Add mapping").click();
    harness.run();
    assert_eq!(served(&harness, "/items/a/b", None), 202, "mapped status");
    harness
        .get_by_label("Remove int001 overwrite:statuscode")
        .click();
    harness.run();
    assert_eq!(served(&harness, "/items/a/b", None), 200, "mapping removed");

    harness.state_mut().http_apis.jwt_audience = "shop".into();
    harness.get_by_label("Add JWT authorizer").click();
    harness.run();
    {
        let view = &mut harness.state_mut().http_apis;
        view.route_key = "GET /secure/{proxy+}".into();
        view.route_auth = "auth001".into();
    }
    harness.get_by_label("Add route").click();
    harness.run();
    assert_eq!(served(&harness, "/secure/x", None), 401);
    harness.state_mut().http_apis.token_audience = "shop".into();
    harness.state_mut().http_apis.token_claims = "[1]".into();
    harness.get_by_label("Mint token").click();
    harness.run();
    assert!(harness.state().status.is_err(), "claims must be an object");
    assert!(harness.state().http_apis.token.is_none());
    harness.state_mut().http_apis.token_subject = "ada".into();
    harness.state_mut().http_apis.token_claims = r#"{"email": "ada@example.com"}"#.into();
    harness.get_by_label("Mint token").click();
    harness.run();
    let token = harness.state().http_apis.token.clone().expect("a token");
    {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).expect("a JWT");
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("base64url"),
        )
        .expect("JSON claims");
        assert_eq!(claims["sub"], "ada");
        assert_eq!(claims["email"], "ada@example.com");
        assert_eq!(claims["aud"], "shop");
    }
    assert_eq!(served(&harness, "/secure/x", Some(&token)), 200);
    harness.get_by_label("Try GET /secure/{proxy+}").click();
    harness.run();
    assert_eq!(harness.state().tab, Tab::Console);
    let request = &harness.state().console.request;
    assert!(
        request
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {token}"))
    );
    harness.get_by_label("Send").click();
    run_until(&mut harness, |studio| studio.console.response.is_some());
    assert_eq!(
        harness.state().console.response.as_ref().unwrap().status,
        200
    );

    harness.get_by_label("HTTP APIs").click();
    harness.run();
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(
        harness.state().workspace.project.http_apis[0].routes.len(),
        1,
        "undo took the secure route back"
    );
}

/// The WebSockets tab: build a WebSocket API with a two-way MOCK route,
/// talk to it from the WebSocket console (the route shows in the
/// timeline), see the connection in the connections panel, send to it and
/// disconnect it from there.
#[test]
fn websockets_tab_builds_an_api_and_talks_to_it() {
    let project = TempProject::from_json(&serde_json::json!({"version": 1}));
    let mut harness = harness(studio(&project));
    harness.run();
    harness.get_by_label("WebSockets").click();
    harness.run();
    assert_eq!(harness.state().tab, Tab::WebSockets);
    harness.state_mut().websockets.new_api_name = "Talk".into();
    harness.get_by_label("Create WebSocket API").click();
    harness.run();
    assert_eq!(harness.state().workspace.project.web_socket_apis.len(), 1);
    // A MOCK integration answering with the route key, and a two-way route.
    harness.state_mut().websockets.response_template = "{\"heard\": \"$context.routeKey\"}".into();
    harness.get_by_label("Add integration").click();
    harness.run();
    harness.state_mut().websockets.route_key = "hello".into();
    harness.state_mut().websockets.route_target = "int001".into();
    harness.state_mut().websockets.two_way = true;
    harness.get_by_label("Add route").click();
    harness.run();
    let api = &harness.state().workspace.project.web_socket_apis[0];
    assert_eq!(api.routes.len(), 1, "{:?}", harness.state().status);
    // A route key starting with '$' that AWS does not define is refused.
    harness.state_mut().websockets.route_key = "$hello".into();
    harness.get_by_label("Add route").click();
    harness.run();
    assert!(harness.state().status.is_err());

    harness.get_by_label("Connect").click();
    run_until(&mut harness, |s| s.websockets.connection_id().is_some());
    harness.state_mut().websockets.message = r#"{"action": "hello"}"#.into();
    harness.get_by_label("Send frame").click();
    run_until(&mut harness, |s| {
        s.websockets
            .timeline
            .iter()
            .any(|e| e.kind == "received" && e.text == r#"{"heard": "hello"}"#)
    });
    run_until(&mut harness, |s| {
        s.websockets
            .timeline
            .iter()
            .any(|e| e.kind == "sent" && e.route_key.as_deref() == Some("hello"))
    });
    // The connections panel: send to the console's own connection.
    let id = harness
        .state()
        .websockets
        .connection_id()
        .unwrap()
        .to_string();
    harness.run();
    harness
        .state_mut()
        .websockets
        .outgoing
        .insert(id.clone(), "pushed from the panel".into());
    harness.get_by_label(&format!("Send to {id}")).click();
    run_until(&mut harness, |s| {
        s.websockets
            .timeline
            .iter()
            .any(|e| e.kind == "received" && e.text == "pushed from the panel")
    });
    harness.get_by_label(&format!("Disconnect {id}")).click();
    run_until(&mut harness, |s| !s.websockets.connected());
    assert!(
        harness
            .state()
            .websockets
            .timeline
            .iter()
            .any(|e| e.kind == "closed" && e.text.contains("1000")),
        "{:?}",
        harness.state().websockets.timeline
    );
}
