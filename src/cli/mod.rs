//! The command line (ARCHITECTURE.md, "The CLI contract"). Exit code 0 on
//! success, 2 on bad input with one line on stderr naming what and where.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::echo_backend::{self, EchoBackend};
use crate::gateway::{self, Gateway, GatewayConfig, MethodRequest};
use crate::model::Project;

/// The bundled sample project, used when `--project` is not given.
pub fn default_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("projects")
        .join("petstore")
}

#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "Design, run and test AWS API Gateway-style APIs locally"
)]
struct Cli {
    /// Project directory (default: the bundled projects/petstore).
    #[arg(long, global = true)]
    project: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every deployed stage (headless); prints each stage's URL.
    Serve(ServeArgs),
    /// Snapshot an API's draft into a new deployment and point a stage at it.
    Deploy {
        #[arg(long)]
        api: String,
        #[arg(long)]
        stage: String,
        #[arg(long)]
        description: Option<String>,
        /// Stage variable, K=V (repeatable).
        #[arg(long = "variable", value_name = "K=V")]
        variables: Vec<String>,
    },
    /// Send one request to an API's draft (like the console's Test button)
    /// and print the response and the execution log.
    Invoke {
        #[arg(long)]
        api: String,
        #[arg(long)]
        method: String,
        /// Resource path, optionally with `?query`.
        #[arg(long)]
        path: String,
        /// Header, K:V (repeatable).
        #[arg(long = "header", value_name = "K:V")]
        headers: Vec<String>,
        /// Query parameter, K=V (repeatable).
        #[arg(long = "query", value_name = "K=V")]
        query: Vec<String>,
        #[arg(long)]
        body: Option<String>,
    },
    /// List APIs, stages, deployments and URLs.
    Ls {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = gateway::DEFAULT_PORT)]
    port: u16,
    /// Also start the sample echo backend (default address 127.0.0.1:4456).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = echo_backend::DEFAULT_ADDR)]
    echo_backend: Option<SocketAddr>,
    /// Gateway worker threads (default: one per CPU).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
}

/// A failure the CLI reports in one line and exit code 2.
#[derive(Debug)]
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(error: E) -> CliError {
        CliError(error.to_string())
    }
}

/// `portico [--project DIR]`: the desktop app on the project, the gateway
/// on 127.0.0.1:4455 and, for the bundled sample, the echo backend.
fn open_gui(project_dir: &Path, bundled_sample: bool) -> Result<i32, CliError> {
    let _echo = if bundled_sample {
        let addr: SocketAddr = echo_backend::DEFAULT_ADDR
            .parse()
            .expect("a valid constant address");
        Some(
            EchoBackend::start(addr)
                .map_err(|e| CliError(format!("echo backend on {addr}: {e}")))?,
        )
    } else {
        None
    };
    let config = GatewayConfig {
        request_log_capacity: crate::gui::LOG_CAPACITY,
        request_log_bytes: crate::gui::LOG_BYTES,
        ..GatewayConfig::default()
    };
    crate::gui::run(project_dir, &config).map_err(CliError)?;
    Ok(0)
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return code;
        }
    };
    let project_dir = cli.project.clone().unwrap_or_else(default_project);
    let result = match cli.command {
        None => open_gui(&project_dir, cli.project.is_none()),
        Some(Command::Serve(args)) => serve(&project_dir, &args),
        Some(Command::Deploy {
            api,
            stage,
            description,
            variables,
        }) => deploy(
            &project_dir,
            &api,
            &stage,
            description.as_deref(),
            &variables,
        ),
        Some(Command::Invoke {
            api,
            method,
            path,
            headers,
            query,
            body,
        }) => invoke(&project_dir, &api, &method, &path, &headers, &query, body),
        Some(Command::Ls { json }) => ls(&project_dir, json),
    };
    match result {
        Ok(code) => code,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            2
        }
    }
}

fn serve(project_dir: &Path, args: &ServeArgs) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    let _echo = match args.echo_backend {
        Some(addr) => {
            let echo = EchoBackend::start(addr)
                .map_err(|e| CliError(format!("echo backend on {addr}: {e}")))?;
            println!("echo backend listening on http://{}", echo.local_addr());
            Some(echo)
        }
        None => None,
    };
    let defaults = GatewayConfig::default();
    let config = GatewayConfig {
        bind: args.bind,
        port: args.port,
        worker_threads: args.workers.map_or(defaults.worker_threads, usize::from),
        ..defaults
    };
    let gateway = Gateway::start(&project, &config)?;
    println!(
        "Portico gateway listening on http://{}",
        gateway.local_addr()
    );
    let urls = gateway.stage_urls(&project);
    if urls.is_empty() {
        println!("no deployed stages yet: run `portico deploy --api ID --stage NAME`");
    }
    for url in urls {
        println!("{} {} {}", url.api_name, url.stage, url.url);
    }
    let _ = std::io::stdout().flush();
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    waiter.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    Ok(0)
}

fn deploy(
    project_dir: &Path,
    api: &str,
    stage: &str,
    description: Option<&str>,
    variables: &[String],
) -> Result<i32, CliError> {
    let mut project = Project::load(project_dir)?;
    let api_id = project.find_api(api)?.id.clone();
    let mut parsed = BTreeMap::new();
    for variable in variables {
        let (name, value) = variable
            .split_once('=')
            .ok_or_else(|| CliError(format!("--variable {variable:?}: expected K=V")))?;
        parsed.insert(name.to_string(), value.to_string());
    }
    let deployment = project.deploy(&api_id, stage, description, &parsed)?;
    println!(
        "deployed {} to stage {stage}: deployment {}",
        api_id, deployment.id
    );
    // AWS deploys templates it cannot parse and fails at request time; we
    // deploy them too but say so now.
    if let (Some(snapshot), Some(stage)) = (
        project.snapshot(&api_id, &deployment.id),
        project.find_api(&api_id)?.stage(stage),
    ) && let Ok(compiled) = crate::gateway::compile::compile_stage(&snapshot.rest_api, stage)
    {
        for error in compiled.template_errors() {
            eprintln!("warning: {}", error.replace('\n', " | "));
        }
    }
    Ok(0)
}

fn invoke(
    project_dir: &Path,
    api: &str,
    method: &str,
    path: &str,
    headers: &[String],
    query: &[String],
    body: Option<String>,
) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    let api = project.find_api(api)?;
    let http_method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError(format!("--method {method:?}: not an HTTP method")))?;
    let (path, inline_query) = path.split_once('?').unwrap_or((path, ""));
    if !path.starts_with('/') {
        return Err(CliError(format!("--path {path:?}: must start with /")));
    }
    let mut raw_query = inline_query.to_string();
    for pair in query {
        if !pair.contains('=') {
            return Err(CliError(format!("--query {pair:?}: expected K=V")));
        }
        if !raw_query.is_empty() {
            raw_query.push('&');
        }
        raw_query.push_str(pair);
    }
    let mut header_map = http::HeaderMap::new();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| CliError(format!("--header {header:?}: expected K:V")))?;
        let name = http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| CliError(format!("--header {header:?}: invalid header name")))?;
        let value = http::HeaderValue::from_str(value.trim())
            .map_err(|_| CliError(format!("--header {header:?}: invalid header value")))?;
        header_map.append(name, value);
    }
    let request = MethodRequest {
        http_method,
        path: path.to_string(),
        query: MethodRequest::parse_query(&raw_query),
        raw_query,
        headers: header_map,
        body: body.map(bytes::Bytes::from).unwrap_or_default(),
        source_ip: "test-invoke-source-ip".into(),
        full_path: path.to_string(),
        domain_name: "testPrefix.testDomainName".into(),
        protocol: "HTTP/1.1".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let services = gateway::Services::default();
    let execution = runtime.block_on(gateway::test_invoke(api, request, &services))?;
    let reply = &execution.reply;
    println!("Status: {}", reply.status);
    println!("Latency: {} ms", execution.latency.as_millis());
    println!("Response headers:");
    for (name, value) in &reply.headers {
        println!("  {name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    println!("Response body:");
    println!("{}", String::from_utf8_lossy(&reply.body));
    println!();
    println!("Execution log for request {}", execution.context.request_id);
    print!("{}", execution.log.render());
    Ok(0)
}

fn ls(project_dir: &Path, json: bool) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    let addr = SocketAddr::new(
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        gateway::DEFAULT_PORT,
    );
    let urls = gateway::stage_urls(&project, addr);
    if json {
        let apis: Vec<serde_json::Value> = project
            .rest_apis
            .iter()
            .map(|api| {
                let stages: Vec<serde_json::Value> = urls
                    .iter()
                    .filter(|u| u.api_id == api.id)
                    .map(|u| serde_json::json!({"name": u.stage, "deploymentId": u.deployment_id, "url": u.url}))
                    .collect();
                serde_json::json!({"id": api.id, "name": api.name, "type": "REST", "stages": stages})
            })
            .collect();
        println!("{}", serde_json::Value::Array(apis));
    } else {
        for api in &project.rest_apis {
            println!(
                "{} {} REST ({} deployments)",
                api.id,
                api.name,
                api.deployments.len()
            );
            for url in urls.iter().filter(|u| u.api_id == api.id) {
                println!("  {} -> {} {}", url.stage, url.deployment_id, url.url);
            }
        }
    }
    Ok(0)
}
