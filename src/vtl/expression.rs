//! Expressions inside directives and method arguments: literals (strings
//! that interpolate when double-quoted, integers, decimals, booleans, null,
//! lists, ranges, maps), references, and the operators with Velocity 1.7's
//! precedence (`||` < `&&` < `==` < `<` < `+` < `*`, word forms included).

use std::collections::HashMap;

use super::ast::{BinaryOp, Expr};
use super::parser::{Parser, Result, is_ident};

impl Parser<'_> {
    pub(super) fn expression(&mut self) -> Result<Expr> {
        self.enter()?;
        let result = self.binary(0);
        self.leave();
        result
    }

    /// The operator at the cursor with its length and precedence, without
    /// consuming it. Word operators (`and`, `lt`...) need a word boundary.
    fn operator(&self) -> Option<(BinaryOp, usize, u8)> {
        let rest = &self.bytes[self.pos..self.end];
        let second = rest.get(1).copied();
        let (op, length) = match *rest.first()? {
            b'|' if second == Some(b'|') => (BinaryOp::Or, 2),
            b'&' if second == Some(b'&') => (BinaryOp::And, 2),
            b'=' if second == Some(b'=') => (BinaryOp::Eq, 2),
            b'!' if second == Some(b'=') => (BinaryOp::Ne, 2),
            b'<' if second == Some(b'=') => (BinaryOp::Le, 2),
            b'<' => (BinaryOp::Lt, 1),
            b'>' if second == Some(b'=') => (BinaryOp::Ge, 2),
            b'>' => (BinaryOp::Gt, 1),
            b'+' => (BinaryOp::Add, 1),
            b'-' => (BinaryOp::Sub, 1),
            b'*' => (BinaryOp::Mul, 1),
            b'/' => (BinaryOp::Div, 1),
            b'%' => (BinaryOp::Mod, 1),
            b'a'..=b'z' => {
                let op = match rest {
                    [b'o', b'r', ..] => (BinaryOp::Or, 2),
                    [b'a', b'n', b'd', ..] => (BinaryOp::And, 3),
                    [b'e', b'q', ..] => (BinaryOp::Eq, 2),
                    [b'n', b'e', ..] => (BinaryOp::Ne, 2),
                    [b'l', b'e', ..] => (BinaryOp::Le, 2),
                    [b'g', b'e', ..] => (BinaryOp::Ge, 2),
                    [b'l', b't', ..] => (BinaryOp::Lt, 2),
                    [b'g', b't', ..] => (BinaryOp::Gt, 2),
                    _ => return None,
                };
                if rest.get(op.1).copied().is_some_and(is_ident) {
                    return None;
                }
                op
            }
            _ => return None,
        };
        let precedence = match op {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
        };
        Some((op, length, precedence))
    }

    /// Precedence climbing over [`Parser::operator`].
    fn binary(&mut self, minimum: u8) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            self.skip_whitespace();
            let Some((op, length, precedence)) = self.operator() else {
                return Ok(left);
            };
            if precedence <= minimum {
                return Ok(left);
            }
            let at = self.pos;
            self.pos += length;
            self.skip_whitespace();
            self.enter()?;
            let right = self.binary(precedence);
            self.leave();
            left = Expr::Binary(op, Box::new(left), Box::new(right?), at);
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        self.skip_whitespace();
        let rest = &self.bytes[self.pos..self.end];
        if rest.first() == Some(&b'!') && rest.get(1) != Some(&b'=') {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?)));
        }
        if rest.starts_with(b"not") && !rest.get(3).copied().is_some_and(is_ident) {
            self.pos += 3;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?)));
        }
        if rest.first() == Some(&b'-') && !rest.get(1).is_some_and(|b| b.is_ascii_digit()) {
            return self.error(
                self.pos,
                "a '-' sign must be followed by a number (Velocity 1.7 has no unary minus)",
            );
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        self.skip_whitespace();
        let start = self.pos;
        let Some(b) = self.peek() else {
            return self.error(
                self.pos,
                "expected an expression before the end of the template",
            );
        };
        match b {
            b'$' => match self.reference()? {
                Some(reference) => Ok(Expr::Reference(reference)),
                None => self.error(start, "expected a reference after '$'"),
            },
            b'"' => self.double_quoted(),
            b'\'' => {
                let mut text = String::new();
                self.pos += 1;
                loop {
                    let Some(i) = self.source[self.pos..self.end].find('\'') else {
                        return self.error(start, "unterminated string");
                    };
                    text.push_str(&self.source[self.pos..self.pos + i]);
                    self.pos += i + 1;
                    if self.peek() == Some(b'\'') {
                        text.push('\'');
                        self.pos += 1;
                    } else {
                        return Ok(Expr::Str(text));
                    }
                }
            }
            b'0'..=b'9' | b'-' => self.number(),
            b'[' => {
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expression()?;
                self.skip_whitespace();
                if self.starts_with("..") {
                    self.pos += 2;
                    let last = self.expression()?;
                    self.skip_whitespace();
                    if self.peek() != Some(b']') {
                        return self.error(self.pos, "expected ']' to close the range");
                    }
                    self.pos += 1;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        Some(b',') => {
                            self.pos += 1;
                            items.push(self.expression()?);
                        }
                        _ => return self.error(self.pos, "expected ',' or ']' in the list"),
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Expr::Map(entries));
                        }
                        Some(b',') => self.pos += 1,
                        Some(_) => {
                            let key = self.expression()?;
                            self.skip_whitespace();
                            if self.peek() != Some(b':') {
                                return self.error(self.pos, "expected ':' in the map");
                            }
                            self.pos += 1;
                            let value = self.expression()?;
                            entries.push((key, value));
                        }
                        None => return self.error(start, "unterminated map"),
                    }
                }
            }
            b'(' => {
                self.pos += 1;
                let inner = self.expression()?;
                self.skip_whitespace();
                if self.peek() != Some(b')') {
                    return self.error(self.pos, "expected ')'");
                }
                self.pos += 1;
                Ok(Expr::Group(Box::new(inner)))
            }
            _ => {
                let rest = &self.bytes[self.pos..self.end];
                for (word, value) in [
                    ("true", Expr::Bool(true)),
                    ("false", Expr::Bool(false)),
                    ("null", Expr::Null),
                ] {
                    if rest.starts_with(word.as_bytes())
                        && !rest.get(word.len()).copied().is_some_and(is_ident)
                    {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                // A bare word (`$a.b(x)`) is a null argument in Velocity 1.7.
                if self.identifier().is_some() {
                    return Ok(Expr::Null);
                }
                let shown: String = self.source[self.pos..self.end].chars().take(12).collect();
                self.error(
                    self.pos,
                    format!("unexpected '{shown}' where a value was expected"),
                )
            }
        }
    }

    fn number(&mut self) -> Result<Expr> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut decimal = false;
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            decimal = true;
            self.pos += 1;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                decimal = true;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        let text = &self.source[start..self.pos];
        if decimal {
            text.parse()
                .map(Expr::Double)
                .or_else(|_| self.error(start, format!("invalid number {text}")))
        } else {
            text.parse()
                .map(Expr::Int)
                .or_else(|_| self.error(start, format!("invalid number {text}")))
        }
    }

    /// `"..."`: plain text, or a template when it holds `$` or `#`.
    fn double_quoted(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.pos += 1;
        let mut stop = self.pos;
        loop {
            match self.bytes[stop..self.end].iter().position(|b| *b == b'"') {
                Some(i)
                    if self.bytes.get(stop + i + 1) == Some(&b'"') && stop + i + 1 < self.end =>
                {
                    stop += i + 2;
                }
                Some(i) => {
                    stop += i;
                    break;
                }
                None => return self.error(start, "unterminated string"),
            }
        }
        let inner = &self.source[self.pos..stop];
        if !inner.contains(['$', '#']) {
            self.pos = stop + 1;
            return Ok(Expr::Str(inner.replace("\"\"", "\"")));
        }
        let mut nested = Parser {
            source: self.source,
            bytes: self.bytes,
            pos: self.pos,
            end: stop,
            depth: self.depth,
            macros: HashMap::new(),
            buffers: std::mem::take(&mut self.buffers),
            slots: std::mem::take(&mut self.slots),
        };
        let parsed = nested.block();
        self.buffers = std::mem::take(&mut nested.buffers);
        self.slots = std::mem::take(&mut nested.slots);
        let (nodes, terminator) = parsed?;
        if let Some((terminator, at)) = terminator {
            return self.error(
                at,
                format!("{} without a matching #if or #foreach", terminator.name()),
            );
        }
        self.macros.extend(nested.macros);
        self.pos = stop + 1;
        Ok(Expr::Interpolated(nodes))
    }
}
