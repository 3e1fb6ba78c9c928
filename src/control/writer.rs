//! The control plane's one writer: a thread that runs every model change
//! (and the recompile it causes) in turn, at a lower scheduling priority
//! than the gateway's workers, so that a deployment of a large API never
//! takes the data plane's CPU (measured by `cargo bench --bench control`:
//! the data plane's p99 while deployments land).

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// Runs control-plane changes one at a time on its own thread.
#[derive(Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The writer's nice value where `SCHED_IDLE` is refused: below the
/// default (0), so the kernel gives the gateway's threads the CPU first.
const NICE: i32 = 10;

impl Writer {
    pub fn start() -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("portico-control".into())
            .spawn(move || {
                lower_priority();
                for job in queue {
                    job();
                }
            });
        if spawned.is_err() {
            // No thread: jobs fail to queue and callers report it.
            let (jobs, _) = mpsc::channel();
            return Writer { jobs };
        }
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
}
