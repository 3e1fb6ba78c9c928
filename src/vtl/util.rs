//! `$util` functions and the Java library behaviour behind them and behind
//! String's regex methods.

use std::fmt::Write as _;

use base64::Engine as _;

use super::budget::{Budget, Exceeded};

/// `$util.escapeJavaScript`: Apache Commons Lang 2's
/// `StringEscapeUtils.escapeJavaScript`, which AWS uses: `'` becomes `\'`
/// (not valid JSON, as AWS's docs warn), `"` `\` `/` and control characters
/// are escaped, and every character above 0x7f becomes `\uXXXX`.
pub fn escape_javascript(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for unit in text.encode_utf16() {
        match unit {
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            unit if unit < 0x10 => {
                let _ = write!(out, "\\u000{unit:X}");
            }
            unit if unit < 0x20 => {
                let _ = write!(out, "\\u00{unit:X}");
            }
            unit if unit > 0x7f => {
                let _ = write!(out, "\\u{unit:04X}");
            }
            unit => out.push(char::from(unit as u8)),
        }
    }
    out
}

/// The length of [`escape_javascript`]'s result, without making it.
pub fn escaped_javascript_len(text: &str) -> usize {
    text.encode_utf16()
        .map(|unit| match unit {
            0x08 | 0x0a | 0x09 | 0x0c | 0x0d | 0x27 | 0x22 | 0x5c | 0x2f => 2,
            unit if !(0x20..=0x7f).contains(&unit) => 6,
            _ => 1,
        })
        .sum()
}

/// `$util.urlEncode`: `java.net.URLEncoder.encode(s, "UTF-8")`: letters,
/// digits and `.-*_` stay, a space becomes `+`, the rest `%XX`.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            byte => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// `$util.urlDecode`: `java.net.URLDecoder.decode(s, "UTF-8")`.
pub fn url_decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let raw = text.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        "java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern".to_string()
                    })?;
                bytes.push(hex);
                i += 2;
            }
            byte => bytes.push(byte),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn base64_encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

pub fn base64_decode(text: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim().as_bytes())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("java.lang.IllegalArgumentException: {e}"))
}

/// Steps charged for compiling a regular expression (a few microseconds
/// for the patterns templates use; each distinct pattern is compiled once
/// per render, see [`Budget::regex`]).
const REGEX_COMPILE_STEPS: u64 = 500;

/// The compiled size a pattern may reach: far above what templates use,
/// and low enough that compiling one is quick.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A Java regular expression in the `regex` crate's syntax. The two agree
/// on what templates use (classes, quantifiers, groups, anchors); Java's
/// possessive quantifiers and lookaround have no equivalent and are
/// reported as errors. Compiled once per render and pattern.
pub fn java_regex(pattern: &str, budget: &mut Budget) -> Result<regex::Regex, String> {
    if let Some(regex) = budget.regex(pattern) {
        return Ok(regex);
    }
    budget.steps(REGEX_COMPILE_STEPS + pattern.len() as u64)?;
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("java.util.regex.PatternSyntaxException: {e}"))?;
    budget.keep_regex(pattern, &regex)?;
    Ok(regex)
}

/// A regex search over `text`: dearer per byte than a plain scan.
pub fn charge_regex_search(text: &str, budget: &mut Budget) -> Result<(), Exceeded> {
    budget.steps(text.len() as u64 / 8)
}

/// A piece of a Java replacement string: text, or `$n`.
enum Piece {
    Text(String),
    Group(usize),
}

/// Java's replacement syntax: `$n` is group n (a group the pattern does
/// not have is empty), `\x` is `x`, a `$` without digits stays.
fn replacement_pieces(replacement: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(other) = chars.next() {
                    text.push(other);
                }
            }
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut group: usize = 0;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    group = group.saturating_mul(10).saturating_add(d as usize);
                    chars.next();
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Group(group));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// `String.replaceAll` / `replaceFirst`: never grows past the bytes the
/// budget has left (checked before each piece is appended).
pub fn java_replace(
    regex: &regex::Regex,
    text: &str,
    replacement: &str,
    all: bool,
    budget: &mut Budget,
) -> Result<String, String> {
    charge_regex_search(text, budget)?;
    let pieces = replacement_pieces(replacement);
    let room = budget.bytes_left();
    let mut out = String::new();
    let append = |out: &mut String, piece: &str| -> Result<(), Exceeded> {
        if out.len() + piece.len() > room {
            return Err(Exceeded::Memory);
        }
        out.push_str(piece);
        Ok(())
    };
    let mut last = 0;
    for captures in regex.captures_iter(text) {
        budget.step()?;
        let Some(found) = captures.get(0) else {
            continue;
        };
        append(&mut out, &text[last..found.start()])?;
        for piece in &pieces {
            match piece {
                Piece::Text(literal) => append(&mut out, literal)?,
                Piece::Group(group) => {
                    append(&mut out, captures.get(*group).map_or("", |m| m.as_str()))?
                }
            }
        }
        last = found.end();
        if !all {
            break;
        }
    }
    append(&mut out, &text[last..])?;
    budget.alloc(out.len())?;
    Ok(out)
}

/// Java's `String.split(regex, limit)`: with limit 0, trailing empty
/// strings are removed; a leading empty string from a zero-width match at
/// the start is not produced. Each part is charged as it is made.
pub fn java_split(
    text: &str,
    pattern: &str,
    limit: i64,
    budget: &mut Budget,
) -> Result<Vec<String>, String> {
    if text.is_empty() {
        return Ok(vec![String::new()]);
    }
    let regex = java_regex(pattern, budget)?;
    charge_regex_search(text, budget)?;
    let part_bytes = super::value::ITEM_BYTES + 16;
    let mut parts = Vec::new();
    let mut last = 0;
    for found in regex.find_iter(text) {
        if limit > 0 && parts.len() as i64 == limit - 1 {
            break;
        }
        if found.end() == 0 {
            continue;
        }
        if found.start() == found.end() && found.start() == last && last != 0 {
            continue;
        }
        budget.alloc(part_bytes + found.start() - last)?;
        parts.push(text[last..found.start()].to_string());
        last = found.end();
    }
    budget.alloc(part_bytes + text.len() - last)?;
    parts.push(text[last..].to_string());
    if limit == 0 {
        while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
            parts.pop();
        }
        if parts.len() == 1 && parts[0].is_empty() {
            parts.clear();
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_commons_lang() {
        assert_eq!(
            escape_javascript("it's \"x\"\\/\n\té\u{1}"),
            "it\\'s \\\"x\\\"\\\\\\/\\n\\t\\u00E9\\u0001"
        );
    }

    #[test]
    fn escaped_length_is_exact() {
        for text in ["", "plain", "it's \"x\"\\/\n\té\u{1}\u{1f}\u{7f}😀"] {
            assert_eq!(
                escaped_javascript_len(text),
                escape_javascript(text).len(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn url_encoding_like_java() {
        assert_eq!(url_encode("a b&c=d/é*"), "a+b%26c%3Dd%2F%C3%A9*");
        assert_eq!(url_decode("a+b%26c").unwrap(), "a b&c");
        assert!(url_decode("%zz").is_err());
    }

    fn budget() -> Budget {
        Budget::new(1_000_000, 1 << 20)
    }

    #[test]
    fn split_like_java() {
        let split = |text, pattern, limit| java_split(text, pattern, limit, &mut budget()).unwrap();
        assert_eq!(split("a,b,,", ",", 0), ["a", "b"]);
        assert_eq!(split("a,b,,", ",", -1), ["a", "b", "", ""]);
        assert_eq!(split("a1b22c", "\\d+", 0), ["a", "b", "c"]);
        assert_eq!(split("a,b,c", ",", 2), ["a", "b,c"]);
    }

    #[test]
    fn replacement_groups() {
        let replace = |text, pattern, replacement, all| {
            let mut budget = budget();
            let regex = java_regex(pattern, &mut budget).unwrap();
            java_replace(&regex, text, replacement, all, &mut budget).unwrap()
        };
        assert_eq!(replace("ab-cd", "(\\w)(\\w)", "[$2$1]", true), "[ba]-[dc]");
        assert_eq!(replace("ab", "a", "\\$x$", true), "$x$b");
        assert_eq!(replace("aaa", "a", "b", false), "baa");
        assert_eq!(replace("abc", "", "-", true), "-a-b-c-");
        assert_eq!(replace("ab", "(a)", "$9", true), "b");
    }

    #[test]
    fn replacing_stops_at_the_budget() {
        let mut budget = Budget::new(1_000_000, 1000);
        let regex = java_regex("a", &mut budget).unwrap();
        let text = "a".repeat(100);
        let replacement = "$0".repeat(50);
        assert!(java_replace(&regex, &text, &replacement, true, &mut budget).is_err());
    }
}
