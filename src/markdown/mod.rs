//! Markdown to HTML: CommonMark (pulldown-cmark) plus heading ids, a table of contents,
//! summaries, word counts, internal `@/` links, shortcodes (ours and Hugo's) and syntax
//! highlighting.
//!
//! This module knows nothing of templates: shortcodes are rendered through the
//! [`ShortcodeHandler`] the caller passes in.

mod events;
mod fragment;
pub mod highlight;
mod html;
pub mod shortcodes;
mod toc;

pub use toc::TocEntry;

use crate::diagnostics::Diagnostic;
use serde_json::{Map, Value};
use std::path::Path;

/// Marker that ends a page's summary.
pub const MORE_MARKER: &str = "<!-- more -->";
/// Reading speed used for `reading_time`.
const WORDS_PER_MINUTE: usize = 200;

/// A Markdown body rendered to HTML.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rendered {
    /// The full HTML.
    pub html: String,
    /// HTML before `<!-- more -->`, else the first paragraph.
    pub summary: Option<String>,
    /// Table of contents (nested by level).
    pub toc: Vec<TocEntry>,
    /// Words of text (code included).
    pub word_count: usize,
    /// Minutes at 200 words a minute, at least 1.
    pub reading_time: usize,
    /// Problems that do not fail the build (an unknown code language), for `check`.
    pub warnings: Vec<Diagnostic>,
}

/// A shortcode call as the handler sees it.
pub struct ShortcodeCall<'a> {
    /// Shortcode name.
    pub name: &'a str,
    /// Named arguments.
    pub args: &'a Map<String, Value>,
    /// Positional arguments (Hugo syntax: `{{< youtube abc >}}`).
    pub positional: &'a [Value],
    /// The body as the syntax delivers it: rendered Markdown for `{% %}` and `{{% %}}`, the
    /// text with nested shortcodes expanded for `{{< >}}`.
    pub body: Option<&'a str>,
    /// The body exactly as written (for `highlight`).
    pub raw_body: Option<&'a str>,
    /// Site path of the page being rendered.
    pub page_path: &'a str,
    /// The page's content file, relative to the site root.
    pub page_file: &'a Path,
    /// The page's front-matter `extra`.
    pub page_extra: &'a Map<String, Value>,
    /// Resolves a content path (`blog/a.md`) to a site path.
    pub resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The responsive-image pipeline, for shortcodes that show a local image.
    pub image: Option<ShortcodeImage<'a>>,
    /// Records a warning at the call's position (shown by `check`).
    pub warn: &'a dyn Fn(String),
}

/// Renders a local image (`src`, `alt`, `title`) through the page's image pipeline: the
/// `<picture>`, or `None` when the image is not local.
pub type ShortcodeImage<'a> = &'a dyn Fn(&str, &str, &str) -> Option<String>;

/// Renders shortcodes for the Markdown layer.
pub trait ShortcodeHandler: Sync {
    /// HTML for `call`, or an error sentence (unknown shortcode, bad arguments).
    fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String>;

    /// Whether `name` only makes sense with a body, so a Hugo `{{< name >}}` with no closing
    /// tag is an unclosed pair rather than a standalone call.
    fn needs_body(&self, _name: &str) -> bool {
        false
    }

    /// Whether a `{{< name >}}` body is rendered as Markdown anyway (Hugo's `details` does).
    fn markdown_body(&self, _name: &str) -> bool {
        false
    }
}

/// Rewrites an image: given its source, alt text and title, returns replacement HTML.
pub type ImageHook<'a> = &'a (dyn Fn(&ImageRef<'_>) -> Option<String> + Sync);

/// An image found in Markdown.
#[derive(Debug)]
pub struct ImageRef<'a> {
    /// `src` as written.
    pub src: &'a str,
    /// Alt text.
    pub alt: &'a str,
    /// Title, if any.
    pub title: &'a str,
    /// Index of the image in the page (0 for the first).
    pub index: usize,
}

/// Everything rendering needs besides the text.
pub struct MarkdownContext<'a> {
    /// Source file (for errors).
    pub file: &'a Path,
    /// Line of the body's first line in the file.
    pub body_line: usize,
    /// Site path of the page.
    pub page_path: &'a str,
    /// The page's front-matter `extra` (for the `param` shortcode).
    pub page_extra: &'a Map<String, Value>,
    /// Resolves `@/blog/hello.md` (without `@/`) to a site path.
    pub resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Renders shortcodes.
    pub shortcodes: &'a dyn ShortcodeHandler,
    /// Optional image rewriting (responsive images).
    pub image_hook: Option<ImageHook<'a>>,
}

/// Renders a Markdown body; errors carry file, line and column.
pub fn render(body: &str, ctx: &MarkdownContext<'_>) -> Result<Rendered, Vec<Diagnostic>> {
    let mut state = fragment::State::new(body, ctx);
    let (html, summary) = state.markdown(body, 0);
    let fragment::State {
        errors,
        warnings,
        toc_flat,
        words,
        ..
    } = state;
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Rendered {
        html,
        summary,
        toc: toc::build(toc_flat),
        word_count: words,
        reading_time: words.div_ceil(WORDS_PER_MINUTE).max(1),
        warnings,
    })
}

#[cfg(test)]
mod tests;
