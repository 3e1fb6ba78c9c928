//! The `portico` binary as scripts use it: real processes, real ports.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

fn portico() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portico"))
}

#[test]
fn serve_prints_stage_urls_and_answers_on_them() {
    let project = TempProject::petstore();
    let mut child = portico()
        .args([
            "serve",
            "--port",
            "0",
            "--echo-backend",
            "127.0.0.1:0",
            "--project",
        ])
        .arg(project.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut urls = Vec::new();
    while urls.len() < 2 {
        let line = lines.next().expect("serve prints its stage URLs").unwrap();
        if let Some(url) = line
            .strip_prefix("PetStore ")
            .and_then(|rest| rest.split_once(' '))
            .map(|(_, url)| url.to_string())
        {
            urls.push(url);
        }
    }
    assert!(
        urls[0].ends_with("/dev/") && urls[1].ends_with("/prod/"),
        "{urls:?}"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        client()
            .get(format!("{}pets/1", urls[0]))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn invoke_runs_against_the_draft_and_prints_the_execution_log() {
    let project = TempProject::petstore();
    let output = portico()
        .args([
            "invoke",
            "--api",
            "PetStore",
            "--method",
            "get",
            "--path",
            "/pets/9?debug=1",
            "--header",
            "Accept: application/json",
            "--project",
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Status: 200"), "{text}");
    assert!(text.contains("x-pet-id: 9"), "{text}");
    assert!(text.contains("Execution log for request "), "{text}");
    assert!(text.contains("Method request path: {petId=9}"), "{text}");
    assert!(
        text.contains("Method request query string: {debug=1}"),
        "{text}"
    );
    assert!(text.contains("Method completed with status: 200"), "{text}");
}

#[test]
fn ls_json_has_the_documented_shape() {
    let project = TempProject::petstore();
    let output = portico()
        .args(["ls", "--json", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let api = &value[0];
    assert_eq!(api["id"], "petstore42");
    assert_eq!(api["name"], "PetStore");
    assert_eq!(api["type"], "REST");
    let stages = api["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    for stage in stages {
        assert!(
            stage["deploymentId"]
                .as_str()
                .is_some_and(|id| id.len() == 6)
        );
        assert!(
            stage["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:4455/")
        );
    }
}

#[test]
fn deploy_then_ls_shows_the_new_deployment() {
    let project = TempProject::petstore();
    let output = portico()
        .args([
            "deploy",
            "--api",
            "petstore42",
            "--stage",
            "qa",
            "--variable",
            "env=qa",
            "--variable",
            "backendHost=127.0.0.1:1",
            "--project",
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let loaded = project.load();
    let stage = loaded.rest_apis[0].stage("qa").unwrap();
    assert_eq!(stage.variables["env"], "qa");
    assert!(
        loaded
            .snapshot("petstore42", &stage.deployment_id)
            .is_some()
    );
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let project = TempProject::petstore();
    std::fs::write(
        project.path().join("portico.json"),
        "{\n  \"version\": 1,\n  oops\n}\n",
    )
    .unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["ls".into()],
        vec!["serve".into(), "--port".into(), "0".into()],
        vec![
            "invoke".into(),
            "--api".into(),
            "x".into(),
            "--method".into(),
            "GET".into(),
            "--path".into(),
            "/".into(),
        ],
    ];
    for args in cases {
        let output = portico()
            .args(&args)
            .arg("--project")
            .arg(project.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("portico.json:3:3: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let good = TempProject::petstore();
    for args in [
        vec!["deploy", "--api", "nope", "--stage", "dev"],
        vec!["deploy", "--api", "PetStore", "--stage", "bad stage"],
        vec![
            "invoke", "--api", "PetStore", "--method", "GET", "--path", "no-slash",
        ],
        vec![
            "invoke", "--api", "PetStore", "--method", "GET", "--path", "/", "--header", "novalue",
        ],
        vec!["frobnicate"],
    ] {
        let output = portico()
            .args(&args)
            .arg("--project")
            .arg(good.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    }
}

/// A template that does not parse still deploys (AWS accepts any text at
/// PutIntegration), and `deploy` says where it is wrong.
#[test]
fn deploy_warns_about_broken_templates() {
    let definition = api_definition(serde_json::json!([
        {"id": "root000001", "path": "/", "resourceMethods": {
            "GET": mock_method("GET", 200, "ok\n#foreach($x in [1, 2])\n$x\n")
        }}
    ]));
    let project = TempProject::from_json(&definition);
    let output = portico()
        .args(["deploy", "--api", "Test", "--stage", "dev", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "warning: GET /: integration response 200 application/json: line 2, column 1: #foreach without #end"
        ),
        "{stderr}"
    );
}
