//! The control plane (AWS's `apigateway` management API on the gateway's
//! port) driven by real clients against a real `portico serve`: boto3 and
//! the AWS CLI (both installed by `.ci/run`) build, deploy and call an API;
//! reqwest checks the wire shapes the SDKs rely on (`x-amzn-ErrorType`,
//! `{"message"}`, list members named `item`), that changes are saved in the
//! project, and that the desktop app's shared store sees them.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{TempProject, client, start_gateway};
use portico::model::Project;

/// `portico serve --port 0 --echo-backend 127.0.0.1:0 EXTRA...` on a copy of the
/// sample: the child, the gateway URL and the echo backend's address.
fn serve_with(project: &TempProject, extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args([
            "serve",
            "--port",
            "0",
            "--echo-backend",
            "127.0.0.1:0",
            "--project",
        ])
        .arg(project.path())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut gateway, mut backend) = (None, None);
    while gateway.is_none() || backend.is_none() {
        let line = lines.next().expect("serve prints its addresses").unwrap();
        if let Some(url) = line.strip_prefix("Portico gateway listening on ") {
            gateway = Some(url.to_string());
        }
        if let Some(url) = line.strip_prefix("echo backend listening on http://") {
            backend = Some(url.to_string());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, gateway.unwrap(), backend.unwrap())
}

fn script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/control_clients")
        .join(name)
}

/// Runs a client `program script` against a fresh `portico serve` (with
/// `serve_args`); `args` gets the gateway URL and the echo backend's
/// address. The client must succeed and print OK.
fn client_prints_ok(
    serve_args: &[&str],
    program: &str,
    script_name: &str,
    args: impl FnOnce(&str, &str) -> Vec<String>,
) {
    let project = TempProject::petstore();
    let (mut child, gateway, backend) = serve_with(&project, serve_args);
    let output = Command::new(program)
        .arg(script(script_name))
        .args(args(&gateway, &backend))
        .output()
        .expect("the client runs");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn boto3_builds_deploys_and_calls_an_api() {
    client_prints_ok(&[], "python3", "boto3_flow.py", |gateway, backend| {
        vec![gateway.to_string(), backend.to_string()]
    });
}

#[test]
fn the_aws_cli_creates_reads_and_deletes_an_api() {
    client_prints_ok(&[], "bash", "aws_cli_flow.sh", |gateway, _| {
        vec![gateway.to_string()]
    });
}

/// `serve --credentials`: SigV4 signatures made by boto3 are checked.
#[test]
fn configured_credentials_make_signatures_count() {
    let project = TempProject::petstore();
    let (mut child, gateway, _) =
        serve_with(&project, &["--credentials", "AKIDPORTICO:portico-secret"]);
    let output = Command::new("python3")
        .arg(script("sigv4_check.py"))
        .arg(&gateway)
        .output()
        .expect("python3 runs");
    // Unsigned: AWS's Missing Authentication Token.
    let unsigned = {
        use std::io::{Read, Write};
        let addr = gateway.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream
            .write_all(b"GET /restapis HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("sends");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reads");
        answer
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let unsigned = unsigned.to_lowercase();
    assert!(
        unsigned.starts_with("http/1.1 403")
            && unsigned.contains("x-amzn-errortype: missingauthenticationtokenexception"),
        "{unsigned}"
    );
}

/// The wire shapes, the saved project and the shared store.
#[tokio::test]
async fn shapes_persistence_and_the_shared_store() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let base = format!("http://{}", gateway.local_addr());
    let client = client();

    // A missing API: 404, the error type in x-amzn-ErrorType, {"message"}.
    let response = client
        .get(format!("{base}/restapis/missing123"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-amzn-errortype"], "NotFoundException");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Invalid API identifier specified");

    // A bad body: 400 BadRequestException.
    let response = client
        .post(format!("{base}/restapis"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "BadRequestException"
    );

    // Create: 201, saved in the project on disk, seen by the store.
    let revision = gateway.model().revision();
    let created: serde_json::Value = client
        .post(format!("{base}/restapis"))
        .json(&serde_json::json!({"name": "made-here"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created["rootResourceId"].is_string(), "{created}");
    let saved = Project::load(&project.path()).unwrap();
    assert!(saved.rest_apis.iter().any(|a| a.id == id), "saved");
    assert!(gateway.model().revision() > revision);
    assert!(
        gateway
            .model()
            .read(|p| p.rest_apis.iter().any(|a| a.name == "made-here"))
    );

    // Lists are under `item`, as AWS's wire format has them.
    let listed: serde_json::Value = client
        .get(format!("{base}/restapis"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed["item"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );

    // The data plane's path form is not taken for the control plane.
    let status = client
        .get(format!(
            "{base}/restapis/petstore42/dev/_user_request_/pets"
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    // A desktop-app edit pushed with a stale revision is refused.
    let (mut copy, seen) = gateway.model().snapshot();
    copy.rest_apis.clear();
    client
        .delete(format!("{base}/restapis/{id}"))
        .send()
        .await
        .unwrap();
    assert!(gateway.model().replace_if(seen, copy).is_err(), "stale");
}
