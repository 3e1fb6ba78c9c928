//! Readings of the gateway's metrics and the charts that draw them, for
//! the Metrics tab and the Stages tab's base-vs-canary pair.

use std::time::{Duration, Instant};

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints};

use crate::observe::Metrics;
use crate::observe::metrics::{Filter, Point, SeriesKey, now_secs};

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

    pub fn fresh(&self, filter: &Filter, window_secs: u64) -> bool {
        self.filter == *filter
            && self.window_secs == window_secs
            && self.at.elapsed() < Duration::from_secs(1)
    }

    /// `(seconds before now, value)` for each point.
    pub fn line(&self, value: impl Fn(&Point) -> Option<f64>) -> Vec<[f64; 2]> {
        self.points
            .iter()
            .filter_map(|p| value(p).map(|v| [p.t as f64 - self.to as f64, v]))
            .collect()
    }
}

/// Milliseconds of a latency in microseconds, `-` when none was measured.
pub fn ms(us: Option<u64>) -> String {
    us.map_or("-".into(), |us| format!("{:.2} ms", us as f64 / 1000.0))
}

/// A chart of lines over seconds before now; no drag or zoom, so that it
/// keeps scrolling with time.
pub fn chart(
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
