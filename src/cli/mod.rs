//! The command line (ARCHITECTURE.md, "The CLI contract"). Exit code 0 on
//! success, 2 on bad input with one line on stderr naming what and where.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::echo_backend::{self, EchoBackend};
use crate::gateway::{self, Gateway, GatewayConfig, MethodRequest};
use crate::model::{Project, ProjectError, UsagePlanError};
use crate::openapi;

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
        /// Stage variable, K=V (repeatable); with --canary, the canary's
        /// stage variable overrides.
        #[arg(long = "variable", value_name = "K=V")]
        variables: Vec<String>,
        /// Deploy as the stage's canary, taking this percent of its traffic.
        #[arg(long, value_name = "PERCENT")]
        canary: Option<f64>,
    },
    /// A stage's canary: change its share, promote it, or remove it.
    Canary {
        #[arg(long)]
        api: String,
        #[arg(long)]
        stage: String,
        /// The share of traffic the canary serves (0-100).
        #[arg(long, conflicts_with_all = ["promote", "remove"])]
        percent: Option<f64>,
        /// The stage takes the canary's deployment and variable overrides.
        #[arg(long, conflicts_with = "remove")]
        promote: bool,
        #[arg(long)]
        remove: bool,
    },
    /// Flush a stage's response cache on a running `portico serve` (AWS's
    /// FlushStageCache).
    FlushCache {
        #[arg(long)]
        api: String,
        #[arg(long)]
        stage: String,
        /// The running gateway.
        #[arg(long, default_value = "http://127.0.0.1:4455")]
        endpoint: String,
    },
    /// Mint a token with the local OpenID issuer of a running `portico
    /// serve` (for HTTP API routes with a JWT authorizer whose issuer is
    /// `{endpoint}/_portico/issuer`); prints it.
    Token {
        /// The running gateway.
        #[arg(long, default_value = "http://127.0.0.1:4455")]
        endpoint: String,
        #[arg(long, default_value = "portico-user")]
        sub: String,
        /// Space-separated scopes.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        aud: Option<String>,
        /// Any other claim, K=V (repeatable).
        #[arg(long = "claim", value_name = "K=V")]
        claims: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
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
    /// Import an OpenAPI 3 / Swagger 2 definition (JSON or YAML) as a new
    /// API, or into an existing one with --api; prints the API's id.
    Import {
        /// The definition file.
        file: PathBuf,
        /// API type: REST (HTTP APIs arrive with their issue).
        #[arg(long = "type", default_value = "REST")]
        api_type: String,
        /// Apply to this existing API (id or name) instead of creating one.
        #[arg(long)]
        api: Option<String>,
        /// With --api: add to its definition (merge, AWS's default) or replace it (overwrite).
        #[arg(long, value_enum, default_value_t = ImportModeArg::Merge, requires = "api")]
        mode: ImportModeArg,
        /// Fail, changing nothing, if the import warns (AWS failonwarnings).
        #[arg(long)]
        fail_on_warnings: bool,
    },
    /// Print an API's definition as OpenAPI 3.0 or Swagger 2.0.
    Export {
        #[arg(long)]
        api: String,
        /// Export this stage's deployment (and its URL) instead of the draft.
        #[arg(long)]
        stage: Option<String>,
        #[arg(long, value_enum, default_value_t = FormatArg::Oas30)]
        format: FormatArg,
        /// Include every x-amazon-apigateway-* extension.
        #[arg(long)]
        aws_extensions: bool,
        /// Extension sets as AWS names them: integrations,authorizers,apigateway.
        #[arg(long, value_name = "LIST", conflicts_with = "aws_extensions")]
        extensions: Option<String>,
        /// YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Local Lambda functions: add one, list them, invoke one.
    #[command(subcommand)]
    Function(FunctionCommand),
    /// A usage plan for an API stage, with throttle and quota.
    #[command(name = "usage-plan")]
    UsagePlan {
        #[command(subcommand)]
        command: UsagePlanCommand,
    },
    /// API keys for methods with apiKeyRequired.
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// List APIs, stages, deployments and URLs.
    Ls {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum FunctionCommand {
    /// Add (or replace) a function definition in the project.
    Add {
        #[arg(long)]
        name: String,
        /// python3.x, nodejs*, provided*
        #[arg(long)]
        runtime: String,
        /// module.function (e.g. app.handler)
        #[arg(long)]
        handler: String,
        /// The code directory (relative to the project or absolute).
        #[arg(long)]
        code: String,
        /// Environment variable, K=V (repeatable).
        #[arg(long = "env", value_name = "K=V")]
        env: Vec<String>,
        /// Seconds (1-900).
        #[arg(long, default_value_t = 3)]
        timeout: u32,
        /// MB (128-10240).
        #[arg(long, default_value_t = 128)]
        memory: u32,
        /// Most concurrent executions.
        #[arg(long)]
        concurrency: Option<u32>,
    },
    /// List the project's functions.
    Ls,
    /// Invoke a function with an event and print its result and log.
    Invoke {
        #[arg(long)]
        name: String,
        /// The event (JSON); default {}.
        #[arg(long, default_value = "{}")]
        payload: String,
    },
}

#[derive(Debug, Subcommand)]
enum UsagePlanCommand {
    /// Add a usage plan covering one API stage; prints its id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        api: String,
        #[arg(long)]
        stage: String,
        /// Throttle: requests per second per key.
        #[arg(long, requires = "burst")]
        rate: Option<f64>,
        #[arg(long, requires = "rate")]
        burst: Option<u32>,
        /// Quota: requests per period per key.
        #[arg(long, requires = "quota_period")]
        quota_limit: Option<u64>,
        /// DAY, WEEK or MONTH.
        #[arg(long, requires = "quota_limit")]
        quota_period: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Add an API key (a generated value unless --value) to a usage plan;
    /// prints the value.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: Option<String>,
        /// The usage plan (id or name) the key joins.
        #[arg(long)]
        plan: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ImportModeArg {
    Overwrite,
    Merge,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Oas30,
    Swagger,
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
    /// Threads serving requests, each connection on one (default: one per CPU).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Account-level throttling rate, requests/s (AWS's default 10000).
    #[arg(long, default_value_t = 10_000.0)]
    account_rate: f64,
    /// Account-level throttling burst (AWS's default 5000).
    #[arg(long, default_value_t = 5_000)]
    account_burst: u64,
    /// Print a one-line metrics summary every SECS seconds (default 10).
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "10",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    stats: Option<u64>,
    /// Do not record metrics.
    #[arg(long)]
    no_metrics: bool,
    /// Control plane credentials, ACCESS_KEY_ID:SECRET (repeatable): AWS
    /// API calls and `@connections` must be signed (SigV4) with one of
    /// them. Without, any signature is accepted. Required with a --bind
    /// address other than loopback.
    #[arg(long = "credentials", value_name = "KEY_ID:SECRET")]
    credentials: Vec<String>,
    /// A host name the control plane, `_portico` and `@connections` answer
    /// for besides IP addresses, localhost and *.localhost (repeatable).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Keep the local issuer's token endpoint on while --credentials is
    /// set (it mints tokens with any claims for local callers).
    #[arg(long)]
    local_issuer: bool,
    /// WebSocket idle timeout in seconds (AWS's 600).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    ws_idle_timeout: u64,
    /// WebSocket connection lifetime in seconds (AWS's 7200).
    #[arg(long, default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    ws_max_connection: u64,
    /// New WebSocket connections per second (AWS's account quota: 500).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    ws_connections_per_second: u32,
    /// Seconds a client may take to send a request's headers.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a connection may stay idle between requests.
    #[arg(long, default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout: u64,
    /// Most client connections open at once (default: three quarters of
    /// the file limit); past it the oldest idle one is closed.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
}

/// `portico ls | head -1`: when the reader of our output goes away,
/// `println!` panics on the broken pipe. Exit quietly instead, with 0, as
/// ripgrep does (Rust ignores SIGPIPE, and restoring it would let a closed
/// backend socket kill the gateway).
fn exit_quietly_when_stdout_closes() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
}

/// A failure the CLI reports in one line, `error: {this}` on stderr, and
/// exit code 2. Each source keeps its own message; the CLI adds the flag,
/// file or address it concerns.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// A flag's value is malformed, or flags that do not go together
    /// (`--header "x": expected K:V`).
    #[error("{0}")]
    BadArgument(String),
    /// Loading, changing or saving the project.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// `function add`: a definition `CreateFunction` would refuse.
    #[error(transparent)]
    Function(#[from] crate::model::FunctionError),
    /// `usage-plan add`.
    #[error(transparent)]
    UsagePlan(#[from] UsagePlanError),
    /// `api-key add`.
    #[error("api-key add: {0}")]
    ApiKey(UsagePlanError),
    #[error("echo backend on {addr}: {source}")]
    EchoBackend {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    GatewayStart(#[from] gateway::GatewayStartError),
    /// `invoke`: the API's draft does not compile.
    #[error(transparent)]
    Compile(#[from] gateway::CompileError),
    /// `function invoke`: the function could not run at all.
    #[error(transparent)]
    Invoke(#[from] crate::functions::InvokeError),
    /// `import`: the file cannot be read.
    #[error("{}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `import`: the file is not JSON or YAML, at a position.
    #[error("{}:{line}:{column}: {message}", file.display())]
    DocumentSyntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// `import`: the file is not a definition we can import.
    #[error("{}: {source}", file.display())]
    Document {
        file: PathBuf,
        source: openapi::OpenApiError,
    },
    /// `export`: the API cannot be written as OpenAPI.
    #[error(transparent)]
    Export(#[from] openapi::OpenApiError),
    #[error("API {api} has no stage named {stage:?}")]
    NoStage { api: String, stage: String },
    #[error("stage {0} has not been deployed")]
    NotDeployed(String),
    #[error("stage {0}: its deployment is missing")]
    MissingDeployment(String),
    /// `token`, `flush-cache`: nothing answered at `--endpoint`.
    #[error("no Portico gateway answered at {endpoint}: {source}")]
    NoGateway {
        endpoint: String,
        source: reqwest::Error,
    },
    /// `token`: the answer is not JSON.
    #[error("token: unexpected answer {0}")]
    TokenAnswer(String),
    /// `token`: a JSON answer without `access_token`.
    #[error("token: {0}")]
    NoToken(serde_json::Value),
    #[error("flush-cache: {status}: {body}")]
    FlushCache {
        status: reqwest::StatusCode,
        body: String,
    },
    /// The desktop app could not start or run.
    #[error("{0}")]
    Gui(String),
    /// Starting a runtime or a thread.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `portico [--project DIR]`: the desktop app on the project, the gateway
/// on 127.0.0.1:4455 and, for the bundled sample, the echo backend.
fn open_gui(project_dir: &Path, bundled_sample: bool) -> Result<i32, CliError> {
    let _echo = if bundled_sample {
        let addr: SocketAddr = echo_backend::DEFAULT_ADDR
            .parse()
            .expect("a valid constant address");
        Some(EchoBackend::start(addr).map_err(|source| CliError::EchoBackend { addr, source })?)
    } else {
        None
    };
    let config = GatewayConfig {
        request_log_capacity: crate::gui::LOG_CAPACITY,
        request_log_bytes: crate::gui::LOG_BYTES,
        ..GatewayConfig::default()
    };
    crate::gui::run(project_dir, &config).map_err(CliError::Gui)?;
    Ok(0)
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> i32 {
    exit_quietly_when_stdout_closes();
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
            canary,
        }) => deploy(
            &project_dir,
            &api,
            &stage,
            description.as_deref(),
            &variables,
            canary,
        ),
        Some(Command::Canary {
            api,
            stage,
            percent,
            promote,
            remove,
        }) => canary(&project_dir, &api, &stage, percent, promote, remove),
        Some(Command::Token {
            endpoint,
            sub,
            scope,
            aud,
            claims,
            expires_in,
        }) => token(&endpoint, &sub, scope, aud, &claims, expires_in),
        Some(Command::FlushCache {
            api,
            stage,
            endpoint,
        }) => flush_cache(&project_dir, &api, &stage, &endpoint),
        Some(Command::Invoke {
            api,
            method,
            path,
            headers,
            query,
            body,
        }) => invoke(&project_dir, &api, &method, &path, &headers, &query, body),
        Some(Command::Import {
            file,
            api_type,
            api,
            mode,
            fail_on_warnings,
        }) => import(
            &project_dir,
            &file,
            &api_type,
            api.as_deref(),
            mode,
            fail_on_warnings,
        ),
        Some(Command::Export {
            api,
            stage,
            format,
            aws_extensions,
            extensions,
            yaml,
            output,
        }) => {
            let extensions = match (aws_extensions, extensions) {
                (true, _) => Ok(openapi::Extensions::ALL),
                (false, Some(list)) => openapi::Extensions::parse(&list)
                    .map_err(|e| CliError::BadArgument(format!("--extensions: {e}"))),
                (false, None) => Ok(openapi::Extensions::NONE),
            };
            extensions.and_then(|extensions| {
                let format = match format {
                    FormatArg::Oas30 => openapi::ExportFormat::Oas30,
                    FormatArg::Swagger => openapi::ExportFormat::Swagger2,
                };
                export(
                    &project_dir,
                    &api,
                    stage.as_deref(),
                    format,
                    extensions,
                    yaml,
                    output.as_deref(),
                )
            })
        }
        Some(Command::Function(command)) => function(&project_dir, command),
        Some(Command::UsagePlan { command }) => usage_plan(&project_dir, command),
        Some(Command::ApiKey { command }) => api_key(&project_dir, command),
        Some(Command::Ls { json }) => ls(&project_dir, json),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            2
        }
    }
}

fn serve(project_dir: &Path, args: &ServeArgs) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    let _echo = match args.echo_backend {
        Some(addr) => {
            let echo = EchoBackend::start(addr)
                .map_err(|source| CliError::EchoBackend { addr, source })?;
            println!("echo backend listening on http://{}", echo.local_addr());
            Some(echo)
        }
        None => None,
    };
    let mut control_credentials = std::collections::HashMap::new();
    for pair in &args.credentials {
        let (id, secret) = pair
            .split_once(':')
            .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
            .ok_or_else(|| {
                CliError::BadArgument(format!("--credentials {pair:?}: expected KEY_ID:SECRET"))
            })?;
        control_credentials.insert(id.to_string(), secret.to_string());
    }
    // On another address than loopback the control plane is open to the
    // network: only with credentials, and said at start.
    let public = !args.bind.is_loopback();
    if public && control_credentials.is_empty() {
        return Err(CliError::BadArgument(format!(
            "--bind {}: the control plane would be reachable from the network without credentials; add --credentials KEY_ID:SECRET",
            args.bind
        )));
    }
    let defaults = GatewayConfig::default();
    let config = GatewayConfig {
        control_credentials,
        allowed_hosts: args.allow_hosts.clone(),
        local_issuer_with_credentials: args.local_issuer,
        bind: args.bind,
        port: args.port,
        worker_threads: args.workers.map_or(defaults.worker_threads, usize::from),
        // Headless, nothing reads the live request log (the window's Logs
        // panel does): keep none, and write no execution logs for it.
        request_log_capacity: 0,
        account_throttle: gateway::throttle::Limits {
            rate: args.account_rate,
            burst: args.account_burst,
        },
        websocket_limits: gateway::websocket::WebSocketLimits {
            idle_timeout: std::time::Duration::from_secs(args.ws_idle_timeout),
            max_connection: std::time::Duration::from_secs(args.ws_max_connection),
            connections_per_second: args.ws_connections_per_second,
            ..defaults.websocket_limits
        },
        connection_limits: gateway::limits::ConnectionLimits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout),
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
            max_connections: args.max_connections.map(|n| n as usize),
        },
        ..defaults
    };
    let gateway = Gateway::start(&project, &config)?;
    println!(
        "Portico gateway listening on http://{}",
        gateway.local_addr()
    );
    if public {
        eprintln!(
            "warning: the control plane is reachable from the network on {}; AWS API calls must be signed with the --credentials keys",
            gateway.local_addr()
        );
    }
    let urls = gateway.stage_urls(&project);
    if urls.is_empty() {
        println!("no deployed stages yet: run `portico deploy --api ID --stage NAME`");
    }
    for url in urls {
        println!("{} {} {}", url.api_name, url.stage, url.url);
    }
    // One broken stage does not stop the others from being served.
    for error in gateway.compile_errors() {
        eprintln!("warning: not served: {error}");
    }
    let _ = std::io::stdout().flush();
    follow_function_logs(&gateway, &project);
    gateway.metrics().set_enabled(!args.no_metrics);
    if let Some(every) = args.stats {
        let metrics = std::sync::Arc::clone(gateway.metrics());
        std::thread::Builder::new()
            .name("portico-stats".into())
            .spawn(move || {
                // Each line covers the whole seconds since the last one's,
                // so no request is counted twice or missed.
                let mut last = crate::observe::metrics::now_secs().saturating_sub(1);
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(every));
                    let to = crate::observe::metrics::now_secs().saturating_sub(1);
                    if to <= last {
                        continue;
                    }
                    let point = metrics.window(&Default::default(), last + 1, to);
                    println!("{}", stats_line(to - last, &point));
                    let _ = std::io::stdout().flush();
                    last = to;
                }
            })?;
    }
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    waiter.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    Ok(0)
}

/// `serve --stats`: the last `secs` seconds in one line.
fn stats_line(secs: u64, point: &crate::observe::metrics::Point) -> String {
    let c = &point.counts;
    let ms =
        |us: Option<u64>| us.map_or("-".to_string(), |us| format!("{:.2}", us as f64 / 1000.0));
    let mut line = format!(
        "stats {secs}s: {} requests ({:.1}/s), 4XX {}, 5XX {}, latency ms p50 {} p90 {} p99 {}",
        c.count,
        c.count as f64 / secs as f64,
        c.error_4xx,
        c.error_5xx,
        ms(point.latency.p50),
        ms(point.latency.p90),
        ms(point.latency.p99),
    );
    if c.integration_count > 0 {
        line.push_str(&format!(
            ", integration ms p50 {} p99 {}",
            ms(point.integration_latency.p50),
            ms(point.integration_latency.p99)
        ));
    }
    if c.cache_hits + c.cache_misses > 0 {
        line.push_str(&format!(
            ", cache hits {} misses {}",
            c.cache_hits, c.cache_misses
        ));
    }
    line
}

fn token(
    endpoint: &str,
    sub: &str,
    scope: Option<String>,
    aud: Option<String>,
    claims: &[String],
    expires_in: u64,
) -> Result<i32, CliError> {
    let mut body = serde_json::Map::new();
    body.insert("sub".into(), serde_json::json!(sub));
    body.insert("expires_in".into(), serde_json::json!(expires_in));
    if let Some(scope) = scope {
        body.insert("scope".into(), serde_json::json!(scope));
    }
    if let Some(aud) = aud {
        body.insert("aud".into(), serde_json::json!(aud));
    }
    for claim in claims {
        let (name, value) = claim
            .split_once('=')
            .ok_or_else(|| CliError::BadArgument(format!("--claim {claim:?}: expected K=V")))?;
        body.insert(name.to_string(), serde_json::json!(value));
    }
    let url = format!(
        "{}{}/token",
        endpoint.trim_end_matches('/'),
        crate::auth::jwt::ISSUER_PATH
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer: serde_json::Value = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&url)
            .body(serde_json::Value::Object(body).to_string())
            .send()
            .await
            .map_err(|source| CliError::NoGateway {
                endpoint: endpoint.to_string(),
                source,
            })?;
        let text = response.text().await.unwrap_or_default();
        serde_json::from_str(&text).map_err(|_| CliError::TokenAnswer(text))
    })?;
    match answer["access_token"].as_str() {
        Some(token) => {
            println!("{token}");
            Ok(0)
        }
        None => Err(CliError::NoToken(answer)),
    }
}

fn flush_cache(
    project_dir: &Path,
    api: &str,
    stage: &str,
    endpoint: &str,
) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    let api_id = project.find_api(api)?.id.clone();
    let url = format!(
        "{}/restapis/{api_id}/stages/{stage}/cache/data",
        endpoint.trim_end_matches('/')
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .delete(&url)
            .send()
            .await
            .map_err(|source| CliError::NoGateway {
                endpoint: endpoint.to_string(),
                source,
            })?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Ok::<_, CliError>((status, body))
    })?;
    if !status.is_success() {
        return Err(CliError::FlushCache { status, body });
    }
    println!("flushed the cache of {api_id} stage {stage}");
    Ok(0)
}

fn deploy(
    project_dir: &Path,
    api: &str,
    stage: &str,
    description: Option<&str>,
    variables: &[String],
    canary: Option<f64>,
) -> Result<i32, CliError> {
    let mut project = Project::load(project_dir)?;
    if let Some(http_api) = project.find_http_api(api).map(|a| a.api_id.clone()) {
        if canary.is_some() || !variables.is_empty() {
            return Err(CliError::BadArgument(
                "--canary and --variable are for REST APIs; an HTTP API stage keeps its stageVariables"
                    .into(),
            ));
        }
        let deployment = project.deploy_http(&http_api, stage, description)?;
        println!(
            "deployed {http_api} to stage {stage}: deployment {}",
            deployment.deployment_id
        );
        return Ok(0);
    }
    if let Some(ws_api) = project.find_web_socket_api(api).map(|a| a.api_id.clone()) {
        if canary.is_some() || !variables.is_empty() {
            return Err(CliError::BadArgument(
                "--canary and --variable are for REST APIs; a WebSocket API stage keeps its stageVariables"
                    .into(),
            ));
        }
        let deployment = project.deploy_web_socket(&ws_api, stage, description)?;
        println!(
            "deployed {ws_api} to stage {stage}: deployment {}",
            deployment.deployment_id
        );
        return Ok(0);
    }
    let api_id = project.find_api(api)?.id.clone();
    let mut parsed = BTreeMap::new();
    for variable in variables {
        let (name, value) = variable.split_once('=').ok_or_else(|| {
            CliError::BadArgument(format!("--variable {variable:?}: expected K=V"))
        })?;
        parsed.insert(name.to_string(), value.to_string());
    }
    let deployment = match canary {
        Some(percent) => {
            let deployment =
                project.deploy_canary(&api_id, stage, description, percent, &parsed)?;
            println!(
                "deployed {api_id} as the canary of stage {stage} ({percent}% of its traffic): deployment {}",
                deployment.id
            );
            deployment
        }
        None => {
            let deployment = project.deploy(&api_id, stage, description, &parsed)?;
            println!(
                "deployed {} to stage {stage}: deployment {}",
                api_id, deployment.id
            );
            deployment
        }
    };
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
        .map_err(|_| CliError::BadArgument(format!("--method {method:?}: not an HTTP method")))?;
    let (path, inline_query) = path.split_once('?').unwrap_or((path, ""));
    if !path.starts_with('/') {
        return Err(CliError::BadArgument(format!(
            "--path {path:?}: must start with /"
        )));
    }
    let mut raw_query = inline_query.to_string();
    for pair in query {
        if !pair.contains('=') {
            return Err(CliError::BadArgument(format!(
                "--query {pair:?}: expected K=V"
            )));
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
            .ok_or_else(|| CliError::BadArgument(format!("--header {header:?}: expected K:V")))?;
        let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            CliError::BadArgument(format!("--header {header:?}: invalid header name"))
        })?;
        let value = http::HeaderValue::from_str(value.trim()).map_err(|_| {
            CliError::BadArgument(format!("--header {header:?}: invalid header value"))
        })?;
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
        full_path: path.into(),
        domain_name: "testPrefix.testDomainName".into(),
        protocol: "HTTP/1.1".into(),
        received_at: std::time::SystemTime::now(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let services = gateway::Services {
        functions: crate::functions::FunctionHost::new(&project),
        ..gateway::Services::default()
    };
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
        let mut apis: Vec<serde_json::Value> = project
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
        apis.extend(project.http_apis.iter().map(|api| {
            let stages: Vec<serde_json::Value> = urls
                .iter()
                .filter(|u| u.api_id == api.api_id)
                .map(|u| serde_json::json!({"name": u.stage, "deploymentId": u.deployment_id, "url": u.url}))
                .collect();
            serde_json::json!({"id": api.api_id, "name": api.name, "type": "HTTP", "stages": stages})
        }));
        apis.extend(project.web_socket_apis.iter().map(|api| {
            let stages: Vec<serde_json::Value> = urls
                .iter()
                .filter(|u| u.api_id == api.api_id)
                .map(|u| serde_json::json!({"name": u.stage, "deploymentId": u.deployment_id, "url": u.url}))
                .collect();
            serde_json::json!({"id": api.api_id, "name": api.name, "type": "WEBSOCKET", "stages": stages})
        }));
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
        for api in &project.http_apis {
            println!(
                "{} {} HTTP ({} routes)",
                api.api_id,
                api.name,
                api.routes.len()
            );
            for url in urls.iter().filter(|u| u.api_id == api.api_id) {
                println!("  {} {}", url.stage, url.url);
            }
        }
        for api in &project.web_socket_apis {
            println!(
                "{} {} WEBSOCKET ({} routes)",
                api.api_id,
                api.name,
                api.routes.len()
            );
            for url in urls.iter().filter(|u| u.api_id == api.api_id) {
                println!("  {} {}", url.stage, url.url);
            }
        }
    }
    Ok(0)
}

fn import(
    project_dir: &Path,
    file: &Path,
    api_type: &str,
    api: Option<&str>,
    mode: ImportModeArg,
    fail_on_warnings: bool,
) -> Result<i32, CliError> {
    let http = api_type.eq_ignore_ascii_case("HTTP");
    if !http && !api_type.eq_ignore_ascii_case("REST") {
        return Err(CliError::BadArgument(format!(
            "--type {api_type}: expected REST or HTTP"
        )));
    }
    let mut project = Project::load(project_dir)?;
    let text = std::fs::read_to_string(file).map_err(|source| CliError::ReadFile {
        path: file.to_path_buf(),
        source,
    })?;
    let at_file = |e: openapi::OpenApiError| match e {
        openapi::OpenApiError::Syntax {
            line,
            column,
            message,
        } => CliError::DocumentSyntax {
            file: file.to_path_buf(),
            line,
            column,
            message,
        },
        other => CliError::Document {
            file: file.to_path_buf(),
            source: other,
        },
    };
    let document = openapi::parse_document(&text).map_err(at_file)?;
    if http {
        if api.is_some() {
            return Err(CliError::BadArgument(
                "--api: reimporting into an HTTP API is not supported yet; import as a new one"
                    .into(),
            ));
        }
        let (imported, warnings) = openapi::http::import(&document).map_err(at_file)?;
        if fail_on_warnings && !warnings.is_empty() {
            return Err(at_file(openapi::OpenApiError::Warnings(warnings)));
        }
        for warning in &warnings {
            eprintln!("warning: {}: {warning}", file.display());
        }
        let id = imported.api_id.clone();
        project.http_apis.push(imported);
        project.save()?;
        println!("{id}");
        return Ok(0);
    }
    let imported = match api {
        None => openapi::import(&document),
        Some(api) => {
            let existing = project.find_api(api)?;
            let mode = match mode {
                ImportModeArg::Overwrite => openapi::ImportMode::Overwrite,
                ImportModeArg::Merge => openapi::ImportMode::Merge,
            };
            openapi::import_into(existing, &document, mode)
        }
    }
    .map_err(at_file)?;
    let imported = if fail_on_warnings {
        imported.fail_on_warnings().map_err(at_file)?
    } else {
        for warning in &imported.warnings {
            eprintln!("warning: {}: {warning}", file.display());
        }
        imported
    };
    let id = imported.api.id.clone();
    match project.api_mut(&id) {
        Some(existing) => *existing = imported.api,
        None => project.rest_apis.push(imported.api),
    }
    project.save()?;
    println!("{id}");
    Ok(0)
}

fn export(
    project_dir: &Path,
    api: &str,
    stage: Option<&str>,
    format: openapi::ExportFormat,
    extensions: openapi::Extensions,
    yaml: bool,
    output: Option<&Path>,
) -> Result<i32, CliError> {
    let project = Project::load(project_dir)?;
    if let Some(http_api) = project.find_http_api(api) {
        if format != openapi::ExportFormat::Oas30 {
            return Err(CliError::BadArgument(
                "HTTP APIs export as OpenAPI 3.0 only".into(),
            ));
        }
        let (definition, server) = match stage {
            None => (http_api, None),
            Some(name) => {
                let stage = http_api
                    .stages
                    .iter()
                    .find(|s| s.stage_name == name)
                    .ok_or_else(|| CliError::NoStage {
                        api: http_api.name.clone(),
                        stage: name.to_string(),
                    })?;
                let served = if stage.auto_deploy {
                    http_api
                } else {
                    stage
                        .deployment_id
                        .as_deref()
                        .and_then(|id| project.http_snapshot(&http_api.api_id, id))
                        .map(|a| &**a)
                        .ok_or_else(|| CliError::NotDeployed(name.to_string()))?
                };
                let base = format!(
                    "http://{}.execute-api.localhost:{}",
                    http_api.api_id,
                    gateway::DEFAULT_PORT
                );
                let url = if name == "$default" {
                    base
                } else {
                    format!("{base}/{name}")
                };
                (served, Some(url))
            }
        };
        let _ = extensions;
        let document = openapi::http::export(definition, server.as_deref());
        let text = openapi::to_text(&document, yaml);
        match output {
            Some(path) => crate::model::project::write_text_atomic(path, &text)?,
            None => print!("{text}"),
        }
        return Ok(0);
    }
    let draft = project.find_api(api)?;
    let (definition, stage) = match stage {
        None => (draft, None),
        Some(name) => {
            let stage = draft.stage(name).ok_or_else(|| CliError::NoStage {
                api: draft.name.clone(),
                stage: name.to_string(),
            })?;
            let snapshot = project
                .snapshot(&draft.id, &stage.deployment_id)
                .ok_or_else(|| CliError::MissingDeployment(name.to_string()))?;
            let addr = SocketAddr::new(
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                gateway::DEFAULT_PORT,
            );
            let url = gateway::stage_urls(&project, addr)
                .into_iter()
                .find(|u| u.api_id == draft.id && u.stage == name)
                .map(|u| u.url)
                .unwrap_or_default();
            (&snapshot.rest_api, Some((name.to_string(), url)))
        }
    };
    let options = openapi::ExportOptions {
        format,
        extensions,
        stage,
    };
    let document = openapi::export(definition, &options)?;
    let text = openapi::to_text(&document, yaml);
    match output {
        Some(path) => crate::model::project::write_text_atomic(path, &text)?,
        None => print!("{text}"),
    }
    Ok(0)
}

fn function(project_dir: &Path, command: FunctionCommand) -> Result<i32, CliError> {
    match command {
        FunctionCommand::Add {
            name,
            runtime,
            handler,
            code,
            env,
            timeout,
            memory,
            concurrency,
        } => {
            let mut project = Project::load(project_dir)?;
            let mut definition =
                crate::model::FunctionDefinition::new(&name, &runtime, &handler, &code);
            for pair in &env {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    CliError::BadArgument(format!("--env {pair:?}: expected K=V"))
                })?;
                definition.environment.insert(k.to_string(), v.to_string());
            }
            definition.timeout = timeout;
            definition.memory_size = memory;
            definition.reserved_concurrent_executions = concurrency;
            definition.validate()?;
            let code_dir = definition.code_dir(&project.dir);
            if !code_dir.is_dir() {
                return Err(CliError::BadArgument(format!(
                    "--code {code:?}: {} is not a directory",
                    code_dir.display()
                )));
            }
            project.functions.retain(|f| f.function_name != name);
            let arn = definition.arn();
            project.functions.push(definition);
            project.save()?;
            println!("{arn}");
            Ok(0)
        }
        FunctionCommand::Ls => {
            let project = Project::load(project_dir)?;
            for f in &project.functions {
                println!(
                    "{} {} {} {} (timeout {} s, {} MB)",
                    f.function_name, f.runtime, f.handler, f.code_uri, f.timeout, f.memory_size
                );
            }
            Ok(0)
        }
        FunctionCommand::Invoke { name, payload } => {
            let project = Project::load(project_dir)?;
            serde_json::from_str::<serde_json::Value>(&payload)
                .map_err(|e| CliError::BadArgument(format!("--payload: not JSON: {e}")))?;
            let host = crate::functions::FunctionHost::new(&project);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            let outcome =
                runtime.block_on(host.invoke(&name, bytes::Bytes::from(payload.into_bytes())))?;
            let code = match &outcome {
                crate::functions::Outcome::Success(body) => {
                    println!("{}", String::from_utf8_lossy(body));
                    0
                }
                crate::functions::Outcome::Error {
                    error_type,
                    payload,
                } => {
                    println!("{}", String::from_utf8_lossy(payload));
                    eprintln!("function error: {error_type}");
                    1
                }
            };
            // Stop the worker and give its output a moment to be read, so
            // the printed log has everything the handler wrote.
            host.shutdown();
            runtime.block_on(async {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            });
            if let Some(log) = host.log(&name) {
                eprint!("{}", log.render());
            }
            Ok(code)
        }
    }
}

/// Prints every function's new log lines as `[name] line`, as they come.
fn follow_function_logs(gateway: &Gateway, project: &Project) {
    let host = gateway.services().functions;
    let names: Vec<String> = project
        .functions
        .iter()
        .map(|f| f.function_name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("portico-function-logs".into())
        .spawn(move || {
            let mut seen = vec![0u64; names.len()];
            loop {
                for (name, next) in names.iter().zip(seen.iter_mut()) {
                    let Some(log) = host.log(name) else { continue };
                    let mut out = std::io::stdout().lock();
                    for line in log.since(*next) {
                        let _ = writeln!(out, "[{name}] {}", line.text);
                        *next = line.seq + 1;
                    }
                    let _ = out.flush();
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
}

fn canary(
    project_dir: &Path,
    api: &str,
    stage: &str,
    percent: Option<f64>,
    promote: bool,
    remove: bool,
) -> Result<i32, CliError> {
    let mut project = Project::load(project_dir)?;
    let api_id = project.find_api(api)?.id.clone();
    if promote {
        project.promote_canary(&api_id, stage)?;
        println!("promoted the canary of stage {stage}");
    } else if remove {
        project.remove_canary(&api_id, stage)?;
        println!("removed the canary of stage {stage}");
    } else if let Some(percent) = percent {
        project.set_canary_percent(&api_id, stage, percent)?;
        println!("the canary of stage {stage} serves {percent}% of its traffic");
    } else {
        return Err(CliError::BadArgument(
            "say --percent P, --promote or --remove".into(),
        ));
    }
    Ok(0)
}

fn usage_plan(project_dir: &Path, command: UsagePlanCommand) -> Result<i32, CliError> {
    let UsagePlanCommand::Add {
        name,
        api,
        stage,
        rate,
        burst,
        quota_limit,
        quota_period,
    } = command;
    let mut project = Project::load(project_dir)?;
    let api_id = project.find_api(&api)?.id.clone();
    let quota = quota_limit
        .zip(quota_period)
        .map(|(limit, period)| crate::model::QuotaSettings {
            limit,
            period,
            offset: 0,
        });
    let throttle =
        rate.zip(burst)
            .map(|(rate_limit, burst_limit)| crate::model::ThrottleSettings {
                burst_limit,
                rate_limit,
            });
    let id = project.add_usage_plan(&name, &api_id, &stage, throttle, quota)?;
    project.save()?;
    println!("{id}");
    Ok(0)
}

fn api_key(project_dir: &Path, command: ApiKeyCommand) -> Result<i32, CliError> {
    let ApiKeyCommand::Add { name, value, plan } = command;
    let mut project = Project::load(project_dir)?;
    let key = project
        .add_api_key(&name, value.as_deref(), Some(&plan))
        .map_err(CliError::ApiKey)?;
    project.save()?;
    println!("{}", key.value);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each source's line reads as it did when `CliError` was a string:
    /// the CLI's output is a contract (ARCHITECTURE.md, "The CLI contract").
    #[test]
    fn errors_print_one_line_as_before() {
        let file = PathBuf::from("defs/api.yaml");
        let addr: SocketAddr = "127.0.0.1:4456".parse().expect("a valid address");
        let refused = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let cases: Vec<(CliError, String)> = vec![
            (
                CliError::BadArgument("--query \"x\": expected K=V".into()),
                "--query \"x\": expected K=V".into(),
            ),
            (
                CliError::EchoBackend {
                    addr,
                    source: refused(),
                },
                format!("echo backend on {addr}: {}", refused()),
            ),
            (
                CliError::ReadFile {
                    path: file.clone(),
                    source: refused(),
                },
                format!("defs/api.yaml: {}", refused()),
            ),
            (
                CliError::DocumentSyntax {
                    file: file.clone(),
                    line: 4,
                    column: 1,
                    message: "expected a value".into(),
                },
                "defs/api.yaml:4:1: expected a value".into(),
            ),
            (
                CliError::Document {
                    file,
                    source: openapi::OpenApiError::Invalid {
                        pointer: "/paths".into(),
                        message: "expected an object".into(),
                    },
                },
                "defs/api.yaml: /paths: expected an object".into(),
            ),
            (
                CliError::NoStage {
                    api: "Pets".into(),
                    stage: "prod".into(),
                },
                "API Pets has no stage named \"prod\"".into(),
            ),
            (
                CliError::NotDeployed("dev".into()),
                "stage dev has not been deployed".into(),
            ),
            (
                CliError::MissingDeployment("dev".into()),
                "stage dev: its deployment is missing".into(),
            ),
            (
                CliError::TokenAnswer("<html>".into()),
                "token: unexpected answer <html>".into(),
            ),
            (
                CliError::NoToken(serde_json::json!({"error": "x"})),
                "token: {\"error\":\"x\"}".into(),
            ),
            (
                CliError::FlushCache {
                    status: reqwest::StatusCode::NOT_FOUND,
                    body: "{}".into(),
                },
                "flush-cache: 404 Not Found: {}".into(),
            ),
            (
                CliError::ApiKey(UsagePlanError::NoSuchPlan("gold".into())),
                "api-key add: no such usage plan: \"gold\"".into(),
            ),
            (
                CliError::UsagePlan(UsagePlanError::RateLimit),
                "The rate limit must be a number, 0 or more".into(),
            ),
            (
                CliError::Project(ProjectError::Rejected("no API".into())),
                "no API".into(),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected, "{error:?}");
        }
    }
}
