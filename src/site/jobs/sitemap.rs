//! The sitemap: its entries, the context of each chunk, and the index past 50,000 URLs.

use super::{base_context, JobContext};
use crate::site::context::SiteData;
use serde::Serialize;
use std::path::PathBuf;

/// Sitemaps hold at most this many URLs (sitemaps.org); past it we write an index.
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// One `<url>` of the sitemap.
#[derive(Clone, Debug, Serialize)]
pub struct SitemapEntry {
    /// Absolute URL.
    pub permalink: String,
    /// Last modification (RFC 3339), if known.
    pub lastmod: Option<String>,
}

/// Every indexable URL: pages and sections not marked `noindex`, and taxonomy pages.
pub fn sitemap_entries(data: &SiteData<'_>) -> Vec<SitemapEntry> {
    let lib = data.library;
    let newest = |pages: &[usize]| {
        pages
            .iter()
            .filter_map(|&i| lib.pages[i].doc.meta.updated.or(lib.pages[i].doc.meta.date))
            .max()
            .map(|d| d.to_rfc3339())
    };
    let mut out = Vec::new();
    for s in &lib.sections {
        if !s.doc.meta.noindex {
            out.push(SitemapEntry {
                permalink: data.config.permalink(&s.doc.path),
                lastmod: newest(&s.pages),
            });
        }
    }
    for p in &lib.pages {
        if p.is_not_found || p.doc.meta.noindex {
            continue;
        }
        let lastmod = p
            .doc
            .meta
            .updated
            .or(p.doc.meta.date)
            .map(|d| d.to_rfc3339());
        out.push(SitemapEntry {
            permalink: data.config.permalink(&p.doc.path),
            lastmod,
        });
    }
    for tax in &lib.taxonomies {
        let all: Vec<usize> = tax
            .terms
            .iter()
            .flat_map(|t| t.pages.iter().copied())
            .collect();
        out.push(SitemapEntry {
            permalink: data.config.permalink(&format!("/{}/", tax.name)),
            lastmod: newest(&all),
        });
        for term in &tax.terms {
            out.push(SitemapEntry {
                permalink: data.config.permalink(&term.path),
                lastmod: newest(&term.pages),
            });
        }
    }
    out
}

/// Chunk `i` of `of` of the sitemap.
pub(super) fn sitemap_context(
    data: &SiteData<'_>,
    sitemap: &[SitemapEntry],
    i: usize,
    of: usize,
) -> JobContext {
    let chunk: Vec<&SitemapEntry> = sitemap
        .iter()
        .skip(i * SITEMAP_MAX_URLS)
        .take(SITEMAP_MAX_URLS)
        .collect();
    let path = chunk_path(i, of);
    let mut ctx = base_context(data, &path);
    ctx.insert("entries", &chunk);
    let file = PathBuf::from(crate::config::CONFIG_FILE);
    (file, "sitemap.xml".into(), path, ctx)
}

/// Site path of chunk `i` of `of`: `/sitemap.xml` alone, else `/sitemap-N.xml`.
pub(super) fn chunk_path(i: usize, of: usize) -> String {
    if of == 1 {
        "/sitemap.xml".to_owned()
    } else {
        format!("/sitemap-{}.xml", i + 1)
    }
}

/// `sitemap.xml` as an index of the chunk files, when there is more than one.
pub fn sitemap_index(data: &SiteData<'_>, of: usize) -> Option<String> {
    if of <= 1 {
        return None;
    }
    let now = chrono::Utc::now().to_rfc3339();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for i in 1..=of {
        xml.push_str(&format!(
            "  <sitemap><loc>{}</loc><lastmod>{now}</lastmod></sitemap>\n",
            data.config.permalink(&format!("/sitemap-{i}.xml"))
        ));
    }
    xml.push_str("</sitemapindex>\n");
    Some(xml)
}

#[cfg(test)]
mod tests {
    use super::super::{plan, RenderJob};
    use super::*;
    use crate::content::{Document, Library, Page, Section};
    use tera::{Tera, Value};

    fn doc(path: &str) -> Document {
        Document {
            file: "content/x.md".into(),
            content_path: "x.md".into(),
            path: path.into(),
            meta: Default::default(),
            body: "".into(),
            body_line: 1,
        }
    }

    #[test]
    fn sitemap_splits_into_an_index_past_50000_urls() {
        let config = crate::config::Config::parse("base_url = \"https://x.test\"\n").unwrap();
        let mut library = Library::default();
        library.sections.push(Section {
            doc: doc("/"),
            pages: vec![],
            subsections: vec![],
            parent: None,
        });
        for i in 0..SITEMAP_MAX_URLS {
            library.pages.push(Page {
                doc: doc(&format!("/p{i}/")),
                section: 0,
                assets: vec![],
                is_not_found: false,
            });
        }
        let experiments = crate::site::experiments::SiteExperiments::default();
        let data = SiteData {
            experiments: &experiments,
            config: &config,
            library: &library,
            pages_md: vec![],
            sections_md: vec![],
            config_value: Value::none(),
            summaries: vec![],
        };
        let mut tera = Tera::new();
        tera.add_raw_template("sitemap.xml", "").unwrap();
        // 50,000 pages + the home section = 50,001 URLs: two files and an index.
        let chunks: Vec<RenderJob> = plan(&data, &tera)
            .into_iter()
            .filter(|j| matches!(j, RenderJob::Sitemap { .. }))
            .collect();
        assert_eq!(
            chunks,
            [
                RenderJob::Sitemap { i: 0, of: 2 },
                RenderJob::Sitemap { i: 1, of: 2 }
            ]
        );
        let index = sitemap_index(&data, 2).unwrap();
        assert!(index.contains("<sitemapindex"));
        assert!(
            index.contains("<loc>https://x.test/sitemap-1.xml</loc>")
                && index.contains("<loc>https://x.test/sitemap-2.xml</loc>")
        );
        assert!(sitemap_index(&data, 1).is_none());
    }
}
