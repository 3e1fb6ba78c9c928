//! One function's workers and the Runtime API each of them talks to.

use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::{FunctionLog, InvokeError, Outcome};
use crate::model::FunctionDefinition;

/// AWS's synchronous response payload limit.
const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
/// Invocations that may wait for a worker when every allowed worker is
/// busy, per allowed worker; beyond that the invocation is throttled.
const QUEUE_PER_WORKER: usize = 4;
/// How long an invocation may wait for a worker before it is throttled.
const QUEUE_WAIT: Duration = Duration::from_secs(30);
/// After a worker fails its init, the next start waits this long, doubling
/// with each failure up to [`INIT_BACKOFF_MAX`]; invocations meanwhile fail
/// at once with the init error.
const INIT_BACKOFF_FIRST: Duration = Duration::from_secs(1);
const INIT_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// How long a runtime may take to ask for its first event (AWS: "The Init
/// phase is limited to 10 seconds"; a start after an init timeout has the
/// function's timeout instead:
/// <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html>).
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Starts each worker under a small `sh` that leads the worker's process
/// group: when the gateway dies (even by `kill -9`) the kernel sends this
/// shell SIGTERM (`PR_SET_PDEATHSIG`, set before it runs) and it kills the
/// whole group, so neither the worker nor anything the function forked
/// outlives the gateway. A worker that dies by a signal is reported as
/// such (the shell re-raises it on itself).
const SHIM: &str = r#"trap 'kill -KILL 0' TERM
"$@" &
wait $!
s=$?
if [ "$s" -gt 128 ] && [ "$s" -lt 160 ]; then trap - TERM; kill -$((s - 128)) $$; fi
exit $s"#;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub workers: usize,
    pub busy: usize,
    pub queued: usize,
    pub invocations: u64,
    /// Set while the function's last start failed its init (AWS's
    /// `Runtime.ExitError` and the like): `Runtime.ExitError (exit status 1)`.
    pub failed: Option<String>,
    /// Asynchronous invocations (and `$disconnect`s) waiting or running.
    pub events_queued: usize,
    /// Events refused because the function's event queue was full.
    pub events_overflowed: u64,
    /// Events dropped after their retries or past their maximum age.
    pub events_discarded: u64,
}

/// Whether an invocation may be throttled when the pool is saturated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Synchronous invocations: throttled beyond the limit and its queue.
    Throttle,
    /// Queued events: their dispatcher bounds them; they wait their turn.
    Wait,
}

/// The last init failure and when the next start may be tried.
struct InitFailure {
    error_type: String,
    /// The error document's message without the request id prefix.
    message: String,
    /// The document the runtime posted to `/runtime/init/error`, if it did.
    posted: Option<Bytes>,
    /// `exit status 1`, or the posted message (for the status label).
    label: String,
    retry_at: Instant,
}

impl InitFailure {
    fn outcome(&self, request_id: &str) -> Outcome {
        match &self.posted {
            Some(payload) => Outcome::Error {
                error_type: "Unhandled".into(),
                payload: payload.clone(),
            },
            None => Outcome::error(
                &self.error_type,
                &format!("RequestId: {request_id} Error: {}", self.message),
            ),
        }
    }
}

struct Pending {
    request_id: String,
    payload: Bytes,
    dispatched: oneshot::Sender<()>,
    reply: oneshot::Sender<Outcome>,
}

struct Running {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
    started: Instant,
}

struct Worker {
    id: u64,
    pid: Mutex<Option<u32>>,
    spawned: Instant,
    /// Time from start to the first `/next`: the Init Duration of a cold start.
    init: Mutex<Option<Duration>>,
    /// Set at the first `/next`.
    started: AtomicBool,
    current: Mutex<Option<Running>>,
    init_error: Mutex<Option<Bytes>>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    /// How long it may take to ask for its first event.
    init_limit: Duration,
    /// Set when it was stopped for taking longer than `init_limit`.
    init_timed_out: AtomicBool,
}

#[derive(Default)]
struct PoolState {
    workers: Vec<Arc<Worker>>,
    /// Workers waiting in `/next`.
    idle: usize,
    queued: usize,
    /// Workers being started (counted against the limit already).
    starting: usize,
    next_id: u64,
    init_failure: Option<InitFailure>,
    /// The wait before the next start after an init failure (zero once a
    /// worker starts).
    backoff: Duration,
    /// Init timeouts in a row (zero once a worker starts): after the first,
    /// the next start has the function's timeout; after the second, the
    /// function has failed its init.
    init_timeouts: u32,
}

pub struct Pool {
    definition: FunctionDefinition,
    code_dir: PathBuf,
    /// [`INIT_LIMIT`], or less for tests.
    init_limit: Duration,
    log: Arc<FunctionLog>,
    queue: mpsc::UnboundedSender<Pending>,
    receiver: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    state: Mutex<PoolState>,
    invocations: AtomicU64,
    shut: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Decrements the idle count when a `/next` ends, however it ends.
struct IdleGuard<'a>(&'a Pool);

impl Drop for IdleGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).idle -= 1;
    }
}

fn iso_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Pool {
    pub fn new(
        definition: FunctionDefinition,
        code_dir: PathBuf,
        log: Arc<FunctionLog>,
        init_limit: Duration,
    ) -> Pool {
        let (queue, receiver) = mpsc::unbounded_channel();
        Pool {
            definition,
            code_dir,
            init_limit,
            log,
            queue,
            receiver: tokio::sync::Mutex::new(receiver),
            state: Mutex::new(PoolState::default()),
            invocations: AtomicU64::new(0),
            shut: AtomicBool::new(false),
        }
    }

    pub fn status(&self) -> PoolStatus {
        let state = lock(&self.state);
        PoolStatus {
            workers: state.workers.len(),
            busy: state
                .workers
                .iter()
                .filter(|w| lock(&w.current).is_some())
                .count(),
            queued: state.queued,
            invocations: self.invocations.load(Ordering::Relaxed),
            failed: state
                .init_failure
                .as_ref()
                .map(|f| format!("{} ({})", f.error_type, f.label)),
            ..PoolStatus::default()
        }
    }

    pub fn shutdown(&self) {
        self.shut.store(true, Ordering::SeqCst);
        let workers = std::mem::take(&mut lock(&self.state).workers);
        for worker in workers {
            if let Some(kill) = lock(&worker.kill).take() {
                let _ = kill.send(());
            }
        }
        // Invocations still waiting learn that the pool is gone (queued
        // events are then retried on the function's new pool).
        if let Ok(mut receiver) = self.receiver.try_lock() {
            while let Ok(pending) = receiver.try_recv() {
                lock(&self.state).queued -= 1;
                drop(pending);
            }
        }
    }

    pub async fn invoke(
        self: &Arc<Self>,
        payload: Bytes,
        admission: Admission,
    ) -> Result<Outcome, InvokeError> {
        if self.shut.load(Ordering::SeqCst) {
            return Err(redefined());
        }
        let limit = self.definition.concurrency() as usize;
        let request_id = uuid::Uuid::new_v4().to_string();
        let (dispatched_tx, dispatched) = oneshot::channel();
        let (reply_tx, reply) = oneshot::channel();
        {
            let mut state = lock(&self.state);
            // The last start failed its init and the next may not be tried
            // yet: fail at once with its error, as AWS does while the
            // function cannot initialize.
            if let Some(failure) = &state.init_failure
                && Instant::now() < failure.retry_at
                && !state
                    .workers
                    .iter()
                    .any(|w| w.started.load(Ordering::SeqCst))
            {
                self.invocations.fetch_add(1, Ordering::Relaxed);
                return Ok(failure.outcome(&request_id));
            }
            // Workers being started count as busy: they cannot take more.
            let busy = (state.workers.len() + state.starting).saturating_sub(state.idle);
            if admission == Admission::Throttle
                && busy >= limit
                && state.queued >= limit * QUEUE_PER_WORKER
            {
                return Err(InvokeError::Throttled);
            }
            state.queued += 1;
        }
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let _ = self.queue.send(Pending {
            request_id: request_id.clone(),
            payload,
            dispatched: dispatched_tx,
            reply: reply_tx,
        });
        self.scale();
        let dispatched = match admission {
            Admission::Throttle => tokio::time::timeout(QUEUE_WAIT, dispatched).await,
            // It waits for a worker as long as it takes (its dispatcher
            // bounds how many wait); the function's timeout applies once
            // it runs.
            Admission::Wait => Ok(dispatched.await),
        };
        match dispatched {
            Ok(Ok(())) => {}
            // The pending invocation was answered without running (a worker
            // that failed to start took it with its error), or the pool was
            // stopped under it (the function was redefined).
            Ok(Err(_)) => {
                if self.shut.load(Ordering::SeqCst) {
                    return Err(redefined());
                }
            }
            Err(_) => return Err(InvokeError::Throttled),
        }
        let timeout = Duration::from_secs(u64::from(self.definition.timeout));
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Ok(Outcome::error(
                "Runtime.ExitError",
                &format!(
                    "RequestId: {request_id} Error: Runtime exited without providing a reason"
                ),
            )),
            Err(_) => {
                let message = format!(
                    "{} {request_id} Task timed out after {}.00 seconds",
                    iso_now(),
                    self.definition.timeout
                );
                self.log.push(message.clone());
                self.kill_running(&request_id);
                Ok(Outcome::Error {
                    error_type: "Unhandled".into(),
                    payload: Bytes::from(serde_json::json!({"errorMessage": message}).to_string()),
                })
            }
        }
    }

    /// Kills the worker running `request_id` (a timeout): AWS stops the
    /// execution environment; the next invocation gets a fresh one.
    fn kill_running(&self, request_id: &str) {
        let state = lock(&self.state);
        for worker in &state.workers {
            let mut current = lock(&worker.current);
            if current.as_ref().is_some_and(|r| r.request_id == request_id) {
                if let Some(running) = current.take() {
                    self.report(worker, &running);
                }
                if let Some(kill) = lock(&worker.kill).take() {
                    let _ = kill.send(());
                }
            }
        }
    }

    /// Starts a worker when invocations wait and no worker is idle.
    fn scale(self: &Arc<Self>) {
        let limit = self.definition.concurrency() as usize;
        let id = {
            let mut state = lock(&self.state);
            if self.shut.load(Ordering::SeqCst)
                || state.queued <= state.idle + state.starting
                || state.workers.len() + state.starting >= limit
                || state
                    .init_failure
                    .as_ref()
                    .is_some_and(|f| Instant::now() < f.retry_at)
            {
                return;
            }
            state.starting += 1;
            state.next_id += 1;
            state.next_id
        };
        // On success `spawn_worker` moves the reservation from `starting`
        // to `workers` under one lock; on failure it is given back here.
        if let Err(error) = self.spawn_worker(id) {
            lock(&self.state).starting -= 1;
            self.log.push(format!("Worker could not start: {error}"));
            self.fail_one_pending(Outcome::error("Runtime.InvalidEntrypoint", &error));
        }
    }

    /// Answers one waiting invocation with `outcome` (a worker that could
    /// not start or failed its init).
    fn fail_one_pending(&self, outcome: Outcome) {
        let Ok(mut receiver) = self.receiver.try_lock() else {
            return;
        };
        if let Ok(pending) = receiver.try_recv() {
            lock(&self.state).queued -= 1;
            let _ = pending.dispatched.send(());
            let _ = pending.reply.send(outcome);
        }
    }

    fn spawn_worker(self: &Arc<Self>, id: u64) -> Result<(), String> {
        let (program, args) = super::worker_command(&self.definition, &self.code_dir)?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        let (kill_tx, kill_rx) = oneshot::channel();
        // After an init timeout the next start has the function's timeout
        // (AWS retries the init within the first invocation).
        let init_limit = if lock(&self.state).init_timeouts > 0 {
            Duration::from_secs(u64::from(self.definition.timeout))
        } else {
            self.init_limit
        };
        let worker = Arc::new(Worker {
            id,
            pid: Mutex::new(None),
            spawned: Instant::now(),
            init: Mutex::new(None),
            started: AtomicBool::new(false),
            current: Mutex::new(None),
            init_error: Mutex::new(None),
            kill: Mutex::new(Some(kill_tx)),
            init_limit,
            init_timed_out: AtomicBool::new(false),
        });
        let definition = &self.definition;
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(SHIM)
            .arg("portico-worker")
            .arg(&program)
            .args(&args)
            .current_dir(&self.code_dir)
            .env_clear()
            .envs(
                std::env::vars()
                    .filter(|(k, _)| matches!(k.as_str(), "PATH" | "LANG" | "HOME" | "SYSTEMROOT")),
            )
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("_HANDLER", &definition.handler)
            .env("LAMBDA_TASK_ROOT", &self.code_dir)
            .env("AWS_LAMBDA_FUNCTION_NAME", &definition.function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                definition.memory_size.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", definition.function_name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!(
                    "{}/[$LATEST]{:032x}",
                    time::OffsetDateTime::now_utc().date(),
                    id
                ),
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env(
                "AWS_EXECUTION_ENV",
                format!("AWS_Lambda_{}", definition.runtime),
            )
            .env("AWS_REGION", crate::model::function::REGION)
            .env("AWS_DEFAULT_REGION", crate::model::function::REGION)
            .env("TZ", ":UTC")
            .envs(&definition.environment)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group, so the worker and everything it forks
            // are killed together.
            .process_group(0);
        let gateway_pid = std::process::id();
        // SAFETY: only async-signal-safe calls (prctl, getppid) between
        // fork and exec. The death signal fires when the *thread* that
        // spawned the worker ends: workers are spawned from the gateway's
        // long-lived runtime threads, whose end means the gateway's.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The gateway died before the death signal was armed.
                if libc::getppid() as u32 != gateway_pid {
                    return Err(std::io::Error::other("the gateway is gone"));
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        *lock(&worker.pid) = child.id();
        let group = GroupGuard(child.id());
        {
            let mut state = lock(&self.state);
            state.workers.push(Arc::clone(&worker));
            state.starting -= 1;
        }

        if let Some(stdout) = child.stdout.take() {
            self.forward_output(stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            self.forward_output(stderr);
        }
        let server = {
            let pool = Arc::clone(self);
            let worker = Arc::clone(&worker);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let pool = Arc::clone(&pool);
                    let worker = Arc::clone(&worker);
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            let pool = Arc::clone(&pool);
                            let worker = Arc::clone(&worker);
                            async move { Ok::<_, Infallible>(pool.runtime_api(&worker, request).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        let pool = Arc::clone(self);
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status.ok(),
                stop = async {
                    tokio::select! {
                        _ = kill_rx => false,
                        _ = init_deadline(&worker) => true,
                    }
                } => {
                    // A runtime that has not asked for its first event in
                    // time is stopped like one that is killed.
                    worker.init_timed_out.store(stop, Ordering::SeqCst);
                    if let Some(pgid) = group.0 {
                        kill_group(pgid);
                    }
                    let _ = child.kill().await;
                    None
                }
            };
            // What the function forked and left behind goes with it.
            drop(group);
            server.abort();
            pool.worker_gone(&worker, status);
        });
        Ok(())
    }

    fn forward_output(&self, stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        let log = Arc::clone(&self.log);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log.push(line);
            }
        });
    }

    /// A worker's process ended: answer what it was running; a worker
    /// that never asked for an invocation failed its init (the pool backs
    /// off and fails what waits); else start a replacement if invocations
    /// wait.
    fn worker_gone(
        self: &Arc<Self>,
        worker: &Arc<Worker>,
        status: Option<std::process::ExitStatus>,
    ) {
        lock(&self.state).workers.retain(|w| w.id != worker.id);
        let reason = match &status {
            Some(status) => format!("Runtime exited with error: {}", exit_reason(status)),
            None => "Runtime was stopped".to_string(),
        };
        if let Some(running) = lock(&worker.current).take() {
            self.log
                .push(format!("RequestId: {} Error: {reason}", running.request_id));
            self.report(worker, &running);
            let _ = running.reply.send(Outcome::error(
                "Runtime.ExitError",
                &format!("RequestId: {} Error: {reason}", running.request_id),
            ));
        }
        let posted = lock(&worker.init_error).take();
        if self.shut.load(Ordering::SeqCst) {
            return;
        }
        if worker.init_timed_out.load(Ordering::SeqCst) {
            self.init_timed_out(worker);
            return;
        }
        if let Some(status) = status
            && !worker.started.load(Ordering::SeqCst)
        {
            self.init_failed(worker, &status, posted);
            return;
        }
        if let Some(error) = posted {
            self.fail_one_pending(Outcome::Error {
                error_type: "Unhandled".into(),
                payload: error,
            });
        }
        self.scale();
    }

    /// A worker exited before its first `/next`: AWS's init failure. Logs
    /// the `INIT_REPORT` line (unless the runtime reported the error
    /// itself), fails the waiting invocations with the error when no
    /// initialized worker can take them, and waits before the next start.
    fn init_failed(
        self: &Arc<Self>,
        worker: &Worker,
        status: &std::process::ExitStatus,
        posted: Option<Bytes>,
    ) {
        let exit = exit_reason(status);
        let (error_type, message) = match &posted {
            Some(document) => {
                let value: serde_json::Value = serde_json::from_slice(document).unwrap_or_default();
                let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
                (
                    text("errorType").unwrap_or_else(|| "Runtime.Unknown".into()),
                    text("errorMessage").unwrap_or_default(),
                )
            }
            None => {
                self.log.push(format!(
                    "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError",
                    worker.spawned.elapsed().as_secs_f64() * 1000.0
                ));
                (
                    "Runtime.ExitError".to_string(),
                    format!("Runtime exited with error: {exit}"),
                )
            }
        };
        let label = if posted.is_some() {
            let mut short: String = message.chars().take(80).collect();
            if short.is_empty() {
                short = exit.clone();
            }
            short
        } else {
            exit
        };
        self.record_init_failure(error_type, message, posted, label);
    }

    /// A worker did not ask for its first event within its init limit (it
    /// was stopped). The first time, the `INIT_REPORT ... Status: timeout`
    /// line and a new start at once, with the function's timeout for its
    /// init; a second time in a row, an init failure (`Sandbox.Timedout`,
    /// AWS's error for a timeout) with the back-off of
    /// [`Pool::init_failed`].
    fn init_timed_out(self: &Arc<Self>, worker: &Worker) {
        let timeouts = {
            let mut state = lock(&self.state);
            state.init_timeouts += 1;
            state.init_timeouts
        };
        let phase = if timeouts == 1 { "init" } else { "invoke" };
        self.log.push(format!(
            "INIT_REPORT Init Duration: {:.2} ms\tPhase: {phase}\tStatus: timeout",
            worker.spawned.elapsed().as_secs_f64() * 1000.0
        ));
        if timeouts == 1 {
            self.log.push(format!(
                "Init timed out after {:.0} s; the next start may take the function's timeout ({} s)",
                worker.init_limit.as_secs_f64(),
                self.definition.timeout
            ));
            self.scale();
            return;
        }
        lock(&self.state).init_timeouts = 0;
        self.record_init_failure(
            "Sandbox.Timedout".into(),
            format!(
                "Task timed out after {}.00 seconds",
                self.definition.timeout
            ),
            None,
            format!(
                "init timed out after {:.0} s",
                worker.init_limit.as_secs_f64()
            ),
        );
    }

    /// Records an init failure: the next start waits (doubling), and the
    /// waiting invocations get the error at once when no initialized
    /// worker can take them.
    fn record_init_failure(
        self: &Arc<Self>,
        error_type: String,
        message: String,
        posted: Option<Bytes>,
        label: String,
    ) {
        let (backoff, any_started) = {
            let mut state = lock(&self.state);
            state.backoff = if state.backoff.is_zero() {
                INIT_BACKOFF_FIRST
            } else {
                (state.backoff * 2).min(INIT_BACKOFF_MAX)
            };
            let failure = InitFailure {
                error_type: error_type.clone(),
                message,
                posted,
                label: label.clone(),
                retry_at: Instant::now() + state.backoff,
            };
            state.init_failure = Some(failure);
            let any_started = state
                .workers
                .iter()
                .any(|w| w.started.load(Ordering::SeqCst));
            (state.backoff, any_started)
        };
        self.log.push(format!(
            "Init failed: {error_type} ({label}); the next start is tried in {} s",
            backoff.as_secs()
        ));
        // Nothing initialized can take the waiting invocations: they get
        // the init error now rather than wait for a start that fails.
        let Ok(mut receiver) = self.receiver.try_lock() else {
            return;
        };
        loop {
            let pending = if any_started {
                None
            } else {
                receiver.try_recv().ok()
            };
            let Some(pending) = pending else {
                break;
            };
            lock(&self.state).queued -= 1;
            let outcome = {
                let state = lock(&self.state);
                state
                    .init_failure
                    .as_ref()
                    .map(|f| f.outcome(&pending.request_id))
            };
            if let Some(outcome) = outcome {
                let _ = pending.dispatched.send(());
                let _ = pending.reply.send(outcome);
            }
        }
        drop(receiver);
        if any_started {
            self.scale();
        }
    }

    fn report(&self, worker: &Worker, running: &Running) {
        let elapsed = running.started.elapsed().as_secs_f64() * 1000.0;
        let used = worker
            .pid
            .lock()
            .ok()
            .and_then(|pid| *pid)
            .and_then(|shim| max_memory_mb(worker_pid(shim)))
            .unwrap_or(0);
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {elapsed:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {used} MB",
            running.request_id,
            elapsed.ceil().max(1.0) as u64,
            self.definition.memory_size
        );
        if let Some(init) = lock(&worker.init).take() {
            line.push_str(&format!(
                "\tInit Duration: {:.2} ms",
                init.as_secs_f64() * 1000.0
            ));
        }
        self.log
            .push(format!("END RequestId: {}", running.request_id));
        self.log.push(line);
    }

    fn finish(&self, worker: &Worker, request_id: &str, outcome: Outcome) -> bool {
        let mut current = lock(&worker.current);
        if current.as_ref().is_none_or(|r| r.request_id != request_id) {
            return false;
        }
        let Some(running) = current.take() else {
            return false;
        };
        drop(current);
        self.report(worker, &running);
        let _ = running.reply.send(outcome);
        true
    }

    /// The Runtime API, for one worker.
    async fn runtime_api(
        self: &Arc<Self>,
        worker: &Arc<Worker>,
        request: Request<hyper::body::Incoming>,
    ) -> Response<Full<Bytes>> {
        const PREFIX: &str = "/2018-06-01/runtime/";
        let path = request.uri().path().to_string();
        let Some(route) = path.strip_prefix(PREFIX) else {
            return json(
                StatusCode::NOT_FOUND,
                r#"{"errorMessage":"Not found","errorType":"NotFound"}"#,
            );
        };
        let method = request.method().clone();
        if method == hyper::Method::GET && route == "invocation/next" {
            return self.next(worker).await;
        }
        if method != hyper::Method::POST {
            return json(
                StatusCode::METHOD_NOT_ALLOWED,
                r#"{"errorMessage":"Method not allowed","errorType":"MethodNotAllowed"}"#,
            );
        }
        let error_type = request
            .headers()
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("Unhandled")
            .to_string();
        let body = match Limited::new(request.into_body(), RESPONSE_LIMIT + 1)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        if route == "init/error" {
            self.log.push(format!("INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}", worker.spawned.elapsed().as_secs_f64() * 1000.0));
            *lock(&worker.init_error) = Some(body);
            return json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#);
        }
        let Some(rest) = route.strip_prefix("invocation/") else {
            return json(
                StatusCode::NOT_FOUND,
                r#"{"errorMessage":"Not found","errorType":"NotFound"}"#,
            );
        };
        let (request_id, kind) = rest.split_once('/').unwrap_or((rest, ""));
        let outcome = match kind {
            "response" if body.len() > RESPONSE_LIMIT => Outcome::error(
                "Function.ResponseSizeTooLarge",
                &format!(
                    "Response payload size ({} bytes) exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
                    body.len()
                ),
            ),
            "response" => Outcome::Success(body),
            "error" => Outcome::Error {
                error_type,
                payload: body,
            },
            _ => {
                return json(
                    StatusCode::NOT_FOUND,
                    r#"{"errorMessage":"Not found","errorType":"NotFound"}"#,
                );
            }
        };
        if self.finish(worker, request_id, outcome) {
            json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        } else {
            json(
                StatusCode::BAD_REQUEST,
                r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
            )
        }
    }

    async fn next(self: &Arc<Self>, worker: &Arc<Worker>) -> Response<Full<Bytes>> {
        if !worker.started.swap(true, Ordering::SeqCst) {
            *lock(&worker.init) = Some(worker.spawned.elapsed());
            let mut state = lock(&self.state);
            state.backoff = Duration::ZERO;
            state.init_timeouts = 0;
            if state.init_failure.take().is_some() {
                drop(state);
                self.log.push("Init succeeded: the function recovered");
            }
        }
        loop {
            let pending = {
                lock(&self.state).idle += 1;
                let _idle = IdleGuard(self);
                let mut receiver = self.receiver.lock().await;
                receiver.recv().await
            };
            let Some(pending) = pending else {
                return json(
                    StatusCode::GONE,
                    r#"{"errorMessage":"Shut down","errorType":"ShutDown"}"#,
                );
            };
            lock(&self.state).queued -= 1;
            // More waiting than idle workers: start another, up to the limit.
            self.scale();
            if pending.dispatched.send(()).is_err() {
                // The caller stopped waiting (throttled); take the next.
                continue;
            }
            let timeout_ms = u64::from(self.definition.timeout) * 1000;
            let deadline = super::log::now_ms() + timeout_ms;
            self.log.push(format!(
                "START RequestId: {} Version: $LATEST",
                pending.request_id
            ));
            *lock(&worker.current) = Some(Running {
                request_id: pending.request_id.clone(),
                reply: pending.reply,
                started: Instant::now(),
            });
            let trace = format!(
                "Root=1-{:08x}-{};Parent={};Sampled=0",
                deadline / 1000,
                &pending.request_id.replace('-', "")[..24],
                &pending.request_id.replace('-', "")[..16]
            );
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &pending.request_id)
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header("lambda-runtime-invoked-function-arn", self.definition.arn())
                .header("lambda-runtime-trace-id", trace)
                .body(Full::new(pending.payload))
                .unwrap_or_default();
        }
    }
}

/// Resolves when `worker` has not asked for its first event within its
/// init limit; never once it has.
async fn init_deadline(worker: &Worker) {
    tokio::time::sleep(worker.init_limit).await;
    if worker.started.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
}

fn redefined() -> InvokeError {
    InvokeError::Start("the function was redefined; try again".into())
}

/// Why a worker process ended, in the words of AWS's `Runtime.ExitError`
/// messages (Go's: `exit status 1`, `signal: killed`).
fn exit_reason(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(libc::SIGKILL) => "signal: killed".into(),
        Some(libc::SIGTERM) => "signal: terminated".into(),
        Some(libc::SIGSEGV) => "signal: segmentation fault".into(),
        Some(libc::SIGABRT) => "signal: aborted".into(),
        Some(libc::SIGINT) => "signal: interrupt".into(),
        Some(libc::SIGHUP) => "signal: hangup".into(),
        Some(signal) => format!("signal: {signal}"),
        None => "exited".into(),
    }
}

/// Kills every process of a worker's group (the worker and whatever its
/// function started).
fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

/// Kills the group when dropped: the worker's task ends however it ends
/// (the runtime shutting down drops it).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            kill_group(pgid);
        }
    }
}

fn json(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap_or_default()
}

/// The worker process under its shell (the shell's only child).
fn worker_pid(shim: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{shim}/task/{shim}/children"))
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(shim)
}

/// The process's peak resident memory (Linux `VmHWM`), in MB.
fn max_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.div_ceil(1024))
}
