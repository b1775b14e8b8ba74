//! The render plan: one flat list of jobs, run in parallel.
//!
//! [`plan`] lists the jobs; each job kind has one small context builder (`page`, `lists`,
//! `feed`, `sitemap`) reading the shared [`SiteData`]; [`render`] puts a job's context through
//! its template.

mod feed;
mod lists;
mod page;
mod plan;
mod sitemap;
mod timed;

pub use feed::feed_items;
pub use lists::recent_pages;
pub use plan::{per_page, plan};
pub use sitemap::{sitemap_entries, sitemap_index, SitemapEntry, SITEMAP_MAX_URLS};
pub use timed::run_timed;

use super::context::SiteData;
use super::output::Output;
use super::templates::TemplateSources;
use crate::diagnostics::Diagnostic;
use rayon::prelude::*;
use std::path::PathBuf;
use tera::{Context, Tera};

/// One unit of rendering work.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// The sitemap entries `render` needs when `jobs` has a sitemap chunk (empty otherwise).
pub fn sitemap_for(jobs: &[RenderJob], data: &SiteData<'_>) -> Vec<SitemapEntry> {
    if jobs.iter().any(|j| matches!(j, RenderJob::Sitemap { .. })) {
        sitemap_entries(data)
    } else {
        Vec::new()
    }
}

/// Renders one job: its site path and the text its template produced.
pub fn render(
    job: &RenderJob,
    data: &SiteData<'_>,
    tera: &Tera,
    sources: &TemplateSources,
    sitemap: &[SitemapEntry],
) -> Result<(String, String), Diagnostic> {
    let (file, template, path, ctx) = job_context(job, data, sitemap);
    let html = tera
        .render(&template, &ctx)
        .map_err(|e| render_error(file, &template, sources.origin(&template), &e))?;
    Ok((path, html))
}

/// Runs every job in parallel, writing into `out`; returns every error.
pub fn run(
    jobs: &[RenderJob],
    data: &SiteData<'_>,
    tera: &Tera,
    sources: &TemplateSources,
    out: &Output,
    post_process: &(dyn Fn(&str, String) -> String + Sync),
) -> Vec<Diagnostic> {
    let sitemap = sitemap_for(jobs, data);
    jobs.par_iter()
        .filter_map(|job| {
            let (path, html) = match render(job, data, tera, sources, &sitemap) {
                Ok(x) => x,
                Err(d) => return Some(d),
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

/// Site path a job renders to, without rendering it.
pub fn job_path(job: &RenderJob, data: &SiteData<'_>) -> String {
    let lib = data.library;
    match job {
        RenderJob::Page(i) => lib.pages[*i].doc.path.clone(),
        RenderJob::NotFound(_) => "/404.html".into(),
        RenderJob::Alias { from, .. } => from.clone(),
        RenderJob::SectionList { section, n } => pager_path(&lib.sections[*section].doc.path, *n),
        RenderJob::TaxonomyList(t) => format!("/{}/", lib.taxonomies[*t].name),
        RenderJob::Term { taxonomy, term, n } => {
            pager_path(&lib.taxonomies[*taxonomy].terms[*term].path, *n)
        }
        RenderJob::Feed(section) => feed_items(data, *section).1 + "atom.xml",
        RenderJob::Sitemap { i, of } => sitemap::chunk_path(*i, *of),
        RenderJob::Robots => "/robots.txt".into(),
    }
}

/// A job's source file (for errors), template, site path and context.
type JobContext = (PathBuf, String, String, Context);

/// What every template sees: the config and where it is.
fn base_context(data: &SiteData<'_>, path: &str) -> Context {
    let mut ctx = Context::new();
    ctx.insert_value("config", data.config_value.clone());
    ctx.insert("current_path", path);
    ctx.insert("current_url", &data.config.permalink(path));
    ctx.insert("splitmark_version", env!("CARGO_PKG_VERSION"));
    ctx
}

fn job_context(job: &RenderJob, data: &SiteData<'_>, sitemap: &[SitemapEntry]) -> JobContext {
    match job {
        RenderJob::Page(i) => page::page_context(data, *i),
        RenderJob::NotFound(page) => page::not_found_context(data, *page),
        RenderJob::Alias { from, to } => page::alias_context(data, from, to),
        RenderJob::SectionList { section, n } => lists::section_context(data, *section, *n),
        RenderJob::TaxonomyList(t) => lists::taxonomy_list_context(data, *t),
        RenderJob::Term { taxonomy, term, n } => lists::term_context(data, *taxonomy, *term, *n),
        RenderJob::Feed(section) => feed::feed_context(data, *section),
        RenderJob::Sitemap { i, of } => sitemap::sitemap_context(data, sitemap, *i, *of),
        RenderJob::Robots => {
            let ctx = base_context(data, "/robots.txt");
            let file = PathBuf::from(crate::config::CONFIG_FILE);
            (file, "robots.txt".into(), "/robots.txt".into(), ctx)
        }
    }
}
