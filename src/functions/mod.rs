//! Local Lambda functions: each worker is a real process speaking the AWS
//! Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `/response`,
//! `/error`, `/init/error`) to a server of ours on a loopback port of its
//! own. Python and Node run our bootstraps (`assets/bootstrap/`); `provided`
//! runs the code directory's `bootstrap` executable, so official runtime
//! clients work unchanged. A pool per function reuses warm workers, starts
//! more up to the concurrency limit, queues a little beyond it and then
//! throttles, kills a worker whose invocation times out and replaces
//! crashed ones; a worker that fails its init (exits, or does not ask
//! for its first event within AWS's 10 s init limit and then the
//! function's timeout) fails the waiting invocations at once and the next
//! start waits (backing off). Each worker
//! is a process group that dies with the gateway. Workers' output goes to
//! the function's log with the START / END / REPORT / INIT_REPORT lines
//! CloudWatch shows. Asynchronous invocations and `$disconnect`s go
//! through a bounded event queue per function ([`events`]); the
//! asynchronous ones are kept in the project ([`event_store`]) until they
//! have run.

mod event_store;
mod events;
mod log;
mod pool;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

pub use events::EventConfig;
pub use log::{FunctionLog, LogLine};
pub use pool::PoolStatus;

use crate::model::{FunctionDefinition, Project};

/// What an invocation gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's result (JSON).
    Success(Bytes),
    /// The handler failed (`X-Amz-Function-Error: Unhandled` on AWS): the
    /// error document `{"errorMessage", "errorType", ...}`.
    Error { error_type: String, payload: Bytes },
}

impl Outcome {
    pub fn error(error_type: &str, message: &str) -> Outcome {
        Outcome::Error {
            error_type: "Unhandled".into(),
            payload: Bytes::from(
                serde_json::json!({"errorMessage": message, "errorType": error_type}).to_string(),
            ),
        }
    }
}

/// Why an invocation could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    #[error("Function not found: {0}")]
    NotFound(String),
    /// AWS's `TooManyRequestsException` (`Rate Exceeded.`).
    #[error("Rate Exceeded.")]
    Throttled,
    #[error("{0}")]
    Start(String),
}

/// Every function of a project, and their worker pools (started on first
/// use, inside the tokio runtime that invokes them).
#[derive(Clone, Default)]
pub struct FunctionHost {
    inner: Arc<Mutex<HostState>>,
}

impl std::fmt::Debug for FunctionHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionHost").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct HostState {
    project_dir: PathBuf,
    definitions: HashMap<String, FunctionDefinition>,
    pools: HashMap<String, Arc<pool::Pool>>,
    logs: HashMap<String, Arc<FunctionLog>>,
    events: HashMap<String, Arc<events::EventQueue>>,
    event_config: EventConfig,
    /// `PORTICO_GATEWAY_URL` in every worker's environment: where a
    /// function reaches the gateway (the `@connections` API, the control
    /// plane).
    gateway_url: Option<String>,
    /// The runtime the host was made in (the gateway's), which runs the
    /// event queues resumed from the project's event files. `None` for a
    /// host made outside a runtime (a one-off CLI invocation): its event
    /// queues are in memory only, and it resumes nothing.
    runtime: Option<tokio::runtime::Handle>,
    /// How long a worker may take to initialize, for pools started from
    /// now on (`None`: [`pool::INIT_LIMIT`]).
    init_limit: Option<std::time::Duration>,
}

impl HostState {
    /// Where the event queues keep their files: in the project, for a host
    /// that has one.
    fn events_dir(&self) -> Option<PathBuf> {
        (!self.project_dir.as_os_str().is_empty())
            .then(|| self.project_dir.join(event_store::EVENTS_DIR))
    }
}

impl FunctionHost {
    /// The host of `project`'s functions. Made inside a tokio runtime (the
    /// gateway's), it runs at once, on that runtime, the asynchronous
    /// invocations an earlier gateway left in the project's event files.
    pub fn new(project: &Project) -> FunctionHost {
        let host = FunctionHost::default();
        host.inner.lock().unwrap_or_else(|e| e.into_inner()).runtime =
            tokio::runtime::Handle::try_current().ok();
        host.update(project);
        host
    }

    /// Takes the project's function definitions; pools whose definition
    /// changed (or went away) are stopped, their logs kept. Another
    /// project directory stops the event queues (their events stay in
    /// their project); the new project's pending events are resumed.
    pub fn update(&self, project: &Project) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let definitions: HashMap<String, FunctionDefinition> = project
            .functions
            .iter()
            .map(|f| (f.function_name.clone(), f.clone()))
            .collect();
        let dir_changed = state.project_dir != project.dir;
        let stale: Vec<String> = state
            .pools
            .keys()
            .filter(|name| dir_changed || state.definitions.get(*name) != definitions.get(*name))
            .cloned()
            .collect();
        for name in stale {
            if let Some(pool) = state.pools.remove(&name) {
                pool.shutdown();
            }
        }
        if dir_changed {
            for (_, queue) in state.events.drain() {
                queue.stop();
            }
        }
        state.project_dir = project.dir.clone();
        state.definitions = definitions;
        self.resume_events(&mut state);
    }

    /// Starts the event queue of each defined function that has events
    /// waiting in its file (when the host has a runtime to run them on).
    fn resume_events(&self, state: &mut HostState) {
        let (Some(runtime), Some(dir)) = (state.runtime.clone(), state.events_dir()) else {
            return;
        };
        let mut names: Vec<String> = state
            .definitions
            .keys()
            .filter(|name| !state.events.contains_key(*name))
            .filter(|name| {
                std::fs::metadata(dir.join(format!("{name}.jsonl"))).is_ok_and(|m| m.len() > 0)
            })
            .cloned()
            .collect();
        names.sort();
        for name in names {
            let log = Arc::clone(state.logs.entry(name.clone()).or_default());
            // The gateway before this one, dropped in this process, may
            // still be letting its file go.
            let queue = events::EventQueue::start(
                &name,
                log,
                state.event_config.clone(),
                self.clone(),
                Some(&dir),
                std::time::Duration::from_secs(2),
                &runtime,
            );
            state.events.insert(name, queue);
        }
    }

    /// Tells workers started from now on where the gateway listens.
    pub fn set_gateway_url(&self, url: &str) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.gateway_url = Some(url.to_string());
    }

    /// Waits (up to `limit`) until the gateway has said where it listens.
    async fn wait_for_gateway_url(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            let set = {
                let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                state.gateway_url.is_some()
            };
            if set {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub fn definition(&self, name: &str) -> Option<FunctionDefinition> {
        let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.definitions.get(name).cloned()
    }

    /// The function's log (created empty for a defined function).
    pub fn log(&self, name: &str) -> Option<Arc<FunctionLog>> {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !state.definitions.contains_key(name) {
            return state.logs.get(name).cloned();
        }
        Some(Arc::clone(state.logs.entry(name.to_string()).or_default()))
    }

    /// How asynchronous invocations are retried and queued, for queues
    /// started from now on.
    pub fn set_event_config(&self, config: EventConfig) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.event_config = config;
    }

    /// How long a worker may take to ask for its first event (AWS's 10 s
    /// init limit unless set; tests shorten it), for pools started from now
    /// on.
    pub fn set_init_limit(&self, limit: std::time::Duration) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.init_limit = Some(limit);
    }

    /// Workers running / busy per started function, and its event queue.
    pub fn status(&self) -> Vec<(String, PoolStatus)> {
        let state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, PoolStatus)> = state
            .pools
            .iter()
            .map(|(name, pool)| (name.clone(), pool.status()))
            .collect();
        for (name, queue) in &state.events {
            let (queued, overflowed, discarded) = queue.counts();
            let index = match out.iter().position(|(n, _)| n == name) {
                Some(index) => index,
                None => {
                    out.push((name.clone(), PoolStatus::default()));
                    out.len() - 1
                }
            };
            let status = &mut out[index].1;
            status.events_queued = queued;
            status.events_overflowed = overflowed;
            status.events_discarded = discarded;
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn pool(&self, name: &str) -> Result<Arc<pool::Pool>, InvokeError> {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = state.pools.get(name) {
            return Ok(Arc::clone(pool));
        }
        let mut definition = state
            .definitions
            .get(name)
            .cloned()
            .ok_or_else(|| InvokeError::NotFound(name.to_string()))?;
        if let Some(url) = &state.gateway_url {
            definition
                .environment
                .entry("PORTICO_GATEWAY_URL".into())
                .or_insert_with(|| url.clone());
        }
        let log = Arc::clone(state.logs.entry(name.to_string()).or_default());
        let code_dir = definition.code_dir(&state.project_dir);
        // Absolute, so the worker's working directory and LAMBDA_TASK_ROOT agree.
        let code_dir = std::fs::canonicalize(&code_dir)
            .or_else(|_| std::path::absolute(&code_dir))
            .unwrap_or(code_dir);
        let init_limit = state.init_limit.unwrap_or(pool::INIT_LIMIT);
        let pool = Arc::new(pool::Pool::new(definition, code_dir, log, init_limit));
        state.pools.insert(name.to_string(), Arc::clone(&pool));
        Ok(pool)
    }

    /// Invokes `name` synchronously (`RequestResponse`) with `payload`.
    pub async fn invoke(&self, name: &str, payload: Bytes) -> Result<Outcome, InvokeError> {
        let pool = self.pool(name)?;
        pool.invoke(payload, pool::Admission::Throttle).await
    }

    /// An invocation from the event queue: never throttled by the pool
    /// (the queue's dispatcher bounds them), it waits for a worker.
    async fn invoke_waiting(&self, name: &str, payload: Bytes) -> Result<Outcome, InvokeError> {
        let pool = self.pool(name)?;
        pool.invoke(payload, pool::Admission::Wait).await
    }

    /// The function's event queue (started on the current tokio runtime).
    fn events(&self, name: &str) -> Result<Arc<events::EventQueue>, InvokeError> {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !state.definitions.contains_key(name) {
            return Err(InvokeError::NotFound(name.to_string()));
        }
        if let Some(queue) = state.events.get(name) {
            return Ok(Arc::clone(queue));
        }
        let log = Arc::clone(state.logs.entry(name.to_string()).or_default());
        // A one-off host (no runtime of its own: a CLI invocation) keeps
        // its events in memory and leaves the project's files alone.
        let dir = state.runtime.as_ref().and(state.events_dir());
        let queue = events::EventQueue::start(
            name,
            log,
            state.event_config.clone(),
            self.clone(),
            dir.as_deref(),
            std::time::Duration::ZERO,
            &tokio::runtime::Handle::current(),
        );
        state.events.insert(name.to_string(), Arc::clone(&queue));
        Ok(queue)
    }

    /// Invokes `name` asynchronously (`Event`): queued (Lambda's 202) and
    /// written to the project's event file (this returns once it is on
    /// disk), run when the function has room, retried by AWS's rules, its
    /// result dropped. `Throttled` when the function's event queue is full.
    pub async fn invoke_event(&self, name: &str, payload: Bytes) -> Result<(), InvokeError> {
        self.events(name)?.push(payload, None).await
    }

    /// Invokes `name` through its event queue and waits for the outcome:
    /// an invocation that must happen (`$disconnect`) waits its turn
    /// rather than be throttled; a function error is not retried.
    pub async fn invoke_delivered(
        &self,
        name: &str,
        payload: Bytes,
    ) -> Result<Outcome, InvokeError> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.events(name)?.push(payload, Some(reply)).await?;
        outcome
            .await
            .unwrap_or_else(|_| Err(InvokeError::Start("the gateway is stopping".into())))
    }

    /// Stops every worker and every event queue (events not yet run stay
    /// in the project's event files).
    pub fn shutdown(&self) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (_, pool) in state.pools.drain() {
            pool.shutdown();
        }
        for (_, queue) in state.events.drain() {
            queue.stop();
        }
    }
}

/// Where the bootstraps are written for the interpreters to run (they are
/// compiled into the binary, so an installed `portico` needs no assets).
fn bootstrap_file(name: &str, text: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("portico-bootstrap-{}", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        let temp = dir.join(format!("{name}.{}", std::process::id()));
        std::fs::write(&temp, text)?;
        std::fs::rename(&temp, &path)?;
    }
    Ok(path)
}

pub(crate) const PYTHON_BOOTSTRAP: &str = include_str!("../../assets/bootstrap/python.py");
pub(crate) const NODE_BOOTSTRAP: &str = include_str!("../../assets/bootstrap/node.js");

/// The interpreter and arguments that start a worker for `definition`.
fn worker_command(
    definition: &FunctionDefinition,
    code_dir: &Path,
) -> Result<(PathBuf, Vec<PathBuf>), String> {
    use crate::model::RuntimeKind;
    match definition.kind() {
        Some(RuntimeKind::Python) => {
            let bootstrap =
                bootstrap_file("python.py", PYTHON_BOOTSTRAP).map_err(|e| e.to_string())?;
            Ok((
                PathBuf::from("python3"),
                vec![PathBuf::from("-u"), bootstrap],
            ))
        }
        Some(RuntimeKind::Node) => {
            let bootstrap = bootstrap_file("node.js", NODE_BOOTSTRAP).map_err(|e| e.to_string())?;
            Ok((PathBuf::from("node"), vec![bootstrap]))
        }
        Some(RuntimeKind::Provided) => {
            let bootstrap = code_dir.join("bootstrap");
            if !bootstrap.is_file() {
                // AWS's Runtime.InvalidEntrypoint message.
                return Err(format!(
                    "Couldn't find valid bootstrap(s): [{}]",
                    bootstrap.display()
                ));
            }
            Ok((bootstrap, Vec::new()))
        }
        None => Err(format!("Unsupported runtime {}", definition.runtime)),
    }
}
