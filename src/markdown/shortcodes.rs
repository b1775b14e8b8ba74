//! Shortcode syntax in Markdown: inline `{{ name(k="v") }}` and block
//! `{% name(k="v") %}...{% end %}`.
//!
//! The scanner skips fenced code blocks and code spans, so documentation can show the syntax.
//! Each call is replaced by a placeholder before CommonMark runs and by its HTML afterwards,
//! which keeps block HTML (a form, a variant block) out of CommonMark's paragraph rules.

use serde_json::{Map, Value};

/// A parsed shortcode call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Shortcode name.
    pub name: String,
    /// Keyword arguments.
    pub args: Map<String, Value>,
    /// Byte offset of the call in the scanned text.
    pub offset: usize,
    /// Body Markdown of a block shortcode (`None` for inline ones).
    pub body: Option<String>,
    /// Byte offset of the body in the scanned text.
    pub body_offset: usize,
    /// Byte offset just past the call (after `}}` or `{% end %}`).
    pub end: usize,
}

/// A piece of scanned Markdown.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Plain Markdown.
    Text(String),
    /// A shortcode call.
    Call(Call),
}

/// A syntax error at a byte offset.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanError {
    /// Byte offset in the scanned text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

enum Tag {
    Inline(String, Map<String, Value>),
    Open(String, Map<String, Value>),
    End,
}

/// Splits Markdown into text and shortcode calls (nested blocks stay in their parent's body).
pub fn scan(src: &str) -> Result<Vec<Piece>, ScanError> {
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let bytes = src.as_bytes();
    let mut at_line_start = true;
    let mut fence: Option<(u8, usize)> = None;
    while i < bytes.len() {
        if at_line_start {
            at_line_start = false;
            let line_end = src[i..].find('\n').map_or(src.len(), |n| i + n + 1);
            let line = src[i..line_end].trim_start();
            let marker = line.bytes().next().filter(|b| *b == b'`' || *b == b'~');
            if let Some(m) = marker {
                let run = line.bytes().take_while(|b| *b == m).count();
                match fence {
                    None if run >= 3 => fence = Some((m, run)),
                    Some((fm, fr)) if fm == m && run >= fr && line[run..].trim().is_empty() => {
                        fence = None
                    }
                    _ => {}
                }
                i = line_end;
                at_line_start = true;
                continue;
            }
            if fence.is_some() {
                i = line_end;
                at_line_start = true;
                continue;
            }
        }
        match bytes[i] {
            b'\n' => {
                at_line_start = true;
                i += 1;
            }
            b'`' => {
                let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
                let closing = "`".repeat(run);
                match src[i + run..].find(&closing) {
                    Some(n) => i = i + run + n + run,
                    None => i += run,
                }
            }
            b'{' if matches!(bytes.get(i + 1), Some(b'{') | Some(b'%')) => {
                let Some((tag, len)) = parse_tag(&src[i..]) else {
                    i += 1;
                    continue;
                };
                match tag {
                    Tag::Inline(name, args) => {
                        push_text(&mut pieces, &src[text_start..i]);
                        i += len;
                        pieces.push(Piece::Call(Call {
                            name,
                            args,
                            offset: i - len,
                            body: None,
                            body_offset: 0,
                            end: i,
                        }));
                        text_start = i;
                    }
                    Tag::Open(name, args) => {
                        let body_start = i + len;
                        let body_end =
                            find_matching_end(src, body_start).ok_or_else(|| ScanError {
                                offset: i,
                                message: format!(
                                    "shortcode `{name}` is opened here but has no `{{% end %}}`"
                                ),
                            })?;
                        push_text(&mut pieces, &src[text_start..i]);
                        let (end_at, end_len) = body_end;
                        pieces.push(Piece::Call(Call {
                            name,
                            args,
                            offset: i,
                            body: Some(src[body_start..end_at].to_owned()),
                            body_offset: body_start,
                            end: end_at + end_len,
                        }));
                        i = end_at + end_len;
                        text_start = i;
                    }
                    Tag::End => {
                        return Err(ScanError {
                            offset: i,
                            message: "`{% end %}` without an opening shortcode".into(),
                        })
                    }
                }
            }
            _ => i += 1,
        }
    }
    push_text(&mut pieces, &src[text_start..]);
    Ok(pieces)
}

fn push_text(pieces: &mut Vec<Piece>, s: &str) {
    if !s.is_empty() {
        pieces.push(Piece::Text(s.to_owned()));
    }
}

/// Finds the `{% end %}` closing the block that starts at `from` (nesting-aware).
fn find_matching_end(src: &str, from: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut i = from;
    while let Some(n) = src[i..].find("{%") {
        let at = i + n;
        match parse_tag(&src[at..]) {
            Some((Tag::Open(..), len)) => {
                depth += 1;
                i = at + len;
            }
            Some((Tag::End, len)) => {
                if depth == 0 {
                    return Some((at, len));
                }
                depth -= 1;
                i = at + len;
            }
            _ => i = at + 2,
        }
    }
    None
}

/// Parses a tag at the start of `s`; returns it and its length.
fn parse_tag(s: &str) -> Option<(Tag, usize)> {
    let (open, close, block) = if s.starts_with("{{") {
        ("{{", "}}", false)
    } else if s.starts_with("{%") {
        ("{%", "%}", true)
    } else {
        return None;
    };
    let mut p = Parser { s, i: open.len() };
    p.ws();
    let name = p.ident()?;
    p.ws();
    if block && name == "end" && p.eat(close) {
        return Some((Tag::End, p.i));
    }
    if !p.eat("(") {
        return None;
    }
    let args = p.args()?;
    p.ws();
    if !p.eat(close) {
        return None;
    }
    let tag = if block {
        Tag::Open(name, args)
    } else {
        Tag::Inline(name, args)
    };
    Some((tag, p.i))
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &'_ str {
        &self.s[self.i..]
    }
    fn ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Option<String> {
        let r = &self.s[self.i..];
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
    fn args(&mut self) -> Option<Map<String, Value>> {
        let mut args = Map::new();
        loop {
            self.ws();
            if self.eat(")") {
                return Some(args);
            }
            let key = self.ident()?;
            self.ws();
            if !self.eat("=") {
                return None;
            }
            self.ws();
            let value = self.value()?;
            args.insert(key, value);
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat(")") {
                return Some(args);
            }
            return None;
        }
    }
    fn value(&mut self) -> Option<Value> {
        let r = &self.s[self.i..];
        let quote = r.chars().next()?;
        if quote == '"' || quote == '\'' {
            let mut out = String::new();
            let mut chars = r.char_indices().skip(1);
            while let Some((k, c)) = chars.next() {
                if c == '\\' {
                    let (_, e) = chars.next()?;
                    out.push(e);
                } else if c == quote {
                    self.i += k + 1;
                    return Some(Value::String(out));
                } else {
                    out.push(c);
                }
            }
            return None;
        }
        for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false))] {
            if r.starts_with(word) {
                self.i += word.len();
                return Some(v);
            }
        }
        let n = r
            .char_indices()
            .take_while(|(k, c)| c.is_ascii_digit() || *c == '.' || (*k == 0 && *c == '-'))
            .count();
        let num = &r[..n];
        self.i += n;
        if let Ok(i) = num.parse::<i64>() {
            return Some(Value::from(i));
        }
        num.parse::<f64>().ok().map(Value::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(src: &str) -> Vec<Call> {
        scan(src)
            .unwrap()
            .into_iter()
            .filter_map(|p| match p {
                Piece::Call(c) => Some(c),
                Piece::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn inline_and_block_with_args() {
        let c = calls(
            "a {{ form(id=\"demo\", n=2, x=true) }} b\n{% variant(id='b') %}\nHi {% end %}\n",
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "form");
        assert_eq!(c[0].args["id"], "demo");
        assert_eq!(c[0].args["n"], 2);
        assert_eq!(c[0].args["x"], true);
        assert_eq!(c[1].body.as_deref(), Some("\nHi "));
        assert_eq!(
            c[1].offset,
            "a {{ form(id=\"demo\", n=2, x=true) }} b\n".len()
        );
    }

    #[test]
    fn code_is_left_alone() {
        assert!(calls("`{{ form(id=\"x\") }}`\n```\n{{ form(id=\"x\") }}\n```\n").is_empty());
        assert!(calls("{{ not a call }}").is_empty());
    }

    #[test]
    fn nested_blocks_stay_in_body() {
        let c = calls("{% a() %}x{% b() %}y{% end %}z{% end %}");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].body.as_deref(), Some("x{% b() %}y{% end %}z"));
    }

    #[test]
    fn unclosed_block_is_an_error() {
        let e = scan("text\n{% variant(id=\"b\") %}\nno end").unwrap_err();
        assert_eq!(e.offset, 5);
    }
}
