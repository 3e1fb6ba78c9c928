//! Selection patterns are Java regular expressions on AWS
//! (`java.util.regex`): back-references and look-arounds are legal there,
//! so they must be served here; a pattern that does not compile is refused
//! when it is put, never deployed; and a stage that does not compile never
//! takes the other stages down, at deploy or at restart.
//!
//! AWS: "selectionPattern: Specifies the regular expression (regex)
//! pattern used to choose an integration response based on the response
//! from the back end [...] For all other HTTP and AWS back ends, the HTTP
//! status code is matched."
//! (<https://docs.aws.amazon.com/apigateway/latest/api/API_IntegrationResponse.html>)

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Upstream, client, petstore_with_backend, start_gateway, start_upstream};
use serde_json::{Value, json};

const RESPONSES: &str = "/restapis/petstore42/resources/code01/methods/GET/integration/responses";

async fn send(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = client().request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    (
        status,
        kind,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn status_of(base: &str, path: &str) -> u16 {
    client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("the gateway answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn back_references_and_look_arounds_select_integration_responses() {
    let backend = start_upstream(Upstream::Echo);
    let (_project, loaded) = petstore_with_backend(backend);
    let gateway = start_gateway(&loaded);
    let base = format!("http://{}", gateway.local_addr());

    // `(4)0\1`: a back-reference, so only 404 takes the 400 response.
    let (status, _, body) = send(
        reqwest::Method::PUT,
        format!("{base}{RESPONSES}/400"),
        Some(json!({"selectionPattern": r"(4)0\1"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["selectionPattern"], r"(4)0\1");
    // A look-ahead: any 5xx but 504.
    let (status, _, body) = send(
        reqwest::Method::PUT,
        format!("{base}{RESPONSES}/502"),
        Some(json!({"selectionPattern": r"(?!504)5\d\d"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = send(
        reqwest::Method::POST,
        format!("{base}/restapis/petstore42/deployments"),
        Some(json!({"stageName": "dev"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(status_of(&base, "/dev/status/404").await, 400);
    assert_eq!(status_of(&base, "/dev/status/403").await, 200);
    assert_eq!(status_of(&base, "/dev/status/503").await, 502);
    assert_eq!(status_of(&base, "/dev/status/504").await, 200);
}

#[tokio::test]
async fn a_pattern_that_does_not_compile_is_refused_and_changes_nothing() {
    let backend = start_upstream(Upstream::Echo);
    let (project, loaded) = petstore_with_backend(backend);
    let gateway = start_gateway(&loaded);
    let base = format!("http://{}", gateway.local_addr());

    for pattern in ["4(\\d", "*4", r"(a)\2"] {
        let (status, kind, body) = send(
            reqwest::Method::PUT,
            format!("{base}{RESPONSES}/400"),
            Some(json!({"selectionPattern": pattern})),
        )
        .await;
        assert_eq!(status, 400, "{pattern}: {body}");
        assert_eq!(kind.as_deref(), Some("BadRequestException"));
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid selection pattern specified"),
            "{message}"
        );
        // The same through UpdateIntegrationResponse.
        let (status, _, body) = send(
            reqwest::Method::PATCH,
            format!("{base}{RESPONSES}/400"),
            Some(json!({"patchOperations": [
                {"op": "replace", "path": "/selectionPattern", "value": pattern}
            ]})),
        )
        .await;
        assert_eq!(status, 400, "{pattern}: {body}");
    }
    let (status, _, body) =
        send(reqwest::Method::GET, format!("{base}{RESPONSES}/400"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["selectionPattern"], r"4\d{2}");
    let saved = project.load();
    let method = &saved.rest_apis[0]
        .resource("code01")
        .unwrap()
        .resource_methods["GET"];
    assert_eq!(
        method
            .method_integration
            .as_ref()
            .unwrap()
            .integration_responses["400"]
            .selection_pattern
            .as_deref(),
        Some(r"4\d{2}")
    );
}

/// A deployment that would not compile answers 400 and leaves the stage on
/// the deployment it had: it never answers 201 while the gateway keeps
/// serving the old one.
#[tokio::test]
async fn a_deployment_that_does_not_compile_is_refused_and_the_stage_keeps_its_deployment() {
    let backend = start_upstream(Upstream::Echo);
    let (project, loaded) = petstore_with_backend(backend);
    let gateway = start_gateway(&loaded);
    let base = format!("http://{}", gateway.local_addr());
    let (_, _, stage) = send(
        reqwest::Method::GET,
        format!("{base}/restapis/petstore42/stages/dev"),
        None,
    )
    .await;
    let before = stage["deploymentId"].as_str().unwrap().to_string();

    // Not checked by PutIntegration, but the gateway cannot serve it.
    let (status, _, body) = send(
        reqwest::Method::PATCH,
        format!("{base}/restapis/petstore42/resources/code01/methods/GET/integration"),
        Some(json!({"patchOperations": [{
            "op": "add",
            "path": "/requestParameters/integration.request.nowhere.x",
            "value": "'a'"
        }]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, kind, body) = send(
        reqwest::Method::POST,
        format!("{base}/restapis/petstore42/deployments"),
        Some(json!({"stageName": "dev"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(kind.as_deref(), Some("BadRequestException"));
    assert!(
        body["message"].as_str().unwrap().contains("nowhere"),
        "{body}"
    );
    let (_, _, stage) = send(
        reqwest::Method::GET,
        format!("{base}/restapis/petstore42/stages/dev"),
        None,
    )
    .await;
    assert_eq!(stage["deploymentId"], before.as_str());
    assert_eq!(
        project.load().rest_apis[0]
            .stage("dev")
            .unwrap()
            .deployment_id,
        before
    );
    assert_eq!(status_of(&base, "/dev/status/404").await, 400);
    assert!(gateway.compile_errors().is_empty());
}

/// A project whose saved deployment does not compile (an older Portico
/// accepted it, or the file was edited): the other stages are served, the
/// broken one is named, and `portico serve` starts.
#[tokio::test]
async fn a_stage_that_does_not_compile_does_not_take_the_others_down() {
    let backend = start_upstream(Upstream::Echo);
    let (project, loaded) = petstore_with_backend(backend);
    let prod = loaded.rest_apis[0]
        .stage("prod")
        .unwrap()
        .deployment_id
        .clone();
    let path = loaded.snapshot_path("petstore42", &prod);
    let mut snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let resources = snapshot["restApi"]["resources"].as_array_mut().unwrap();
    let status = resources.iter_mut().find(|r| r["id"] == "code01").unwrap();
    status["resourceMethods"]["GET"]["methodIntegration"]["integrationResponses"]["400"]["selectionPattern"] =
        json!("4(\\d");
    std::fs::write(&path, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();

    let gateway = start_gateway(&project.load());
    let base = format!("http://{}", gateway.local_addr());
    assert_eq!(status_of(&base, "/dev/status/404").await, 400);
    assert_eq!(status_of(&base, "/dev/pets").await, 200);
    // AWS answers an unknown stage with 403 Forbidden.
    assert_eq!(status_of(&base, "/prod/pets").await, 403);
    let errors = gateway.compile_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].stage, "prod");
    assert!(errors[0].message.contains("selectionPattern"), "{errors:?}");
    drop(gateway);

    // `portico serve` starts, says what it does not serve, and serves the rest.
    let mut child = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--port", "0", "--project"])
        .arg(project.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let warnings = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find(|line| line.starts_with("warning: not served"))
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("serve starts and prints its address")
            .unwrap();
        if let Some(url) = line.strip_prefix("Portico gateway listening on ") {
            break url.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(status_of(&url, "/dev/pets").await, 200);
    let warning = warnings.join().unwrap().expect("a warning on stderr");
    assert!(warning.contains("prod"), "{warning}");
    child.kill().unwrap();
    child.wait().unwrap();
}
