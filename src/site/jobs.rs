//! The render plan: one flat list of jobs, run in parallel.

use super::context::{doc_meta, document_value, simple_meta, SiteData};
use super::output::Output;
use crate::diagnostics::Diagnostic;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use tera::{Context, Tera, Value};

/// Sitemaps hold at most this many URLs (sitemaps.org); past it we write an index.
pub const SITEMAP_MAX_URLS: usize = 50_000;
/// Entries in a feed.
const FEED_ENTRIES: usize = 20;

/// One unit of rendering work.
#[derive(Clone, Debug, PartialEq)]
pub enum RenderJob {
    /// A page.
    Page(usize),
    /// Page `n` (1-based) of a section's list.
    SectionList {
        /// Section index.
        section: usize,
        /// 1-based page number.
        n: usize,
    },
    /// `/tags/`.
    TaxonomyList(usize),
    /// Page `n` of one term's list.
    Term {
        /// Taxonomy index.
        taxonomy: usize,
        /// Term index.
        term: usize,
        /// 1-based page number.
        n: usize,
    },
    /// The site's Atom feed (`None`) or a section's.
    Feed(Option<usize>),
    /// Sitemap chunk `i` of `of`.
    Sitemap {
        /// Chunk index.
        i: usize,
        /// Number of chunks.
        of: usize,
    },
    /// `robots.txt`.
    Robots,
    /// `404.html`, from `content/404.md` when present.
    NotFound(Option<usize>),
    /// A redirect page from an alias to a page.
    Alias {
        /// Old path.
        from: String,
        /// New path.
        to: String,
    },
}

/// Site path of page `n` of a paginated list at `base`.
pub fn pager_path(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_owned()
    } else {
        format!("{base}page/{n}/")
    }
}

fn pages_of(items: usize, per: usize) -> usize {
    items.div_ceil(per).max(1)
}

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

fn per_page(data: &SiteData<'_>, section: usize) -> usize {
    data.library.sections[section]
        .doc
        .meta
        .paginate_by
        .filter(|n| *n > 0)
        .unwrap_or(data.config.paginate_by)
}

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

#[derive(Serialize)]
struct FeedEntry<'a> {
    title: &'a str,
    permalink: String,
    date: Option<String>,
    updated: Option<String>,
    description: String,
    content: &'a str,
}

/// A failed job: which source and template, and tera's report.
fn render_error(file: PathBuf, template: &str, origin: &str, e: &tera::Error) -> Diagnostic {
    Diagnostic::file(
        file,
        format!(
            "while rendering template '{template}' ({origin}):\n{}",
            super::templates::error_chain(e)
        ),
    )
}

/// Runs every job in parallel, writing into `out`; returns every error.
pub fn run(
    jobs: &[RenderJob],
    data: &SiteData<'_>,
    tera: &Tera,
    sources: &super::templates::TemplateSources,
    out: &Output,
    post_process: &(dyn Fn(&str, String) -> String + Sync),
) -> Vec<Diagnostic> {
    let sitemap = if jobs.iter().any(|j| matches!(j, RenderJob::Sitemap { .. })) {
        sitemap_entries(data)
    } else {
        Vec::new()
    };
    jobs.par_iter()
        .filter_map(|job| {
            let (file, template, path, ctx) = match job_context(job, data, &sitemap) {
                Ok(x) => x,
                Err(d) => return Some(d),
            };
            let html = match tera.render(&template, &ctx) {
                Ok(h) => h,
                Err(e) => {
                    return Some(render_error(file, &template, sources.origin(&template), &e))
                }
            };
            let html = post_process(&path, html);
            let rel = output_file(&path);
            out.write(&rel, html.as_bytes())
                .err()
                .map(|e| Diagnostic::file(&rel, format!("cannot write output: {e}")))
        })
        .collect()
}

/// Output file of a site path: `/a/` -> `a/index.html`, `/robots.txt` -> `robots.txt`.
pub fn output_file(path: &str) -> String {
    let p = path.trim_start_matches('/');
    if p.is_empty() {
        "index.html".into()
    } else if p.ends_with('/') {
        format!("{p}index.html")
    } else {
        p.to_owned()
    }
}

type JobContext = (PathBuf, String, String, Context);

fn base_context(data: &SiteData<'_>, path: &str) -> Context {
    let mut ctx = Context::new();
    ctx.insert_value("config", data.config_value.clone());
    ctx.insert("current_path", path);
    ctx.insert("current_url", &data.config.permalink(path));
    ctx.insert("splitmark_version", env!("CARGO_PKG_VERSION"));
    ctx
}

fn job_context(
    job: &RenderJob,
    data: &SiteData<'_>,
    sitemap: &[SitemapEntry],
) -> Result<JobContext, Diagnostic> {
    let lib = data.library;
    let config_file = PathBuf::from(crate::config::CONFIG_FILE);
    Ok(match job {
        RenderJob::Page(i) => {
            let p = &lib.pages[*i];
            let mut ctx = base_context(data, &p.doc.path);
            ctx.insert_value(
                "page",
                document_value(data, &p.doc, &data.pages_md[*i], Some(p.section), 0),
            );
            ctx.insert_value(
                "meta",
                doc_meta(
                    data,
                    &p.doc,
                    &data.pages_md[*i],
                    Some(p.section),
                    &p.doc.path,
                ),
            );
            let template = p
                .doc
                .meta
                .template
                .clone()
                .unwrap_or_else(|| "page.html".into());
            (p.doc.file.clone(), template, p.doc.path.clone(), ctx)
        }
        RenderJob::NotFound(page) => {
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
                let p = &lib.pages[*i];
                ctx.insert_value(
                    "page",
                    document_value(data, &p.doc, &data.pages_md[*i], None, 0),
                );
                ctx.insert_value(
                    "meta",
                    doc_meta(data, &p.doc, &data.pages_md[*i], None, "/404.html"),
                );
                file = p.doc.file.clone();
                template = p.doc.meta.template.clone().unwrap_or(template);
            }
            (file, template, "/404.html".into(), ctx)
        }
        RenderJob::SectionList { section, n } => {
            let s = &lib.sections[*section];
            let path = pager_path(&s.doc.path, *n);
            let mut ctx = base_context(data, &path);
            ctx.insert_value(
                "section",
                document_value(
                    data,
                    &s.doc,
                    &data.sections_md[*section],
                    s.parent,
                    s.pages.len(),
                ),
            );
            ctx.insert_value(
                "paginator",
                paginator(data, &s.doc.path, &s.pages, per_page(data, *section), *n),
            );
            ctx.insert_value(
                "meta",
                doc_meta(data, &s.doc, &data.sections_md[*section], s.parent, &path),
            );
            if s.is_home() {
                let mut dated: Vec<usize> = (0..lib.pages.len())
                    .filter(|&i| lib.pages[i].doc.meta.date.is_some() && !lib.pages[i].is_not_found)
                    .collect();
                dated.sort_by(|&a, &b| lib.pages[b].doc.meta.date.cmp(&lib.pages[a].doc.meta.date));
                let recent: Vec<Value> = dated
                    .into_iter()
                    .take(5)
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
        RenderJob::TaxonomyList(t) => {
            let tax = &lib.taxonomies[*t];
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
            (config_file, "taxonomy_list.html".into(), path, ctx)
        }
        RenderJob::Term { taxonomy, term, n } => {
            let tax = &lib.taxonomies[*taxonomy];
            let t = &tax.terms[*term];
            let path = pager_path(&t.path, *n);
            let mut ctx = base_context(data, &path);
            ctx.insert("taxonomy", &serde_json::json!({ "name": tax.name }));
            ctx.insert("term", &term_value(data, t));
            let title = format!("{} ({})", t.name, tax.name);
            let desc = format!("Posts about {} on {}", t.name, data.config.title);
            ctx.insert_value("meta", simple_meta(data, &title, &desc, &path));
            ctx.insert_value(
                "paginator",
                paginator(data, &t.path, &t.pages, data.config.paginate_by, *n),
            );
            (config_file, "taxonomy_single.html".into(), path, ctx)
        }
        RenderJob::Feed(section) => {
            let (items, base, title): (Vec<usize>, String, String) = match section {
                Some(s) => {
                    let s = &lib.sections[*s];
                    (
                        s.pages.clone(),
                        s.doc.path.clone(),
                        format!("{} — {}", s.doc.title(), data.config.title),
                    )
                }
                None => {
                    let mut all: Vec<usize> = (0..lib.pages.len()).collect();
                    all.sort_by(|&a, &b| {
                        lib.pages[b].doc.meta.date.cmp(&lib.pages[a].doc.meta.date)
                    });
                    (all, "/".into(), data.config.title.clone())
                }
            };
            let dated: Vec<usize> = items
                .into_iter()
                .filter(|&i| {
                    lib.pages[i].doc.meta.date.is_some()
                        && !lib.pages[i].is_not_found
                        && !lib.pages[i].doc.meta.noindex
                })
                .take(FEED_ENTRIES)
                .collect();
            let entries: Vec<FeedEntry<'_>> = dated
                .iter()
                .map(|&i| {
                    let p = &lib.pages[i];
                    let md = &data.pages_md[i];
                    FeedEntry {
                        title: p.doc.title(),
                        permalink: data.config.permalink(&p.doc.path),
                        date: p.doc.meta.date.map(|d| d.to_rfc3339()),
                        updated: p
                            .doc
                            .meta
                            .updated
                            .or(p.doc.meta.date)
                            .map(|d| d.to_rfc3339()),
                        description: super::context::description_of(&p.doc, md),
                        content: &md.html,
                    }
                })
                .collect();
            let updated = entries.iter().filter_map(|e| e.updated.clone()).max();
            let path = format!("{base}atom.xml");
            let mut ctx = base_context(data, &path);
            ctx.insert(
                "feed",
                &serde_json::json!({
                    "title": title,
                    "path": path,
                    "permalink": data.config.permalink(&path),
                    "alternate": data.config.permalink(&base),
                    "updated": updated.unwrap_or_else(|| "1970-01-01T00:00:00+00:00".into()),
                    "entries": entries,
                }),
            );
            (config_file, "atom.xml".into(), path, ctx)
        }
        RenderJob::Sitemap { i, of } => {
            let chunk: Vec<&SitemapEntry> = sitemap
                .iter()
                .skip(i * SITEMAP_MAX_URLS)
                .take(SITEMAP_MAX_URLS)
                .collect();
            let path = if *of == 1 {
                "/sitemap.xml".to_owned()
            } else {
                format!("/sitemap-{}.xml", i + 1)
            };
            let mut ctx = base_context(data, &path);
            ctx.insert("entries", &chunk);
            (config_file, "sitemap.xml".into(), path, ctx)
        }
        RenderJob::Robots => {
            let ctx = base_context(data, "/robots.txt");
            (config_file, "robots.txt".into(), "/robots.txt".into(), ctx)
        }
        RenderJob::Alias { from, to } => {
            let mut ctx = base_context(data, from);
            ctx.insert("redirect_to", &data.config.permalink(to));
            (config_file, "alias.html".into(), from.clone(), ctx)
        }
    })
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

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
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
    use super::*;
    use crate::content::{Document, Library, Page, Section};

    fn doc(path: &str) -> Document {
        Document {
            file: "content/x.md".into(),
            content_path: "x.md".into(),
            path: path.into(),
            meta: Default::default(),
            body: String::new(),
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
