//! The execution log of one request: the steps AWS's test invoke prints.
//!
//! Lines are written straight into one growing buffer (`format_args!`, no
//! per-line `String`), because the log is built for every request on the
//! hot path.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// The execution log of one request, in the order the pipeline ran. Lines
/// read like AWS's (`Method request path: {id=7}`, `Endpoint request URI: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionLog {
    /// When the request started; AWS stamps each line to the second.
    pub started: SystemTime,
    text: String,
    /// Where each line ends in `text`; a line starts where the previous
    /// one ended.
    ends: Vec<u32>,
    /// A log nobody will read ([`ExecutionLog::muted`]): lines are dropped
    /// unwritten.
    muted: bool,
}

impl Default for ExecutionLog {
    fn default() -> Self {
        ExecutionLog::new()
    }
}

impl ExecutionLog {
    pub fn new() -> ExecutionLog {
        ExecutionLog::starting(SystemTime::now())
    }

    /// A log of a request that started `at`.
    pub fn starting(at: SystemTime) -> ExecutionLog {
        ExecutionLog {
            started: at,
            text: String::with_capacity(1024),
            ends: Vec::with_capacity(16),
            muted: false,
        }
    }

    /// A log of a request whose log nobody keeps (a headless gateway keeps
    /// no request log): it allocates nothing, formats nothing, and stays
    /// empty.
    pub fn muted(at: SystemTime) -> ExecutionLog {
        ExecutionLog {
            started: at,
            text: String::new(),
            ends: Vec::new(),
            muted: true,
        }
    }

    pub fn push(&mut self, message: &str) {
        if self.muted {
            return;
        }
        self.text.push_str(message);
        self.end_line();
    }

    fn end_line(&mut self) {
        if self.muted {
            return;
        }
        // Logs stay far below 4 GiB (bodies are capped at 10 MB).
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    /// Bytes the log holds on the heap.
    pub fn heap_size(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }

    /// Gives back the spare capacity of a log that used less than half of
    /// it, so a finished log kept in the request log holds little more than
    /// its text. A fuller buffer stays: allocators shrink such a block in
    /// place and keep its size class, so the copy would save nothing.
    pub fn compact(&mut self) {
        if self.text.capacity() > 2 * self.text.len() {
            self.text.shrink_to_fit();
        }
        if self.ends.capacity() > 2 * self.ends.len() {
            self.ends.shrink_to_fit();
        }
    }

    /// Appends a formatted line: `log.push_fmt(format_args!("Status: {}", s))`.
    pub fn push_fmt(&mut self, message: std::fmt::Arguments<'_>) {
        if self.muted {
            return;
        }
        let _ = self.text.write_fmt(message);
        self.end_line();
    }

    /// Appends `prefix` then `part`, written straight into the log's text
    /// (no formatter): for the lines every request writes.
    pub fn push_with(&mut self, prefix: &str, part: impl LogText) {
        if self.muted {
            return;
        }
        self.text.push_str(prefix);
        part.write_to(&mut self.text);
        self.end_line();
    }

    /// Appends a line made of `parts`, each written straight into the text.
    pub fn push_parts(&mut self, parts: &[&dyn LogText]) {
        if self.muted {
            return;
        }
        for part in parts {
            part.write_to(&mut self.text);
        }
        self.end_line();
    }

    /// Starts a line to be written piecewise with [`LineWriter`].
    pub fn line(&mut self) -> LineWriter<'_> {
        LineWriter { log: self }
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&end| end as usize));
        starts
            .zip(self.ends.iter())
            .map(|(start, &end)| self.text.get(start..end as usize).unwrap_or_default())
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The log as AWS's console prints it: `Thu Nov 24 20:07:01 UTC 2026 : message`.
    pub fn render(&self) -> String {
        let stamp = aws_log_time(self.started);
        let mut out = String::with_capacity(self.text.len() + self.ends.len() * (stamp.len() + 4));
        for line in self.lines() {
            let _ = writeln!(out, "{stamp} : {line}");
        }
        out
    }
}

/// A piece of a log line that writes itself into the log's text.
pub trait LogText {
    fn write_to(&self, out: &mut String);
}

impl LogText for &str {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl LogText for u16 {
    fn write_to(&self, out: &mut String) {
        u64::from(*self).write_to(out);
    }
}

impl LogText for u64 {
    fn write_to(&self, out: &mut String) {
        out.push_str(decimal(*self, &mut [0; 20]));
    }
}

/// `n` in decimal, written into `digits` (no allocation, no formatter).
pub fn decimal(n: u64, digits: &mut [u8; 20]) -> &str {
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only.
    std::str::from_utf8(&digits[at..]).unwrap_or_default()
}

/// Bytes as text, invalid UTF-8 replaced by U+FFFD (as
/// `String::from_utf8_lossy`), without its copy when they are valid.
pub struct Lossy<'a>(pub &'a [u8]);

impl LogText for Lossy<'_> {
    fn write_to(&self, out: &mut String) {
        match std::str::from_utf8(self.0) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(self.0)),
        }
    }
}

/// Writes one log line in pieces; the line ends when this is dropped.
pub struct LineWriter<'a> {
    log: &'a mut ExecutionLog,
}

impl std::fmt::Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if !self.log.muted {
            self.log.text.push_str(s);
        }
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        self.log.end_line();
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
    fn decimal_is_the_number_in_base_ten() {
        for n in [0u64, 7, 42, 200, 504, 65535, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string());
        }
    }

    #[test]
    fn a_muted_log_stays_empty() {
        let mut log = ExecutionLog::muted(SystemTime::UNIX_EPOCH);
        log.push("one");
        log.push_fmt(format_args!("two {}", 2));
        let _ = write!(log.line(), "three");
        log.push_with("status ", 504u16);
        log.push_parts(&[&"a=", &7u16]);
        assert!(log.is_empty());
        assert_eq!(log.heap_size(), 0);
        assert_eq!(log.render(), "");
    }

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
        log.push_with("status ", 504u16);
        log.push_with("zero ", 0u16);
        log.push_with("max ", u16::MAX);
        log.push_with("body ", Lossy(b"ok \xff end"));
        log.push_with("text ", "plain");
        log.push_parts(&[&"a=", &7u16, &", b=", &u64::MAX]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            [
                "one",
                "two 2",
                "three parts",
                "status 504",
                "zero 0",
                "max 65535",
                "body ok \u{fffd} end",
                "text plain",
                "a=7, b=18446744073709551615"
            ]
        );
        log.started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_550_821);
        assert_eq!(
            log.render().lines().next(),
            Some("Tue Nov 24 20:07:01 UTC 2026 : one")
        );
    }
}
