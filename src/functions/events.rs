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
//! queue cannot hold, and events dropped after their attempts or their
//! age, are written to the function's log and counted.
//!
//! The queue is in memory: events still queued when the gateway stops are
//! lost (AWS keeps them; persisting the queue in the project is left to do).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

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
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, InvokeError>>;

struct Event {
    request_id: String,
    payload: Bytes,
    enqueued: Instant,
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
    state: Mutex<QueueState>,
    wake: Notify,
    overflowed: AtomicU64,
    discarded: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl EventQueue {
    /// A queue for `function`, its dispatcher started on the current tokio
    /// runtime.
    pub(super) fn start(
        function: &str,
        log: Arc<FunctionLog>,
        config: EventConfig,
        host: FunctionHost,
    ) -> Arc<EventQueue> {
        let queue = Arc::new(EventQueue {
            function: function.to_string(),
            log,
            config,
            state: Mutex::new(QueueState::default()),
            wake: Notify::new(),
            overflowed: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
        });
        tokio::spawn(dispatch(Arc::clone(&queue), host));
        queue
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
    /// counted).
    pub(super) fn push(&self, payload: Bytes, reply: Option<Reply>) -> Result<(), InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        {
            let mut state = lock(&self.state);
            if state.len() >= self.config.capacity {
                drop(state);
                let total = self.overflowed.fetch_add(1, Ordering::Relaxed) + 1;
                self.log.push(format!(
                    "ASYNC_QUEUE RequestId: {request_id} Status: dropped\tReason: the event queue of {} is full ({} events)\tDropped so far: {total}",
                    self.function, self.config.capacity
                ));
                return Err(InvokeError::Throttled);
            }
            let now = Instant::now();
            state.ready.push_back(Event {
                request_id,
                payload,
                enqueued: now,
                function_errors: 0,
                system_errors: 0,
                due: now,
                reply,
            });
        }
        self.wake.notify_one();
        Ok(())
    }

    fn discard(&self, event: Event, reason: &str) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
        self.log.push(format!(
            "ASYNC_QUEUE RequestId: {} Status: discarded\tReason: {reason}",
            event.request_id
        ));
        if let Some(reply) = event.reply {
            let _ = reply.send(Err(InvokeError::Start(format!(
                "the invocation was discarded: {reason}"
            ))));
        }
    }

    /// Puts `event` back for a retry at `due`.
    fn retry(&self, mut event: Event, due: Instant) {
        event.due = due;
        let mut state = lock(&self.state);
        state.delayed.push(event);
    }
}

/// Takes events as they fall due, at most the function's concurrency at
/// once, each on a task of its own.
async fn dispatch(queue: Arc<EventQueue>, host: FunctionHost) {
    loop {
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
                // Woken by a new event, a finished attempt, or a retry
                // falling due (and every few seconds, for a changed limit).
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
    let age = event.enqueued.elapsed();
    if age > config.maximum_event_age {
        queue.discard(
            event,
            &format!(
                "EventAgeExceeded (older than {} s)",
                config.maximum_event_age.as_secs()
            ),
        );
    } else {
        match host
            .invoke_waiting(&queue.function, event.payload.clone())
            .await
        {
            Ok(outcome @ Outcome::Success(_)) => {
                if let Some(reply) = event.reply.take() {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcome @ Outcome::Error { .. }) => {
                event.function_errors += 1;
                if let Some(reply) = event.reply.take() {
                    let _ = reply.send(Ok(outcome));
                } else if event.function_errors > config.maximum_retry_attempts {
                    let attempts = event.function_errors;
                    queue.discard(event, &format!("the function failed {attempts} attempt(s)"));
                } else {
                    let wait = config.retry_delays[(event.function_errors as usize - 1).min(1)];
                    queue.retry(event, Instant::now() + wait);
                }
            }
            Err(InvokeError::NotFound(name)) => {
                queue.discard(event, &format!("Function not found: {name}"));
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
