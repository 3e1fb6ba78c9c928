//! A bounded ring buffer of recent requests. Writers hold the lock for an
//! O(1) push; when the buffer is full the oldest entry goes (and a counter
//! says how many were dropped).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::ExecutionLog;
use super::execution_log::{LogText, Lossy};

/// One served (or test-invoked) request, as the live log shows it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Monotonic sequence number, for "what is new since".
    pub seq: u64,
    pub request_id: String,
    pub at: SystemTime,
    pub api_id: smol_str::SmolStr,
    pub stage: smol_str::SmolStr,
    /// Served by the stage's canary.
    pub canary: bool,
    pub http_method: smol_str::SmolStr,
    /// The path below the stage, without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub raw_query: String,
    pub resource_path: Option<String>,
    pub status: u16,
    pub latency_us: u64,
    pub integration_latency_us: Option<u64>,
    pub request_headers: StoredHeaders,
    pub request_body: bytes::Bytes,
    pub response_headers: StoredHeaders,
    pub response_body: bytes::Bytes,
    pub execution_log: ExecutionLog,
}

/// Headers as the log keeps them: one `name: value` line each in a single
/// allocation. A record must not hold the `HeaderMap` hyper parsed: its
/// values are slices of the connection's read buffer, so keeping them
/// pinned that whole buffer (about 8 KiB) per logged request, and made
/// hyper allocate a fresh buffer for every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredHeaders(Box<str>);

impl StoredHeaders {
    pub fn from_map(headers: &http::HeaderMap) -> StoredHeaders {
        let size: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 3)
            .sum();
        let mut text = String::with_capacity(size);
        for (name, value) in headers {
            text.push_str(name.as_str());
            text.push_str(": ");
            // Header values cannot hold CR or LF, so a line is one header.
            Lossy(value.as_bytes()).write_to(&mut text);
            text.push('\n');
        }
        StoredHeaders(text.into_boxed_str())
    }

    /// `(name, value)` in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .lines()
            .filter_map(|line| line.split_once(": ").or_else(|| line.split_once(':')))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RequestRecord {
    /// About how many bytes the record holds in memory: its own size, its
    /// strings, headers, bodies and log, plus allocator overhead per
    /// allocation. What the log's byte budget counts.
    pub fn estimated_size(&self) -> usize {
        const PER_ALLOCATION: usize = 16;
        // The id, stage and method are inline or share the deployment's
        // text: they hold nothing of their own.
        let strings = [&self.request_id, &self.path, &self.raw_query];
        std::mem::size_of::<RequestRecord>()
            + 2 * PER_ALLOCATION
            + strings
                .iter()
                .map(|s| s.capacity() + PER_ALLOCATION)
                .sum::<usize>()
            + self
                .resource_path
                .as_ref()
                .map_or(0, |p| p.capacity() + PER_ALLOCATION)
            + self.request_headers.0.len()
            + self.response_headers.0.len()
            + self.request_body.len()
            + self.response_body.len()
            + self.execution_log.heap_size()
            + 6 * PER_ALLOCATION
    }
}

/// The records and what they hold, under one lock.
#[derive(Debug, Default)]
struct Ring {
    records: VecDeque<Arc<RequestRecord>>,
    bytes: usize,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    /// The most bytes ([`RequestRecord::estimated_size`]) the records
    /// may hold: big bodies make the log keep fewer requests, never more
    /// memory.
    byte_budget: usize,
    records: Mutex<Ring>,
    next_seq: AtomicU64,
    dropped: AtomicU64,
}

/// Shared handle to the buffer; clones see the same records.
#[derive(Debug, Clone)]
pub struct RequestLog {
    inner: Arc<Inner>,
}

impl RequestLog {
    /// A log of at most `capacity` requests holding at most `byte_budget`
    /// bytes, whichever limit comes first. A capacity of 0 keeps no record
    /// and only counts requests: a headless gateway's log, which nothing
    /// reads.
    pub fn new(capacity: usize, byte_budget: usize) -> RequestLog {
        RequestLog {
            inner: Arc::new(Inner {
                capacity,
                byte_budget,
                records: Mutex::new(Ring {
                    records: VecDeque::with_capacity(capacity.min(4096)),
                    bytes: 0,
                }),
                next_seq: AtomicU64::new(1),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Appends a record, evicting the oldest ones while the log is over
    /// its count or its byte budget (the newest record always stays).
    pub fn push(&self, mut record: RequestRecord) {
        record.seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        if !self.keeps_records() {
            return;
        }
        let size = record.estimated_size();
        let record = Arc::new(record);
        // Evicted records are freed after the lock is released: dropping
        // a record (headers, bodies, log) under the lock made the gateway's
        // threads queue on it.
        // Inline: a full log evicts one record per request, and this should
        // not cost an allocation each time.
        let mut evicted: smallvec::SmallVec<[Arc<RequestRecord>; 2]> = smallvec::SmallVec::new();
        {
            let mut ring = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
            ring.records.push_back(record);
            ring.bytes += size;
            while ring.records.len() > 1
                && (ring.records.len() > self.inner.capacity || ring.bytes > self.inner.byte_budget)
            {
                let Some(oldest) = ring.records.pop_front() else {
                    break;
                };
                ring.bytes = ring.bytes.saturating_sub(oldest.estimated_size());
                evicted.push(oldest);
            }
        }
        if !evicted.is_empty() {
            self.inner
                .dropped
                .fetch_add(evicted.len() as u64, Ordering::Relaxed);
        }
        drop(evicted);
    }

    /// Whether records are kept at all (see [`RequestLog::new`]).
    pub fn keeps_records(&self) -> bool {
        self.inner.capacity > 0
    }

    /// Appends the record `make` builds, built only when records are kept;
    /// a log that keeps none just counts the request.
    pub fn push_with(&self, make: impl FnOnce() -> RequestRecord) {
        if self.keeps_records() {
            self.push(make());
        } else {
            self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What the kept records hold, in estimated bytes.
    pub fn bytes(&self) -> usize {
        self.inner.records.lock().map(|r| r.bytes).unwrap_or(0)
    }

    /// Records with `seq > after`, oldest first.
    pub fn since(&self, after: u64) -> Vec<Arc<RequestRecord>> {
        let ring = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
        // Records are in `seq` order: the new ones are a suffix.
        let first_new = ring.records.partition_point(|r| r.seq <= after);
        ring.records.range(first_new..).cloned().collect()
    }

    /// Visits the records newest first until `visit` returns false.
    pub fn visit_newest(&self, mut visit: impl FnMut(&RequestRecord) -> bool) {
        let ring = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
        for record in ring.records.iter().rev() {
            if !visit(record) {
                break;
            }
        }
    }

    pub fn find(&self, request_id: &str) -> Option<Arc<RequestRecord>> {
        let ring = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
        ring.records
            .iter()
            .rev()
            .find(|r| r.request_id == request_id)
            .cloned()
    }

    /// How many requests the log keeps.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    pub fn len(&self) -> usize {
        self.inner
            .records
            .lock()
            .map(|r| r.records.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records evicted or skipped since start.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Total requests recorded since start (including dropped ones).
    pub fn total(&self) -> u64 {
        self.inner.next_seq.load(Ordering::Relaxed) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_headers_keep_order_and_repeats() {
        let mut map = http::HeaderMap::new();
        map.append("accept", http::HeaderValue::from_static("a/b"));
        map.append("x-empty", http::HeaderValue::from_static(""));
        map.append("accept", http::HeaderValue::from_static("c/d: e"));
        let stored = StoredHeaders::from_map(&map);
        assert_eq!(
            stored.iter().collect::<Vec<_>>(),
            [("accept", "a/b"), ("accept", "c/d: e"), ("x-empty", "")]
        );
        assert!(StoredHeaders::from_map(&http::HeaderMap::new()).is_empty());
    }

    fn record(body: usize) -> RequestRecord {
        RequestRecord {
            seq: 0,
            request_id: "r".into(),
            at: SystemTime::now(),
            api_id: "a".into(),
            stage: "dev".into(),
            canary: false,
            http_method: "GET".into(),
            path: "/".into(),
            raw_query: String::new(),
            resource_path: None,
            status: 200,
            latency_us: 1,
            integration_latency_us: None,
            request_headers: StoredHeaders::default(),
            request_body: bytes::Bytes::new(),
            response_headers: StoredHeaders::default(),
            response_body: bytes::Bytes::from(vec![b'x'; body]),
            execution_log: ExecutionLog::new(),
        }
    }

    #[test]
    fn a_log_of_capacity_zero_counts_and_keeps_nothing() {
        let log = RequestLog::new(0, 1 << 20);
        assert!(!log.keeps_records());
        log.push(record(10));
        log.push_with(|| unreachable!("a record nobody keeps is not built"));
        assert_eq!((log.len(), log.dropped(), log.total()), (0, 0, 2));
        assert!(log.since(0).is_empty());

        let log = RequestLog::new(2, 1 << 20);
        log.push_with(|| record(10));
        assert_eq!((log.len(), log.total()), (1, 1));
    }

    #[test]
    fn count_and_byte_budget_both_bound_the_log() {
        let log = RequestLog::new(3, 1 << 20);
        for _ in 0..5 {
            log.push(record(10));
        }
        assert_eq!((log.len(), log.dropped(), log.total()), (3, 2, 5));
        assert_eq!(log.since(0).first().map(|r| r.seq), Some(3));

        let log = RequestLog::new(100, 100_000);
        for _ in 0..10 {
            log.push(record(30_000));
        }
        assert_eq!(log.len(), 3, "three 30 KB bodies fit in 100 KB");
        assert!(log.bytes() <= 100_000);
        // A record bigger than the whole budget is still kept, alone.
        log.push(record(500_000));
        assert_eq!(log.len(), 1);
        assert_eq!(log.since(0)[0].response_body.len(), 500_000);
    }
}
