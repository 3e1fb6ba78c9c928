//! The Metrics tab: CloudWatch's API Gateway metrics for the selected API,
//! by stage and method, as live charts (requests and errors per second,
//! latency percentiles, cache hits and misses) over the last 1, 5 or 30
//! minutes, and the window's totals.

use std::time::Duration;

use crate::gateway::Gateway;
use crate::gui::charts::{Reading, chart, ms};
use crate::gui::workspace::Workspace;
use crate::observe::metrics::{Filter, Point};

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

impl MetricsView {
    pub fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace, gateway: Option<&Gateway>) {
        let Some(api) = workspace.api() else {
            ui.label("This project has no REST API.");
            return;
        };
        let api_id = api.id.clone();
        let stages: Vec<String> = api.stages.iter().map(|s| s.stage_name.clone()).collect();
        let Some(gateway) = gateway else {
            ui.label("The gateway is not running: no metrics.");
            return;
        };
        let view = self;
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
        charts(ui, &reading);
    }
}

/// The tab's charts: requests, latency and (when the cache was used)
/// cache hits and misses per second.
fn charts(ui: &mut egui::Ui, reading: &Reading) {
    let c = &reading.total.counts;
    egui::ScrollArea::vertical()
        .id_salt("metrics-charts")
        .show(ui, |ui| {
            ui.strong("Requests per second");
            chart(
                ui,
                "metrics-count",
                reading,
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
                reading,
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
                    reading,
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
