//! A stage's response cache: entries keyed by verb, resource path and the
//! integration's `cacheKeyParameters` values, each living for its method's
//! TTL, within a byte budget (the oldest go first). A hit skips the
//! integration.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::responses::Reply;

#[derive(Debug)]
pub struct ResponseCache {
    budget: usize,
    inner: Mutex<Entries>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, (Instant, Reply)>,
    /// Insertion order, for eviction.
    order: VecDeque<String>,
    bytes: usize,
}

fn size(key: &str, reply: &Reply) -> usize {
    key.len()
        + reply.body.len()
        + reply
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum::<usize>()
}

impl ResponseCache {
    pub fn new(budget: usize) -> ResponseCache {
        ResponseCache {
            budget,
            inner: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The byte budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    pub fn get(&self, key: &str) -> Option<Reply> {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match entries.map.get(key) {
            Some((expires, reply)) if *expires > Instant::now() => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(reply.clone())
            }
            Some(_) => {
                if let Some((_, reply)) = entries.map.remove(key) {
                    entries.bytes -= size(key, &reply);
                }
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn put(&self, key: String, reply: &Reply, ttl: Duration) {
        let bytes = size(&key, reply);
        if bytes > self.budget || ttl.is_zero() {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = entries.map.remove(&key) {
            entries.bytes -= size(&key, &old);
        }
        while entries.bytes + bytes > self.budget {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = entries.map.remove(&oldest) {
                entries.bytes -= size(&oldest, &old);
            }
        }
        entries.order.retain(|k| k != &key);
        entries.order.push_back(key.clone());
        entries.bytes += bytes;
        entries
            .map
            .insert(key, (Instant::now() + ttl, reply.clone()));
    }

    pub fn remove(&self, key: &str) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = entries.map.remove(key) {
            entries.bytes -= size(key, &old);
        }
    }

    /// Empties the cache (AWS's FlushStageCache).
    pub fn flush(&self) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *entries = Entries::default();
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &'static str) -> Reply {
        Reply {
            status: 200,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn entries_expire_and_the_budget_evicts_the_oldest() {
        let cache = ResponseCache::new(25);
        cache.put("a".into(), &reply("0123456789"), Duration::from_secs(60));
        cache.put("b".into(), &reply("0123456789"), Duration::from_secs(60));
        cache.put("c".into(), &reply("0123456789"), Duration::from_secs(60));
        assert!(cache.get("a").is_none(), "evicted");
        assert!(cache.get("c").is_some());
        cache.put("d".into(), &reply("x"), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("d").is_none(), "expired");
        cache.flush();
        assert!(cache.is_empty());
    }
}
