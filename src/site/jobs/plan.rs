//! Planning: which jobs a build runs, from the library and the templates present.

use super::sitemap::{sitemap_entries, SITEMAP_MAX_URLS};
use super::{pages_of, RenderJob};
use crate::site::context::SiteData;
use tera::Tera;

/// Plans every job of a build.
pub fn plan(data: &SiteData<'_>, tera: &Tera) -> Vec<RenderJob> {
    let lib = data.library;
    let mut jobs: Vec<RenderJob> = Vec::with_capacity(lib.pages.len() * 2);
    let mut not_found = None;
    for (i, p) in lib.pages.iter().enumerate() {
        if p.is_not_found {
            not_found = Some(i);
            continue;
        }
        jobs.push(RenderJob::Page(i));
        for alias in &p.doc.meta.aliases {
            jobs.push(RenderJob::Alias {
                from: crate::content::library_alias(alias),
                to: p.doc.path.clone(),
            });
        }
    }
    for (i, s) in lib.sections.iter().enumerate() {
        let per = per_page(data, i);
        for n in 1..=pages_of(s.pages.len(), per) {
            jobs.push(RenderJob::SectionList { section: i, n });
        }
        let feed_wanted = s.doc.meta.generate_feeds != Some(false);
        if i > 0 && feed_wanted && !s.pages.is_empty() && tera.contains_template("atom.xml") {
            jobs.push(RenderJob::Feed(Some(i)));
        }
    }
    for (t, tax) in lib.taxonomies.iter().enumerate() {
        jobs.push(RenderJob::TaxonomyList(t));
        for (k, term) in tax.terms.iter().enumerate() {
            for n in 1..=pages_of(term.pages.len(), data.config.paginate_by) {
                jobs.push(RenderJob::Term {
                    taxonomy: t,
                    term: k,
                    n,
                });
            }
        }
    }
    if tera.contains_template("atom.xml") {
        jobs.push(RenderJob::Feed(None));
    }
    if tera.contains_template("sitemap.xml") {
        let of = sitemap_entries(data)
            .len()
            .div_ceil(SITEMAP_MAX_URLS)
            .max(1);
        for i in 0..of {
            jobs.push(RenderJob::Sitemap { i, of });
        }
    }
    if tera.contains_template("robots.txt") {
        jobs.push(RenderJob::Robots);
    }
    if tera.contains_template("404.html") {
        jobs.push(RenderJob::NotFound(not_found));
    }
    jobs
}

/// Items per list page of a section: its own `paginate_by`, else the site's.
pub fn per_page(data: &SiteData<'_>, section: usize) -> usize {
    data.library.sections[section]
        .doc
        .meta
        .paginate_by
        .filter(|n| *n > 0)
        .unwrap_or(data.config.paginate_by)
}
