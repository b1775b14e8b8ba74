//! Our own (Zola's) shortcode tags: inline `{{ name(k="v") }}`, block `{% name(k="v") %}` and
//! `{% end %}`.
//!
//! A tag commits once it reads `{{ name(` or `{% name(`: from there a syntax error is an error
//! with its position, never text. Anything that stops earlier (`{{ page.title }}` in prose)
//! stays text.

use super::cursor::Cursor;
use super::TagError;
use serde_json::{Map, Value};

/// One of our tags.
pub(super) enum Tag {
    /// `{{ name(...) }}`.
    Inline(String, Map<String, Value>),
    /// `{% name(...) %}`.
    Open(String, Map<String, Value>),
    /// `{% end %}`.
    End,
}

/// Parses a tag at the start of `s`; returns it and its length, `None` when `s` holds no tag.
pub(super) fn parse_tag(s: &str) -> Result<Option<(Tag, usize)>, TagError> {
    let (open, close, block) = if s.starts_with("{{") {
        ("{{", "}}", false)
    } else if s.starts_with("{%") {
        ("{%", "%}", true)
    } else {
        return Ok(None);
    };
    let mut p = Cursor { s, i: open.len() };
    p.ws();
    let Some(name) = p.ident() else {
        return Ok(None);
    };
    p.ws();
    if block && name == "end" && p.eat(close) {
        return Ok(Some((Tag::End, p.i)));
    }
    if !p.eat("(") {
        return Ok(None);
    }
    let args = p.args()?;
    p.ws();
    if !p.eat(close) {
        return Err(p.error(format!("expected `{close}` to end shortcode `{name}`")));
    }
    let tag = if block {
        Tag::Open(name, args)
    } else {
        Tag::Inline(name, args)
    };
    Ok(Some((tag, p.i)))
}

impl<'a> Cursor<'a> {
    fn ident(&mut self) -> Option<String> {
        let r = self.rest();
        let n = r
            .char_indices()
            .take_while(|(k, c)| {
                c.is_ascii_alphabetic() || *c == '_' || (*k > 0 && c.is_ascii_digit())
            })
            .count();
        if n == 0 {
            return None;
        }
        let id = r[..n].to_owned();
        self.i += n;
        Some(id)
    }
    fn args(&mut self) -> Result<Map<String, Value>, TagError> {
        let mut args = Map::new();
        loop {
            self.ws();
            if self.eat(")") {
                return Ok(args);
            }
            let Some(key) = self.ident() else {
                return Err(self.error("expected an argument name or `)`".into()));
            };
            self.ws();
            if !self.eat("=") {
                return Err(self.error(format!("expected `=` after argument `{key}`")));
            }
            self.ws();
            let value = self.value()?;
            if args.insert(key.clone(), value).is_some() {
                return Err(self.error(format!("argument `{key}` is given twice")));
            }
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                return Ok(args);
            }
            return Err(self.error("expected `,` or `)` after an argument".into()));
        }
    }
    fn value(&mut self) -> Result<Value, TagError> {
        let r = self.rest();
        let bad = |c: &Cursor<'_>| {
            c.error("expected a value: a quoted string, a number, true or false".into())
        };
        let Some(quote) = r.chars().next() else {
            return Err(bad(self));
        };
        if quote == '"' || quote == '\'' {
            let mut out = String::new();
            let mut chars = r.char_indices().skip(1);
            while let Some((k, c)) = chars.next() {
                if c == '\\' {
                    if let Some((_, e)) = chars.next() {
                        out.push(e);
                    }
                } else if c == quote {
                    self.i += k + 1;
                    return Ok(Value::String(out));
                } else {
                    out.push(c);
                }
            }
            return Err(self.error("string argument has no closing quote".into()));
        }
        for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false))] {
            if r.starts_with(word) {
                self.i += word.len();
                return Ok(v);
            }
        }
        let n = r
            .char_indices()
            .take_while(|(k, c)| c.is_ascii_digit() || *c == '.' || (*k == 0 && *c == '-'))
            .count();
        let num = &r[..n];
        if let Ok(i) = num.parse::<i64>() {
            self.i += n;
            return Ok(Value::from(i));
        }
        match num.parse::<f64>() {
            Ok(f) => {
                self.i += n;
                Ok(Value::from(f))
            }
            Err(_) => Err(bad(self)),
        }
    }
}
