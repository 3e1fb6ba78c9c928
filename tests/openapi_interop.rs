//! Exported definitions checked by independent tools: `openapi-spec-validator`
//! (PyPI) validates every export of every sample, and Stoplight Prism (npm)
//! serves an exported spec as a mock server that enforces its parameters and
//! models. Both are installed by `.ci/run`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn portico() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portico"))
}

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("projects/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("portico.json").exists())
        .collect();
    out.sort();
    out
}

fn export(project: &Path, api: &str, args: &[&str], file: &Path) {
    let output = portico()
        .args(["export", "--project"])
        .arg(project)
        .args(["--api", api, "--output"])
        .arg(file)
        .args(args)
        .output()
        .expect("portico runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn api_ids(project: &Path) -> Vec<String> {
    let output = portico()
        .args(["ls", "--json", "--project"])
        .arg(project)
        .output()
        .expect("portico runs");
    let apis: serde_json::Value = serde_json::from_slice(&output.stdout).expect("ls --json");
    // REST APIs: exporting HTTP APIs lands with their issue.
    apis.as_array()
        .expect("array")
        .iter()
        .filter(|a| a["type"] == "REST")
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn every_export_of_every_sample_passes_openapi_spec_validator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for project in samples() {
        for id in api_ids(&project) {
            for (name, args) in [
                ("oas30.json", vec!["--aws-extensions"]),
                ("oas30.yaml", vec!["--yaml"]),
                (
                    "swagger.json",
                    vec!["--format", "swagger", "--aws-extensions"],
                ),
                (
                    "swagger.yaml",
                    vec!["--format", "swagger", "--yaml", "--stage", "dev"],
                ),
                ("oas30-dev.json", vec!["--stage", "dev", "--aws-extensions"]),
            ] {
                let file = dir.path().join(format!("{id}-{name}"));
                export(&project, &id, &args, &file);
                files.push(file);
            }
        }
    }
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .args(&files)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.matches(": OK").count(), files.len(), "{stdout}");
}

struct Prism(Child);

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn prism_serves_an_exported_spec_and_enforces_its_parameters_and_models() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/orders");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("orders.yaml");
    export(&project, "Orders", &["--yaml"], &file);
    let port = free_port();
    let child = Command::new("prism")
        .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prism runs (npm install -g @stoplight/prism-cli)");
    let _prism = Prism(child);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let listed = loop {
        match client
            .get(format!("{base}/orders?status=open"))
            .send()
            .await
        {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("prism did not start: {e}"),
        }
    };
    assert_eq!(listed.status(), 200);
    let body: serde_json::Value = listed.json().await.expect("json array");
    assert!(body.is_array(), "{body}");

    // The required query parameter and the Order model, as Portico exported them.
    let missing = client
        .get(format!("{base}/orders"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 422);
    let invalid = client
        .post(format!("{base}/orders"))
        .header("content-type", "application/json")
        .header("idempotency-key", "k1")
        .body(r#"{"customer": "ada", "items": [{"sku": "bad", "quantity": 0}]}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(invalid.status(), 422);
    let valid = client
        .post(format!("{base}/orders"))
        .header("content-type", "application/json")
        .header("idempotency-key", "k1")
        .body(r#"{"customer": "ada", "items": [{"sku": "PEN-1", "quantity": 1}]}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(valid.status(), 201);
}
