//! Selection patterns: the Java regular expressions that choose an
//! integration response (REST `selectionPattern`, WebSocket
//! `/regex/` integration response keys).
//!
//! AWS compiles them with `java.util.regex`, so back-references (`(a)\1`)
//! and look-arounds (`(?!5)\d{3}`) are legal there and must be here. They
//! are compiled with `fancy-regex` (which hands plain patterns to the
//! `regex` crate, so the common `4\d{2}` costs nothing more) under a
//! backtracking limit: a pathological pattern fails its match, never a
//! serving thread. Java's `\Q...\E` quoting is translated first.
//!
//! Owns compiling and matching; imports nothing else of the crate.

/// Backtracking steps one match may take before it is abandoned (and
/// counted as no match). Ample for patterns on status codes and error
/// messages; `(a+)+$` against 30 `a`s and a `b` needs millions.
pub const BACKTRACK_LIMIT: usize = 100_000;

/// A compiled selection pattern, matched against the whole subject as
/// Java's `String.matches` does, with `.` matching line breaks too (a
/// Lambda error message may span lines).
#[derive(Debug, Clone)]
pub struct SelectionPattern {
    regex: fancy_regex::Regex,
}

/// What matching a subject gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Yes,
    No,
    /// The backtracking limit was reached: treated as no match.
    GaveUp,
}

impl SelectionPattern {
    /// Compiles `pattern` (Java syntax); the error says what is wrong.
    pub fn compile(pattern: &str) -> Result<SelectionPattern, SelectionPatternError> {
        let translated = translate_quotes(pattern);
        let anchored = format!("^(?s:{translated})$");
        fancy_regex::RegexBuilder::new(&anchored)
            .backtrack_limit(BACKTRACK_LIMIT)
            .build()
            .map(|regex| SelectionPattern { regex })
            .map_err(|e| SelectionPatternError(Box::new(e)))
    }

    pub fn matches(&self, subject: &str) -> Matched {
        match self.regex.is_match(subject) {
            Ok(true) => Matched::Yes,
            Ok(false) => Matched::No,
            Err(_) => Matched::GaveUp,
        }
    }
}

/// A selection pattern that does not compile; `Display` is the regex
/// engine's reason.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SelectionPatternError(Box<fancy_regex::Error>);

/// Checks a pattern as `PutIntegrationResponse` does: an empty pattern is
/// the default response; any other must compile.
pub fn validate_selection_pattern(pattern: &str) -> Result<(), SelectionPatternError> {
    if pattern.is_empty() {
        return Ok(());
    }
    SelectionPattern::compile(pattern).map(|_| ())
}

/// Java's `\Q...\E` (everything between is literal) as escaped text, which
/// the `regex` syntax lacks. An unterminated `\Q` quotes to the end, as in
/// Java.
fn translate_quotes(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains("\\Q") {
        return pattern.into();
    }
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    while let Some(at) = find_unescaped(rest, 'Q') {
        out.push_str(&rest[..at]);
        let quoted_start = at + 2;
        let (quoted, after) = match rest[quoted_start..].find("\\E") {
            Some(end) => (
                &rest[quoted_start..quoted_start + end],
                &rest[quoted_start + end + 2..],
            ),
            None => (&rest[quoted_start..], ""),
        };
        out.push_str(&fancy_regex::escape(quoted));
        rest = after;
    }
    out.push_str(rest);
    out.into()
}

/// The byte offset of `\{letter}` in `text` where the backslash is not
/// itself escaped.
fn find_unescaped(text: &str, letter: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1] as char == letter {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, subject: &str) -> Matched {
        SelectionPattern::compile(pattern)
            .expect("the pattern compiles")
            .matches(subject)
    }

    /// Java regex features AWS accepts (java.util.regex.Pattern's syntax):
    /// back-references, look-ahead and look-behind, atomic groups,
    /// possessive quantifiers and `\Q...\E` quoting.
    #[test]
    fn java_syntax_compiles_and_matches() {
        assert_eq!(matches(r"4\d{2}", "404"), Matched::Yes);
        assert_eq!(matches(r"4\d{2}", "500"), Matched::No);
        assert_eq!(matches(r"(\d)\1\d", "442"), Matched::Yes);
        assert_eq!(matches(r"(\d)\1\d", "402"), Matched::No);
        assert_eq!(matches(r"(?!404)4\d\d", "404"), Matched::No);
        assert_eq!(matches(r"(?!404)4\d\d", "403"), Matched::Yes);
        assert_eq!(matches(r".*(?<=Not Found)", "Item Not Found"), Matched::Yes);
        assert_eq!(matches(r"(?>a+)b", "aab"), Matched::Yes);
        assert_eq!(matches(r"a++b", "aab"), Matched::Yes);
        assert_eq!(matches(r"\Q[x]*\E.*", "[x]* and more"), Matched::Yes);
        assert_eq!(matches(r"\Q[x]*\E", "xx"), Matched::No);
        // The whole subject, across lines.
        assert_eq!(matches(".*Error.*", "line one\nError: boom"), Matched::Yes);
        assert_eq!(matches("Error", "Error: boom"), Matched::No);
    }

    #[test]
    fn catastrophic_backtracking_gives_up() {
        // Exponential in the subject's length without the limit; about
        // 2 ms with it (debug build).
        let started = std::time::Instant::now();
        assert_eq!(matches(r"((a|aa)+)\1c", &"a".repeat(40)), Matched::GaveUp);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn invalid_patterns_are_refused_with_the_reason() {
        for pattern in ["(", "*a", "[z-a]", r"(a)\2"] {
            let error = validate_selection_pattern(pattern).expect_err(pattern);
            assert!(!error.to_string().is_empty(), "{pattern}");
        }
        assert!(validate_selection_pattern("").is_ok());
    }
}
