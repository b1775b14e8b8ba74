//! Contexts of the jobs that show one document: a page, the 404 page, an alias redirect.

use super::{base_context, JobContext};
use crate::site::context::{doc_meta, document_value, simple_meta, SiteData};
use std::path::PathBuf;

/// Page `i` through its own template (`page.html` unless front matter names one).
pub(super) fn page_context(data: &SiteData<'_>, i: usize) -> JobContext {
    let p = &data.library.pages[i];
    let md = &data.pages_md[i];
    let mut ctx = base_context(data, &p.doc.path);
    ctx.insert_value("page", document_value(data, &p.doc, md, Some(p.section), 0));
    ctx.insert_value(
        "meta",
        doc_meta(data, &p.doc, md, Some(p.section), &p.doc.path),
    );
    let template = p
        .doc
        .meta
        .template
        .clone()
        .unwrap_or_else(|| "page.html".into());
    (p.doc.file.clone(), template, p.doc.path.clone(), ctx)
}

/// `404.html`, with `content/404.md` as its page when there is one.
pub(super) fn not_found_context(data: &SiteData<'_>, page: Option<usize>) -> JobContext {
    let mut ctx = base_context(data, "/404.html");
    let mut file = PathBuf::from("404.html");
    ctx.insert_value(
        "meta",
        simple_meta(
            data,
            "Page not found",
            "This page does not exist.",
            "/404.html",
        ),
    );
    let mut template = "404.html".to_owned();
    if let Some(i) = page {
        let p = &data.library.pages[i];
        let md = &data.pages_md[i];
        ctx.insert_value("page", document_value(data, &p.doc, md, None, 0));
        ctx.insert_value("meta", doc_meta(data, &p.doc, md, None, "/404.html"));
        file = p.doc.file.clone();
        template = p.doc.meta.template.clone().unwrap_or(template);
    }
    (file, template, "/404.html".into(), ctx)
}

/// A redirect page at an alias `from` to the page at `to`.
pub(super) fn alias_context(data: &SiteData<'_>, from: &str, to: &str) -> JobContext {
    let mut ctx = base_context(data, from);
    ctx.insert("redirect_to", &data.config.permalink(to));
    let file = PathBuf::from(crate::config::CONFIG_FILE);
    (file, "alias.html".into(), from.to_owned(), ctx)
}
