//! Finds where a value sits in a JSON text, so that errors found after
//! parsing (a stage naming a missing deployment, a bad path part) still point
//! at `file:line:column` like syntax errors do.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl From<&str> for Step {
    fn from(key: &str) -> Step {
        Step::Key(key.to_string())
    }
}

impl From<usize> for Step {
    fn from(index: usize) -> Step {
        Step::Index(index)
    }
}

/// The 1-based line and column of the value at `path` in `text`, or of the
/// deepest enclosing value that exists.
pub fn locate(text: &str, path: &[Step]) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut scanner = Scanner { bytes, pos: 0 };
    scanner.skip_ws();
    let offset = scanner.find(path).unwrap_or(scanner.pos);
    line_column(text, offset)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// With `pos` at the start of a value: the offset of the value at `path`
    /// below it. On a miss, `pos` is left at the deepest value found.
    fn find(&mut self, path: &[Step]) -> Option<usize> {
        let start = self.pos;
        let Some((step, rest)) = path.split_first() else {
            return Some(start);
        };
        match (self.peek(), step) {
            (Some(b'{'), Step::Key(wanted)) => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        break;
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        break;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if &key == wanted {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
            }
            (Some(b'['), Step::Index(wanted)) => {
                self.pos += 1;
                let mut index = 0;
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') || self.peek().is_none() {
                        break;
                    }
                    if index == *wanted {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    index += 1;
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
            }
            _ => {}
        }
        self.pos = start;
        None
    }

    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    let raw = &self.bytes[start..self.pos];
                    self.pos += 1;
                    return Some(String::from_utf8_lossy(raw).into_owned());
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
                None
            }
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": {\"d\": true}\n}";
        assert_eq!(locate(text, &["a".into(), 1.into(), "b".into()]), (2, 18));
        assert_eq!(locate(text, &["c".into(), "d".into()]), (3, 14));
        assert_eq!(locate(text, &["c".into(), "missing".into()]), (3, 8));
    }
}
