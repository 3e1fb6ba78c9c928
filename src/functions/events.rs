//! A function's queue of asynchronous invocations (`Event`) and of the
//! invocations whose delivery is promised (`$disconnect`): bounded,
//! drained by a dispatcher that keeps within the function's concurrency,
//! with Lambda's retry rules for asynchronous invocation
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>):
//! a function error (the code's or the runtime's, a timeout included) is
//! retried twice (`MaximumRetryAttempts`, 0 to 2), after a wait (one, then
//! two minutes on AWS; [`EventConfig::retry_delays`] here); a throttle or
//! a system error returns the event to the queue with an exponential wait
//! (1 s up to 5 minutes on AWS) until the event is older than
//! `MaximumEventAgeInSeconds` (60 to 21,600, default 21,600). Events the
//! queue cannot hold (by count or by bytes), and events dropped after
//! their attempts or their age, are written to the function's log and
//! counted.
//!
//! Asynchronous invocations are durable ([`super::event_store`]): the
//! caller's 202 means the event is synced to the project's
//! `.portico/events/<function>.jsonl`; a gateway started later on the
//! project runs what was left, with its original enqueue time and its
//! function errors so far, so the maximum age and the retries keep
//! counting. Delivery is at least once, as on AWS: an event running when
//! the gateway died runs again. Deliveries (`$disconnect`) are not
//! written: their caller waits for them.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use super::event_store::{EventStore, OpenError, StoredEvent};
use super::log::now_ms;
use super::{FunctionHost, FunctionLog, InvokeError, Outcome};

/// How the queue retries and how much it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventConfig {
    /// Retries after a function error: AWS's `MaximumRetryAttempts`
    /// (0 to 2, default 2).
    pub maximum_retry_attempts: u32,
    /// AWS's `MaximumEventAgeInSeconds` (60 s to 6 h, default 6 h).
    pub maximum_event_age: Duration,
    /// The waits before the first and the second retry. AWS waits one and
    /// two minutes; locally 1 s and 2 s, so a retried event shows up while
    /// one watches.
    pub retry_delays: [Duration; 2],
    /// The first wait after a throttle or system error, doubling up to
    /// `system_retry_max` (AWS: 1 s up to 5 minutes).
    pub system_retry_first: Duration,
    pub system_retry_max: Duration,
    /// Events waiting or running per function; beyond it an event is
    /// refused (the caller gets `TooManyRequestsException`).
    pub capacity: usize,
    /// The payload bytes those events may hold together (in memory and in
    /// the event file); beyond it an event is refused likewise.
    pub max_bytes: usize,
}

impl Default for EventConfig {
    fn default() -> EventConfig {
        EventConfig {
            maximum_retry_attempts: 2,
            maximum_event_age: Duration::from_secs(21_600),
            retry_delays: [Duration::from_secs(1), Duration::from_secs(2)],
            system_retry_first: Duration::from_millis(100),
            system_retry_max: Duration::from_secs(5),
            capacity: 100_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, InvokeError>>;

struct Event {
    request_id: String,
    payload: Bytes,
    /// When it was accepted (milliseconds since the Unix epoch, so that
    /// its age survives a restart).
    enqueued_ms: u64,
    /// Written to the event file (a `done` line is owed when it ends).
    persisted: bool,
    /// Attempts that ended in a function error.
    function_errors: u32,
    system_errors: u32,
    due: Instant,
    /// Set for a delivery (`$disconnect`): its caller waits for the
    /// outcome; a function error is not retried (AWS calls the route
    /// once), a throttle is.
    reply: Option<Reply>,
}

#[derive(Default)]
struct QueueState {
    ready: VecDeque<Event>,
    /// Waiting for a retry, in no particular order.
    delayed: Vec<Event>,
    in_flight: usize,
    /// The payload bytes of the events waiting or running.
    bytes: usize,
}

impl QueueState {
    fn len(&self) -> usize {
        self.ready.len() + self.delayed.len() + self.in_flight
    }
}

pub(super) struct EventQueue {
    function: String,
    log: Arc<FunctionLog>,
    config: EventConfig,
    /// `None` when the host has no project directory, or the file could
    /// not be opened (then the queue is in memory only; logged).
    store: Option<EventStore>,
    state: Mutex<QueueState>,
    wake: Notify,
    /// Set by [`EventQueue::stop`]: the dispatcher starts nothing more.
    stopped: AtomicBool,
    overflowed: AtomicU64,
    discarded: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl EventQueue {
    /// A queue for `function`, its dispatcher started on `runtime`. With
    /// `store_dir`, events are kept in its event file, and those left
    /// there by an earlier gateway are queued again at once; the file is
    /// waited for up to `lock_wait` when another gateway holds it.
    pub(super) fn start(
        function: &str,
        log: Arc<FunctionLog>,
        config: EventConfig,
        host: FunctionHost,
        store_dir: Option<&Path>,
        lock_wait: Duration,
        runtime: &tokio::runtime::Handle,
    ) -> Arc<EventQueue> {
        let (store, stored) = match store_dir {
            Some(dir) => open_store(dir, function, &log, lock_wait),
            None => (None, Vec::new()),
        };
        let queue = Arc::new(EventQueue {
            function: function.to_string(),
            log,
            config,
            store,
            state: Mutex::new(QueueState::default()),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            overflowed: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
        });
        let resumed = !stored.is_empty();
        queue.resume(stored);
        runtime.spawn(dispatch(Arc::clone(&queue), host, resumed));
        queue
    }

    /// Queues the events read back from the event file, as far as the
    /// queue's bounds allow (the rest overflow: logged, counted, and
    /// marked done in the file).
    fn resume(&self, stored: Vec<StoredEvent>) {
        if stored.is_empty() {
            return;
        }
        let total = stored.len();
        let mut state = lock(&self.state);
        for event in stored {
            if let Some(reason) = self.full(&state, event.payload.len()) {
                self.overflow(&event.id, &reason);
                if let Some(store) = &self.store {
                    // Sent now; nothing waits for the write.
                    drop(store.done(&event.id));
                }
                continue;
            }
            state.bytes += event.payload.len();
            state.ready.push_back(Event {
                request_id: event.id,
                payload: event.payload,
                enqueued_ms: event.enqueued_ms,
                persisted: true,
                function_errors: event.function_errors,
                system_errors: 0,
                due: Instant::now(),
                reply: None,
            });
        }
        let queued = state.ready.len();
        drop(state);
        if let Some(store) = &self.store {
            self.log.push(format!(
                "ASYNC_QUEUE Status: resumed\t{queued} of {total} event(s) left in {} queued again",
                store.path().display()
            ));
        }
    }

    /// Why an event of `bytes` does not fit, if it does not.
    fn full(&self, state: &QueueState, bytes: usize) -> Option<String> {
        if state.len() >= self.config.capacity {
            Some(format!(
                "the event queue of {} is full ({} events)",
                self.function, self.config.capacity
            ))
        } else if state.bytes.saturating_add(bytes) > self.config.max_bytes {
            Some(format!(
                "the event queue of {} is full ({} bytes queued, {} allowed)",
                self.function, state.bytes, self.config.max_bytes
            ))
        } else {
            None
        }
    }

    fn overflow(&self, request_id: &str, reason: &str) {
        let total = self.overflowed.fetch_add(1, Ordering::Relaxed) + 1;
        self.log.push(format!(
            "ASYNC_QUEUE RequestId: {request_id} Status: dropped\tReason: {reason}\tDropped so far: {total}"
        ));
    }

    /// Events waiting or running, refused for lack of room, dropped.
    pub(super) fn counts(&self) -> (usize, u64, u64) {
        (
            lock(&self.state).len(),
            self.overflowed.load(Ordering::Relaxed),
            self.discarded.load(Ordering::Relaxed),
        )
    }

    /// Queues an event; `Throttled` when the queue is full (logged and
    /// counted). An asynchronous invocation (no `reply`) is written to the
    /// event file first: this returns once it is synced there.
    pub(super) async fn push(
        &self,
        payload: Bytes,
        reply: Option<Reply>,
    ) -> Result<(), InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let synced = {
            let mut state = lock(&self.state);
            if let Some(reason) = self.full(&state, payload.len()) {
                drop(state);
                self.overflow(&request_id, &reason);
                return Err(InvokeError::Throttled);
            }
            let enqueued_ms = now_ms();
            // Sent under the lock, so the file has the events in the order
            // the queue has them.
            let synced = match (&self.store, &reply) {
                (Some(store), None) => Some(store.put(&request_id, enqueued_ms, &payload)),
                _ => None,
            };
            state.bytes += payload.len();
            state.ready.push_back(Event {
                request_id,
                payload,
                enqueued_ms,
                persisted: synced.is_some(),
                function_errors: 0,
                system_errors: 0,
                due: Instant::now(),
                reply,
            });
            synced
        };
        self.wake.notify_one();
        if let Some(synced) = synced {
            // A write that failed was logged once by the store; the event
            // stays queued in memory.
            let _ = synced.await;
        }
        Ok(())
    }

    /// Stops dispatching (events left stay in the event file for the next
    /// gateway) and releases the event file.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if let Some(store) = &self.store {
            store.close();
        }
    }

    /// An event is finished (run, or dropped): it leaves the queue's
    /// bytes and, when written, the event file.
    async fn finish(&self, event: &Event) {
        lock(&self.state).bytes -= event.payload.len();
        if event.persisted
            && let Some(store) = &self.store
        {
            store.done(&event.request_id).await;
        }
    }

    async fn discard(&self, mut event: Event, reason: &str) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
        self.log.push(format!(
            "ASYNC_QUEUE RequestId: {} Status: discarded\tReason: {reason}",
            event.request_id
        ));
        if let Some(reply) = event.reply.take() {
            let _ = reply.send(Err(InvokeError::Start(format!(
                "the invocation was discarded: {reason}"
            ))));
        }
        self.finish(&event).await;
    }

    /// Puts `event` back for a retry at `due`.
    fn retry(&self, mut event: Event, due: Instant) {
        event.due = due;
        let mut state = lock(&self.state);
        state.delayed.push(event);
    }
}

/// Opens `function`'s event file in `dir`, waiting up to `lock_wait` for
/// another gateway (or the one before this, still stopping) to release it.
/// On failure the queue is kept in memory (logged).
fn open_store(
    dir: &Path,
    function: &str,
    log: &Arc<FunctionLog>,
    lock_wait: Duration,
) -> (Option<EventStore>, Vec<StoredEvent>) {
    let deadline = std::time::Instant::now() + lock_wait;
    loop {
        match EventStore::open(dir, function, Arc::clone(log)) {
            Ok((store, stored)) => return (Some(store), stored),
            Err(OpenError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                log.push(format!(
                    "ASYNC_QUEUE Status: in memory\tReason: {e}; events queued now are lost if the gateway stops"
                ));
                return (None, Vec::new());
            }
        }
    }
}

/// Releases the event file when the dispatcher goes (its runtime shut
/// down), so the next gateway on the project can take it.
struct StopOnDrop(Arc<EventQueue>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Takes events as they fall due, at most the function's concurrency at
/// once, each on a task of its own.
async fn dispatch(queue: Arc<EventQueue>, host: FunctionHost, resumed: bool) {
    let _stop = StopOnDrop(Arc::clone(&queue));
    if resumed {
        // Events resumed as the gateway starts: their workers should know
        // where it listens, which it says a moment later.
        host.wait_for_gateway_url(Duration::from_secs(1)).await;
    }
    loop {
        if queue.stopped.load(Ordering::SeqCst) {
            return;
        }
        let limit = host
            .definition(&queue.function)
            .map_or(1, |d| d.concurrency() as usize);
        let (event, next_due) = {
            let mut state = lock(&queue.state);
            let now = Instant::now();
            let mut index = 0;
            while index < state.delayed.len() {
                if state.delayed[index].due <= now {
                    let event = state.delayed.swap_remove(index);
                    state.ready.push_back(event);
                } else {
                    index += 1;
                }
            }
            let next_due = state.delayed.iter().map(|e| e.due).min();
            if state.in_flight < limit
                && let Some(event) = state.ready.pop_front()
            {
                state.in_flight += 1;
                (Some(event), next_due)
            } else {
                (None, next_due)
            }
        };
        match event {
            Some(event) => {
                tokio::spawn(attempt(Arc::clone(&queue), host.clone(), event));
            }
            None => {
                // Woken by a new event, a finished attempt, a retry
                // falling due, a stop (and every few seconds, for a
                // changed limit).
                let sleep = next_due.unwrap_or_else(|| Instant::now() + Duration::from_secs(5));
                tokio::select! {
                    _ = queue.wake.notified() => {}
                    _ = tokio::time::sleep_until(sleep) => {}
                }
            }
        }
    }
}

async fn attempt(queue: Arc<EventQueue>, host: FunctionHost, mut event: Event) {
    let config = &queue.config;
    let age = Duration::from_millis(now_ms().saturating_sub(event.enqueued_ms));
    if age > config.maximum_event_age {
        let reason = format!(
            "EventAgeExceeded (older than {} s)",
            config.maximum_event_age.as_secs()
        );
        queue.discard(event, &reason).await;
    } else {
        match host
            .invoke_waiting(&queue.function, event.payload.clone())
            .await
        {
            Ok(outcome @ Outcome::Success(_)) => {
                if let Some(reply) = event.reply.take() {
                    let _ = reply.send(Ok(outcome));
                }
                queue.finish(&event).await;
            }
            Ok(outcome @ Outcome::Error { .. }) => {
                event.function_errors += 1;
                if let Some(reply) = event.reply.take() {
                    let _ = reply.send(Ok(outcome));
                    queue.finish(&event).await;
                } else if event.function_errors > config.maximum_retry_attempts {
                    let attempts = event.function_errors;
                    let reason = format!("the function failed {attempts} attempt(s)");
                    queue.discard(event, &reason).await;
                } else {
                    if event.persisted
                        && let Some(store) = &queue.store
                    {
                        store.retry(&event.request_id, event.function_errors);
                    }
                    let wait = config.retry_delays[(event.function_errors as usize - 1).min(1)];
                    queue.retry(event, Instant::now() + wait);
                }
            }
            Err(InvokeError::NotFound(name)) => {
                queue
                    .discard(event, &format!("Function not found: {name}"))
                    .await;
            }
            Err(_) => {
                // Throttled, or the pool was replaced under it: back to
                // the queue, waiting longer each time.
                event.system_errors += 1;
                let exponent = event.system_errors.saturating_sub(1).min(16);
                let wait = config
                    .system_retry_first
                    .saturating_mul(1 << exponent)
                    .min(config.system_retry_max);
                queue.retry(event, Instant::now() + wait);
            }
        }
    }
    lock(&queue.state).in_flight -= 1;
    queue.wake.notify_one();
}
