//! JSONPath as API Gateway evaluates it (Jayway JsonPath): for
//! `$input.path` / `$input.json` in mapping templates and for
//! `integration.response.body.x` / `method.request.body.x` mappings.
//!
//! Supported: `$`, `.name`, `['name']`, `['a','b']`, `[0]`, `[-1]`,
//! `[0,2]`, slices `[1:3]`, `[:2]`, `[-2:]`, wildcards `.*` / `[*]`, deep
//! scan `..name`, filters `[?(@.price < 10 && @.tag)]` with `== != < <= >
//! >= =~ in nin empty size`, and the functions `length()`, `size()`,
//! `min()`, `max()`, `sum()`, `avg()`, `keys()`.
//!
//! A definite path selects one value or nothing; any other path selects a
//! list, possibly empty.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct JsonPathError {
    pub message: String,
    pub position: usize,
}

/// A compiled path.
#[derive(Debug, Clone)]
pub struct JsonPath {
    segments: Vec<Segment>,
    function: Option<Function>,
    definite: bool,
    /// The path ends in several names (`$.a['b','c']`): Jayway returns an
    /// object of those properties rather than a list.
    merge_leaf: bool,
}

#[derive(Debug, Clone)]
enum Segment {
    Names(Vec<String>),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    /// `..` followed by a selector applied at every depth.
    Deep(Box<Segment>),
    Filter(Filter),
}

#[derive(Debug, Clone, Copy)]
enum Function {
    Length,
    Min,
    Max,
    Sum,
    Avg,
    Keys,
}

#[derive(Debug, Clone)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, Comparison, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    Size,
    Empty,
}

#[derive(Debug, Clone)]
enum Operand {
    Current(JsonPath),
    Root(JsonPath),
    Literal(Value),
    Regex(regex::Regex),
}

/// Evaluates `path` against `document` (see [`JsonPath::select`]).
pub fn select(document: &Value, path: &str) -> Result<Option<Value>, JsonPathError> {
    Ok(JsonPath::parse(path)?.select(document))
}

impl JsonPath {
    pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
        let mut parser = PathParser {
            text: path.trim(),
            pos: 0,
            depth: 0,
        };
        let root = parser.peek();
        if root == Some(b'$') || root == Some(b'@') {
            parser.pos += 1;
        }
        let compiled = parser.path()?;
        if parser.pos < parser.text.len() {
            return parser.fail("unexpected character");
        }
        Ok(compiled)
    }

    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// A definite path gives `Some(value)` or `None` when missing; an
    /// indefinite one gives `Some(Array(matches))`.
    pub fn select(&self, document: &Value) -> Option<Value> {
        self.select_from(document, document)
    }

    fn select_from(&self, document: &Value, root: &Value) -> Option<Value> {
        let mut current: Vec<&Value> = vec![document];
        let (leaf, walk) = match (self.merge_leaf, self.segments.split_last()) {
            (true, Some((Segment::Names(names), rest))) => (Some(names), rest),
            _ => (None, &self.segments[..]),
        };
        for segment in walk {
            let mut next = Vec::new();
            for value in current {
                apply(segment, value, root, &mut next);
            }
            current = next;
        }
        if let Some(names) = leaf {
            let merged: Vec<Value> = current
                .iter()
                .filter_map(|value| value.as_object())
                .map(|object| {
                    Value::Object(
                        names
                            .iter()
                            .filter_map(|n| object.get(n).map(|v| (n.clone(), v.clone())))
                            .collect(),
                    )
                })
                .collect();
            return if self.definite {
                merged.into_iter().next()
            } else {
                Some(Value::Array(merged))
            };
        }
        let selected = if self.definite {
            current.first().map(|v| (*v).clone())?
        } else {
            Value::Array(current.into_iter().cloned().collect())
        };
        match self.function {
            None => Some(selected),
            // Jayway applies a function to the one list a scan found
            // (`$..book.length()` counts the books).
            Some(function) => match (&selected, self.definite) {
                (Value::Array(found), false) if found.len() == 1 && found[0].is_array() => {
                    call(function, &found[0])
                }
                _ => call(function, &selected),
            },
        }
    }
}

fn apply<'a>(segment: &Segment, value: &'a Value, root: &Value, out: &mut Vec<&'a Value>) {
    match segment {
        Segment::Names(names) => {
            if let Value::Object(map) = value {
                out.extend(names.iter().filter_map(|name| map.get(name)));
            }
        }
        Segment::Indexes(indexes) => {
            if let Value::Array(items) = value {
                for index in indexes {
                    let at = if *index < 0 {
                        items.len() as i64 + index
                    } else {
                        *index
                    };
                    if let Some(item) = usize::try_from(at).ok().and_then(|i| items.get(i)) {
                        out.push(item);
                    }
                }
            }
        }
        Segment::Slice(start, end) => {
            if let Value::Array(items) = value {
                let length = items.len() as i64;
                let bound = |v: i64| {
                    if v < 0 {
                        (length + v).max(0)
                    } else {
                        v.min(length)
                    }
                };
                let from = start.map_or(0, bound);
                let to = end.map_or(length, bound);
                if from < to {
                    out.extend(&items[from as usize..to as usize]);
                }
            }
        }
        Segment::Wildcard => match value {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items),
            _ => {}
        },
        Segment::Deep(selector) => {
            apply(selector, value, root, out);
            match value {
                Value::Object(map) => {
                    for child in map.values() {
                        apply(segment, child, root, out);
                    }
                }
                Value::Array(items) => {
                    for child in items {
                        apply(segment, child, root, out);
                    }
                }
                _ => {}
            }
        }
        Segment::Filter(filter) => {
            let candidates: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => vec![value],
                _ => Vec::new(),
            };
            out.extend(
                candidates
                    .into_iter()
                    .filter(|item| test(filter, item, root)),
            );
        }
    }
}

fn test(filter: &Filter, item: &Value, root: &Value) -> bool {
    match filter {
        Filter::Or(a, b) => test(a, item, root) || test(b, item, root),
        Filter::And(a, b) => test(a, item, root) && test(b, item, root),
        Filter::Not(inner) => !test(inner, item, root),
        Filter::Exists(operand) => operand_value(operand, item, root).is_some(),
        Filter::Compare(left, comparison, right) => {
            let Some(left_value) = operand_value(left, item, root) else {
                return false;
            };
            if let (Comparison::Matches, Operand::Regex(regex)) = (comparison, right) {
                return left_value.as_str().is_some_and(|s| regex.is_match(s));
            }
            let Some(right_value) = operand_value(right, item, root) else {
                return false;
            };
            compare(&left_value, *comparison, &right_value)
        }
    }
}

fn operand_value(operand: &Operand, item: &Value, root: &Value) -> Option<Value> {
    match operand {
        Operand::Current(path) => path.select_from(item, root),
        Operand::Root(path) => path.select_from(root, root),
        Operand::Literal(value) => Some(value.clone()),
        Operand::Regex(_) => None,
    }
}

fn compare(left: &Value, comparison: Comparison, right: &Value) -> bool {
    let numbers = left.as_f64().zip(right.as_f64());
    match comparison {
        Comparison::Eq => numbers.map_or(left == right, |(a, b)| a == b),
        Comparison::Ne => !numbers.map_or(left == right, |(a, b)| a == b),
        Comparison::Lt | Comparison::Le | Comparison::Gt | Comparison::Ge => {
            let ordering = match (left, right) {
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                _ => numbers.and_then(|(a, b)| a.partial_cmp(&b)),
            };
            ordering.is_some_and(|o| match comparison {
                Comparison::Lt => o.is_lt(),
                Comparison::Le => o.is_le(),
                Comparison::Gt => o.is_gt(),
                _ => o.is_ge(),
            })
        }
        Comparison::In | Comparison::Nin => {
            let found = right
                .as_array()
                .is_some_and(|items| items.iter().any(|v| compare(left, Comparison::Eq, v)));
            found == (comparison == Comparison::In)
        }
        Comparison::Size => {
            let size = match left {
                Value::Array(items) => items.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            right.as_u64() == Some(size as u64)
        }
        Comparison::Empty => {
            let empty = match left {
                Value::Array(items) => items.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            right.as_bool() == Some(empty)
        }
        Comparison::Matches => false,
    }
}

fn call(function: Function, value: &Value) -> Option<Value> {
    let numbers = || -> Vec<f64> {
        value
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    match function {
        Function::Length => match value {
            Value::Array(items) => Some(Value::from(items.len())),
            Value::Object(map) => Some(Value::from(map.len())),
            Value::String(s) => Some(Value::from(s.chars().count())),
            _ => None,
        },
        Function::Keys => value
            .as_object()
            .map(|map| Value::Array(map.keys().map(|k| Value::String(k.clone())).collect())),
        Function::Min => numbers().into_iter().reduce(f64::min).map(Value::from),
        Function::Max => numbers().into_iter().reduce(f64::max).map(Value::from),
        Function::Sum => Some(Value::from(numbers().iter().sum::<f64>())),
        Function::Avg => {
            let values = numbers();
            (!values.is_empty())
                .then(|| Value::from(values.iter().sum::<f64>() / values.len() as f64))
        }
    }
}

const MAX_DEPTH: usize = 32;

struct PathParser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl PathParser<'_> {
    fn fail<T>(&self, message: &str) -> Result<T, JsonPathError> {
        Err(JsonPathError {
            message: message.to_string(),
            position: self.pos,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$' || b >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.text[start..self.pos].to_string()
    }

    /// Segments after the root, until the end or a character that cannot
    /// continue a path (inside filters: an operator or `)`).
    fn path(&mut self) -> Result<JsonPath, JsonPathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("the path nests too deeply");
        }
        let mut segments = Vec::new();
        let mut definite = true;
        let mut function = None;
        loop {
            match self.peek() {
                Some(b'.') if self.rest().starts_with("..") => {
                    self.pos += 2;
                    definite = false;
                    let selector = match self.peek() {
                        Some(b'[') => self.bracket()?,
                        Some(b'*') => {
                            self.pos += 1;
                            Segment::Wildcard
                        }
                        _ => {
                            let name = self.name();
                            if name.is_empty() {
                                return self.fail("expected a name after '..'");
                            }
                            Segment::Names(vec![name])
                        }
                    };
                    segments.push(Segment::Deep(Box::new(selector)));
                }
                Some(b'.') => {
                    self.pos += 1;
                    if self.peek() == Some(b'*') {
                        self.pos += 1;
                        definite = false;
                        segments.push(Segment::Wildcard);
                        continue;
                    }
                    let name = self.name();
                    if name.is_empty() {
                        return self.fail("expected a name after '.'");
                    }
                    if self.rest().starts_with("()") {
                        self.pos += 2;
                        function = Some(match name.as_str() {
                            "length" | "size" => Function::Length,
                            "min" => Function::Min,
                            "max" => Function::Max,
                            "sum" => Function::Sum,
                            "avg" => Function::Avg,
                            "keys" => Function::Keys,
                            _ => return self.fail("unknown function"),
                        });
                        break;
                    }
                    segments.push(Segment::Names(vec![name]));
                }
                Some(b'[') => {
                    let segment = self.bracket()?;
                    if !matches!(&segment, Segment::Names(n) if n.len() == 1)
                        && !matches!(&segment, Segment::Indexes(i) if i.len() == 1)
                    {
                        definite = false;
                    }
                    segments.push(segment);
                }
                _ => break,
            }
        }
        self.depth -= 1;
        // Several names at the end select an object of those properties;
        // the path stays definite if everything before them is.
        let merge_leaf = function.is_none()
            && matches!(segments.last(), Some(Segment::Names(names)) if names.len() > 1);
        if merge_leaf {
            definite = segments[..segments.len() - 1]
                .iter()
                .all(|segment| match segment {
                    Segment::Names(names) => names.len() == 1,
                    Segment::Indexes(indexes) => indexes.len() == 1,
                    _ => false,
                });
        }
        Ok(JsonPath {
            segments,
            function,
            definite,
            merge_leaf,
        })
    }

    fn bracket(&mut self) -> Result<Segment, JsonPathError> {
        self.pos += 1;
        self.skip_spaces();
        let segment = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_spaces();
                    if self.peek() != Some(b',') {
                        break;
                    }
                    self.pos += 1;
                    self.skip_spaces();
                    names.push(self.quoted()?);
                }
                Segment::Names(names)
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_spaces();
                if self.peek() != Some(b'(') {
                    return self.fail("expected '(' after '?'");
                }
                self.pos += 1;
                let filter = self.filter_or()?;
                self.skip_spaces();
                if self.peek() != Some(b')') {
                    return self.fail("expected ')' to close the filter");
                }
                self.pos += 1;
                Segment::Filter(filter)
            }
            _ => {
                let first = self.integer()?;
                self.skip_spaces();
                if self.peek() == Some(b':') {
                    self.pos += 1;
                    self.skip_spaces();
                    let end = self.integer()?;
                    Segment::Slice(first, end)
                } else {
                    let mut indexes = vec![first.ok_or_else(|| JsonPathError {
                        message: "expected an index, a name or a filter".into(),
                        position: self.pos,
                    })?];
                    while self.peek() == Some(b',') {
                        self.pos += 1;
                        self.skip_spaces();
                        match self.integer()? {
                            Some(index) => indexes.push(index),
                            None => return self.fail("expected an index"),
                        }
                        self.skip_spaces();
                    }
                    Segment::Indexes(indexes)
                }
            }
        };
        self.skip_spaces();
        if self.peek() != Some(b']') {
            return self.fail("expected ']'");
        }
        self.pos += 1;
        Ok(segment)
    }

    fn integer(&mut self) -> Result<Option<i64>, JsonPathError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        self.text[start..self.pos]
            .parse()
            .map(Some)
            .or_else(|_| self.fail("invalid index"))
    }

    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let quote = self.peek().unwrap_or(b'\'');
        if !matches!(quote, b'\'' | b'"') {
            return self.fail("expected a quoted name");
        }
        self.pos += 1;
        let mut text = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        text.push(escaped);
                    }
                }
                c if c as u32 == u32::from(quote) => {
                    self.pos += i + 1;
                    return Ok(text);
                }
                c => text.push(c),
            }
        }
        self.fail("unterminated string")
    }

    fn filter_or(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_spaces();
            if !self.rest().starts_with("||") {
                return Ok(left);
            }
            self.pos += 2;
            let right = self.filter_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    fn filter_and(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_spaces();
            if !self.rest().starts_with("&&") {
                return Ok(left);
            }
            self.pos += 2;
            let right = self.filter_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, JsonPathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("the filter nests too deeply");
        }
        self.skip_spaces();
        let result = if self.peek() == Some(b'!') {
            self.pos += 1;
            Filter::Not(Box::new(self.filter_unary()?))
        } else if self.peek() == Some(b'(') {
            self.pos += 1;
            let inner = self.filter_or()?;
            self.skip_spaces();
            if self.peek() != Some(b')') {
                return self.fail("expected ')'");
            }
            self.pos += 1;
            inner
        } else {
            let left = self.operand()?;
            self.skip_spaces();
            let comparisons = [
                ("==", Comparison::Eq),
                ("!=", Comparison::Ne),
                ("<=", Comparison::Le),
                (">=", Comparison::Ge),
                ("<", Comparison::Lt),
                (">", Comparison::Gt),
                ("=~", Comparison::Matches),
                ("nin", Comparison::Nin),
                ("in", Comparison::In),
                ("size", Comparison::Size),
                ("empty", Comparison::Empty),
            ];
            match comparisons
                .iter()
                .find(|(symbol, _)| self.rest().starts_with(symbol))
            {
                Some((symbol, comparison)) => {
                    self.pos += symbol.len();
                    self.skip_spaces();
                    let right = self.operand()?;
                    Filter::Compare(left, *comparison, right)
                }
                None => Filter::Exists(left),
            }
        };
        self.depth -= 1;
        Ok(result)
    }

    fn operand(&mut self) -> Result<Operand, JsonPathError> {
        self.skip_spaces();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(Operand::Current(self.path()?))
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(Operand::Root(self.path()?))
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(b'/') => {
                self.pos += 1;
                let Some(end) = self.rest().find('/') else {
                    return self.fail("unterminated regular expression");
                };
                let pattern = self.rest()[..end].to_string();
                self.pos += end + 1;
                let mut flags = String::new();
                while let Some(b) = self.peek().filter(u8::is_ascii_alphabetic) {
                    flags.push(char::from(b));
                    self.pos += 1;
                }
                let pattern = if flags.contains('i') {
                    format!("(?i){pattern}")
                } else {
                    pattern
                };
                regex::Regex::new(&pattern)
                    .map(Operand::Regex)
                    .or_else(|_| self.fail("invalid regular expression"))
            }
            Some(b'[' | b'{') => {
                let mut stream =
                    serde_json::Deserializer::from_str(self.rest()).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(value)) => {
                        self.pos += stream.byte_offset();
                        Ok(Operand::Literal(value))
                    }
                    _ => {
                        // Jayway also accepts single-quoted strings in lists.
                        let end = self
                            .rest()
                            .find(']')
                            .map_or(self.text.len(), |i| self.pos + i + 1);
                        let text = self.text[self.pos..end].replace('\'', "\"");
                        let value: Value =
                            serde_json::from_str(&text).or_else(|_| self.fail("invalid list"))?;
                        self.pos = end;
                        Ok(Operand::Literal(value))
                    }
                }
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+'
                }) {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                serde_json::from_str(word)
                    .map(Operand::Literal)
                    .or_else(|_| self.fail("expected a value"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Examples from Jayway JsonPath's README (the store document).
    #[test]
    fn jayway_readme_examples() {
        let store = json!({"store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        }, "expensive": 10});
        let s = |path: &str| select(&store, path).unwrap();
        assert_eq!(s("$.store.book[*].author").unwrap()[3], "J. R. R. Tolkien");
        assert_eq!(s("$..author").unwrap().as_array().unwrap().len(), 4);
        assert_eq!(s("$.store.book[2]").unwrap()["title"], "Moby Dick");
        assert_eq!(s("$..book[-2]").unwrap()[0]["title"], "Moby Dick");
        assert_eq!(s("$..book[0,1]").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(s("$..book[:2]").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(s("$..book[1:2]").unwrap()[0]["author"], "Evelyn Waugh");
        assert_eq!(s("$..book[-2:]").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(
            s("$..book[?(@.isbn)]").unwrap().as_array().unwrap().len(),
            2
        );
        assert_eq!(
            s("$.store.book[?(@.price < 10)].title").unwrap(),
            json!(["Sayings of the Century", "Moby Dick"])
        );
        assert_eq!(
            s("$..book[?(@.price <= $['expensive'])]")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            s("$..book[?(@.author =~ /.*REES/i)]").unwrap()[0]["price"],
            8.95
        );
        assert_eq!(s("$..book.length()").unwrap(), json!(4));
        assert_eq!(s("$.store.bicycle.color").unwrap(), "red");
        assert_eq!(s("$['store']['bicycle']['price']").unwrap(), 19.95);
        assert_eq!(s("$.nope"), None);
        assert_eq!(s("$.store.book[9]"), None);
        assert_eq!(s("$"), Some(store.clone()));
        assert!(JsonPath::parse("$.store.book[").is_err());
        assert!(JsonPath::parse("$..book[?(@.price < 10)]").is_ok_and(|p| !p.is_definite()));
    }
}
