//! The Metrics tab: CloudWatch's API Gateway metrics for the selected API,
//! by stage and method, as live charts (requests and errors per second,
//! latency percentiles, cache hits and misses) over the last 1, 5 or 30
//! minutes, and the window's totals. Also the small base-vs-canary charts
//! of the Stages tab.

use std::time::{Duration, Instant};

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints};

use crate::observe::Metrics;
use crate::observe::metrics::{Filter, Point, SeriesKey, now_secs};

use super::app::Studio;

/// The windows the tab offers, in seconds.
pub const WINDOWS: [(u64, &str); 3] = [(60, "1 min"), (300, "5 min"), (1800, "30 min")];

/// What the tab shows and its last reading of the metrics.
#[derive(Debug)]
pub struct MetricsView {
    /// `None`: every stage.
    pub stage: Option<String>,
    /// `(resource path, verb)`; `None`: every method.
    pub method: Option<(String, String)>,
    pub window_secs: u64,
    reading: Option<Reading>,
}

impl Default for MetricsView {
    fn default() -> Self {
        MetricsView {
            stage: None,
            method: None,
            window_secs: 300,
            reading: None,
        }
    }
}

/// The metrics as read at one moment, for one query: read at most once a
/// second, not every frame.
#[derive(Debug, Clone)]
pub struct Reading {
    filter: Filter,
    window_secs: u64,
    at: Instant,
    /// The last second the reading covers.
    pub to: u64,
    pub points: Vec<Point>,
    pub total: Point,
    pub keys: Vec<SeriesKey>,
}

impl Reading {
    /// Reads `window_secs` seconds up to the last whole second.
    pub fn take(metrics: &Metrics, filter: &Filter, window_secs: u64) -> Reading {
        let to = now_secs().saturating_sub(1);
        let from = to.saturating_sub(window_secs - 1);
        Reading {
            filter: filter.clone(),
            window_secs,
            at: Instant::now(),
            to,
            points: metrics.per_second(filter, from, to),
            total: metrics.window(filter, from, to),
            keys: metrics.keys(),
        }
    }

    fn fresh(&self, filter: &Filter, window_secs: u64) -> bool {
        self.filter == *filter
            && self.window_secs == window_secs
            && self.at.elapsed() < Duration::from_secs(1)
    }

    /// `(seconds before now, value)` for each point.
    fn line(&self, value: impl Fn(&Point) -> Option<f64>) -> Vec<[f64; 2]> {
        self.points
            .iter()
            .filter_map(|p| value(p).map(|v| [p.t as f64 - self.to as f64, v]))
            .collect()
    }
}

fn ms(us: Option<u64>) -> String {
    us.map_or("-".into(), |us| format!("{:.2} ms", us as f64 / 1000.0))
}

/// A chart of lines over seconds before now; no drag or zoom, so that it
/// keeps scrolling with time.
fn chart(
    ui: &mut egui::Ui,
    id: &str,
    reading: &Reading,
    height: f32,
    y_label: &str,
    lines: Vec<(&str, Vec<[f64; 2]>)>,
) {
    Plot::new(id)
        .height(height)
        // Top left: the newest data, at the right, stays in view.
        .legend(Legend::default().position(Corner::LeftTop))
        .include_x(-(reading.window_secs as f64 - 1.0))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .include_x(0.0)
        .x_axis_label("seconds ago")
        .y_axis_label(y_label)
        .show(ui, |plot| {
            for (name, points) in lines {
                plot.line(Line::new(name, PlotPoints::from(points)));
            }
        });
}

/// Requests and errors per second of one side of a stage, for the Stages
/// tab's base-vs-canary pair.
pub fn side_chart(ui: &mut egui::Ui, id: &str, reading: &Reading) {
    chart(
        ui,
        id,
        reading,
        120.0,
        "per second",
        vec![
            ("Count", reading.line(|p| Some(p.counts.count as f64))),
            (
                "Errors",
                reading.line(|p| Some((p.counts.error_4xx + p.counts.error_5xx) as f64)),
            ),
        ],
    );
}

impl Studio {
    pub(super) fn metrics_tab(&mut self, ui: &mut egui::Ui) {
        let Some(api) = self.workspace.api() else {
            ui.label("This project has no REST API.");
            return;
        };
        let api_id = api.id.clone();
        let stages: Vec<String> = api.stages.iter().map(|s| s.stage_name.clone()).collect();
        let Some(gateway) = &self.gateway else {
            ui.label("The gateway is not running: no metrics.");
            return;
        };
        let view = &mut self.metrics;
        let filter = Filter {
            api_id: Some(api_id.clone()),
            stage: view.stage.clone(),
            method: view.method.clone(),
            canary: None,
        };
        if !view
            .reading
            .as_ref()
            .is_some_and(|r| r.fresh(&filter, view.window_secs))
        {
            view.reading = Some(Reading::take(gateway.metrics(), &filter, view.window_secs));
        }
        // Live: the charts move on by a second each second.
        ui.ctx().request_repaint_after(Duration::from_millis(500));
        let Some(reading) = view.reading.clone() else {
            return;
        };
        let mut methods: Vec<(String, String)> = reading
            .keys
            .iter()
            .filter(|k| {
                k.api_id == api_id
                    && !k.resource.is_empty()
                    && view.stage.as_ref().is_none_or(|s| *s == k.stage)
            })
            .map(|k| (k.resource.clone(), k.method.clone()))
            .collect();
        methods.sort();
        methods.dedup();
        ui.horizontal(|ui| {
            let label = ui.label("Stage");
            egui::ComboBox::from_id_salt("metrics-stage")
                .selected_text(view.stage.clone().unwrap_or_else(|| "All stages".into()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut view.stage, None, "All stages");
                    for stage in &stages {
                        ui.selectable_value(&mut view.stage, Some(stage.clone()), stage);
                    }
                })
                .response
                .labelled_by(label.id);
            let label = ui.label("Method");
            egui::ComboBox::from_id_salt("metrics-method")
                .selected_text(
                    view.method
                        .as_ref()
                        .map_or("All methods".into(), |(r, m)| format!("{m} {r}")),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut view.method, None, "All methods");
                    for (resource, verb) in &methods {
                        ui.selectable_value(
                            &mut view.method,
                            Some((resource.clone(), verb.clone())),
                            format!("{verb} {resource}"),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            for (secs, name) in WINDOWS {
                ui.selectable_value(&mut view.window_secs, secs, format!("Last {name}"));
            }
        });
        let c = &reading.total.counts;
        ui.label(format!(
            "Count {}   4XXError {}   5XXError {}   CacheHitCount {}   CacheMissCount {}",
            c.count, c.error_4xx, c.error_5xx, c.cache_hits, c.cache_misses
        ));
        let (l, i) = (&reading.total.latency, &reading.total.integration_latency);
        ui.label(format!(
            "Latency p50 {} p90 {} p99 {}   IntegrationLatency p50 {} p90 {} p99 {}",
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(i.p50),
            ms(i.p90),
            ms(i.p99)
        ));
        egui::ScrollArea::vertical()
            .id_salt("metrics-charts")
            .show(ui, |ui| {
                ui.strong("Requests per second");
                chart(
                    ui,
                    "metrics-count",
                    &reading,
                    170.0,
                    "requests",
                    vec![
                        ("Count", reading.line(|p| Some(p.counts.count as f64))),
                        (
                            "4XXError",
                            reading.line(|p| Some(p.counts.error_4xx as f64)),
                        ),
                        (
                            "5XXError",
                            reading.line(|p| Some(p.counts.error_5xx as f64)),
                        ),
                    ],
                );
                ui.strong("Latency");
                let at = |f: fn(&Point) -> Option<u64>| {
                    reading.line(move |p| f(p).map(|us| us as f64 / 1000.0))
                };
                chart(
                    ui,
                    "metrics-latency",
                    &reading,
                    170.0,
                    "ms",
                    vec![
                        ("Latency p50", at(|p| p.latency.p50)),
                        ("Latency p90", at(|p| p.latency.p90)),
                        ("Latency p99", at(|p| p.latency.p99)),
                        ("IntegrationLatency p50", at(|p| p.integration_latency.p50)),
                    ],
                );
                if c.cache_hits + c.cache_misses > 0 {
                    ui.strong("Cache");
                    chart(
                        ui,
                        "metrics-cache",
                        &reading,
                        140.0,
                        "requests",
                        vec![
                            (
                                "CacheHitCount",
                                reading.line(|p| Some(p.counts.cache_hits as f64)),
                            ),
                            (
                                "CacheMissCount",
                                reading.line(|p| Some(p.counts.cache_misses as f64)),
                            ),
                        ],
                    );
                }
            });
    }
}
