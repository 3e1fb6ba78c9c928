//! A bounded ring buffer of recent requests. Writers hold the lock for an
//! O(1) push; when the buffer is full the oldest entry goes (and a counter
//! says how many were dropped).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::ExecutionLog;

/// One served (or test-invoked) request, as the live log shows it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Monotonic sequence number, for "what is new since".
    pub seq: u64,
    pub request_id: String,
    pub at: SystemTime,
    pub api_id: String,
    pub stage: String,
    pub http_method: String,
    /// The path below the stage, without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub raw_query: String,
    pub resource_path: Option<String>,
    pub status: u16,
    pub latency_us: u64,
    pub integration_latency_us: Option<u64>,
    pub request_headers: http::HeaderMap,
    pub request_body: bytes::Bytes,
    pub response_headers: http::HeaderMap,
    pub response_body: bytes::Bytes,
    pub execution_log: ExecutionLog,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    records: Mutex<VecDeque<Arc<RequestRecord>>>,
    next_seq: AtomicU64,
    dropped: AtomicU64,
}

/// Shared handle to the buffer; clones see the same records.
#[derive(Debug, Clone)]
pub struct RequestLog {
    inner: Arc<Inner>,
}

impl RequestLog {
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                records: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
                next_seq: AtomicU64::new(1),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Appends a record, evicting the oldest when full.
    pub fn push(&self, mut record: RequestRecord) {
        record.seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        let record = Arc::new(record);
        // The evicted record is freed after the lock is released: dropping
        // a record (headers, bodies, log) under the lock made the gateway's
        // threads queue on it.
        let evicted = {
            let mut records = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
            let evicted = if records.len() == self.inner.capacity {
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                records.pop_front()
            } else {
                None
            };
            records.push_back(record);
            evicted
        };
        drop(evicted);
    }

    /// Records with `seq > after`, oldest first.
    pub fn since(&self, after: u64) -> Vec<Arc<RequestRecord>> {
        let records = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
        // Records are in `seq` order: the new ones are a suffix.
        let first_new = records.partition_point(|r| r.seq <= after);
        records.range(first_new..).cloned().collect()
    }

    pub fn find(&self, request_id: &str) -> Option<Arc<RequestRecord>> {
        let records = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
        records
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
        self.inner.records.lock().map(|r| r.len()).unwrap_or(0)
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
