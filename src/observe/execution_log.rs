//! The execution log of one request: the steps AWS's test invoke prints.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// One line of the execution log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: SystemTime,
    pub message: String,
}

/// The execution log of one request, in the order the pipeline ran. Lines
/// read like AWS's (`Method request path: {id=7}`, `Endpoint request URI: ...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionLog {
    pub lines: Vec<LogLine>,
}

impl ExecutionLog {
    pub fn new() -> ExecutionLog {
        ExecutionLog {
            lines: Vec::with_capacity(16),
        }
    }

    pub fn push(&mut self, message: impl Into<String>) {
        self.lines.push(LogLine {
            at: SystemTime::now(),
            message: message.into(),
        });
    }

    /// The log as AWS's console prints it: `Thu Nov 24 20:07:01 UTC 2026 : message`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let _ = writeln!(out, "{} : {}", aws_log_time(line.at), line.message);
        }
        out
    }
}

/// `EEE MMM dd HH:mm:ss UTC yyyy`, the timestamp format of AWS's test invoke log.
pub fn aws_log_time(at: SystemTime) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let datetime = time::OffsetDateTime::UNIX_EPOCH + since;
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
    );
    datetime.format(&format).unwrap_or_default()
}
