//! Shortcode substitution: each call renders (its body first) and leaves a placeholder in the
//! Markdown that CommonMark then renders; the placeholders are filled in afterwards.

use super::shortcodes::{self, Call, Delim, Piece, Syntax};
use super::{html, MarkdownContext, ShortcodeCall};
use crate::diagnostics::Diagnostic;
use std::collections::HashMap;

/// Brackets a placeholder index; U+FFFC survives CommonMark untouched.
pub(super) const PLACEHOLDER: char = '\u{fffc}';

/// What one page's rendering collects, across the page and its shortcode bodies.
pub(super) struct State<'a> {
    /// The whole body, which error offsets index.
    pub full: &'a str,
    pub ctx: &'a MarkdownContext<'a>,
    pub ids: HashMap<String, usize>,
    pub toc_flat: Vec<(u8, String, String)>,
    pub words: usize,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// Images seen so far (the first is not lazy).
    pub image_index: usize,
}

/// Maps offsets in substituted Markdown back to the body, for error positions.
pub(super) struct OffsetMap {
    base: usize,
    /// (offset in the Markdown, offset in the body) at the start of each piece.
    points: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// The body offset of Markdown offset `off`.
    pub fn body_offset(&self, off: usize) -> usize {
        let i = self.points.partition_point(|(m, _)| *m <= off);
        match i.checked_sub(1).map(|k| self.points[k]) {
            Some((m, o)) => o + (off - m),
            None => self.base,
        }
    }
}

impl<'a> State<'a> {
    pub fn new(full: &'a str, ctx: &'a MarkdownContext<'a>) -> Self {
        State {
            full,
            ctx,
            ids: HashMap::new(),
            toc_flat: Vec::new(),
            words: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            image_index: 0,
        }
    }

    /// A diagnostic at a byte offset of the body, with the file's line number.
    pub fn diag(&self, offset: usize, msg: String) -> Diagnostic {
        let (line, col) = crate::diagnostics::line_col(self.full, offset);
        let mut d = Diagnostic::at(self.ctx.file, self.full, line, col, msg);
        d.line = self.ctx.body_line + line - 1;
        d
    }

    /// Renders `text` (at `base` in the body) as Markdown: HTML and summary.
    pub fn markdown(&mut self, text: &str, base: usize) -> (String, Option<String>) {
        let Some(pieces) = self.scan(text, base) else {
            return (String::new(), None);
        };
        let mut md = String::with_capacity(text.len());
        let mut points = Vec::new();
        let mut parts: Vec<String> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(r) => {
                    points.push((md.len(), base + r.start));
                    md.push_str(&text[r]);
                }
                Piece::Literal {
                    offset,
                    text: lit,
                    in_code,
                } => {
                    points.push((md.len(), base + offset));
                    if in_code {
                        md.push_str(&lit);
                    } else {
                        // Backslash-escaped punctuation is plain text to CommonMark.
                        for c in lit.chars() {
                            if c.is_ascii_punctuation() {
                                md.push('\\');
                            }
                            md.push(c);
                        }
                    }
                }
                Piece::Call(call) => {
                    let out = self.call(text, base, &call);
                    parts.push(out);
                    // A block shortcode is a paragraph of its own (unwrapped after rendering),
                    // so two blocks on consecutive lines never share a <p>.
                    let block = call.body.is_some();
                    if block {
                        md.push_str("\n\n");
                    }
                    md.push(PLACEHOLDER);
                    md.push_str(&(parts.len() - 1).to_string());
                    md.push(PLACEHOLDER);
                    if block {
                        md.push_str("\n\n");
                    }
                }
            }
        }
        let map = OffsetMap { base, points };
        let (out, summary) = super::events::to_html(self, &md, &map);
        (
            html::fill_placeholders(&out, &parts),
            summary.map(|s| html::fill_placeholders(&s, &parts)),
        )
    }

    /// Expands the shortcodes in `text` and leaves the rest as it is (a `{{< >}}` body).
    fn raw(&mut self, text: &str, base: usize) -> String {
        let Some(pieces) = self.scan(text, base) else {
            return String::new();
        };
        let mut out = String::with_capacity(text.len());
        for piece in pieces {
            match piece {
                Piece::Text(r) => out.push_str(&text[r]),
                Piece::Literal { text: lit, .. } => out.push_str(&html_escape::encode_text(&lit)),
                Piece::Call(call) => {
                    let html = self.call(text, base, &call);
                    out.push_str(&html);
                }
            }
        }
        out
    }

    fn scan(&mut self, text: &str, base: usize) -> Option<Vec<Piece>> {
        match shortcodes::scan(text) {
            Ok(p) => Some(p),
            Err(e) => {
                let d = self.diag(base + e.offset, e.message);
                self.errors.push(d);
                None
            }
        }
    }

    /// Renders one call (`text` is the fragment it was scanned from).
    fn call(&mut self, text: &str, base: usize, call: &Call) -> String {
        let handler = self.ctx.shortcodes;
        let raw_body = call.body.clone().map(|r| &text[r]);
        let body_base = base + call.body.as_ref().map_or(0, |r| r.start);
        let body = raw_body.map(|b| match call.syntax {
            Syntax::Hugo(Delim::Angle) if !handler.markdown_body(&call.name) => {
                self.raw(b, body_base)
            }
            _ => self.markdown(b, body_base).0,
        });
        if call.unpaired && handler.needs_body(&call.name) {
            let d = self.diag(
                base + call.offset,
                format!(
                    "shortcode `{}` is opened here but never closed with `{{{{< /{} >}}}}`",
                    call.name, call.name
                ),
            );
            self.errors.push(d);
            return String::new();
        }
        let image_hook = self.ctx.image_hook;
        let index = std::cell::Cell::new(self.image_index);
        let image = |src: &str, alt: &str, title: &str| -> Option<String> {
            let i = index.get();
            index.set(i + 1);
            image_hook.and_then(|h| {
                h(&super::ImageRef {
                    src,
                    alt,
                    title,
                    index: i,
                })
            })
        };
        let warnings = std::cell::RefCell::new(Vec::new());
        let warn = |w: String| warnings.borrow_mut().push(w);
        let sc = ShortcodeCall {
            name: &call.name,
            args: &call.args,
            positional: &call.positional,
            body: body.as_deref(),
            raw_body,
            page_path: self.ctx.page_path,
            page_file: self.ctx.file,
            page_extra: self.ctx.page_extra,
            resolve: self.ctx.resolve,
            image: Some(&image),
            warn: &warn,
        };
        let result = handler.render(&sc);
        self.image_index = index.get();
        for w in warnings.into_inner() {
            let d = self.diag(
                base + call.offset,
                format!("shortcode `{}`: {w}", call.name),
            );
            self.warnings.push(d);
        }
        match result {
            Ok(html) => html,
            Err(msg) => {
                let d = self.diag(
                    base + call.offset,
                    format!("shortcode `{}`: {msg}", call.name),
                );
                self.errors.push(d);
                String::new()
            }
        }
    }
}
