//! The position in a tag that both shortcode syntaxes' parsers move along; each syntax adds
//! its own readers (names, arguments) in its own module.

use super::TagError;

/// A tag's text and how far into it the parser has read.
pub(super) struct Cursor<'a> {
    pub(super) s: &'a str,
    pub(super) i: usize,
}

impl<'a> Cursor<'a> {
    /// What is left to read.
    pub(super) fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    /// An error at the current position.
    pub(super) fn error(&self, message: String) -> TagError {
        TagError {
            offset: self.i,
            message,
        }
    }
    /// Skips white space, newlines included (tags may span lines).
    pub(super) fn ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }
    /// Reads `t` if it comes next.
    pub(super) fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
}
