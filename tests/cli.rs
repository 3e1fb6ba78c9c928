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

/// `import` prints the new API's id and saves it; `export` of that API
/// gives the same definition back; `--fail-on-warnings` refuses a spec
/// that warns and leaves the project as it was.
#[test]
fn import_then_export_and_fail_on_warnings() {
    let project = TempProject::petstore();
    let spec = project.path().join("toys.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.1\ninfo: {title: Toys, version: '3'}\npaths:\n  /toys/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n        - {name: session, in: cookie}\n      responses:\n        '200': {description: ok}\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates: {application/json: '{\"statusCode\": 200}'}\n        responses: {default: {statusCode: '200'}}\n",
    )
    .unwrap();
    let before = std::fs::read_to_string(project.path().join("portico.json")).unwrap();
    let refused = portico()
        .args(["import", "--fail-on-warnings", "--project"])
        .arg(project.path())
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr
            .contains("/paths/~1toys~1{id}/get/parameters/1: cookie parameters are not supported"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("portico.json")).unwrap(),
        before
    );

    let imported = portico()
        .args(["import", "--project"])
        .arg(project.path())
        .arg(&spec)
        .output()
        .unwrap();
    assert!(imported.status.success());
    let id = String::from_utf8(imported.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(id.len(), 10, "{id}");
    assert!(String::from_utf8_lossy(&imported.stderr).starts_with("warning: "));
    let loaded = project.load();
    assert_eq!(loaded.find_api(&id).unwrap().name, "Toys");

    let exported = portico()
        .args([
            "export",
            "--api",
            &id,
            "--yaml",
            "--aws-extensions",
            "--project",
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(exported.status.success());
    let text = String::from_utf8(exported.stdout).unwrap();
    assert!(text.starts_with("openapi: 3.0.1\n"), "{text}");
    let document = portico::openapi::parse_document(&text).unwrap();
    assert_eq!(
        document["paths"]["/toys/{id}"]["get"]["x-amazon-apigateway-integration"]["type"],
        "mock"
    );
}

#[test]
fn import_errors_name_the_file_and_where() {
    let project = TempProject::petstore();
    let broken = project.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"openapi\": \"3.0.1\",\n  \"info\": \n}\n").unwrap();
    let bad_type = project.path().join("bad.json");
    std::fs::write(
        &bad_type,
        r#"{"openapi": "3.0.1", "info": {"title": "x", "version": "1"}, "paths": {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "lambda"}}}}}"#,
    )
    .unwrap();
    for (file, expected) in [
        (&broken, format!("error: {}:4:1: ", broken.display())),
        (
            &bad_type,
            format!(
                "error: {}: /paths/~1pets/get/x-amazon-apigateway-integration/type: expected one of: aws, aws_proxy, http, http_proxy, mock; found \"lambda\"",
                bad_type.display()
            ),
        ),
    ] {
        let output = portico()
            .args(["import", "--project"])
            .arg(project.path())
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.starts_with(&expected), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let output = portico()
        .args([
            "export",
            "--api",
            "PetStore",
            "--extensions",
            "postman",
            "--project",
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// `function add` validates and saves a definition; `function invoke` runs
/// it in a real worker and prints the result (exit 0) or the error
/// document (exit 1) with the function's log on stderr.
#[test]
fn function_add_and_invoke() {
    let project = TempProject::petstore();
    let code = project.path().join("fn/greet");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(
        code.join("main.py"),
        "def run(event, context):\n    if event.get('fail'):\n        raise KeyError('nope')\n    print('greeting', event['who'])\n    return {'hi': event['who']}\n",
    )
    .unwrap();
    let add = |args: &[&str]| {
        portico()
            .args(["function", "add", "--project"])
            .arg(project.path())
            .args(args)
            .output()
            .unwrap()
    };
    let bad = add(&[
        "--name",
        "greet",
        "--runtime",
        "cobol",
        "--handler",
        "main.run",
        "--code",
        "fn/greet",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Unsupported runtime"));
    let missing = add(&[
        "--name",
        "greet",
        "--runtime",
        "python3.12",
        "--handler",
        "main.run",
        "--code",
        "fn/none",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let added = add(&[
        "--name",
        "greet",
        "--runtime",
        "python3.12",
        "--handler",
        "main.run",
        "--code",
        "fn/greet",
        "--env",
        "GREETING=hi",
        "--timeout",
        "5",
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        String::from_utf8(added.stdout).unwrap().trim(),
        "arn:aws:lambda:us-east-1:000000000000:function:greet"
    );
    let loaded = project.load();
    assert_eq!(loaded.functions[0].environment["GREETING"], "hi");
    assert_eq!(loaded.functions[0].timeout, 5);

    let invoke = |payload: &str| {
        portico()
            .args([
                "function",
                "invoke",
                "--name",
                "greet",
                "--payload",
                payload,
                "--project",
            ])
            .arg(project.path())
            .output()
            .unwrap()
    };
    let ok = invoke(r#"{"who": "ada"}"#);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(ok.stdout).unwrap().trim(),
        r#"{"hi": "ada"}"#
    );
    let log = String::from_utf8(ok.stderr).unwrap();
    assert!(
        log.contains("greeting ada") && log.contains("REPORT RequestId: "),
        "{log}"
    );
    let failed = invoke(r#"{"fail": true}"#);
    assert_eq!(failed.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(error["errorType"], "KeyError");
    assert_eq!(error["errorMessage"], "'nope'");
    let trace = error["stackTrace"].as_array().unwrap();
    assert_eq!(trace.len(), 1, "only the handler's frame: {trace:?}");
}

/// `serve --stats 1` prints a line a second whose counts add up to the
/// requests sent; `flush-cache` reaches the running gateway (AWS's
/// FlushStageCache) and names an unknown stage.
#[test]
fn serve_stats_and_flush_cache() {
    let project = TempProject::petstore();
    let mut child = portico()
        .args(["serve", "--port", "0", "--stats", "1", "--project"])
        .arg(project.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if sender.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("serve keeps printing")
    };
    let addr = loop {
        let line = next();
        if let Some(addr) = line.strip_prefix("Portico gateway listening on ") {
            break addr.to_string();
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        for _ in 0..5 {
            let status = client
                .get(format!("{addr}/dev/"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200);
        }
        let status = client
            .get(format!("{addr}/dev/nope"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403);
    });
    let (mut requests, mut errors) = (0, 0);
    while requests < 6 {
        let line = next();
        let Some(rest) = line.strip_prefix("stats ") else {
            continue;
        };
        let count = |before: &str| -> u64 {
            let (_, after) = rest.split_once(before).unwrap_or_else(|| panic!("{line}"));
            after
                .trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        requests += count("s: ");
        errors += count("4XX ");
    }
    assert_eq!((requests, errors), (6, 1));

    let flush = |stage: &str| {
        portico()
            .args(["flush-cache", "--api", "PetStore", "--stage", stage])
            .args(["--endpoint", &addr, "--project"])
            .arg(project.path())
            .output()
            .unwrap()
    };
    let done = flush("dev");
    assert!(done.status.success(), "{done:?}");
    assert!(String::from_utf8_lossy(&done.stdout).contains("flushed"));
    let refused = flush("nope");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(
        stderr.contains("404") && stderr.contains("stage"),
        "{stderr}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `portico ls | head -1`: the reader goes away before we print; the
/// command exits quietly (no panic message, exit code 0).
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let project = TempProject::petstore();
    for json in [false, true] {
        let mut command = portico();
        command.arg("ls").arg("--project").arg(project.path());
        if json {
            command.arg("--json");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the pipe's only reader before the child writes.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.is_empty(), "{stderr}");
        assert_eq!(output.status.code(), Some(0));
    }
}
