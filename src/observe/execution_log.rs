//! The execution log of one request: the steps AWS's test invoke prints.
//!
//! Lines are written straight into one growing buffer (`format_args!`, no
//! per-line `String`), because the log is built for every request on the
//! hot path.

use std::fmt::Write as _;
use std::ops::Range;
use std::time::{Duration, SystemTime};

/// The execution log of one request, in the order the pipeline ran. Lines
/// read like AWS's (`Method request path: {id=7}`, `Endpoint request URI: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionLog {
    /// When the request started; AWS stamps each line to the second.
    pub started: SystemTime,
    text: String,
    lines: Vec<Range<usize>>,
}

impl Default for ExecutionLog {
    fn default() -> Self {
        ExecutionLog::new()
    }
}

impl ExecutionLog {
    pub fn new() -> ExecutionLog {
        ExecutionLog {
            started: SystemTime::now(),
            text: String::with_capacity(1024),
            lines: Vec::with_capacity(16),
        }
    }

    pub fn push(&mut self, message: &str) {
        let start = self.text.len();
        self.text.push_str(message);
        self.lines.push(start..self.text.len());
    }

    /// Appends a formatted line: `log.push_fmt(format_args!("Status: {}", s))`.
    pub fn push_fmt(&mut self, message: std::fmt::Arguments<'_>) {
        let start = self.text.len();
        let _ = self.text.write_fmt(message);
        self.lines.push(start..self.text.len());
    }

    /// Starts a line to be written piecewise with [`LineWriter`].
    pub fn line(&mut self) -> LineWriter<'_> {
        let start = self.text.len();
        LineWriter { log: self, start }
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|range| &self.text[range.clone()])
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The log as AWS's console prints it: `Thu Nov 24 20:07:01 UTC 2026 : message`.
    pub fn render(&self) -> String {
        let stamp = aws_log_time(self.started);
        let mut out = String::with_capacity(self.text.len() + self.lines.len() * (stamp.len() + 4));
        for line in self.lines() {
            let _ = writeln!(out, "{stamp} : {line}");
        }
        out
    }
}

/// Writes one log line in pieces; the line ends when this is dropped.
pub struct LineWriter<'a> {
    log: &'a mut ExecutionLog,
    start: usize,
}

impl std::fmt::Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.log.text.push_str(s);
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        let end = self.log.text.len();
        self.log.lines.push(self.start..end);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_order_and_text() {
        let mut log = ExecutionLog::new();
        log.push("one");
        log.push_fmt(format_args!("two {}", 2));
        {
            let mut line = log.line();
            let _ = write!(line, "three");
            let _ = write!(line, " parts");
        }
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            ["one", "two 2", "three parts"]
        );
        log.started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_550_821);
        assert_eq!(
            log.render().lines().next(),
            Some("Tue Nov 24 20:07:01 UTC 2026 : one")
        );
    }
}
