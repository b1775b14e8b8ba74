//! Shortcode syntax in Markdown, ours and Hugo's:
//!
//! - ours (Zola's): inline `{{ name(k="v") }}`, block `{% name(k="v") %}…{% end %}`;
//! - Hugo's: `{{< name arg key="v" >}}`, paired `{{< name >}}…{{< /name >}}`, `{{% name %}}…
//!   {{% /name %}}` (body rendered as Markdown), self-closing `{{< name />}}`.
//!
//! Inside code spans and fenced code both stay text, except Hugo's escapes `{{</* name */>}}`
//! and `{{%/* name */%}}`, which print as `{{< name >}}` / `{{% name %}}` wherever they stand.
//! Each call is replaced by a placeholder before CommonMark runs and by its HTML afterwards,
//! which keeps block HTML (a form, a variant block) out of CommonMark's paragraph rules.

mod cursor;
pub mod hugo;
mod lexer;
mod zola;

pub use hugo::Delim;
use lexer::{Special, SpecialKind};
use serde_json::{Map, Value};

/// Which syntax a call was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `{{ name() }}` / `{% name() %}…{% end %}`: a body is Markdown.
    Zola,
    /// `{{< >}}` or `{{% %}}`.
    Hugo(Delim),
}

/// A parsed shortcode call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Shortcode name.
    pub name: String,
    /// Named arguments.
    pub args: Map<String, Value>,
    /// Positional arguments (Hugo syntax only).
    pub positional: Vec<Value>,
    /// Byte offset of the call in the scanned text.
    pub offset: usize,
    /// Byte range of the body in the scanned text (`None` for calls without one).
    pub body: Option<std::ops::Range<usize>>,
    /// Byte offset just past the call (after `}}` or its closing tag).
    pub end: usize,
    /// The syntax it was written in.
    pub syntax: Syntax,
    /// A Hugo opening tag that no closing tag follows (standalone, or an unclosed pair when
    /// the shortcode needs a body).
    pub unpaired: bool,
}

/// A piece of scanned Markdown.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Plain Markdown: this byte range of the scanned text.
    Text(std::ops::Range<usize>),
    /// An escaped Hugo tag, printed as `text`.
    Literal {
        /// Byte offset in the scanned text.
        offset: usize,
        /// What it prints.
        text: String,
        /// Inside a code span or fenced code (so CommonMark escapes it already).
        in_code: bool,
    },
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

/// An error inside one tag, at an offset from the tag's start.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TagError {
    pub offset: usize,
    pub message: String,
}

/// Splits Markdown into text, escapes and shortcode calls (nested calls stay in their
/// parent's body, which is scanned again when it renders).
pub fn scan(src: &str) -> Result<Vec<Piece>, ScanError> {
    let specials = lexer::lex(src)?;
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut k = 0;
    let text = |pieces: &mut Vec<Piece>, from: usize, to: usize| {
        if from < to {
            pieces.push(Piece::Text(from..to));
        }
    };
    while k < specials.len() {
        let s = &specials[k];
        text(&mut pieces, text_start, s.start);
        k += 1;
        text_start = s.end;
        let call = |name: &str, args: &Map<String, Value>, syntax| Call {
            name: name.to_owned(),
            args: args.clone(),
            positional: Vec::new(),
            offset: s.start,
            body: None,
            end: s.end,
            syntax,
            unpaired: false,
        };
        match &s.kind {
            SpecialKind::Escape { text, in_code } => pieces.push(Piece::Literal {
                offset: s.start,
                text: text.clone(),
                in_code: *in_code,
            }),
            SpecialKind::Zola(zola::Tag::Inline(name, args)) => {
                pieces.push(Piece::Call(call(name, args, Syntax::Zola)))
            }
            SpecialKind::Zola(zola::Tag::Open(name, args)) => {
                let Some(end) = matching_zola_end(&specials, k) else {
                    return Err(ScanError {
                        offset: s.start,
                        message: format!(
                            "shortcode `{name}` is opened here but has no `{{% end %}}`"
                        ),
                    });
                };
                let close = &specials[end];
                let mut c = call(name, args, Syntax::Zola);
                c.body = Some(s.end..close.start);
                c.end = close.end;
                pieces.push(Piece::Call(c));
                k = end + 1;
                text_start = close.end;
            }
            SpecialKind::Zola(zola::Tag::End) => {
                return Err(ScanError {
                    offset: s.start,
                    message: "`{% end %}` without an opening shortcode".into(),
                })
            }
            SpecialKind::Hugo(tag) => {
                let mut c = call(&tag.name, &tag.named, Syntax::Hugo(tag.delim));
                c.positional = tag.positional.clone();
                match tag.kind {
                    hugo::Kind::SelfClosing => {}
                    hugo::Kind::Open => match matching_hugo_close(&specials, k, &tag.name) {
                        Some(end) => {
                            let close = &specials[end];
                            if let SpecialKind::Hugo(ct) = &close.kind {
                                if ct.delim != tag.delim {
                                    return Err(ScanError {
                                        offset: close.start,
                                        message: format!(
                                            "`{}` closes `{}`: use the same delimiters",
                                            ct.delim.show(&format!("/{}", ct.name)),
                                            tag.delim.show(&tag.name)
                                        ),
                                    });
                                }
                            }
                            c.body = Some(s.end..close.start);
                            c.end = close.end;
                            k = end + 1;
                            text_start = close.end;
                        }
                        None => c.unpaired = true,
                    },
                    hugo::Kind::Close => {
                        let open = pieces.iter().rev().find_map(|p| match p {
                            Piece::Call(c) if c.unpaired => Some(c.name.as_str()),
                            _ => None,
                        });
                        let shown = tag.delim.show(&format!("/{}", tag.name));
                        return Err(ScanError {
                            offset: s.start,
                            message: match open {
                                Some(o) => {
                                    format!("`{shown}` does not match the open shortcode `{o}`")
                                }
                                None => format!("`{shown}` closes no open shortcode"),
                            },
                        });
                    }
                }
                pieces.push(Piece::Call(c));
            }
        }
    }
    text(&mut pieces, text_start, src.len());
    Ok(pieces)
}

/// The `{% end %}` closing the block opened just before `from` (nesting-aware).
fn matching_zola_end(specials: &[Special], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, s) in specials.iter().enumerate().skip(from) {
        match s.kind {
            SpecialKind::Zola(zola::Tag::Open(..)) => depth += 1,
            SpecialKind::Zola(zola::Tag::End) if depth == 0 => return Some(j),
            SpecialKind::Zola(zola::Tag::End) => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The `{{< /name >}}` closing the Hugo tag opened just before `from` (same-name nesting).
fn matching_hugo_close(specials: &[Special], from: usize, name: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (j, s) in specials.iter().enumerate().skip(from) {
        let SpecialKind::Hugo(t) = &s.kind else {
            continue;
        };
        if t.name != name {
            continue;
        }
        match t.kind {
            hugo::Kind::Open => depth += 1,
            hugo::Kind::Close if depth == 0 => return Some(j),
            hugo::Kind::Close => depth -= 1,
            hugo::Kind::SelfClosing => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
