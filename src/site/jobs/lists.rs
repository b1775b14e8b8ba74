//! Contexts of list pages: a section's pages, a taxonomy's terms, one term's pages.
//!
//! Each list page sees the summaries of its own slice of items only.

use super::plan::per_page;
use super::{base_context, pager_path, pages_of, JobContext};
use crate::site::context::{doc_meta, document_value, simple_meta, SiteData};
use serde::Serialize;
use std::path::PathBuf;
use tera::Value;

/// How many of the newest pages the home page gets as `recent_pages`.
const RECENT_PAGES: usize = 5;

#[derive(Serialize)]
struct Paginator {
    pages: Vec<Value>,
    current_index: usize,
    total_pages: usize,
    paginate_by: usize,
    total_items: usize,
    first: String,
    last: String,
    previous: Option<String>,
    next: Option<String>,
}

fn paginator(data: &SiteData<'_>, base: &str, items: &[usize], per: usize, n: usize) -> Value {
    let total_pages = pages_of(items.len(), per);
    let url = |k: usize| data.config.permalink(&pager_path(base, k));
    let pages = items
        .iter()
        .skip((n - 1) * per)
        .take(per)
        .map(|&i| data.summaries[i].clone())
        .collect();
    Value::from_serializable(&Paginator {
        pages,
        current_index: n,
        total_pages,
        paginate_by: per,
        total_items: items.len(),
        first: url(1),
        last: url(total_pages),
        previous: (n > 1).then(|| url(n - 1)),
        next: (n < total_pages).then(|| url(n + 1)),
    })
}

#[derive(Serialize)]
struct TermValue<'a> {
    name: &'a str,
    slug: &'a str,
    path: &'a str,
    permalink: String,
    count: usize,
}

fn term_value<'a>(data: &SiteData<'_>, t: &'a crate::content::Term) -> TermValue<'a> {
    TermValue {
        name: &t.name,
        slug: &t.slug,
        path: &t.path,
        permalink: data.config.permalink(&t.path),
        count: t.pages.len(),
    }
}

/// Pages with a date, newest first: what the home page's `recent_pages` picks from.
pub fn recent_pages(data: &SiteData<'_>) -> Vec<usize> {
    let lib = data.library;
    let mut dated: Vec<usize> = (0..lib.pages.len())
        .filter(|&i| lib.pages[i].doc.meta.date.is_some() && !lib.pages[i].is_not_found)
        .collect();
    dated.sort_by(|&a, &b| lib.pages[b].doc.meta.date.cmp(&lib.pages[a].doc.meta.date));
    dated.truncate(RECENT_PAGES);
    dated
}

/// Page `n` of a section's list (the home page is the home section's first list page).
pub(super) fn section_context(data: &SiteData<'_>, section: usize, n: usize) -> JobContext {
    let s = &data.library.sections[section];
    let md = &data.sections_md[section];
    let path = pager_path(&s.doc.path, n);
    let mut ctx = base_context(data, &path);
    ctx.insert_value(
        "section",
        document_value(data, &s.doc, md, s.parent, s.pages.len()),
    );
    ctx.insert_value(
        "paginator",
        paginator(data, &s.doc.path, &s.pages, per_page(data, section), n),
    );
    ctx.insert_value("meta", doc_meta(data, &s.doc, md, s.parent, &path));
    if s.is_home() {
        let recent: Vec<Value> = recent_pages(data)
            .into_iter()
            .map(|i| data.summaries[i].clone())
            .collect();
        ctx.insert("recent_pages", &recent);
    }
    let default = if s.is_home() {
        "index.html"
    } else {
        "section.html"
    };
    let template = s
        .doc
        .meta
        .template
        .clone()
        .unwrap_or_else(|| default.into());
    (s.doc.file.clone(), template, path, ctx)
}

/// `/<taxonomy>/`: every term with its count.
pub(super) fn taxonomy_list_context(data: &SiteData<'_>, t: usize) -> JobContext {
    let tax = &data.library.taxonomies[t];
    let path = format!("/{}/", tax.name);
    let mut ctx = base_context(data, &path);
    let terms: Vec<TermValue<'_>> = tax
        .terms
        .iter()
        .map(|term| term_value(data, term))
        .collect();
    ctx.insert(
        "taxonomy",
        &serde_json::json!({ "name": tax.name, "terms": terms }),
    );
    let title = capitalize(&tax.name);
    ctx.insert_value(
        "meta",
        simple_meta(
            data,
            &title,
            &format!("All {} of {}", tax.name, data.config.title),
            &path,
        ),
    );
    let file = PathBuf::from(crate::config::CONFIG_FILE);
    (file, "taxonomy_list.html".into(), path, ctx)
}

/// Page `n` of one term's list.
pub(super) fn term_context(
    data: &SiteData<'_>,
    taxonomy: usize,
    term: usize,
    n: usize,
) -> JobContext {
    let tax = &data.library.taxonomies[taxonomy];
    let t = &tax.terms[term];
    let path = pager_path(&t.path, n);
    let mut ctx = base_context(data, &path);
    ctx.insert("taxonomy", &serde_json::json!({ "name": tax.name }));
    ctx.insert("term", &term_value(data, t));
    let title = format!("{} ({})", t.name, tax.name);
    let desc = format!("Posts about {} on {}", t.name, data.config.title);
    ctx.insert_value("meta", simple_meta(data, &title, &desc, &path));
    ctx.insert_value(
        "paginator",
        paginator(data, &t.path, &t.pages, data.config.paginate_by, n),
    );
    let file = PathBuf::from(crate::config::CONFIG_FILE);
    (file, "taxonomy_single.html".into(), path, ctx)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}
