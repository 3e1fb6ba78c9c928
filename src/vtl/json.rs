//! A JSON reader straight into template values, for `$input.path('$')`,
//! which reads the whole body on every request.
//!
//! It takes the common shapes of JSON (no escapes beyond the usual,
//! numbers that convert exactly) and gives up (`None`) on anything else,
//! valid or not: the caller then parses with serde_json (through
//! [`Value`]'s `Deserialize`), which gives the same values for what this
//! reads, and serde_json's own errors. So this must never accept what
//! serde_json rejects, nor read a value differently.

use std::cell::RefCell;
use std::rc::Rc;

use super::value::{Entries, Key, Value, same_key};

/// serde_json stops at 128 levels; well below that, leave deep documents
/// to serde_json.
const MAX_DEPTH: u32 = 100;

/// Distinct object keys kept for sharing while reading one document.
const MAX_SHARED_KEYS: usize = 64;

/// The value of `text`, or `None` when serde_json should read it.
pub fn parse(text: &str) -> Option<Value> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        keys: Vec::new(),
        next_key: 0,
        scratch: String::new(),
    };
    let value = reader.value()?;
    reader.skip_whitespace();
    (reader.pos == reader.bytes.len()).then_some(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    /// Keys read so far, so `[{"id":..}, {"id":..}]` allocates `id` once.
    keys: Vec<Key>,
    /// Where in `keys` to look first.
    next_key: usize,
    /// A string with escapes, unescaped.
    scratch: String,
}

/// The bytes that end a run of plain string text: `"`, `\\` and the
/// control characters (which serde_json rejects in strings).
const STOPS_STRING: [bool; 256] = {
    let mut stops = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        stops[b] = true;
        b += 1;
    }
    stops[b'"' as usize] = true;
    stops[b'\\' as usize] = true;
    stops
};

/// Exact powers of ten as doubles (10^22 is the largest).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A string read: a slice of the document, or the scratch buffer.
enum Text<'a> {
    Slice(&'a str),
    Scratch,
}

impl<'a> Reader<'a> {
    // The scanning loops keep the position in a local: the field would be
    // written back on every byte.
    #[inline]
    fn skip_whitespace(&mut self) {
        let mut pos = self.pos;
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn value(&mut self) -> Option<Value> {
        self.skip_whitespace();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                let text = match self.string()? {
                    Text::Slice(text) => text,
                    Text::Scratch => &self.scratch,
                };
                Some(Value::str(text))
            }
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8], value: Value) -> Option<Value> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(value)
        } else {
            None
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn array(&mut self) -> Option<Value> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                items.push(self.value()?);
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Value::json_list(items))
    }

    fn object(&mut self) -> Option<Value> {
        self.enter()?;
        self.pos += 1;
        // Filled in place: the entries are too big to move around cheaply.
        let map = Rc::new(RefCell::new(Entries::default()));
        let mut entries = map.borrow_mut();
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                let (key, shared) = self.key()?;
                self.skip_whitespace();
                if self.peek()? != b':' {
                    return None;
                }
                self.pos += 1;
                let value = self.value()?;
                // A repeated key keeps its place and takes the last value,
                // as serde_json's reading into an ordered map does.
                if shared {
                    entries.insert_shared(key, value);
                } else {
                    entries.insert(key, value);
                }
                self.skip_whitespace();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        drop(entries);
        Some(Value::Map(map))
    }

    /// An object key, and whether it is shared: then every equal key of the
    /// document is this same allocation. (The shared keys are the first
    /// [`MAX_SHARED_KEYS`] distinct ones; a key not among them never is.)
    fn key(&mut self) -> Option<(Key, bool)> {
        let text = match self.string()? {
            Text::Slice(text) => text,
            Text::Scratch => &self.scratch,
        };
        // Objects of one shape repeat their keys in order: try the key
        // after the last one found first.
        let expected = if self.next_key < self.keys.len() {
            self.next_key
        } else {
            0
        };
        if let Some(key) = self.keys.get(expected)
            && same_key(key, text)
        {
            self.next_key = expected + 1;
            return Some((Key::clone(key), true));
        }
        if let Some(at) = self.keys.iter().position(|key| same_key(key, text)) {
            self.next_key = at + 1;
            return Some((Key::clone(&self.keys[at]), true));
        }
        let key = Key::from(text);
        let shared = self.keys.len() < MAX_SHARED_KEYS;
        if shared {
            self.keys.push(Key::clone(&key));
            self.next_key = self.keys.len();
        }
        Some((key, shared))
    }

    /// The string at the cursor (on its `"`), unescaped: a slice of the
    /// document when it has no escapes, else the scratch buffer.
    fn string(&mut self) -> Option<Text<'a>> {
        let start = self.pos + 1;
        let mut end = start;
        while !STOPS_STRING[usize::from(*self.bytes.get(end)?)] {
            end += 1;
        }
        self.pos = end;
        match self.bytes[end] {
            b'"' => {
                self.pos = end + 1;
                return Some(Text::Slice(&self.text[start..end]));
            }
            b'\\' => {}
            // serde_json rejects raw control characters in strings.
            _ => return None,
        }
        self.scratch.clear();
        self.scratch.push_str(&self.text[start..self.pos]);
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(Text::Scratch);
                }
                b'\\' => {
                    let escaped = *self.bytes.get(self.pos + 1)?;
                    self.pos += 2;
                    let c = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{08}',
                        b'f' => '\u{0c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    self.scratch.push(c);
                }
                0..=0x1f => return None,
                _ => {
                    let run = self.pos;
                    while self
                        .bytes
                        .get(self.pos)
                        .is_some_and(|&b| !STOPS_STRING[usize::from(b)])
                    {
                        self.pos += 1;
                    }
                    self.scratch.push_str(&self.text[run..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    /// After `\u`: a character, or a surrogate pair as one; a lone
    /// surrogate is left to serde_json.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2)? != b"\\u" {
                    return None;
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            n => char::from_u32(n),
        }
    }

    /// A number as serde_json reads it: an integer is `Integer` or `Long`
    /// (`-0` and integers past `Long` are doubles), anything with a
    /// fraction or an exponent a double.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let mut significand: u64 = 0;
        let mut digits = 0usize;
        match self.peek()? {
            b'0' => {
                self.pos += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                let mut pos = self.pos;
                while let Some(&d @ b'0'..=b'9') = self.bytes.get(pos) {
                    significand = significand
                        .checked_mul(10)?
                        .checked_add(u64::from(d - b'0'))?;
                    digits += 1;
                    pos += 1;
                }
                self.pos = pos;
            }
            _ => return None,
        }
        let mut exponent: i64 = 0;
        let mut decimal = false;
        if self.peek() == Some(b'.') {
            decimal = true;
            self.pos += 1;
            let fraction = self.pos;
            let mut pos = self.pos;
            while let Some(&d @ b'0'..=b'9') = self.bytes.get(pos) {
                // Past 19 digits the significand may overflow: the slow path
                // below reads the number.
                if significand != 0 || d != b'0' {
                    digits += 1;
                }
                significand = significand
                    .wrapping_mul(10)
                    .wrapping_add(u64::from(d - b'0'));
                exponent -= 1;
                pos += 1;
            }
            self.pos = pos;
            if self.pos == fraction {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            decimal = true;
            self.pos += 1;
            let negative_exponent = match self.peek()? {
                b'-' => {
                    self.pos += 1;
                    true
                }
                b'+' => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let digits_start = self.pos;
            let mut written: i64 = 0;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                written = (written * 10 + i64::from(d - b'0')).min(1 << 40);
                self.pos += 1;
            }
            if self.pos == digits_start {
                return None;
            }
            exponent += if negative_exponent { -written } else { written };
        }
        if !decimal {
            return Some(if negative {
                // serde_json: `-0` and integers below Long's range are doubles.
                let negated = (significand as i64).wrapping_neg();
                if negated >= 0 {
                    Value::Double(-(significand as f64))
                } else {
                    Value::integer(negated)
                }
            } else {
                i64::try_from(significand).map_or(Value::Double(significand as f64), Value::integer)
            });
        }
        // Both the significand and the power of ten exact: one correctly
        // rounded operation, the correctly rounded value serde_json gives.
        if digits <= 15 && significand < (1 << 53) && exponent.unsigned_abs() <= 22 {
            let mut d = significand as f64;
            let pow = POW10[exponent.unsigned_abs() as usize];
            if exponent < 0 {
                d /= pow;
            } else {
                d *= pow;
            }
            return Some(Value::Double(if negative { -d } else { d }));
        }
        let text = &self.text[start..self.pos];
        serde_json::from_str::<f64>(text).ok().map(Value::Double)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json reads, through `Value`'s `Deserialize`.
    fn by_serde(text: &str) -> Option<String> {
        serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| format!("{v:?}"))
    }

    fn check(text: &str) {
        let fast = parse(text).map(|v| format!("{v:?}"));
        if let Some(fast) = fast {
            assert_eq!(Some(fast), by_serde(text), "reading {text:?}");
        }
    }

    #[test]
    fn reads_as_serde_json_does() {
        for text in [
            r#"[{"id": 1, "type": "dog", "price": 249.99}]"#,
            r#"{"a": {"b": [1, 2.5, -3, true, false, null, "x"]}, "c": {}}"#,
            r#"{"a": 1, "b": 2, "a": 3}"#,
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 end""#,
            "-0",
            "-0.0",
            "0",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "2147483647",
            "2147483648",
            "1e5",
            "1E+2",
            "1.5e-7",
            "0.1",
            "123456789012345.678",
            "1.7976931348623157e308",
            "4.9e-324",
            "1e-400",
            "0.30000000000000004",
            "  [ ]  ",
            "{ }",
            "[[[[1]]]]",
        ] {
            assert!(parse(text).is_some(), "should read {text:?}");
            check(text);
        }
    }

    /// Past the shared keys, repeated keys are still found.
    #[test]
    fn repeated_keys_beyond_the_shared_ones() {
        let fields: Vec<String> = (0..80).map(|i| format!("\"k{i}\": {i}")).collect();
        for text in [
            format!("{{{}, \"k79\": \"last\", \"k3\": null}}", fields.join(", ")),
            format!(
                "[{{{}}}, {{\"k70\": 1, \"k71\": 2, \"k70\": 3}}, {{\"k1\": 1, \"k1\": 2}}]",
                fields.join(", ")
            ),
        ] {
            assert!(parse(&text).is_some());
            check(&text);
        }
    }

    #[test]
    fn leaves_what_serde_json_rejects_or_reads_specially() {
        for text in [
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "-",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "nul",
            "truex",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"a\u{1}\"",
            "1e400",
            "[1] x",
            "\u{feff}1",
            "{1: 2}",
            "\"unterminated",
            "",
            "1.5.5",
        ] {
            assert!(parse(text).is_none(), "should leave {text:?}");
        }
        let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
        assert!(parse(&deep).is_none());
    }

    fn json_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(",".to_string()),
            Just(":".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("\\u".to_string()),
            Just("\"k\":".to_string()),
            Just(" ".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("-".to_string()),
            Just(".".to_string()),
            Just("e".to_string()),
            "[0-9]{1,25}",
            "[0-9a-fA-F]{1,4}",
            "[a-z]{0,3}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
    }

    fn number_text() -> impl Strategy<Value = String> {
        (
            "-?",
            "(0|[1-9][0-9]{0,22})",
            proptest::option::of("[0-9]{1,20}"),
            proptest::option::of("[eE][+-]?[0-9]{1,3}"),
        )
            .prop_map(|(sign, int, fraction, exponent)| {
                let mut text = format!("{sign}{int}");
                if let Some(f) = fraction {
                    text.push('.');
                    text.push_str(&f);
                }
                text.push_str(&exponent.unwrap_or_default());
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn agrees_with_serde_json(text in json_text()) {
            check(&text);
        }

        #[test]
        fn numbers_agree_with_serde_json(text in number_text()) {
            check(&text);
        }

        #[test]
        fn doubles_agree_with_serde_json(d in any::<f64>().prop_filter("finite", |d| d.is_finite())) {
            for text in [format!("{d}"), format!("{d:e}"), format!("{d:.3}"), format!("{d:.17e}")] {
                check(&text);
            }
        }
    }
}
