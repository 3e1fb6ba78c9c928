//! `$util` functions and the Java library behaviour behind them and behind
//! String's regex methods.

use std::fmt::Write as _;

use base64::Engine as _;

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

/// A Java regular expression in the `regex` crate's syntax. The two agree
/// on what templates use (classes, quantifiers, groups, anchors); Java's
/// possessive quantifiers and lookaround have no equivalent and are
/// reported as errors.
pub fn java_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("java.util.regex.PatternSyntaxException: {e}"))
}

/// A Java replacement string (`$1`, `\$`) in the `regex` crate's syntax
/// (`${1}`, `$$`).
pub fn java_replacement(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len() + 4);
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    let _ = write!(out, "${{{digits}}}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Java's `String.split(regex, limit)`: with limit 0, trailing empty
/// strings are removed; a leading empty string from a zero-width match at
/// the start is not produced.
pub fn java_split(text: &str, pattern: &str, limit: i64) -> Result<Vec<String>, String> {
    if text.is_empty() {
        return Ok(vec![String::new()]);
    }
    let regex = java_regex(pattern)?;
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
        parts.push(text[last..found.start()].to_string());
        last = found.end();
    }
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
    fn url_encoding_like_java() {
        assert_eq!(url_encode("a b&c=d/é*"), "a+b%26c%3Dd%2F%C3%A9*");
        assert_eq!(url_decode("a+b%26c").unwrap(), "a b&c");
        assert!(url_decode("%zz").is_err());
    }

    #[test]
    fn split_like_java() {
        assert_eq!(java_split("a,b,,", ",", 0).unwrap(), ["a", "b"]);
        assert_eq!(java_split("a,b,,", ",", -1).unwrap(), ["a", "b", "", ""]);
        assert_eq!(java_split("a1b22c", "\\d+", 0).unwrap(), ["a", "b", "c"]);
        assert_eq!(java_split("a,b,c", ",", 2).unwrap(), ["a", "b,c"]);
    }

    #[test]
    fn replacement_groups() {
        assert_eq!(java_replacement("[$1]"), "[${1}]");
        assert_eq!(java_replacement("\\$x"), "$$x");
    }
}
