//! The Markdown pass of a build: one document's body to HTML, with links, shortcodes and
//! responsive images wired to the site. Shared by `build` and `serve`'s incremental rebuilds,
//! so both render a document the same way.

use crate::content::{Document, Library};
use crate::diagnostics::Diagnostic;
use crate::markdown::{self, MarkdownContext, Rendered, ShortcodeCall, ShortcodeHandler};
use std::path::Path;
use std::sync::Mutex;

/// What rendering one document looked up besides its own text: the `@/` links it resolved
/// (with their answers) and the shortcodes it called. `serve` re-renders the document when
/// one of these answers changes.
#[derive(Clone, Debug, Default)]
pub struct Lookups {
    /// Content paths resolved, with the site path each resolved to.
    pub links: Vec<(String, Option<String>)>,
    /// Names of the shortcodes called.
    pub shortcodes: Vec<String>,
}

struct Recording<'a> {
    inner: &'a dyn ShortcodeHandler,
    called: Mutex<Vec<String>>,
}

impl ShortcodeHandler for Recording<'_> {
    fn render(&self, call: &ShortcodeCall<'_>) -> Result<String, String> {
        self.called
            .lock()
            .expect("shortcode log")
            .push(call.name.to_owned());
        self.inner.render(call)
    }
    fn needs_body(&self, name: &str) -> bool {
        self.inner.needs_body(name)
    }
    fn markdown_body(&self, name: &str) -> bool {
        self.inner.markdown_body(name)
    }
}

/// Renders `doc`'s body; image errors go to `image_errors` (they fail the build later, after
/// every document had its turn).
pub fn render_document(
    root: &Path,
    library: &Library,
    doc: &Document,
    handler: &dyn ShortcodeHandler,
    images: &crate::seo::images::Images,
    image_errors: &Mutex<Vec<Diagnostic>>,
) -> (Result<Rendered, Vec<Diagnostic>>, Lookups) {
    let links = Mutex::new(Vec::new());
    let resolve = |p: &str| {
        let r = library.resolve(p).map(str::to_owned);
        links
            .lock()
            .expect("link log")
            .push((p.to_owned(), r.clone()));
        r
    };
    let recording = Recording {
        inner: handler,
        called: Mutex::default(),
    };
    let page_dir = root.join(doc.file.parent().unwrap_or(Path::new("content")));
    let hook = |img: &markdown::ImageRef<'_>| -> Option<String> {
        let source = crate::seo::images::resolve_source(root, &page_dir, img.src)?;
        match images.picture(&source, img.alt, img.title, img.index > 0) {
            Ok(html) => html,
            Err(d) => {
                image_errors.lock().expect("image errors").push(d);
                None
            }
        }
    };
    let ctx = MarkdownContext {
        file: &doc.file,
        body_line: doc.body_line,
        page_path: &doc.path,
        page_extra: &doc.meta.extra,
        resolve: &resolve,
        shortcodes: &recording,
        image_hook: Some(&hook),
    };
    let rendered = markdown::render(&doc.body, &ctx);
    let lookups = Lookups {
        links: links.into_inner().unwrap_or_default(),
        shortcodes: recording.called.into_inner().unwrap_or_default(),
    };
    (rendered, lookups)
}
