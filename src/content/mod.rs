//! Content: Markdown files with front matter, organised into pages, sections and taxonomies.
//!
//! [`Library::load`] reads every file under `content/` in parallel and collects every error
//! before failing. The library is built once and read-only afterwards: rendering shares it
//! across threads without locks.

pub mod front_matter;
mod library;

pub use front_matter::FrontMatter;
pub use library::{
    normalize_alias as library_alias, parse_content_file, walk_content, Library, LoadOptions,
    Parsed, Taxonomy, Term,
};

use chrono::{DateTime, FixedOffset};
use std::path::PathBuf;

/// What a page, a section and the home page have in common.
#[derive(Clone, Debug)]
pub struct Document {
    /// Source file relative to the site root, e.g. `content/blog/hello.md`.
    pub file: PathBuf,
    /// Path below `content/` with forward slashes, e.g. `blog/hello.md` (for `@/` links).
    pub content_path: String,
    /// Site path with leading and trailing slash, e.g. `/blog/hello/`.
    pub path: String,
    /// Parsed front matter.
    pub meta: FrontMatter,
    /// Raw Markdown body.
    pub body: std::sync::Arc<str>,
    /// Line of the body's first line in the file (for error positions).
    pub body_line: usize,
}

impl Document {
    /// Title, or an empty string.
    pub fn title(&self) -> &str {
        self.meta.title.as_deref().unwrap_or("")
    }
    /// Publication date.
    pub fn date(&self) -> Option<DateTime<FixedOffset>> {
        self.meta.date
    }
}

/// A page: one Markdown file that renders to one URL.
#[derive(Clone, Debug)]
pub struct Page {
    /// The shared part.
    pub doc: Document,
    /// Index of the section this page belongs to.
    pub section: usize,
    /// Files beside a bundle's `index.md`, copied next to the page.
    pub assets: Vec<PathBuf>,
    /// True for `content/404.md`, which renders to `/404.html`.
    pub is_not_found: bool,
}

/// A section: a folder with an `_index.md` (or an implicit one), listing its pages.
#[derive(Clone, Debug)]
pub struct Section {
    /// The shared part (an implicit section has an empty body).
    pub doc: Document,
    /// Indices of its pages, already sorted for listing.
    pub pages: Vec<usize>,
    /// Indices of direct subsections.
    pub subsections: Vec<usize>,
    /// Index of the parent section (`None` for the home section).
    pub parent: Option<usize>,
}

impl Section {
    /// True for the home section (`content/_index.md`).
    pub fn is_home(&self) -> bool {
        self.doc.path == "/"
    }
}
