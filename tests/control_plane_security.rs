//! Who may reach the management endpoints on the gateway's port: web pages
//! (foreign `Origin`, simple-request body types, DNS-rebound `Host`) are
//! refused by the control plane, `_portico` and `@connections`; the local
//! issuer mints tokens for local callers only, and not while credentials
//! are set unless asked; with credentials, `@connections` needs a SigV4
//! signature for `execute-api` and the control plane one that is current,
//! over the body that arrived, scoped right (botocore signs and then ages,
//! tampers, misscopes and presigns: tests/control_clients/sigv4_attacks.py);
//! `serve --bind` on a public address needs credentials.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{TempProject, client, start_gateway};
use portico::gateway::{Gateway, GatewayConfig};
use serde_json::{Value, json};

const KEY: &str = "AKIDPORTICO";
const SECRET: &str = "portico-secret";

fn start_with(project: &TempProject, config: GatewayConfig) -> Gateway {
    Gateway::start(
        &project.load(),
        &GatewayConfig {
            port: 0,
            worker_threads: 2,
            ..config
        },
    )
    .expect("gateway starts")
}

fn with_credentials() -> GatewayConfig {
    GatewayConfig {
        control_credentials: [(KEY.to_string(), SECRET.to_string())].into(),
        ..GatewayConfig::default()
    }
}

/// An OpenAPI document whose one method proxies to an "internal service".
fn proxy_document() -> String {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "exfiltrate", "version": "1"},
        "paths": {"/{proxy+}": {"x-amazon-apigateway-any-method": {
            "x-amazon-apigateway-integration": {
                "type": "http_proxy", "httpMethod": "ANY",
                "uri": "http://169.254.169.254/{proxy}"}}}}
    })
    .to_string()
}

fn api_count(gateway: &Gateway) -> usize {
    gateway.model().read(|p| p.rest_apis.len())
}

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        kind,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// The issue's attack: a web page POSTs an import as `text/plain` (a
/// browser sends that cross-origin without a preflight). Refused for its
/// origin, and for its body type even without one; nothing is imported.
/// A local page (another port on localhost) sending JSON is let in.
#[tokio::test]
async fn web_pages_cannot_drive_the_control_plane() {
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let base = format!("http://{}", gateway.local_addr());
    let before = api_count(&gateway);
    let import = |origin: Option<&str>, content_type: &str| {
        let mut request = client()
            .post(format!("{base}/restapis?mode=import"))
            .header("content-type", content_type)
            .body(proxy_document());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let (status, kind, message) = error_of(
        import(Some("http://evil.example"), "text/plain")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, kind.as_str()), (403, "AccessDeniedException"));
    assert!(message.contains("http://evil.example"), "{message}");
    // A sandboxed frame or a file:// page says "null".
    let (status, ..) = error_of(import(Some("null"), "application/json").await.unwrap()).await;
    assert_eq!(status, 403);
    // A page the gateway itself serves (an API's content) is not local
    // enough: its origin is the gateway's.
    let own = format!("http://localhost:{}", gateway.local_addr().port());
    let (status, ..) = error_of(import(Some(&own), "application/json").await.unwrap()).await;
    assert_eq!(status, 403);
    let same_origin = client()
        .get(format!("{base}/restapis"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 403);
    // No origin, but a body type no SDK sends: 415.
    for content_type in [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, kind, _) = error_of(import(None, content_type).await.unwrap()).await;
        assert_eq!(
            (status, kind.as_str()),
            (415, "UnsupportedMediaTypeException"),
            "{content_type}"
        );
    }
    assert_eq!(api_count(&gateway), before, "nothing was imported");

    // A local tool's page, JSON: in.
    let response = import(Some("http://localhost:3000"), "application/json")
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(api_count(&gateway), before + 1);
}

/// DNS rebinding: a page on `evil.example` that resolves to 127.0.0.1 sends
/// `Host: evil.example`. The control plane and `_portico` refuse it; IP
/// addresses, localhost, `*.localhost` and configured names are served.
/// The data plane keeps serving any host (AWS serves custom domains).
#[tokio::test]
async fn rebound_host_names_are_refused_by_the_management_endpoints() {
    let project = TempProject::petstore();
    let gateway = start_with(
        &project,
        GatewayConfig {
            allowed_hosts: vec!["Dev.Example".into()],
            ..GatewayConfig::default()
        },
    );
    let addr = gateway.local_addr();
    let port = addr.port();
    let get = |path: &str, host: String| {
        client()
            .get(format!("http://{addr}{path}"))
            .header("host", host)
            .send()
    };
    for path in ["/restapis", "/_portico/issuer/.well-known/jwks.json"] {
        let (status, kind, message) =
            error_of(get(path, format!("evil.example:{port}")).await.unwrap()).await;
        assert_eq!(
            (status, kind.as_str()),
            (403, "AccessDeniedException"),
            "{path}"
        );
        assert!(message.contains("--allow-host"), "{message}");
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("petstore42.execute-api.localhost:{port}"),
            format!("dev.example:{port}"),
        ] {
            let status = get(path, host.clone()).await.unwrap().status();
            assert_eq!(status, 200, "{path} for {host}");
        }
    }
    let served = get(
        "/restapis/petstore42/dev/_user_request_/pets",
        format!("evil.example:{port}"),
    )
    .await
    .unwrap()
    .status();
    assert_eq!(served, 200, "the data plane answers any host");
}

async fn mint(base: &str, origin: Option<&str>) -> (u16, Value) {
    let mut request = client()
        .post(format!("{base}/_portico/issuer/token"))
        .body(r#"{"sub": "anyone", "scope": "admin"}"#);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The token endpoint signs any claims: for local callers only (loopback
/// peer, no foreign origin), and off while credentials are set unless
/// `local_issuer_with_credentials` (`serve --local-issuer`) asks for it.
#[tokio::test]
async fn the_local_issuer_mints_for_local_callers_only() {
    let project = TempProject::petstore();
    let open = start_gateway(&project.load());
    let base = format!("http://{}", open.local_addr());
    let (status, answer) = mint(&base, None).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["access_token"].is_string());
    let (status, _) = mint(&base, Some("http://localhost:5173")).await;
    assert_eq!(status, 200);
    let (status, answer) = mint(&base, Some("https://evil.example")).await;
    assert_eq!(status, 403, "{answer}");

    let locked = start_with(&project, with_credentials());
    let (status, answer) = mint(&format!("http://{}", locked.local_addr()), None).await;
    assert_eq!(status, 403);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("--local-issuer"),
        "{answer}"
    );
    let asked = start_with(
        &project,
        GatewayConfig {
            local_issuer_with_credentials: true,
            ..with_credentials()
        },
    );
    let (status, _) = mint(&format!("http://{}", asked.local_addr()), None).await;
    assert_eq!(status, 200);
    // Discovery and keys stay public (JWT authorizers read them).
    let discovery = client()
        .get(format!(
            "http://{}/_portico/issuer/.well-known/openid-configuration",
            locked.local_addr()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200);
}

/// This machine's address on a non-loopback interface (the route to a
/// documentation address; no packet is sent).
fn non_loopback_ip() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("192.0.2.254:9")
        .expect("this machine has a non-loopback interface");
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "{ip}");
    ip
}

/// Bound to every address, the token endpoint still answers loopback peers
/// only.
#[tokio::test]
async fn the_token_endpoint_refuses_peers_on_the_network() {
    let project = TempProject::petstore();
    let gateway = start_with(
        &project,
        GatewayConfig {
            bind: "0.0.0.0".parse().unwrap(),
            ..GatewayConfig::default()
        },
    );
    let port = gateway.local_addr().port();
    let (status, answer) = mint(&format!("http://{}:{port}", non_loopback_ip()), None).await;
    assert_eq!(status, 403, "{answer}");
    let (status, _) = mint(&format!("http://127.0.0.1:{port}"), None).await;
    assert_eq!(status, 200);
}

/// With credentials, `@connections` (AWS's `execute-api:ManageConnections`,
/// IAM only) needs a SigV4 signature for `execute-api`: unsigned, AWS's
/// 403 "Missing Authentication Token"; boto3's `apigatewaymanagementapi`
/// with the key gets through (to a 410 for a connection that never was);
/// with a wrong secret it is refused.
#[tokio::test]
async fn connections_need_a_signature_when_credentials_are_set() {
    let project = TempProject::copy_of("projects/chat");
    let gateway = start_with(&project, with_credentials());
    let endpoint = format!(
        "http://{}/restapis/chatapi001/dev/_user_request_",
        gateway.local_addr()
    );
    let unsigned = client()
        .post(format!("{endpoint}/@connections/AAAAAAAAAAAAAAA="))
        .body("hello")
        .send()
        .await
        .unwrap();
    // https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch:
    // an unsigned request to an IAM-authorized endpoint gets "Missing
    // Authentication Token".
    assert_eq!(
        error_of(unsigned).await,
        (
            403,
            "MissingAuthenticationTokenException".into(),
            "Missing Authentication Token".into()
        )
    );
    let script = r#"
import sys, boto3, botocore.exceptions
endpoint, key, secret = sys.argv[1:4]
def client(key, secret):
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)
try:
    client(key, secret).post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
    sys.exit("posted to a connection that never was")
except client(key, secret).exceptions.GoneException:
    pass
try:
    client(key, "wrong").post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
    sys.exit("a wrong secret was let in")
except botocore.exceptions.ClientError as error:
    assert error.response["Error"]["Code"] == "InvalidSignatureException", error.response
print("OK")
"#;
    let output = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args([&endpoint, KEY, SECRET])
        .output()
        .await
        .expect("python3 runs");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `portico serve --port 0 --project DIR EXTRA...`: the child and the
/// gateway's URL.
fn serve(project: &TempProject, extra: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--port", "0", "--project"])
        .arg(project.path())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        if let Some(url) = line.strip_prefix("Portico gateway listening on ") {
            break url.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// SigV4 as AWS checks it, against botocore-signed requests: clock skew,
/// the body's own hash, the scope, presigned URLs.
#[test]
fn signatures_are_checked_as_aws_checks_them() {
    let project = TempProject::petstore();
    let (mut child, gateway) = serve(&project, &["--credentials", &format!("{KEY}:{SECRET}")]);
    let output = Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/control_clients/sigv4_attacks.py"),
        )
        .arg(&gateway)
        .output()
        .expect("python3 runs");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("OK"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `serve --bind` on a non-loopback address: refused without credentials
/// (exit 2, one line naming the flag); with them it serves and warns that
/// the control plane is reachable from the network.
#[test]
fn a_public_bind_needs_credentials_and_says_so() {
    let project = TempProject::petstore();
    let output = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--bind", "0.0.0.0", "--port", "0", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--bind 0.0.0.0") && stderr.contains("--credentials"),
        "{stderr}"
    );

    let (mut child, _) = serve(
        &project,
        &[
            "--bind",
            "0.0.0.0",
            "--credentials",
            &format!("{KEY}:{SECRET}"),
        ],
    );
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let warning = stderr.next().expect("a warning").unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        warning.contains("reachable from the network") && warning.contains("--credentials"),
        "{warning}"
    );
}
