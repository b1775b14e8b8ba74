//! Hugo's shortcode tags: `{{< name arg "quoted arg" key="v" >}}`, `{{% name %}}`, the
//! self-closing `{{< name />}}` and the closing `{{< /name >}}`.
//!
//! Arguments are separated by white space. A value is a `"quoted"` string (with `\"` escapes),
//! a `` `raw` `` string, or a bare word; bare `true`, `false` and numbers are typed, as in Hugo.
//! `key=value` is a named argument, anything else positional. The cases follow the test table
//! of Hugo's page lexer (`parser/pageparser`): nested, quoted, positional with named,
//! self-closing.

use super::cursor::Cursor;
use super::TagError;
use serde_json::{Map, Value};

/// Which delimiters a tag uses: `<` (body passed as is) or `%` (body rendered as Markdown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delim {
    /// `{{< … >}}`.
    Angle,
    /// `{{% … %}}`.
    Percent,
}

impl Delim {
    /// How an opening tag with this delimiter looks, for messages.
    pub fn show(self, inner: &str) -> String {
        match self {
            Delim::Angle => format!("{{{{< {inner} >}}}}"),
            Delim::Percent => format!("{{{{% {inner} %}}}}"),
        }
    }
}

/// What a Hugo tag is.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind {
    /// `{{< name … >}}`: paired when a closing tag follows, else standalone.
    Open,
    /// `{{< name … />}}`.
    SelfClosing,
    /// `{{< /name >}}`.
    Close,
}

/// A lexed Hugo tag.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tag {
    pub kind: Kind,
    pub delim: Delim,
    pub name: String,
    pub named: Map<String, Value>,
    pub positional: Vec<Value>,
}

/// Parses a Hugo tag at the start of `s` (`{{<` or `{{%`); returns it and its length, or
/// `None` when no shortcode name follows the delimiter (`{{< 3` is text).
pub(super) fn parse_tag(s: &str) -> Result<Option<(Tag, usize)>, TagError> {
    let delim = if s.starts_with("{{<") {
        Delim::Angle
    } else if s.starts_with("{{%") {
        Delim::Percent
    } else {
        return Ok(None);
    };
    let close = match delim {
        Delim::Angle => ">}}",
        Delim::Percent => "%}}",
    };
    let mut p = Cursor { s, i: 3 };
    p.ws();
    let closing = p.eat("/");
    p.ws();
    let Some(name) = p.name() else {
        if closing {
            return Err(p.error("expected a shortcode name after `/`".into()));
        }
        return Ok(None);
    };
    let unclosed = || TagError {
        offset: 0,
        message: format!(
            "shortcode tag `{}` has no closing `{close}`",
            delim
                .show(&name)
                .trim_end_matches(&[' ', '>', '%', '}'][..])
        ),
    };
    let mut tag = Tag {
        kind: if closing { Kind::Close } else { Kind::Open },
        delim,
        name: name.clone(),
        named: Map::new(),
        positional: Vec::new(),
    };
    loop {
        p.ws();
        if p.rest().is_empty() {
            return Err(unclosed());
        }
        if p.eat(close) {
            return Ok(Some((tag, p.i)));
        }
        if !closing && p.rest().starts_with('/') && p.rest()[1..].starts_with(close) {
            p.i += 1 + close.len();
            tag.kind = Kind::SelfClosing;
            return Ok(Some((tag, p.i)));
        }
        if closing {
            return Err(p.error(format!(
                "a closing tag takes no arguments: expected `{close}` after `/{name}`"
            )));
        }
        let at = p.i;
        let first = p.hugo_value(close)?;
        if p.rest().starts_with('=') {
            let Value::String(key) = first.clone() else {
                return Err(TagError {
                    offset: at,
                    message: "a parameter name must be a word before `=`".into(),
                });
            };
            if !p.s[at..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                || key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return Err(TagError {
                    offset: at,
                    message: format!("`{key}` is not a parameter name"),
                });
            }
            p.i += 1;
            let value_at = p.i;
            if p.rest().is_empty()
                || p.rest().starts_with([' ', '\t', '\n', '\r'])
                || p.rest().starts_with(close)
            {
                return Err(p.error(format!("parameter `{key}` has no value after `=`")));
            }
            let value = p.hugo_value(close)?;
            if tag.named.insert(key.clone(), value).is_some() {
                return Err(TagError {
                    offset: value_at,
                    message: format!("parameter `{key}` is given twice"),
                });
            }
        } else {
            tag.positional.push(first);
        }
    }
}

impl<'a> Cursor<'a> {
    /// A shortcode name: a letter or `_`, then letters, digits, `_`, `-`, `.` or `/`
    /// (templates in folders: `{{< docs/note >}}`).
    fn name(&mut self) -> Option<String> {
        let r = self.rest();
        if !r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return None;
        }
        let n = r
            .char_indices()
            .find(|(k, c)| {
                !(c.is_ascii_alphanumeric()
                    || matches!(c, '_' | '-' | '.')
                    || (*c == '/' && !r[*k..].starts_with("/>") && !r[*k..].starts_with("/%")))
            })
            .map_or(r.len(), |(k, _)| k);
        let name = r[..n].to_owned();
        self.i += n;
        Some(name)
    }
    /// A quoted, raw or bare value; bare ones stop at white space, `=` or the tag's end.
    fn hugo_value(&mut self, close: &str) -> Result<Value, TagError> {
        let r = self.rest();
        if let Some(quote @ ('"' | '`')) = r.chars().next() {
            let mut out = String::new();
            let mut chars = r.char_indices().skip(1);
            while let Some((k, c)) = chars.next() {
                if c == '\\' && quote == '"' {
                    match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => out.push(e),
                        Some((_, e)) => {
                            out.push('\\');
                            out.push(e);
                        }
                        None => {}
                    }
                } else if c == quote {
                    self.i += k + 1;
                    return Ok(Value::String(out));
                } else {
                    out.push(c);
                }
            }
            return Err(self.error(format!("argument has no closing {quote}")));
        }
        let n = r
            .char_indices()
            .find(|(k, c)| {
                c.is_whitespace()
                    || *c == '='
                    || *c == '"'
                    || *c == '`'
                    || r[*k..].starts_with(close)
                    || (r[*k..].starts_with('/') && r[k + 1..].starts_with(close))
            })
            .map_or(r.len(), |(k, _)| k);
        if n == 0 {
            return Err(self.error(format!(
                "unexpected `{}` in shortcode arguments",
                r.chars().next().unwrap_or(' ')
            )));
        }
        let word = &r[..n];
        self.i += n;
        Ok(typed(word))
    }
}

/// A bare word as Hugo types it: booleans and numbers, else a string.
fn typed(word: &str) -> Value {
    match word {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = word.parse::<i64>() {
        return Value::from(i);
    }
    if word.contains('.') && word.parse::<f64>().is_ok_and(f64::is_finite) {
        return Value::from(word.parse::<f64>().unwrap_or_default());
    }
    Value::String(word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> (Tag, usize) {
        parse_tag(s).unwrap().unwrap()
    }

    #[test]
    fn positional_and_named_arguments() {
        let (t, len) = tag(r#"{{< name arg "quoted \"arg\"" `raw` 3 true key="v" n=2 >}} after"#);
        assert_eq!(t.kind, Kind::Open);
        assert_eq!(t.delim, Delim::Angle);
        assert_eq!(t.name, "name");
        assert_eq!(
            t.positional,
            vec![
                Value::from("arg"),
                Value::from("quoted \"arg\""),
                Value::from("raw"),
                Value::from(3),
                Value::from(true)
            ]
        );
        assert_eq!(t.named["key"], "v");
        assert_eq!(t.named["n"], 2);
        assert_eq!(
            len,
            r#"{{< name arg "quoted \"arg\"" `raw` 3 true key="v" n=2 >}}"#.len()
        );
    }

    #[test]
    fn self_closing_closing_and_percent() {
        assert_eq!(tag("{{< x />}}").0.kind, Kind::SelfClosing);
        assert_eq!(tag("{{< x a=1 />}}").0.kind, Kind::SelfClosing);
        let (c, _) = tag("{{< /x >}}");
        assert_eq!((c.kind, c.name.as_str()), (Kind::Close, "x"));
        let (p, _) = tag("{{%x%}}");
        assert_eq!((p.delim, p.name.as_str()), (Delim::Percent, "x"));
        assert_eq!(tag("{{< docs/note >}}").0.name, "docs/note");
        assert_eq!(tag("{{<\n  x\n  a=\"b\"\n>}}").0.named["a"], "b");
    }

    #[test]
    fn not_a_tag() {
        assert!(parse_tag("{{< 3 >}}").unwrap().is_none());
        assert!(parse_tag("{{ x }}").unwrap().is_none());
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let e = parse_tag(r#"{{< x a="b >}}"#).unwrap_err();
        assert_eq!(e.offset, 8, "{e:?}");
        let e = parse_tag("{{< x a= >}}").unwrap_err();
        assert_eq!(e.offset, 8, "{e:?}");
        let e = parse_tag("{{< x =b >}}").unwrap_err();
        assert_eq!(e.offset, 6, "{e:?}");
        let e = parse_tag("{{< x a=1 a=2 >}}").unwrap_err();
        assert!(e.message.contains("twice"), "{e:?}");
        let e = parse_tag("{{< x a=1").unwrap_err();
        assert_eq!(e.offset, 0, "{e:?}");
        let e = parse_tag("{{< /x y >}}").unwrap_err();
        assert!(e.message.contains("closing tag"), "{e:?}");
    }
}
