//! A function's log: its workers' stdout and stderr plus the START / END /
//! REPORT lines CloudWatch shows, in a bounded buffer.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Lines kept per function; the oldest go first.
pub const LOG_LINES: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Position in the function's whole history (for "what is new since").
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct FunctionLog {
    inner: Mutex<(VecDeque<LogLine>, u64)>,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl FunctionLog {
    pub fn push(&self, text: impl Into<String>) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (lines, next) = &mut *guard;
        if lines.len() == LOG_LINES {
            lines.pop_front();
        }
        lines.push_back(LogLine {
            seq: *next,
            time_ms: now_ms(),
            text: text.into(),
        });
        *next += 1;
    }

    /// The lines after `seq` (all with 0), oldest first.
    pub fn since(&self, seq: u64) -> Vec<LogLine> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.iter().filter(|l| l.seq >= seq).cloned().collect()
    }

    /// Everything kept, one line each, as `portico` prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in self.since(0) {
            out.push_str(&line.text);
            out.push('\n');
        }
        out
    }
}
