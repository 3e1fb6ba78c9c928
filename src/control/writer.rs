//! The control plane's one writer: a thread that runs every model change
//! (and the recompile it causes) in turn, at a lower scheduling priority
//! than the gateway's workers, so that a deployment of a large API never
//! takes the data plane's CPU (measured by `cargo bench --bench control`:
//! the data plane's p99 while deployments land).
//!
//! Under a load that keeps every core busy, an idle-priority thread would
//! hardly run at all, and a deployment could take minutes: a guard raises
//! a change that has run for [`STARVED_AFTER`] to an ordinary (nice)
//! priority until it is done.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// Runs control-plane changes one at a time on its own thread.
#[derive(Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The writer's nice value where `SCHED_IDLE` is refused: below the
/// default (0), so the kernel gives the gateway's threads the CPU first.
const NICE: i32 = 10;

/// How long a change may run at idle priority before the guard raises it.
pub const STARVED_AFTER: Duration = Duration::from_secs(1);

/// What the guard watches: the writer's thread id and when its change
/// started (0: no change running), in milliseconds since `epoch`.
#[derive(Debug)]
struct Watch {
    epoch: Instant,
    tid: AtomicI64,
    busy_since_ms: AtomicU64,
    raised: AtomicBool,
}

impl Watch {
    fn now_ms(&self) -> u64 {
        // Starts at 1 so that 0 can mean idle.
        self.epoch.elapsed().as_millis() as u64 + 1
    }
}

impl Writer {
    pub fn start() -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        let watch = Arc::new(Watch {
            epoch: Instant::now(),
            tid: AtomicI64::new(0),
            busy_since_ms: AtomicU64::new(0),
            raised: AtomicBool::new(false),
        });
        let watched = Arc::clone(&watch);
        let spawned = std::thread::Builder::new()
            .name("portico-control".into())
            .spawn(move || {
                watched.tid.store(thread_id(), Ordering::Release);
                lower_priority();
                for job in queue {
                    watched
                        .busy_since_ms
                        .store(watched.now_ms(), Ordering::Release);
                    job();
                    watched.busy_since_ms.store(0, Ordering::Release);
                    if watched.raised.swap(false, Ordering::AcqRel) {
                        lower_priority();
                    }
                }
            });
        if spawned.is_err() {
            // No thread: jobs fail to queue and callers report it.
            let (jobs, _) = mpsc::channel();
            return Writer { jobs };
        }
        let weak = Arc::downgrade(&watch);
        drop(watch);
        let _ = std::thread::Builder::new()
            .name("portico-control-guard".into())
            .spawn(move || guard(&weak));
        Writer { jobs }
    }

    /// Runs `change` on the writer thread; `None` if the writer is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        change: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = answer.send(change());
            }))
            .ok()?;
        answered.await.ok()
    }
}

/// Raises a change that has waited too long at idle priority; ends with
/// the writer.
fn guard(watch: &std::sync::Weak<Watch>) {
    loop {
        std::thread::sleep(STARVED_AFTER / 5);
        let Some(watch) = watch.upgrade() else { return };
        let since = watch.busy_since_ms.load(Ordering::Acquire);
        let starved =
            since != 0 && watch.now_ms().saturating_sub(since) >= STARVED_AFTER.as_millis() as u64;
        if starved && !watch.raised.swap(true, Ordering::AcqRel) {
            raise_priority(watch.tid.load(Ordering::Acquire));
        }
    }
}

#[cfg(target_os = "linux")]
fn thread_id() -> i64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

#[cfg(not(target_os = "linux"))]
fn thread_id() -> i64 {
    0
}

/// The ordinary policy at nice [`NICE`], for thread `tid`.
#[cfg(target_os = "linux")]
fn raise_priority(tid: i64) {
    let Ok(tid) = libc::pid_t::try_from(tid) else {
        return;
    };
    if tid == 0 {
        return;
    }
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` outlives the call; `tid` names the writer thread,
    // which lives as long as the `Watch` the caller holds.
    // The nice value first: leaving `SCHED_IDLE` is checked against it
    // (and against RLIMIT_NICE, which may refuse an unprivileged process:
    // then the change stays at idle priority).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
        libc::sched_setscheduler(tid, libc::SCHED_OTHER, &param);
    }
}

#[cfg(not(target_os = "linux"))]
fn raise_priority(_tid: i64) {}

/// Linux's `SCHED_IDLE`: the thread runs when a core has nothing else to
/// run, and a gateway thread that wakes up takes the core from it at once
/// (with a nice value alone, a woken request waits out the writer's time
/// slice, a few milliseconds: the p99 spike `benches/control.rs` showed).
#[cfg(target_os = "linux")]
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` outlives the call; pid 0 is the calling thread, and
    // on Linux scheduling policy and nice value are per thread.
    unsafe {
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changes_run_in_order_on_one_thread() {
        let writer = Writer::start();
        let first = writer.run(|| std::thread::current().name().map(str::to_string));
        assert_eq!(first.await.flatten().as_deref(), Some("portico-control"));
        let mut answers = Vec::new();
        for i in 0..10 {
            answers.push(writer.run(move || i * 2).await);
        }
        assert_eq!(answers, (0..10).map(|i| Some(i * 2)).collect::<Vec<_>>());
    }

    /// A change runs at idle priority; one still running after
    /// `STARVED_AFTER` is raised to the ordinary policy, and the next
    /// change is back at idle priority.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_long_change_is_raised_from_idle_priority() {
        // SAFETY: sched_getscheduler(0) reads the calling thread's policy.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let writer = Writer::start();
        assert_eq!(writer.run(policy).await, Some(libc::SCHED_IDLE));
        let long = writer.run(move || {
            std::thread::sleep(STARVED_AFTER * 2);
            policy()
        });
        assert_eq!(long.await, Some(libc::SCHED_OTHER));
        assert_eq!(writer.run(policy).await, Some(libc::SCHED_IDLE));
    }
}
