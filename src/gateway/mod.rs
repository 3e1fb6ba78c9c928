//! The embedded gateway runtime: serves every deployed stage of a project on
//! one port.
//!
//! [`Gateway`] owns a tokio runtime on a background thread (the acceptor,
//! background work, the GUI's console requests) and the serving threads,
//! each a single-threaded runtime serving its connections start to end.
//! Configuration is compiled per deployment into immutable
//! [`CompiledStage`]s held in an `ArcSwap`, swapped whole on deploy: a
//! request sees the old or the new configuration, never half of each, and
//! the hot path takes no lock.

pub mod cache;
pub mod compile;
pub mod connections;
pub mod context;
mod control_http;
pub mod control_plane;
mod endpoint;
pub mod http_api;
pub mod limits;
pub mod mapping;
pub mod phases;
pub mod pipeline;
pub mod request;
pub mod responses;
pub mod router;
mod server;
pub mod services;
pub mod throttle;
pub mod transform;
pub mod validate;
pub mod websocket;

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::model::{Project, RestApi, Stage};
use crate::observe::RequestLog;

pub use compile::{CompileError, CompiledStage, compile_stage};
pub use pipeline::Execution;
pub use request::MethodRequest;
pub use responses::Reply;
pub use services::Services;

/// AWS's payload limit for REST APIs: 10 MB.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The default port, as the CLI documents.
pub const DEFAULT_PORT: u16 = 4455;

/// Everything the server serves, swapped atomically on change.
#[derive(Debug, Default)]
pub struct Routes {
    /// apiId -> stage name -> compiled stage. Fx maps: looked up on
    /// every request, keyed by the project's ids, which requests cannot add.
    pub apis: FxHashMap<String, FxHashMap<String, Arc<CompiledStage>>>,
    /// Set when the project has exactly one REST API: then
    /// `http://host:port/{stage}/{path}` reaches it.
    pub single_api: Option<String>,
    /// apiId -> stage name -> the stage's canary.
    pub canaries: FxHashMap<String, FxHashMap<String, Arc<Canary>>>,
    /// HTTP APIs: apiId -> stage name (`$default` included) -> compiled
    /// stage. Stages with `autoDeploy` serve the API as it is now.
    pub http_apis: FxHashMap<String, FxHashMap<String, Arc<http_api::CompiledHttpStage>>>,
    /// WebSocket APIs: apiId -> stage name -> compiled stage.
    pub web_sockets: FxHashMap<String, FxHashMap<String, Arc<websocket::CompiledWebSocketStage>>>,
}

/// A stage's canary: its compiled deployment and its share of traffic,
/// which can change while requests flow (no recompile, no dropped request).
#[derive(Debug)]
pub struct Canary {
    pub stage: Arc<CompiledStage>,
    /// `percentTraffic` as f64 bits.
    percent: std::sync::atomic::AtomicU64,
}

impl Canary {
    pub fn percent(&self) -> f64 {
        f64::from_bits(self.percent.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn set_percent(&self, percent: f64) {
        self.percent
            .store(percent.to_bits(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether this request goes to the canary: at random, in proportion;
    /// exactly never at 0 and always at 100.
    pub fn takes(&self) -> bool {
        let percent = self.percent();
        percent >= 100.0 || (percent > 0.0 && fastrand::f64() * 100.0 < percent)
    }
}

impl Routes {
    /// Compiles every stage of every API in the project from its deployment
    /// snapshot. A stage that does not compile is not served; the others
    /// are, and the errors say which and why.
    pub fn compile(project: &Project) -> (Routes, Vec<CompileError>) {
        Routes::recompile(project, &Routes::default())
    }

    /// Compiles like [`Routes::compile`], keeping the response caches of
    /// `previous` whose stage still has one of the same size: as on AWS, a
    /// deployment or a settings change does not flush a stage's cache.
    ///
    /// A stage (or canary) whose configuration does not compile keeps
    /// serving what it served in `previous`, if anything: one broken stage
    /// never takes the other stages or APIs down.
    pub fn recompile(project: &Project, previous: &Routes) -> (Routes, Vec<CompileError>) {
        let keep = |compiled: &mut CompiledStage, old: Option<&Arc<CompiledStage>>| {
            if let (Some(new), Some(old)) = (&compiled.cache, old.and_then(|o| o.cache.as_ref()))
                && new.budget() == old.budget()
            {
                compiled.cache = Some(Arc::clone(old));
            }
        };
        let mut errors = Vec::new();
        let mut apis = FxHashMap::default();
        let mut canaries: FxHashMap<String, FxHashMap<String, Arc<Canary>>> = FxHashMap::default();
        for api in &project.rest_apis {
            let mut stages = FxHashMap::default();
            let previous_stages = previous.apis.get(&api.id);
            let previous_canaries = previous.canaries.get(&api.id);
            for stage in &api.stages {
                let old_stage = previous_stages.and_then(|s| s.get(&stage.stage_name));
                let old_canary = previous_canaries.and_then(|c| c.get(&stage.stage_name));
                // What the stage keeps when its new configuration fails.
                let mut served_canary = old_canary.cloned();
                let compiled = match compile_deployment(project, api, stage, "deploymentId") {
                    Ok(mut compiled) => {
                        keep(&mut compiled, old_stage);
                        Arc::new(compiled)
                    }
                    Err(error) => {
                        errors.push(error);
                        if let Some(old) = old_stage {
                            stages.insert(stage.stage_name.clone(), Arc::clone(old));
                        }
                        put_canary(&mut canaries, &api.id, &stage.stage_name, served_canary);
                        continue;
                    }
                };
                stages.insert(stage.stage_name.clone(), Arc::clone(&compiled));
                if let Some(settings) = &stage.canary_settings {
                    let mut canary_stage = stage.clone();
                    canary_stage.deployment_id = settings.deployment_id.clone();
                    canary_stage
                        .variables
                        .extend(settings.stage_variable_overrides.clone());
                    match compile_deployment(
                        project,
                        api,
                        &canary_stage,
                        "canarySettings.deploymentId",
                    ) {
                        Ok(canary) => {
                            served_canary = Some(Arc::new(Canary::of(
                                canary, &compiled, old_canary, settings, keep,
                            )))
                        }
                        Err(error) => errors.push(error),
                    }
                }
                put_canary(&mut canaries, &api.id, &stage.stage_name, served_canary);
            }
            apis.insert(api.id.clone(), stages);
        }
        let http_apis = project
            .http_apis
            .iter()
            .map(|api| {
                let stages = v2_stages(
                    api,
                    &api.stages,
                    |id| project.http_snapshot(&api.api_id, id),
                    http_api::compile,
                );
                (api.api_id.clone(), stages)
            })
            .collect();
        let web_sockets = project
            .web_socket_apis
            .iter()
            .map(|api| {
                let stages = v2_stages(
                    api,
                    &api.stages,
                    |id| project.web_socket_snapshot(&api.api_id, id),
                    websocket::compile,
                );
                (api.api_id.clone(), stages)
            })
            .collect();
        let single_api = match project.rest_apis.as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        };
        let routes = Routes {
            apis,
            single_api,
            canaries,
            http_apis,
            web_sockets,
        };
        (routes, errors)
    }
}

/// Compiles `stage` from the snapshot of its `deploymentId`; `location`
/// names the field that points at the deployment, for the error.
fn compile_deployment(
    project: &Project,
    api: &crate::model::RestApi,
    stage: &crate::model::Stage,
    location: &str,
) -> Result<CompiledStage, CompileError> {
    match project.snapshot(&api.id, &stage.deployment_id) {
        Some(snapshot) => compile_stage(&snapshot.rest_api, stage),
        None => Err(CompileError {
            api: api.name.clone(),
            stage: stage.stage_name.clone(),
            location: location.into(),
            message: format!("no snapshot for deployment {}", stage.deployment_id),
        }),
    }
}

/// Records the canary a stage serves, if it has one.
fn put_canary(
    canaries: &mut FxHashMap<String, FxHashMap<String, Arc<Canary>>>,
    api_id: &str,
    stage: &str,
    canary: Option<Arc<Canary>>,
) {
    if let Some(canary) = canary {
        canaries
            .entry(api_id.to_string())
            .or_default()
            .insert(stage.to_string(), canary);
    }
}

impl Canary {
    /// The canary of `base`, compiled: with `useStageCache` it reads and
    /// fills the stage's cache; otherwise it has a cache of its own, kept
    /// from `old` when its size is unchanged (by `keep`).
    fn of(
        mut canary: CompiledStage,
        base: &CompiledStage,
        old: Option<&Arc<Canary>>,
        settings: &crate::model::CanarySettings,
        keep: impl Fn(&mut CompiledStage, Option<&Arc<CompiledStage>>),
    ) -> Canary {
        canary.is_canary = true;
        let base_cache = base.cache.clone();
        if settings.use_stage_cache {
            canary.cache = base_cache;
        } else {
            keep(
                &mut canary,
                old.map(|c| &c.stage).filter(|c| {
                    !c.cache
                        .as_ref()
                        .zip(base_cache.as_ref())
                        .is_some_and(|(canary, base)| Arc::ptr_eq(canary, base))
                }),
            );
        }
        Canary {
            stage: Arc::new(canary),
            percent: std::sync::atomic::AtomicU64::new(settings.percent_traffic.to_bits()),
        }
    }
}

/// An apigatewayv2 API's (HTTP or WebSocket) stages, compiled: an
/// `autoDeploy` stage serves the API as it is now (`current`), another one
/// the snapshot of its deployment; a stage never deployed is not served.
fn v2_stages<'p, A: 'p, C>(
    current: &'p A,
    stages: &[crate::model::HttpStage],
    snapshot: impl Fn(&str) -> Option<&'p Arc<A>>,
    compile: impl Fn(&A, &crate::model::HttpStage) -> C,
) -> FxHashMap<String, Arc<C>> {
    stages
        .iter()
        .filter_map(|stage| {
            let served = if stage.auto_deploy {
                current
            } else {
                snapshot(stage.deployment_id.as_deref()?)?.as_ref()
            };
            Some((stage.stage_name.clone(), Arc::new(compile(served, stage))))
        })
        .collect()
}

/// How to run the gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub bind: std::net::IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Threads serving requests (each connection stays on one).
    pub worker_threads: usize,
    /// Requests kept for the live log.
    pub request_log_capacity: usize,
    /// The most bytes the request log's records may hold.
    pub request_log_bytes: usize,
    /// Account-level throttling (AWS's default: 10,000 requests/s, burst 5,000).
    pub account_throttle: throttle::Limits,
    /// Access key id -> secret access key: when any are set, control-plane
    /// requests must carry a valid SigV4 signature by one of them; when
    /// none, any signature is accepted.
    pub control_credentials: HashMap<String, String>,
    /// Host names the management endpoints (control plane, `_portico`,
    /// `@connections`) answer for, besides IP addresses, `localhost` and
    /// `*.localhost` (see [`control_plane`]).
    pub allowed_hosts: Vec<String>,
    /// Whether the local issuer's token endpoint stays on while
    /// `control_credentials` are set (it is off then unless asked for).
    pub local_issuer_with_credentials: bool,
    /// WebSocket quotas (AWS's by default).
    pub websocket_limits: websocket::WebSocketLimits,
    /// Client connections: header and idle timeouts, how many may be open.
    pub connection_limits: limits::ConnectionLimits,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            worker_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            request_log_capacity: 2_000,
            request_log_bytes: 16 << 20,
            account_throttle: throttle::Limits::ACCOUNT_DEFAULT,
            control_credentials: HashMap::new(),
            allowed_hosts: Vec::new(),
            local_issuer_with_credentials: false,
            websocket_limits: websocket::WebSocketLimits::default(),
            connection_limits: limits::ConnectionLimits::default(),
        }
    }
}

/// State shared by the server tasks and the handle.
#[derive(Debug)]
pub struct Shared {
    pub routes: ArcSwap<Routes>,
    pub services: Services,
    pub request_log: RequestLog,
    pub metrics: Arc<crate::observe::Metrics>,
    /// The project the control plane edits (and the desktop app shares).
    pub model: crate::control::ModelStore,
    /// Where control-plane changes run, one at a time, at low priority.
    pub control_writer: crate::control::writer::Writer,
    /// Replaced configurations waiting for their last request to finish,
    /// so that they are freed on the writer thread rather than on the
    /// thread of whichever request dropped them last (a large API's
    /// compiled stages take a while to free).
    retired: std::sync::Mutex<Vec<Arc<Routes>>>,
    /// See [`GatewayConfig::control_credentials`].
    pub control_credentials: HashMap<String, String>,
    /// Why stages are not served (or serve an older configuration): the
    /// errors of the last compile.
    pub compile_errors: std::sync::Mutex<Vec<CompileError>>,
    /// Who may reach the management endpoints.
    pub admission: control_plane::Admission,
    /// Portico's own OpenID issuer, once the port is known.
    pub issuer: std::sync::OnceLock<crate::auth::jwt::LocalIssuer>,
    /// Live WebSocket connections.
    pub connections: connections::Connections,
    pub websocket_limits: websocket::WebSocketLimits,
    /// New WebSocket connections per second (AWS's account quota).
    pub websocket_connect_throttle: Option<throttle::TokenBucket>,
}

impl Shared {
    /// Serves `project` as it now is, recompiling what `effects` says
    /// changed. A stage that does not compile keeps what it served (see
    /// [`Routes::recompile`]); the errors are kept for
    /// [`Gateway::compile_errors`].
    pub fn apply(&self, project: &Project, effects: crate::control::Effects) {
        if effects.routes {
            let (routes, errors) = Routes::recompile(project, &self.routes.load());
            self.swap_routes(project, routes, errors);
        }
        self.apply_keys(project, effects);
    }

    fn swap_routes(&self, project: &Project, routes: Routes, errors: Vec<CompileError>) {
        self.services.functions.update(project);
        *self
            .compile_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = errors;
        let old = self.routes.swap(Arc::new(routes));
        self.retire(old);
    }

    /// Runs a control-plane change on the project (on the writer thread).
    /// A change to what is served is compiled on the changed copy first: if
    /// a stage would fail to compile in a way it did not before, the change
    /// is refused with a 400 and nothing is saved or served, so that a
    /// deployment that does not take effect never answers success.
    pub fn write(
        &self,
        effects: crate::control::Effects,
        change: crate::control::operation::Writer,
    ) -> Result<crate::control::Answer, crate::control::ControlError> {
        let mut compiled = None;
        let mut refused = false;
        let written = self.model.write(|project| {
            let answer = change(project)?;
            if effects.routes {
                let (routes, errors) = Routes::recompile(project, &self.routes.load());
                let before = self
                    .compile_errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if let Some(error) = errors.iter().find(|e| !before.contains(e)) {
                    refused = true;
                    return Err(crate::control::error::bad_request(format!(
                        "The change does not compile, so it was not applied: {error}"
                    )));
                }
                drop(before);
                compiled = Some((routes, errors));
            }
            Ok(answer)
        });
        if refused {
            // Deploying saves the project as it goes: put the file back as
            // the project still is.
            self.model.read(Project::save)?;
        }
        let (answer, project, _) = written?;
        if let Some((routes, errors)) = compiled {
            self.swap_routes(&project, routes, errors);
        }
        self.apply_keys(&project, effects);
        Ok(answer)
    }

    fn apply_keys(&self, project: &Project, effects: crate::control::Effects) {
        if effects.keys
            && let Some(keys) = &self.services.api_keys
        {
            keys.keys
                .store(Arc::new(crate::auth::api_keys::ApiKeys::compile(project)));
        }
    }
}

impl Shared {
    /// Keeps `old` until nothing else holds it or its stages, then frees
    /// it here (called on the writer thread); sweeps earlier ones too.
    fn retire(&self, old: Arc<Routes>) {
        let mut retired = self.retired.lock().unwrap_or_else(|e| e.into_inner());
        retired.push(old);
        retired.retain(|routes| !Self::unreferenced(routes));
    }

    /// Frees the retired configurations no request holds any more.
    pub fn sweep_retired(&self) {
        let mut retired = self.retired.lock().unwrap_or_else(|e| e.into_inner());
        retired.retain(|routes| !Self::unreferenced(routes));
    }

    fn unreferenced(routes: &Arc<Routes>) -> bool {
        Arc::strong_count(routes) == 1
            && routes
                .apis
                .values()
                .flat_map(|stages| stages.values())
                .all(|stage| Arc::strong_count(stage) == 1)
            && routes
                .canaries
                .values()
                .flat_map(|stages| stages.values())
                .all(|canary| {
                    Arc::strong_count(canary) == 1 && Arc::strong_count(&canary.stage) == 1
                })
            && routes
                .http_apis
                .values()
                .flat_map(|stages| stages.values())
                .all(|stage| Arc::strong_count(stage) == 1)
            && routes
                .web_sockets
                .values()
                .flat_map(|stages| stages.values())
                .all(|stage| Arc::strong_count(stage) == 1)
    }
}

/// A served stage, for printing and `ls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageUrl {
    pub api_id: String,
    pub api_name: String,
    pub stage: String,
    pub deployment_id: String,
    pub url: String,
}

/// Handle to a running gateway. Dropping it stops the server.
pub struct Gateway {
    runtime: Option<tokio::runtime::Runtime>,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Gateway {
    /// Compiles the project and starts serving it. Fails if the port is
    /// taken; a stage that does not compile is not served (see
    /// [`Gateway::compile_errors`]) and the others are.
    pub fn start(project: &Project, config: &GatewayConfig) -> Result<Gateway, GatewayStartError> {
        let (routes, compile_errors) = Routes::compile(project);
        // Requests are served on threads of their own (see
        // `server::spawn_serving_threads`); this runtime runs the acceptor
        // and the background work (sweeps, quota flushes).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("portico-gateway")
            .enable_all()
            .build()
            .map_err(GatewayStartError::Io)?;
        let shared = {
            let _guard = runtime.enter();
            Arc::new(Shared {
                routes: ArcSwap::from_pointee(routes),
                services: Services {
                    functions: crate::functions::FunctionHost::new(project),
                    account_throttle: Some(Arc::new(throttle::TokenBucket::new(
                        config.account_throttle,
                        throttle::monotonic(),
                    ))),
                    api_keys: Some(services::ApiKeyServices {
                        keys: Arc::new(ArcSwap::from_pointee(
                            crate::auth::api_keys::ApiKeys::compile(project),
                        )),
                        usage: Arc::new(crate::auth::api_keys::UsageStore::load(&project.dir)),
                    }),
                    ..Services::default()
                },
                request_log: RequestLog::new(config.request_log_capacity, config.request_log_bytes),
                metrics: Arc::new(crate::observe::Metrics::new()),
                model: crate::control::ModelStore::new(project.clone()),
                control_writer: crate::control::writer::Writer::start(),
                retired: std::sync::Mutex::new(Vec::new()),
                control_credentials: config.control_credentials.clone(),
                compile_errors: std::sync::Mutex::new(compile_errors),
                admission: control_plane::Admission::new(
                    &config.allowed_hosts,
                    config.local_issuer_with_credentials,
                ),
                issuer: std::sync::OnceLock::new(),
                connections: connections::Connections::default(),
                websocket_limits: config.websocket_limits,
                websocket_connect_throttle: Some(throttle::TokenBucket::new(
                    throttle::Limits {
                        rate: f64::from(config.websocket_limits.connections_per_second),
                        burst: u64::from(config.websocket_limits.connections_per_second),
                    },
                    throttle::monotonic(),
                )),
            })
        };
        // Bound synchronously so that `start` works from any thread, inside
        // an async context or not.
        let addr = SocketAddr::new(config.bind, config.port);
        let listener =
            std::net::TcpListener::bind(addr).map_err(|e| GatewayStartError::Bind(addr, e))?;
        listener
            .set_nonblocking(true)
            .map_err(GatewayStartError::Io)?;
        let local_addr = listener.local_addr().map_err(GatewayStartError::Io)?;
        shared
            .admission
            .gateway_port
            .store(local_addr.port(), std::sync::atomic::Ordering::Relaxed);
        shared
            .services
            .functions
            .set_gateway_url(&format!("http://{local_addr}"));
        let _ = shared
            .issuer
            .set(crate::auth::jwt::LocalIssuer::new(&format!(
                "http://{local_addr}"
            )));
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(GatewayStartError::Io)?
        };
        let serving = server::spawn_serving_threads(config.worker_threads.max(1), &shared)
            .map_err(GatewayStartError::Io)?;
        // Every client connection holds a descriptor: take all the process
        // may have, and cap the connections below it.
        let table = Arc::new(limits::ConnectionTable::new(
            config.connection_limits,
            limits::raise_file_limit(),
        ));
        runtime.spawn(server::accept(listener, serving, table));
        // Retired configurations are freed on the writer thread once the
        // requests that held them are done.
        {
            let shared = Arc::clone(&shared);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let sweeper = Arc::clone(&shared);
                    shared
                        .control_writer
                        .run(move || sweeper.sweep_retired())
                        .await;
                }
            });
        }
        // Quota counters reach the disk within a second of changing.
        if let Some(keys) = &shared.services.api_keys {
            let usage = Arc::clone(&keys.usage);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let usage = Arc::clone(&usage);
                    let _ = tokio::task::spawn_blocking(move || usage.flush()).await;
                }
            });
        }
        Ok(Gateway {
            runtime: Some(runtime),
            local_addr,
            shared,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn request_log(&self) -> &RequestLog {
        &self.shared.request_log
    }

    /// Portico's own OpenID issuer (`{gateway}/_portico/issuer`): what a
    /// JWT authorizer's `issuer` names to accept tokens it mints.
    pub fn issuer(&self) -> &crate::auth::jwt::LocalIssuer {
        self.shared
            .issuer
            .get()
            .expect("set when the gateway starts")
    }

    /// The project as the control plane sees it; the desktop app pushes its
    /// edits here and adopts the control plane's.
    pub fn model(&self) -> &crate::control::ModelStore {
        &self.shared.model
    }

    /// Live WebSocket connections: list, post to, close (the
    /// `@connections` API without HTTP).
    pub fn connections(&self) -> &connections::Connections {
        &self.shared.connections
    }

    /// The served requests' metrics (test invokes are not counted, as on
    /// AWS).
    pub fn metrics(&self) -> &Arc<crate::observe::Metrics> {
        &self.shared.metrics
    }

    /// Recompiles from the project and swaps the configuration in; in-flight
    /// requests finish on the configuration they started with. Every stage
    /// that compiles is applied; the first error of one that does not (it
    /// keeps what it served) is returned.
    pub fn reload(&self, project: &Project) -> Result<(), CompileError> {
        let (routes, errors) = Routes::recompile(project, &self.shared.routes.load());
        let first = errors.first().cloned();
        self.shared.model.set(project.clone());
        self.shared.swap_routes(project, routes, errors);
        self.shared.apply_keys(
            project,
            crate::control::Effects {
                routes: false,
                keys: true,
            },
        );
        first.map_or(Ok(()), Err)
    }

    /// Stages not served (or serving an older configuration) because they
    /// do not compile, with the reason.
    pub fn compile_errors(&self) -> Vec<CompileError> {
        self.shared
            .compile_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes a stage's canary share at once, for the requests that
    /// arrive from now on (the project keeps the setting; see
    /// [`Project::set_canary_percent`]). False if the stage has no canary.
    pub fn set_canary_percent(&self, api_id: &str, stage: &str, percent: f64) -> bool {
        let routes = self.shared.routes.load();
        match routes.canaries.get(api_id).and_then(|s| s.get(stage)) {
            Some(canary) => {
                canary.set_percent(percent.clamp(0.0, 100.0));
                true
            }
            None => false,
        }
    }

    /// Requests a key has made against its plan's quota in the current
    /// period.
    pub fn quota_used(
        &self,
        plan_id: &str,
        key_id: &str,
        quota: &crate::model::QuotaSettings,
    ) -> u64 {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.shared
            .services
            .api_keys
            .as_ref()
            .map_or(0, |k| k.usage.used_in_period(plan_id, key_id, quota, now))
    }

    /// Empties a stage's response cache (AWS's FlushStageCache); false if
    /// the stage has none.
    pub fn flush_cache(&self, api_id: &str, stage: &str) -> bool {
        let routes = self.shared.routes.load();
        if let Some(cache) = routes
            .canaries
            .get(api_id)
            .and_then(|c| c.get(stage))
            .and_then(|c| c.stage.cache.as_ref())
        {
            cache.flush();
        }
        drop(routes);
        let routes = self.shared.routes.load();
        match routes
            .apis
            .get(api_id)
            .and_then(|s| s.get(stage))
            .and_then(|s| s.cache.as_ref())
        {
            Some(cache) => {
                cache.flush();
                true
            }
            None => false,
        }
    }

    /// The URL of every served stage.
    pub fn stage_urls(&self, project: &Project) -> Vec<StageUrl> {
        stage_urls(project, self.local_addr)
    }

    /// Runs `future` on the gateway's runtime: how the GUI sends console
    /// requests without blocking its frame.
    pub fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(runtime) = self.runtime.as_ref() {
            runtime.spawn(future);
        }
    }

    /// The integration clients, for [`test_invoke`] on this runtime.
    pub fn services(&self) -> Services {
        self.shared.services.clone()
    }

    /// The services for a test invoke: as AWS's console Test button, no
    /// API key check and no throttling.
    pub fn test_invoke_services(&self) -> Services {
        Services {
            api_keys: None,
            account_throttle: None,
            ..self.shared.services.clone()
        }
    }

    /// Runs a request against an API's draft, as AWS's console "Test"
    /// button does (`$context.stage` is `test-invoke-stage`), in this
    /// gateway's runtime, and records it in the request log.
    pub fn test_invoke(
        &self,
        api: &RestApi,
        request: MethodRequest,
    ) -> Result<Execution, CompileError> {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let services = self.test_invoke_services();
        runtime.block_on(test_invoke(api, request, &services))
    }
}

/// Runs a request against an API's draft without a server.
pub async fn test_invoke(
    api: &RestApi,
    request: MethodRequest,
    services: &Services,
) -> Result<Execution, CompileError> {
    let stage = Stage::new("test-invoke-stage", "test-invoke-deployment-id");
    let compiled = compile_stage(api, &stage)?;
    let log = crate::observe::ExecutionLog::starting(request.received_at);
    Ok(pipeline::execute(&compiled, &request, services, log).await)
}

/// The URL each stage is served at, for a gateway at `addr`: the short form
/// when the project has one REST API, else the LocalStack-style path form.
pub fn stage_urls(project: &Project, addr: SocketAddr) -> Vec<StageUrl> {
    let single = project.rest_apis.len() == 1;
    let mut urls = Vec::new();
    for api in &project.rest_apis {
        for stage in &api.stages {
            let url = if single {
                format!("http://{addr}/{}/", stage.stage_name)
            } else {
                format!(
                    "http://{addr}/restapis/{}/{}/_user_request_/",
                    api.id, stage.stage_name
                )
            };
            urls.push(StageUrl {
                api_id: api.id.clone(),
                api_name: api.name.clone(),
                stage: stage.stage_name.clone(),
                deployment_id: stage.deployment_id.clone(),
                url,
            });
        }
    }
    // HTTP APIs by their host name (`$default` without a stage segment):
    // auto-deployed stages and deployed ones.
    for api in &project.http_apis {
        for stage in api
            .stages
            .iter()
            .filter(|s| s.auto_deploy || s.deployment_id.is_some())
        {
            let base = format!(
                "http://{}.execute-api.localhost:{}/",
                api.api_id,
                addr.port()
            );
            urls.push(StageUrl {
                api_id: api.api_id.clone(),
                api_name: api.name.clone(),
                stage: stage.stage_name.clone(),
                deployment_id: stage.deployment_id.clone().unwrap_or_default(),
                url: if stage.stage_name == "$default" {
                    base
                } else {
                    format!("{base}{}/", stage.stage_name)
                },
            });
        }
    }
    // WebSocket APIs by the path form, which any client can resolve.
    for api in &project.web_socket_apis {
        for stage in api
            .stages
            .iter()
            .filter(|s| s.auto_deploy || s.deployment_id.is_some())
        {
            urls.push(StageUrl {
                api_id: api.api_id.clone(),
                api_name: api.name.clone(),
                stage: stage.stage_name.clone(),
                deployment_id: stage.deployment_id.clone().unwrap_or_default(),
                url: format!(
                    "ws://{addr}/restapis/{}/{}/_user_request_/",
                    api.api_id, stage.stage_name
                ),
            });
        }
    }
    urls
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        if let Some(keys) = &self.shared.services.api_keys {
            keys.usage.flush();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayStartError {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("{0}")]
    Io(std::io::Error),
}
