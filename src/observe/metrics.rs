//! Metrics with the names and meanings of CloudWatch's `AWS/ApiGateway`
//! namespace: `Count`, `Latency`, `IntegrationLatency`, `4XXError`,
//! `5XXError`, `CacheHitCount`, `CacheMissCount`.
//!
//! One [`Series`] per API, stage, resource, method and side (base or
//! canary); requests that match no method count in their stage's series
//! with an empty resource and method. Each series keeps one-second buckets
//! for the last [`RETENTION_SECS`]: counters, and the latencies in HDR
//! histogram buckets (two significant digits) from which percentiles are
//! read. Aggregates (a stage, an API, base vs canary) are read by merging
//! series at query time, so recording costs one uncontended lock and two
//! histogram increments.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

/// How long per-second data is kept: 30 minutes.
pub const RETENTION_SECS: u64 = 30 * 60;

/// The largest latency a histogram tells apart (one hour, in µs); longer
/// ones count as this.
const HIGHEST_US: u64 = 3_600_000_000;

/// Which series a request counts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub api_id: String,
    pub stage: String,
    /// The resource path (`/pets/{id}`); empty when no method matched.
    pub resource: String,
    /// The method's verb as defined (`GET`, `ANY`); empty when no method
    /// matched.
    pub method: String,
    pub canary: bool,
}

/// Whether the stage cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
}

/// One finished request, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub status: u16,
    /// From the request's arrival to the response (`Latency`).
    pub latency: Duration,
    /// The backend's part (`IntegrationLatency`), when it was called.
    pub integration_latency: Option<Duration>,
    /// For methods with caching on.
    pub cache: Option<CacheOutcome>,
}

/// The counters of a span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `Count`: every request.
    pub count: u64,
    /// `4XXError`.
    pub error_4xx: u64,
    /// `5XXError`.
    pub error_5xx: u64,
    /// `CacheHitCount`.
    pub cache_hits: u64,
    /// `CacheMissCount`.
    pub cache_misses: u64,
    /// Sum of `Latency`, µs.
    pub latency_sum_us: u64,
    /// Requests that called the backend.
    pub integration_count: u64,
    /// Sum of `IntegrationLatency`, µs.
    pub integration_sum_us: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.count += other.count;
        self.error_4xx += other.error_4xx;
        self.error_5xx += other.error_5xx;
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.latency_sum_us += other.latency_sum_us;
        self.integration_count += other.integration_count;
        self.integration_sum_us += other.integration_sum_us;
    }

    /// Mean `Latency` in µs, if any request.
    pub fn mean_latency_us(&self) -> Option<u64> {
        (self.count > 0).then(|| self.latency_sum_us / self.count)
    }
}

/// Percentiles of a latency, µs; `None` without samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p99: Option<u64>,
}

/// A span of time (one second, or a window) of some series together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    /// Start, in seconds since the Unix epoch.
    pub t: u64,
    pub counts: Counts,
    pub latency: Percentiles,
    pub integration_latency: Percentiles,
}

/// Which series a query reads; `None` matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub api_id: Option<String>,
    pub stage: Option<String>,
    /// `(resource path, verb)`.
    pub method: Option<(String, String)>,
    pub canary: Option<bool>,
}

impl Filter {
    fn matches(&self, key: &SeriesKey) -> bool {
        self.api_id.as_ref().is_none_or(|a| *a == key.api_id)
            && self.stage.as_ref().is_none_or(|s| *s == key.stage)
            && self
                .method
                .as_ref()
                .is_none_or(|(r, m)| *r == key.resource && *m == key.method)
            && self.canary.is_none_or(|c| c == key.canary)
    }
}

/// Every series of a gateway.
#[derive(Debug)]
pub struct Metrics {
    enabled: AtomicBool,
    series: RwLock<HashMap<SeriesKey, Arc<Series>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: AtomicBool::new(true),
            series: RwLock::default(),
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Turns recording on or off (`serve --no-metrics`); what was recorded
    /// stays readable.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// The series for `key`, created on first use. Callers keep the `Arc`
    /// (a compiled method holds its own) so that recording needs no lookup.
    pub fn series(&self, key: SeriesKey) -> Arc<Series> {
        if let Some(series) = self
            .series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Arc::clone(series);
        }
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            map.entry(key.clone())
                .or_insert_with(|| Arc::new(Series::new(key))),
        )
    }

    /// Records one request in `series`, now (if recording is on).
    pub fn record(&self, series: &Series, observation: &Observation) {
        if self.enabled() {
            series.record(now_secs(), observation);
        }
    }

    /// The keys of every series, sorted.
    pub fn keys(&self) -> Vec<SeriesKey> {
        let mut keys: Vec<SeriesKey> = self
            .series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn matching(&self, filter: &Filter) -> Vec<Arc<Series>> {
        self.series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|s| filter.matches(&s.key))
            .cloned()
            .collect()
    }

    /// One point per second from `from` to `to` inclusive (seconds since
    /// the epoch), the matching series added together; seconds without
    /// requests are zeros.
    pub fn per_second(&self, filter: &Filter, from: u64, to: u64) -> Vec<Point> {
        if to < from {
            return Vec::new();
        }
        let len = (to - from + 1) as usize;
        let mut points: Vec<Point> = (0..len)
            .map(|i| Point {
                t: from + i as u64,
                ..Point::default()
            })
            .collect();
        let mut latency: Vec<Vec<(u32, u32)>> = vec![Vec::new(); len];
        let mut integration: Vec<Vec<(u32, u32)>> = vec![Vec::new(); len];
        for series in self.matching(filter) {
            series.visit(from, to, |t, counts, lat, int| {
                let i = (t - from) as usize;
                points[i].counts.add(counts);
                latency[i].extend_from_slice(lat);
                integration[i].extend_from_slice(int);
            });
        }
        for (i, point) in points.iter_mut().enumerate() {
            point.latency = percentiles(&mut latency[i]);
            point.integration_latency = percentiles(&mut integration[i]);
        }
        points
    }

    /// The matching series over `from..=to` as one point.
    pub fn window(&self, filter: &Filter, from: u64, to: u64) -> Point {
        let mut point = Point {
            t: from,
            ..Point::default()
        };
        let mut latency = Vec::new();
        let mut integration = Vec::new();
        for series in self.matching(filter) {
            series.visit(from, to, |_, counts, lat, int| {
                point.counts.add(counts);
                latency.extend_from_slice(lat);
                integration.extend_from_slice(int);
            });
        }
        point.latency = percentiles(&mut latency);
        point.integration_latency = percentiles(&mut integration);
        point
    }
}

/// p50, p90 and p99 of histogram buckets `(value, count)` in any order:
/// the bucket value at which the running count reaches the share.
fn percentiles(buckets: &mut [(u32, u32)]) -> Percentiles {
    let total: u64 = buckets.iter().map(|&(_, c)| u64::from(c)).sum();
    if total == 0 {
        return Percentiles::default();
    }
    buckets.sort_unstable_by_key(|&(v, _)| v);
    let at = |q: f64| {
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for &(value, count) in buckets.iter() {
            seen += u64::from(count);
            if seen >= rank {
                return Some(u64::from(value));
            }
        }
        buckets.last().map(|&(v, _)| u64::from(v))
    };
    Percentiles {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
    }
}

/// One series: the second being filled and the sealed ones before it.
#[derive(Debug)]
pub struct Series {
    pub key: SeriesKey,
    inner: Mutex<SeriesData>,
}

#[derive(Debug)]
struct SeriesData {
    current_t: u64,
    current: Counts,
    latency: Histogram<u32>,
    integration: Histogram<u32>,
    /// Sealed seconds with requests, oldest first, within the retention.
    history: VecDeque<Second>,
}

#[derive(Debug)]
struct Second {
    t: u64,
    counts: Counts,
    latency: Box<[(u32, u32)]>,
    integration: Box<[(u32, u32)]>,
}

fn histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, HIGHEST_US, 2).expect("valid histogram bounds")
}

/// The non-empty buckets of a histogram as `(highest value, count)`.
fn buckets(histogram: &Histogram<u32>) -> Vec<(u32, u32)> {
    histogram
        .iter_recorded()
        .map(|v| {
            (
                v.value_iterated_to().min(u64::from(u32::MAX)) as u32,
                v.count_at_value(),
            )
        })
        .collect()
}

impl Series {
    fn new(key: SeriesKey) -> Series {
        Series {
            key,
            inner: Mutex::new(SeriesData {
                current_t: 0,
                current: Counts::default(),
                latency: histogram(),
                integration: histogram(),
                history: VecDeque::new(),
            }),
        }
    }

    /// Records one request in second `t` (seconds since the epoch). A `t`
    /// before the second being filled counts in that second.
    pub fn record(&self, t: u64, observation: &Observation) {
        let mut data = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if t > data.current_t {
            data.seal(t);
        }
        let latency_us = observation.latency.as_micros().min(u128::from(HIGHEST_US)) as u64;
        let counts = &mut data.current;
        counts.count += 1;
        match observation.status {
            400..=499 => counts.error_4xx += 1,
            500..=599 => counts.error_5xx += 1,
            _ => {}
        }
        match observation.cache {
            Some(CacheOutcome::Hit) => counts.cache_hits += 1,
            Some(CacheOutcome::Miss) => counts.cache_misses += 1,
            None => {}
        }
        counts.latency_sum_us += latency_us;
        let integration_us = observation
            .integration_latency
            .map(|d| d.as_micros().min(u128::from(HIGHEST_US)) as u64);
        if let Some(us) = integration_us {
            counts.integration_count += 1;
            counts.integration_sum_us += us;
        }
        data.latency.saturating_record(latency_us.max(1));
        if let Some(us) = integration_us {
            data.integration.saturating_record(us.max(1));
        }
    }

    /// Calls `f(t, counts, latency buckets, integration buckets)` for each
    /// second of `from..=to` that had requests, in order.
    fn visit(
        &self,
        from: u64,
        to: u64,
        mut f: impl FnMut(u64, &Counts, &[(u32, u32)], &[(u32, u32)]),
    ) {
        let data = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let start = data.history.partition_point(|s| s.t < from);
        for second in data.history.range(start..) {
            if second.t > to {
                break;
            }
            f(
                second.t,
                &second.counts,
                &second.latency,
                &second.integration,
            );
        }
        if data.current.count > 0 && (from..=to).contains(&data.current_t) {
            f(
                data.current_t,
                &data.current,
                &buckets(&data.latency),
                &buckets(&data.integration),
            );
        }
    }
}

impl SeriesData {
    /// Closes the second being filled and starts second `t`.
    fn seal(&mut self, t: u64) {
        if self.current.count > 0 {
            self.history.push_back(Second {
                t: self.current_t,
                counts: self.current,
                latency: buckets(&self.latency).into_boxed_slice(),
                integration: buckets(&self.integration).into_boxed_slice(),
            });
            self.latency.reset();
            self.integration.reset();
            self.current = Counts::default();
        }
        self.current_t = t;
        while self
            .history
            .front()
            .is_some_and(|s| s.t + RETENTION_SECS <= t)
        {
            self.history.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(resource: &str, canary: bool) -> SeriesKey {
        SeriesKey {
            api_id: "a1".into(),
            stage: "prod".into(),
            resource: resource.into(),
            method: "GET".into(),
            canary,
        }
    }

    fn ok(ms: u64) -> Observation {
        Observation {
            status: 200,
            latency: Duration::from_millis(ms),
            integration_latency: Some(Duration::from_millis(ms / 2)),
            cache: None,
        }
    }

    #[test]
    fn counts_errors_and_cache_per_second() {
        let metrics = Metrics::new();
        let series = metrics.series(key("/pets", false));
        series.record(100, &ok(10));
        series.record(
            100,
            &Observation {
                status: 404,
                cache: Some(CacheOutcome::Miss),
                ..ok(1)
            },
        );
        series.record(
            102,
            &Observation {
                status: 502,
                integration_latency: None,
                cache: Some(CacheOutcome::Hit),
                ..ok(3)
            },
        );
        let points = metrics.per_second(&Filter::default(), 100, 102);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].counts.count, 2);
        assert_eq!(points[0].counts.error_4xx, 1);
        assert_eq!(points[0].counts.cache_misses, 1);
        assert_eq!(points[1].counts, Counts::default());
        assert_eq!(points[2].counts.error_5xx, 1);
        assert_eq!(points[2].counts.cache_hits, 1);
        assert_eq!(points[2].counts.integration_count, 0);
        let window = metrics.window(&Filter::default(), 0, u64::MAX);
        assert_eq!(window.counts.count, 3);
        assert_eq!(window.counts.integration_count, 2);
    }

    #[test]
    fn percentiles_within_two_significant_digits() {
        let metrics = Metrics::new();
        let series = metrics.series(key("/pets", false));
        for ms in 1..=100 {
            series.record(7, &ok(ms));
        }
        let p = metrics.window(&Filter::default(), 7, 7).latency;
        let close = |got: Option<u64>, want_ms: u64| {
            let got = got.expect("a value") as f64;
            let want = (want_ms * 1000) as f64;
            assert!((got - want).abs() <= want * 0.01, "{got} vs {want}");
        };
        close(p.p50, 50);
        close(p.p90, 90);
        close(p.p99, 99);
    }

    #[test]
    fn filters_split_base_and_canary_and_methods() {
        let metrics = Metrics::new();
        metrics.series(key("/pets", false)).record(5, &ok(1));
        metrics.series(key("/pets", true)).record(5, &ok(1));
        metrics.series(key("/pets", true)).record(5, &ok(1));
        metrics.series(key("/owners", false)).record(5, &ok(1));
        let count = |filter: Filter| metrics.window(&filter, 0, 10).counts.count;
        assert_eq!(count(Filter::default()), 4);
        assert_eq!(
            count(Filter {
                canary: Some(true),
                ..Filter::default()
            }),
            2
        );
        assert_eq!(
            count(Filter {
                method: Some(("/owners".into(), "GET".into())),
                ..Filter::default()
            }),
            1
        );
        assert_eq!(
            count(Filter {
                stage: Some("dev".into()),
                ..Filter::default()
            }),
            0
        );
    }

    #[test]
    fn keeps_thirty_minutes() {
        let metrics = Metrics::new();
        let series = metrics.series(key("/pets", false));
        series.record(1_000, &ok(1));
        series.record(1_000 + RETENTION_SECS - 1, &ok(1));
        assert_eq!(
            metrics.window(&Filter::default(), 0, u64::MAX).counts.count,
            2
        );
        series.record(1_000 + RETENTION_SECS, &ok(1));
        assert_eq!(
            metrics.window(&Filter::default(), 0, u64::MAX).counts.count,
            2
        );
    }

    #[test]
    fn disabled_records_nothing() {
        let metrics = Metrics::new();
        let series = metrics.series(key("/pets", false));
        metrics.set_enabled(false);
        metrics.record(&series, &ok(1));
        assert_eq!(
            metrics.window(&Filter::default(), 0, u64::MAX).counts.count,
            0
        );
        metrics.set_enabled(true);
        metrics.record(&series, &ok(1));
        assert_eq!(
            metrics.window(&Filter::default(), 0, u64::MAX).counts.count,
            1
        );
    }
}
