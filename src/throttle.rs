//! AWS's token-bucket throttling (used by the gateway's throttle phase and
//! by API keys' usage plans; imports nothing of the crate): `burst` is the bucket size and `rate` the
//! tokens added per second. Implemented as the equivalent generic cell rate
//! algorithm on one atomic (the theoretical arrival time), so admitting a
//! request is a lock-free compare-and-swap: after idle, exactly `burst`
//! requests in an instant pass and the next is throttled; over a long run
//! the admitted rate is `rate`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where a bucket reads the time, in nanoseconds since some fixed start.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_nanos(&self) -> u64;
}

/// The real, monotonic clock.
#[derive(Debug)]
pub struct MonotonicClock(Instant);

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn now_nanos(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// The process's monotonic clock, shared by every bucket the gateway makes.
pub fn monotonic() -> Arc<dyn Clock> {
    static CLOCK: std::sync::OnceLock<Arc<MonotonicClock>> = std::sync::OnceLock::new();
    CLOCK
        .get_or_init(|| Arc::new(MonotonicClock::default()))
        .clone()
}

/// A clock tests move by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn advance(&self, nanos: u64) {
        self.0.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Throttling limits as AWS states them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests per second, steady state.
    pub rate: f64,
    /// The bucket's size: requests that may arrive at once.
    pub burst: u64,
}

impl Limits {
    /// AWS's default account-level limits: 10,000 requests/s, burst 5,000.
    pub const ACCOUNT_DEFAULT: Limits = Limits {
        rate: 10_000.0,
        burst: 5_000,
    };
}

#[derive(Debug)]
pub struct TokenBucket {
    limits: Limits,
    /// Nanoseconds between tokens (0 when the rate is not positive).
    interval: u64,
    /// The theoretical arrival time of the next request, in clock nanos
    /// (offset by `burst * interval` so it starts "full").
    tat: AtomicU64,
    /// With a rate of 0 the bucket never refills: the tokens left.
    left: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl TokenBucket {
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> TokenBucket {
        let interval = if limits.rate > 0.0 && limits.rate.is_finite() {
            (1e9 / limits.rate).round().max(1.0) as u64
        } else {
            0
        };
        TokenBucket {
            limits,
            interval,
            tat: AtomicU64::new(0),
            left: AtomicU64::new(limits.burst),
            clock,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes a token if one is there; false means throttled.
    pub fn admit(&self) -> bool {
        if self.interval == 0 {
            return self
                .left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                    left.checked_sub(1)
                })
                .is_ok();
        }
        let burst_span = self.limits.burst.saturating_mul(self.interval);
        // Time runs from `burst_span` so that a fresh bucket is full.
        let now = self.clock.now_nanos().saturating_add(burst_span);
        let mut current = self.tat.load(Ordering::Acquire);
        loop {
            let next = current.max(now - burst_span) + self.interval;
            if next > now {
                return false;
            }
            match self
                .tat
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(rate: f64, burst: u64) -> (TokenBucket, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::default());
        clock.advance(1_000_000_000);
        (
            TokenBucket::new(Limits { rate, burst }, clock.clone()),
            clock,
        )
    }

    #[test]
    fn after_idle_exactly_burst_pass_at_once() {
        for (rate, burst) in [(10.0, 5), (1.0, 1), (10_000.0, 5_000), (0.5, 3)] {
            let (bucket, _) = bucket(rate, burst);
            let admitted = (0..burst * 2).filter(|_| bucket.admit()).count() as u64;
            assert_eq!(admitted, burst, "rate {rate} burst {burst}");
        }
    }

    #[test]
    fn tokens_come_back_at_the_rate() {
        let (bucket, clock) = bucket(10.0, 5);
        assert_eq!((0..5).filter(|_| bucket.admit()).count(), 5);
        assert!(!bucket.admit());
        clock.advance(99_000_000);
        assert!(!bucket.admit(), "not yet 100 ms");
        clock.advance(1_000_000);
        assert!(bucket.admit(), "one token after 100 ms");
        assert!(!bucket.admit());
        // A long idle fills the bucket, never beyond its size.
        clock.advance(3_600_000_000_000);
        assert_eq!((0..20).filter(|_| bucket.admit()).count(), 5);
    }

    #[test]
    fn over_a_long_run_the_admitted_rate_is_the_rate() {
        let (bucket, clock) = bucket(100.0, 10);
        let mut admitted = 0;
        // 60 simulated seconds, a request every millisecond (1,000/s offered).
        for _ in 0..60_000 {
            clock.advance(1_000_000);
            if bucket.admit() {
                admitted += 1;
            }
        }
        assert!((6_000..=6_010).contains(&admitted), "{admitted}");
    }

    #[test]
    fn a_zero_rate_allows_the_burst_once() {
        let (bucket, clock) = bucket(0.0, 2);
        assert!(bucket.admit() && bucket.admit());
        clock.advance(10_000_000_000);
        assert!(!bucket.admit());
        let (none, _) = bucket_pair();
        assert!(!none.admit());
    }

    fn bucket_pair() -> (TokenBucket, Arc<ManualClock>) {
        bucket(0.0, 0)
    }

    #[test]
    fn concurrent_admissions_never_exceed_the_burst() {
        let (bucket, _) = bucket(1.0, 1_000);
        let bucket = Arc::new(bucket);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let bucket = Arc::clone(&bucket);
                std::thread::spawn(move || (0..1_000).filter(|_| bucket.admit()).count())
            })
            .collect();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, 1_000);
    }
}
