//! The build: load -> render Markdown -> plan jobs -> render in parallel -> write atomically.
//!
//! Learned from Zola 0.23: the shared context is serialized once, one flat job queue runs in
//! parallel, and list pages see only the summaries of their own items.

pub mod context;
pub mod experiments;
pub mod incremental;
mod init;
pub mod jobs;
pub mod lint;
mod markdown_pass;
pub mod minify;
pub mod output;
mod shortcodes;
pub mod templates;
pub mod timings;

pub use init::init;
pub use shortcodes::{RustShortcode, ShortcodeRegistry};
pub use timings::Timings;

use crate::config::Config;
use crate::content::{Library, LoadOptions};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::markdown::Rendered;
use context::SiteData;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What to build.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Site root (folder with `splitmark.toml`).
    pub root: PathBuf,
    /// Output folder; default `<root>/public`.
    pub output: Option<PathBuf>,
    /// Overrides `base_url` (e.g. for a preview deploy or the dev server).
    pub base_url: Option<String>,
    /// Include drafts.
    pub drafts: bool,
    /// Show a progress bar on stderr for long builds.
    pub progress: bool,
    /// Where the server's manifest goes; default `<root>/.splitmark/manifest.json`, outside
    /// the output because it is private.
    pub manifest: Option<PathBuf>,
}

impl BuildOptions {
    /// Options for building `root` with defaults.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            ..Default::default()
        }
    }
    /// The output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| self.root.join("public"))
    }
    /// The manifest file the build writes.
    pub fn manifest_path(&self) -> PathBuf {
        crate::manifest::manifest_path(&self.root, self.manifest.as_deref())
    }
}

/// What a successful build produced.
#[derive(Clone, Debug)]
pub struct BuildReport {
    /// Pages rendered.
    pub pages: usize,
    /// Sections rendered.
    pub sections: usize,
    /// Files written by render jobs.
    pub rendered: usize,
    /// Wall time.
    pub duration: Duration,
}

impl std::fmt::Display for BuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Built {} pages, {} sections ({} files) in {} ms",
            self.pages,
            self.sections,
            self.rendered,
            self.duration.as_millis()
        )
    }
}

/// Problems found by `check`.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Problems that fail a build.
    pub errors: Vec<Diagnostic>,
    /// Problems worth fixing (SEO, accessibility).
    pub warnings: Vec<Diagnostic>,
    /// Pages checked.
    pub pages: usize,
}

/// A loaded and rendered site, before anything is written.
struct Prepared {
    images: crate::seo::images::Images,
    config: Config,
    experiments: experiments::SiteExperiments,
    library: Library,
    tera: tera::Tera,
    sources: templates::TemplateSources,
    pages_md: Vec<Arc<Rendered>>,
    sections_md: Vec<Arc<Rendered>>,
    /// Rendering's warnings (e.g. a code block in a language with no grammar), for `check`.
    warnings: Vec<Diagnostic>,
}

/// The site's configuration with the build's overrides.
fn load_config(opts: &BuildOptions) -> Result<Config, Diagnostics> {
    let mut config = Config::load(&opts.root).map_err(|d| Diagnostics(vec![d]))?;
    if let Some(url) = &opts.base_url {
        config.base_url = url.trim_end_matches('/').to_owned();
    }
    Ok(config)
}

fn load_options(opts: &BuildOptions, config: &Config) -> LoadOptions {
    LoadOptions {
        root: opts.root.clone(),
        drafts: opts.drafts,
        taxonomies: config.taxonomies.clone(),
    }
}

/// The `form` template function needs the forms, which are parsed after loading; it reads
/// them from this cell, filled before any template renders.
type FormsCell = Arc<OnceLock<experiments::SiteExperiments>>;

fn load_templates(
    root: &Path,
    config: &Config,
) -> Result<(tera::Tera, templates::TemplateSources, FormsCell), Diagnostic> {
    let forms_cell: FormsCell = Arc::default();
    let register_form = {
        let cell = forms_cell.clone();
        move |tera: &mut tera::Tera| experiments::register_form_function(tera, cell.clone())
    };
    let (tera, sources) = templates::load(root, config, &register_form)?;
    Ok((tera, sources, forms_cell))
}

/// Loads config, content and templates and renders all Markdown; collects every error.
fn prepare(opts: &BuildOptions, timings: Option<&Timings>) -> Result<Prepared, Diagnostics> {
    let mut laps = timings::Laps::start(timings);
    let config = load_config(opts)?;
    let load = load_options(opts, &config);
    let (library, templates) = rayon::join(
        || Library::load(&load),
        || load_templates(&opts.root, &config),
    );
    let (mut library, mut errors) = library;
    let templates = templates.map_err(|e| errors.push(e)).ok();
    let Some((tera, sources, forms_cell)) = templates else {
        return Err(Diagnostics(errors).sorted());
    };
    let (site_experiments, experiment_errors) =
        experiments::SiteExperiments::load(&config, &library);
    errors.extend(experiment_errors);
    laps.lap("load: config, content, templates");
    site_experiments.apply_shipped_overrides(&mut library);
    let _ = forms_cell.set(site_experiments.clone());
    let mut registry = ShortcodeRegistry::builtin(&config);
    site_experiments.register(&mut registry);
    let handler = registry.handler(&tera, &sources);
    let image_errors = Mutex::new(Vec::new());
    let images = crate::seo::images::Images::new(&opts.root);
    let render_doc = |doc: &crate::content::Document| {
        markdown_pass::render_document(&opts.root, &library, doc, &handler, &images, &image_errors)
            .0
    };
    let (pages_md, sections_md): (Vec<_>, Vec<_>) = rayon::join(
        || {
            library
                .pages
                .par_iter()
                .map(|p| render_doc(&p.doc))
                .collect()
        },
        || {
            library
                .sections
                .par_iter()
                .map(|s| render_doc(&s.doc))
                .collect()
        },
    );
    let mut unwrap = |v: Vec<Result<Rendered, Vec<Diagnostic>>>| -> Vec<Arc<Rendered>> {
        v.into_iter()
            .map(|r| {
                Arc::new(r.unwrap_or_else(|e| {
                    errors.extend(e);
                    Rendered::default()
                }))
            })
            .collect()
    };
    laps.lap("markdown: highlighting, shortcodes, images");
    let pages_md = unwrap(pages_md);
    let sections_md = unwrap(sections_md);
    if !errors.is_empty() {
        return Err(Diagnostics(errors).sorted());
    }
    let warnings = pages_md
        .iter()
        .chain(&sections_md)
        .flat_map(|r| r.warnings.iter().cloned())
        .collect();
    let image_errors = image_errors.into_inner().unwrap_or_default();
    if !image_errors.is_empty() {
        return Err(Diagnostics(image_errors).sorted());
    }
    Ok(Prepared {
        images,
        config,
        experiments: site_experiments,
        library,
        tera,
        sources,
        pages_md,
        sections_md,
        warnings,
    })
}

fn site_data(p: &Prepared) -> SiteData<'_> {
    let summaries = p
        .library
        .pages
        .par_iter()
        .zip(p.pages_md.par_iter())
        .map(|(page, md)| context::page_summary(&p.config, page, md))
        .collect();
    SiteData {
        experiments: &p.experiments,
        config: &p.config,
        library: &p.library,
        pages_md: p.pages_md.clone(),
        sections_md: p.sections_md.clone(),
        config_value: tera::Value::from_serializable(&p.config),
        summaries,
    }
}

/// What a rendered job becomes before it is written: minified HTML when the site asks.
fn post_process(config: &Config, path: &str, html: String) -> String {
    let is_html = path.ends_with('/') || path.ends_with(".html");
    if config.minify && is_html {
        minify::html(&html)
    } else {
        html
    }
}

/// Renders every job into `out` and copies static files; returns the number of jobs.
fn render_into(
    p: &Prepared,
    root: &Path,
    out: &output::Output,
    progress: bool,
    timings: Option<&Timings>,
) -> Result<usize, Diagnostics> {
    let mut laps = timings::Laps::start(timings);
    let data = site_data(p);
    let jobs = jobs::plan(&data, &p.tera);
    laps.lap("plan: summaries, job list");
    let bar =
        (progress && jobs.len() > 500 && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(|| indicatif::ProgressBar::new(jobs.len() as u64));
    let post = |path: &str, html: String| {
        if let Some(b) = &bar {
            b.inc(1);
        }
        post_process(&p.config, path, html)
    };
    let mut errors = match timings {
        Some(t) => jobs::run_timed(&jobs, &data, &p.tera, &p.sources, out, &post, t),
        None => jobs::run(&jobs, &data, &p.tera, &p.sources, out, &post),
    };
    laps.lap("render and write pages");
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let of = jobs
        .iter()
        .filter(|j| matches!(j, jobs::RenderJob::Sitemap { .. }))
        .count();
    if let Some(index) = jobs::sitemap_index(&data, of) {
        if let Err(e) = out.write("sitemap.xml", index.as_bytes()) {
            errors.push(Diagnostic::file(
                "sitemap.xml",
                format!("cannot write: {e}"),
            ));
        }
    }
    if let Err(e) = write_redirects(&p.library, &p.config, out) {
        errors.push(Diagnostic::file("_redirects", format!("cannot write: {e}")));
    }
    if let Err(e) = copy_static(root, &p.config, &p.library, out) {
        errors.push(e);
    }
    for (url, cached) in p.images.outputs() {
        let copied = std::fs::read(&cached).and_then(|b| out.write(&url, &b));
        if let Err(e) = copied {
            errors.push(Diagnostic::file(
                &cached,
                format!("cannot copy image variant: {e}"),
            ));
        }
    }
    laps.lap("sitemap index, redirects, static files, images");
    if errors.is_empty() {
        Ok(jobs.len())
    } else {
        Err(Diagnostics(errors).sorted())
    }
}

/// Builds the site; on any error the previous output stays untouched.
pub fn build(opts: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    build_timed(opts, None)
}

/// [`build`], adding where the time went to `timings` when given (`build --timings`).
pub fn build_timed(
    opts: &BuildOptions,
    timings: Option<&Timings>,
) -> Result<BuildReport, Diagnostics> {
    let started = Instant::now();
    let prepared = prepare(opts, timings)?;
    let target = opts.output_dir();
    let out = output::Output::new(&target).map_err(|e| {
        Diagnostics(vec![Diagnostic::file(
            &target,
            format!("cannot create output: {e}"),
        )])
    })?;
    let rendered = render_into(&prepared, &opts.root, &out, opts.progress, timings)?;
    let mut laps = timings::Laps::start(timings);
    // The manifest is staged beside its final place and renamed in only after the output is,
    // so a failed build leaves the previous one as it leaves the previous output.
    let manifest_path = opts.manifest_path();
    let manifest =
        serde_json::to_vec_pretty(&prepared.experiments.manifest()).expect("manifest serializes");
    let staged = output::stage_file(&manifest_path, &manifest).map_err(|e| {
        Diagnostics(vec![Diagnostic::file(
            &manifest_path,
            format!("cannot write the manifest: {e}"),
        )])
    })?;
    out.commit().map_err(|e| {
        Diagnostics(vec![Diagnostic::file(
            &target,
            format!("cannot replace output: {e}"),
        )])
    })?;
    staged.persist(&manifest_path).map_err(|e| {
        Diagnostics(vec![Diagnostic::file(
            &manifest_path,
            format!("cannot replace the manifest: {}", e.error),
        )])
    })?;
    laps.lap("commit: manifest, output swap");
    Ok(BuildReport {
        pages: prepared.library.pages.len(),
        sections: prepared.library.sections.len(),
        rendered,
        duration: started.elapsed(),
    })
}

/// Loads and renders the site without touching the output; reports problems.
pub fn check(opts: &BuildOptions) -> CheckReport {
    let prepared = match prepare(opts, None) {
        Ok(p) => p,
        Err(d) => {
            return CheckReport {
                errors: d.0,
                ..Default::default()
            }
        }
    };
    let mut report = CheckReport {
        pages: prepared.library.pages.len(),
        ..Default::default()
    };
    report.warnings.extend(prepared.warnings.iter().cloned());
    let docs = prepared.library.pages.iter().map(|p| &p.doc);
    for doc in docs.chain(prepared.library.sections.iter().map(|s| &s.doc)) {
        report
            .warnings
            .extend(lint::lint_document(&prepared.config, doc));
    }
    for p in &prepared.library.pages {
        let m = &p.doc.meta;
        let file = &p.doc.file;
        if m.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            report
                .warnings
                .push(Diagnostic::file(file, "page has no title"));
        } else if let Some(t) = &m.title {
            let full = t.chars().count() + 3 + prepared.config.title.chars().count();
            if full > 60 {
                report.warnings.push(Diagnostic::file(
                    file,
                    format!(
                        "title with site name is {full} characters; search results show about 60"
                    ),
                ));
            }
        }
        if m.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            report.warnings.push(Diagnostic::file(
                file,
                "page has no description (the summary is used instead)",
            ));
        }
    }
    match tempfile::tempdir() {
        Ok(tmp) => match output::Output::new(&tmp.path().join("public")) {
            Ok(out) => {
                if let Err(d) = render_into(&prepared, &opts.root, &out, false, None) {
                    report.errors.extend(d.0);
                }
            }
            Err(e) => report.errors.push(Diagnostic::file(
                "check",
                format!("cannot create scratch output: {e}"),
            )),
        },
        Err(e) => report.errors.push(Diagnostic::file(
            "check",
            format!("cannot create scratch output: {e}"),
        )),
    }
    report
}

/// `_redirects` (Netlify/Cloudflare Pages) and an nginx `map` for every alias.
fn write_redirects(lib: &Library, config: &Config, out: &output::Output) -> std::io::Result<()> {
    for (rel, text) in redirect_files(lib, config) {
        out.write(rel, text.as_bytes())?;
    }
    Ok(())
}

/// The redirect files' paths and text; none when no page has an alias.
fn redirect_files(lib: &Library, config: &Config) -> Vec<(&'static str, String)> {
    let mut netlify = String::new();
    let mut nginx = String::from("# include inside http {}; then in server {}: if ($splitmark_redirect) { return 301 $splitmark_redirect; }\nmap $uri $splitmark_redirect {\n    default \"\";\n");
    let mut any = false;
    for p in &lib.pages {
        for a in &p.doc.meta.aliases {
            any = true;
            let from = crate::content::library_alias(a);
            netlify.push_str(&format!("{from} {} 301\n", p.doc.path));
            nginx.push_str(&format!("    {from} {};\n", config.permalink(&p.doc.path)));
        }
    }
    nginx.push_str("}\n");
    if !any {
        return Vec::new();
    }
    vec![
        ("_redirects", netlify),
        ("_splitmark/nginx-redirects.conf", nginx),
    ]
}

fn copy_tree(from: &Path, out: &output::Output, under: &str) -> Result<(), Diagnostic> {
    if !from.is_dir() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(|e| Diagnostic::file(from, format!("cannot read: {e}")))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(from)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(entry.path())
            .map_err(|e| Diagnostic::file(entry.path(), format!("cannot read: {e}")))?;
        out.write(&format!("{under}{rel}"), &bytes)
            .map_err(|e| Diagnostic::file(entry.path(), format!("cannot copy: {e}")))?;
    }
    Ok(())
}

fn copy_static(
    root: &Path,
    config: &Config,
    lib: &Library,
    out: &output::Output,
) -> Result<(), Diagnostic> {
    // Like templates, the embedded theme's files are the base layer under any theme.
    for (rel, bytes) in templates::embedded_static() {
        out.write(rel, bytes)
            .map_err(|e| Diagnostic::file(*rel, format!("cannot copy: {e}")))?;
    }
    copy_tree(
        &root.join("themes").join(&config.theme).join("static"),
        out,
        "",
    )?;
    copy_tree(&root.join("static"), out, "")?;
    for p in &lib.pages {
        for asset in &p.assets {
            let name = asset
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(asset)
                .map_err(|e| Diagnostic::file(asset, format!("cannot read: {e}")))?;
            out.write(&format!("{}{name}", p.doc.path), &bytes)
                .map_err(|e| Diagnostic::file(asset, format!("cannot copy: {e}")))?;
        }
    }
    Ok(())
}
