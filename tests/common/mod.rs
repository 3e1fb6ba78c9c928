//! Shared test fixtures: projects in temp dirs, a gateway on an ephemeral
//! port, and real upstream servers.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use portico::gateway::{Gateway, GatewayConfig};
use portico::model::Project;

/// A copy of a project in a temp dir that lives as long as this value.
pub struct TempProject {
    pub dir: tempfile::TempDir,
}

impl TempProject {
    /// Copies the bundled sample project.
    pub fn petstore() -> TempProject {
        TempProject::copy_of("projects/petstore")
    }

    /// Copies a directory of the repository (a sample project).
    pub fn copy_of(relative: &str) -> TempProject {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&source, dir.path());
        TempProject { dir }
    }

    /// A project whose `portico.json` is `definition` (no deployments yet).
    pub fn from_json(definition: &serde_json::Value) -> TempProject {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("portico.json"),
            serde_json::to_string_pretty(definition).expect("json"),
        )
        .expect("write project");
        TempProject { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn load(&self) -> Project {
        Project::load(self.dir.path()).expect("project loads")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Starts a gateway for `project` on an ephemeral loopback port.
pub fn start_gateway(project: &Project) -> Gateway {
    let config = GatewayConfig {
        port: 0,
        worker_threads: 2,
        ..GatewayConfig::default()
    };
    Gateway::start(project, &config).expect("gateway starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// What an upstream test server does with each request.
#[derive(Clone)]
pub enum Upstream {
    /// Echo the request as JSON (the sample echo backend).
    Echo,
    /// Sleep, then answer 200.
    Delay(Duration),
    /// Answer with this status, these headers and this body.
    Fixed(u16, Vec<(&'static str, &'static str)>, &'static str),
    /// Count the requests; answer 200 with the count so far.
    Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>),
}

/// Starts an upstream server on an ephemeral port on its own thread and
/// runtime; it lives until the process ends.
pub fn start_upstream(kind: Upstream) -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            sender
                .send(listener.local_addr().expect("addr"))
                .expect("send addr");
            if let Upstream::Echo = kind {
                portico::echo_backend::serve(listener).await;
                return;
            }
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let kind = kind.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let kind = kind.clone();
                            async move {
                                let _ = request.into_body().collect().await;
                                let response = match kind {
                                    Upstream::Delay(delay) => {
                                        tokio::time::sleep(delay).await;
                                        hyper::Response::new(Full::new(Bytes::from_static(b"late")))
                                    }
                                    Upstream::Fixed(status, headers, body) => {
                                        let mut response = hyper::Response::new(Full::new(
                                            Bytes::from_static(body.as_bytes()),
                                        ));
                                        *response.status_mut() =
                                            hyper::StatusCode::from_u16(status).expect("status");
                                        for (name, value) in headers {
                                            response
                                                .headers_mut()
                                                .append(name, value.parse().expect("header"));
                                        }
                                        response
                                    }
                                    Upstream::Counter(count) => {
                                        let n = count
                                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                                            + 1;
                                        hyper::Response::new(Full::new(Bytes::from(n.to_string())))
                                    }
                                    Upstream::Echo => unreachable!("handled above"),
                                };
                                Ok::<_, Infallible>(response)
                            }
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    receiver.recv().expect("upstream address")
}

/// A loopback port nothing listens on: a connection to it is refused.
/// The port stays taken while this lives (a socket is bound to it and
/// never listens), so a server started meanwhile, by this test or one
/// running beside it, cannot be handed the same port by the kernel.
pub struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

pub fn closed_port() -> ClosedPort {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    let port = socket.local_addr().expect("addr").port();
    ClosedPort {
        _socket: socket,
        port,
    }
}

/// A one-API project definition with the given resources (root first).
pub fn api_definition(resources: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "restApis": [{
            "id": "testapi001",
            "name": "Test",
            "resources": resources,
        }]
    })
}

/// A method with a MOCK integration answering `status` with `body`.
pub fn mock_method(verb: &str, status: u16, body: &str) -> serde_json::Value {
    serde_json::json!({
        "httpMethod": verb,
        "authorizationType": "NONE",
        "methodIntegration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": format!("{{\"statusCode\": {status}}}")},
            "integrationResponses": {
                status.to_string(): {
                    "statusCode": status.to_string(),
                    "responseTemplates": {"application/json": body}
                }
            }
        }
    })
}

/// Deploys API `testapi001` to `stage` and returns the loaded project.
pub fn deploy(project: &TempProject, stage: &str, variables: &[(&str, &str)]) -> Project {
    let mut loaded = project.load();
    let variables = variables
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let api_id = loaded.rest_apis[0].id.clone();
    loaded
        .deploy(&api_id, stage, None, &variables)
        .expect("deploys");
    loaded
}

/// The sample project with its `dev` stage redeployed against `upstream`
/// (a backend the test started). The project directory lives as long as
/// the returned `TempProject`.
pub fn petstore_with_backend(upstream: SocketAddr) -> (TempProject, Project) {
    let project = TempProject::petstore();
    let mut loaded = project.load();
    let variables = [("backendHost".to_string(), upstream.to_string())]
        .into_iter()
        .collect();
    loaded
        .deploy("petstore42", "dev", None, &variables)
        .expect("the sample deploys");
    (project, loaded)
}

/// [`petstore_with_backend`], served on an ephemeral port.
pub fn serve_petstore_with_backend(upstream: SocketAddr) -> (TempProject, Gateway) {
    let (project, loaded) = petstore_with_backend(upstream);
    let gateway = start_gateway(&loaded);
    (project, gateway)
}
