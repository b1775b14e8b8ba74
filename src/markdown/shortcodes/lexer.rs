//! Finds the tags and escapes in Markdown, skipping code spans and fenced code (where only
//! Hugo's escapes count).

use super::{hugo, zola, ScanError, TagError};

/// A tag or an escape, at `start..end` of the text.
pub(super) struct Special {
    pub start: usize,
    pub end: usize,
    pub kind: SpecialKind,
}

pub(super) enum SpecialKind {
    /// `{{</* x */>}}`: prints `text`.
    Escape {
        text: String,
        in_code: bool,
    },
    Zola(zola::Tag),
    Hugo(hugo::Tag),
}

/// Every tag and escape of `src`, in order.
pub(super) fn lex(src: &str) -> Result<Vec<Special>, ScanError> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut at_line_start = true;
    let mut fence: Option<(u8, usize)> = None;
    let at = |base: usize| {
        move |e: TagError| ScanError {
            offset: base + e.offset,
            message: e.message,
        }
    };
    while i < bytes.len() {
        if at_line_start {
            at_line_start = false;
            let line_end = src[i..].find('\n').map_or(src.len(), |n| i + n + 1);
            let line = src[i..line_end].trim_start();
            let marker = line.bytes().next().filter(|b| *b == b'`' || *b == b'~');
            let run = marker.map_or(0, |m| line.bytes().take_while(|b| *b == m).count());
            let is_fence_line = match (fence, marker) {
                (None, Some(m)) if run >= 3 => {
                    fence = Some((m, run));
                    true
                }
                (Some((fm, fr)), Some(m))
                    if fm == m && run >= fr && line[run..].trim().is_empty() =>
                {
                    fence = None;
                    true
                }
                (Some(_), _) => true,
                _ => false,
            };
            if is_fence_line {
                escapes_in_code(src, i, line_end, &mut out);
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
                    Some(n) => {
                        let end = i + run + n + run;
                        escapes_in_code(src, i, end, &mut out);
                        i = end;
                    }
                    None => i += run,
                }
            }
            b'{' if bytes.get(i + 1) == Some(&b'{')
                && matches!(bytes.get(i + 2), Some(b'<' | b'%')) =>
            {
                if let Some((len, text)) = escape_at(&src[i..]) {
                    out.push(Special {
                        start: i,
                        end: i + len,
                        kind: SpecialKind::Escape {
                            text,
                            in_code: false,
                        },
                    });
                    i += len;
                    continue;
                }
                match hugo::parse_tag(&src[i..]).map_err(at(i))? {
                    Some((tag, len)) => {
                        out.push(Special {
                            start: i,
                            end: i + len,
                            kind: SpecialKind::Hugo(tag),
                        });
                        i += len;
                    }
                    None => i += 1,
                }
            }
            b'{' if matches!(bytes.get(i + 1), Some(b'{' | b'%')) => {
                match zola::parse_tag(&src[i..]).map_err(at(i))? {
                    Some((tag, len)) => {
                        out.push(Special {
                            start: i,
                            end: i + len,
                            kind: SpecialKind::Zola(tag),
                        });
                        i += len;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    Ok(out)
}

/// `{{</* inner */>}}` or `{{%/* inner */%}}` at the start of `s`: its length and what it
/// prints.
fn escape_at(s: &str) -> Option<(usize, String)> {
    let (open, close, shown) = if s.starts_with("{{</*") {
        ("{{</*", "*/>}}", ('<', '>'))
    } else if s.starts_with("{{%/*") {
        ("{{%/*", "*/%}}", ('%', '%'))
    } else {
        return None;
    };
    let n = s[open.len()..].find(close)?;
    let inner = &s[open.len()..open.len() + n];
    Some((
        open.len() + n + close.len(),
        format!("{{{{{}{inner}{}}}}}", shown.0, shown.1),
    ))
}

/// Escapes inside code (`start..end` of `src`).
fn escapes_in_code(src: &str, start: usize, end: usize, out: &mut Vec<Special>) {
    let mut i = start;
    while let Some(n) = src[i..end].find("{{") {
        let at = i + n;
        match escape_at(&src[at..end]) {
            Some((len, text)) => {
                out.push(Special {
                    start: at,
                    end: at + len,
                    kind: SpecialKind::Escape {
                        text,
                        in_code: true,
                    },
                });
                i = at + len;
            }
            None => i = at + 2,
        }
    }
}
