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
    /// key -> (expiry, reply, the generation it was stored at).
    map: HashMap<String, (Instant, Reply, u64)>,
    /// Insertion order, for eviction: `(key, generation)`. An entry whose
    /// generation no longer matches the map's was replaced or removed and
    /// is skipped (stale ones are compacted away now and then), so a put
    /// never searches the queue.
    order: VecDeque<(String, u64)>,
    generation: u64,
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
            Some((expires, reply, _)) if *expires > Instant::now() => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(reply.clone())
            }
            Some(_) => {
                if let Some((_, reply, _)) = entries.map.remove(key) {
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
        if let Some((_, old, _)) = entries.map.remove(&key) {
            entries.bytes -= size(&key, &old);
        }
        while entries.bytes + bytes > self.budget {
            let Some((oldest, generation)) = entries.order.pop_front() else {
                break;
            };
            if entries.map.get(&oldest).is_some_and(|e| e.2 == generation)
                && let Some((_, old, _)) = entries.map.remove(&oldest)
            {
                entries.bytes -= size(&oldest, &old);
            }
        }
        entries.generation += 1;
        let generation = entries.generation;
        entries.order.push_back((key.clone(), generation));
        entries.bytes += bytes;
        entries
            .map
            .insert(key, (Instant::now() + ttl, reply.clone(), generation));
        if entries.order.len() > 2 * entries.map.len() + 1024 {
            let Entries { map, order, .. } = &mut *entries;
            order.retain(|(k, g)| map.get(k).is_some_and(|e| e.2 == *g));
        }
    }

    pub fn remove(&self, key: &str) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old, _)) = entries.map.remove(key) {
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

    #[test]
    fn replacing_an_entry_keeps_the_eviction_order_and_the_byte_count() {
        let cache = ResponseCache::new(25);
        let ttl = Duration::from_secs(60);
        cache.put("a".into(), &reply("0123456789"), ttl);
        cache.put("b".into(), &reply("0123456789"), ttl);
        // Replacing "a" makes it the newest: "b" goes first.
        cache.put("a".into(), &reply("0123456789"), ttl);
        cache.put("c".into(), &reply("0123456789"), ttl);
        assert!(cache.get("b").is_none(), "the oldest went");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        // Many replacements of one key leave no trail behind.
        for _ in 0..10_000 {
            cache.put("a".into(), &reply("0123456789"), ttl);
        }
        let entries = cache.inner.lock().unwrap();
        assert!(entries.order.len() <= 2 * entries.map.len() + 1024);
        assert_eq!(entries.bytes, 22);
    }
}
