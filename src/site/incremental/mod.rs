//! Incremental rebuilds for `splitmark serve`.
//!
//! A [`Snapshot`] is a built site kept in memory: every Markdown file as parsed, every
//! document as rendered (with the links and shortcodes it looked up), and every output file
//! with what produced it (see [`deps`] for what each output depends on). [`Snapshot::update`]
//! takes the paths that changed and returns a *new* snapshot: it re-reads only the changed
//! files, re-renders the Markdown of documents whose inputs changed and the outputs whose
//! inputs' fingerprint changed, writes those files (each by an atomic rename) and deletes
//! outputs nothing produces any more. The old snapshot stays valid and untouched, so a failed
//! step leaves the last good output and state as they were.
//!
//! A change to the config, the theme's static files, `static/`, a non-Markdown file under
//! `content/`, or to any page's `[experiment]` rebuilds everything, into a fresh output folder
//! swapped in as `splitmark build` does.

mod deps;
mod outputs;

use super::context::{self, SiteData};
use super::experiments::SiteExperiments;
use super::markdown_pass::{render_document, Lookups};
use super::templates::TemplateSources;
use super::{jobs, BuildOptions, FormsCell, ShortcodeRegistry};
use crate::config::Config;
use crate::content::{self, Library, Parsed};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::markdown::Rendered;
use deps::{fp, DocFps, JobInputs};
use outputs::{OutputMap, Producer, StaticSource};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tera::{Tera, Value};

/// One Markdown file as last read.
struct FileEntry {
    /// Fingerprint of the file's bytes.
    fp: u64,
    parsed: Result<Parsed, Diagnostic>,
}

/// One document as last rendered.
struct DocEntry {
    /// Fingerprint of the document's source and place.
    key: u64,
    /// Fingerprint of the shortcode templates it called, when it was rendered.
    shortcodes: u64,
    lookups: Lookups,
    md: Arc<Rendered>,
    md_fp: u64,
    /// The page's summary value (sections have none).
    summary: Value,
    summary_fp: u64,
    /// Image variants its images produced: (output path, cached file).
    images: Vec<(String, PathBuf)>,
}

/// Config and templates of a snapshot (replaced whole when they change).
#[derive(Clone)]
struct Loaded {
    config: Arc<Config>,
    config_value: Value,
    tera: Arc<Tera>,
    sources: Arc<TemplateSources>,
    /// Keeps the `form` function's forms; filled on the first render.
    forms_cell: FormsCell,
    templates: Arc<HashMap<String, u64>>,
}

/// A built site in memory; see the module documentation.
pub struct Snapshot {
    opts: BuildOptions,
    root: PathBuf,
    loaded: Loaded,
    experiments_fp: u64,
    files: Arc<BTreeMap<PathBuf, Arc<FileEntry>>>,
    others: Arc<Vec<PathBuf>>,
    docs: Arc<HashMap<PathBuf, Arc<DocEntry>>>,
    outputs: Arc<OutputMap>,
    manifest: crate::manifest::Manifest,
    /// The library as assembled (read-only; a body-only edit reuses it, see [`Reuse`]).
    library: Arc<Library>,
    experiments: SiteExperiments,
    sitemap_fp: u64,
    pages: usize,
    sections: usize,
}

/// What one step did.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Everything was rebuilt (first build, or a change that affects every output).
    pub full: bool,
    /// Documents whose Markdown was rendered.
    pub markdown: usize,
    /// Output files written.
    pub written: usize,
    /// Output files deleted.
    pub deleted: usize,
    /// Pages in the site.
    pub pages: usize,
    /// Wall time.
    pub duration: Duration,
}

impl std::fmt::Display for StepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} pages: {} rendered from Markdown, {} files written, {} deleted in {} ms",
            if self.full { "Built" } else { "Updated" },
            self.pages,
            self.markdown,
            self.written,
            self.deleted,
            self.duration.as_millis()
        )
    }
}

/// How a changed path affects the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Not an input (hidden file, editor scratch file).
    Ignore,
    /// A Markdown file under `content/`.
    Markdown,
    /// A template of the site or its theme.
    Templates,
    /// Anything else: rebuild everything.
    Full,
}

fn one(d: Diagnostic) -> Diagnostics {
    Diagnostics(vec![d])
}

fn read_entry(root: &Path, path: &Path) -> FileEntry {
    let bytes = std::fs::read(path).unwrap_or_default();
    FileEntry {
        fp: fp(&bytes),
        parsed: content::parse_content_file(root, path),
    }
}

fn load(opts: &BuildOptions) -> Result<Loaded, Diagnostics> {
    let config = super::load_config(opts)?;
    templates(opts, Arc::new(config))
}

fn templates(opts: &BuildOptions, config: Arc<Config>) -> Result<Loaded, Diagnostics> {
    let (tera, sources, forms_cell) = super::load_templates(&opts.root, &config).map_err(one)?;
    Ok(Loaded {
        config_value: Value::from_serializable(&*config),
        config,
        templates: Arc::new(deps::template_fps(&sources)),
        tera: Arc::new(tera),
        sources: Arc::new(sources),
        forms_cell,
    })
}

/// What decides the experiments of a build besides the config: each page's `[experiment]`.
fn experiments_fp(library: &Library) -> u64 {
    let specs: Vec<(&str, String)> = library
        .pages
        .iter()
        .filter_map(|p| {
            Some((
                p.doc.path.as_str(),
                p.doc.meta.experiment.as_ref()?.to_string(),
            ))
        })
        .collect();
    fp(&specs)
}

/// A body-only edit: the previous library serves again (its structure, front matter and
/// paths are the same), with these bodies (by file, relative to the root) rendered anew.
struct Reuse {
    library: Arc<Library>,
    experiments: SiteExperiments,
    sitemap_fp: u64,
    bodies: HashMap<PathBuf, Arc<str>>,
}

/// The step needs a full rebuild instead.
enum Outcome {
    Done(Box<(Snapshot, StepReport)>),
    Full,
}

impl Snapshot {
    /// Builds the site from scratch into a fresh output folder (swapped in as `build` does).
    pub fn build(opts: &BuildOptions) -> Result<(Snapshot, StepReport), Diagnostics> {
        let started = Instant::now();
        let loaded = load(opts)?;
        let (markdown, others) = content::walk_content(&opts.root).map_err(one)?;
        let files: BTreeMap<PathBuf, Arc<FileEntry>> = markdown
            .into_par_iter()
            .map(|p| {
                let e = read_entry(&opts.root, &p);
                (p, Arc::new(e))
            })
            .collect();
        match step(None, opts, loaded, files, others, None, started)? {
            Outcome::Done(done) => Ok(*done),
            Outcome::Full => unreachable!("a full build needs no fuller one"),
        }
    }

    /// How a change of `path` (absolute, or under the site root) affects this site.
    pub fn classify(&self, path: &Path) -> Change {
        let rel = path
            .strip_prefix(&self.root)
            .or_else(|_| path.strip_prefix(&self.opts.root));
        let Ok(rel) = rel else {
            return Change::Ignore;
        };
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if hidden {
            return Change::Ignore;
        }
        let theme_templates = Path::new("themes")
            .join(&self.loaded.config.theme)
            .join("templates");
        if rel.starts_with("templates") || rel.starts_with(&theme_templates) {
            return Change::Templates;
        }
        if !rel.starts_with("content") {
            return Change::Full;
        }
        let full = self.opts.root.join(rel);
        if full.extension().is_some_and(|e| e == "md") && !full.is_dir() {
            return Change::Markdown;
        }
        // A folder, an asset, or something that was one of them.
        let known = self.others.contains(&full) || self.files.keys().any(|k| k.starts_with(&full));
        if full.exists() || known {
            Change::Full
        } else {
            Change::Ignore
        }
    }

    /// A new snapshot with the changes of `changed` applied, and the output updated.
    pub fn update(&self, changed: &[PathBuf]) -> Result<(Snapshot, StepReport), Diagnostics> {
        let started = Instant::now();
        let kinds: Vec<(Change, &PathBuf)> =
            changed.iter().map(|p| (self.classify(p), p)).collect();
        let worst = kinds
            .iter()
            .map(|(k, _)| *k)
            .max()
            .unwrap_or(Change::Ignore);
        if worst == Change::Full {
            return Snapshot::build(&self.opts);
        }
        let loaded = if worst == Change::Templates {
            templates(&self.opts, self.loaded.config.clone())?
        } else {
            self.loaded.clone()
        };
        let mut files = (*self.files).clone();
        // Body-only edits of existing files keep the library; anything else reassembles it.
        let mut bodies = (worst == Change::Markdown).then(HashMap::new);
        for (kind, path) in &kinds {
            if *kind != Change::Markdown {
                continue;
            }
            let full = self
                .opts
                .root
                .join(path.strip_prefix(&self.root).unwrap_or(path));
            if full.is_file() {
                let entry = read_entry(&self.opts.root, &full);
                let same = match (&entry.parsed, self.files.get(&full).map(|e| &e.parsed)) {
                    (Ok(new), Some(Ok(old))) => new.same_but_body(old),
                    _ => false,
                };
                match (&mut bodies, &entry.parsed) {
                    (Some(b), Ok(new)) if same => {
                        let rel = full.strip_prefix(&self.opts.root).unwrap_or(&full);
                        b.insert(rel.to_path_buf(), new.body().clone());
                    }
                    _ => bodies = None,
                }
                files.insert(full.clone(), Arc::new(entry));
            } else {
                bodies = None;
                files.remove(&full);
            }
        }
        let reuse = bodies.map(|bodies| Reuse {
            library: self.library.clone(),
            experiments: self.experiments.clone(),
            sitemap_fp: self.sitemap_fp,
            bodies,
        });
        match step(
            Some(self),
            &self.opts,
            loaded,
            files,
            (*self.others).clone(),
            reuse,
            started,
        )? {
            Outcome::Done(done) => Ok(*done),
            Outcome::Full => Snapshot::build(&self.opts),
        }
    }

    /// The manifest of this build (forms and experiments) for the capture API.
    pub fn manifest(&self) -> &crate::manifest::Manifest {
        &self.manifest
    }

    /// Pages and sections in the site.
    pub fn counts(&self) -> (usize, usize) {
        (self.pages, self.sections)
    }
}

fn doc_key(file_fps: &HashMap<&Path, u64>, doc: &content::Document) -> u64 {
    let file_fp = file_fps.get(doc.file.as_path()).copied();
    fp(&(
        file_fp,
        &doc.file,
        &doc.path,
        &doc.content_path,
        doc.title(),
        doc.body_line,
    ))
}

fn shortcodes_fp(names: &[String], templates: &HashMap<String, u64>) -> u64 {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort();
    names.dedup();
    let fps: Vec<(&String, Option<u64>)> = names
        .into_iter()
        .map(|n| (n, templates.get(&format!("shortcodes/{n}.html")).copied()))
        .collect();
    fp(&fps)
}

fn md_fp(md: &Rendered) -> u64 {
    fp(&(
        &md.html,
        &md.summary,
        format!("{:?}", md.toc),
        md.word_count,
        md.reading_time,
    ))
}

fn step(
    base: Option<&Snapshot>,
    opts: &BuildOptions,
    loaded: Loaded,
    files: BTreeMap<PathBuf, Arc<FileEntry>>,
    others: Vec<PathBuf>,
    reuse: Option<Reuse>,
    started: Instant,
) -> Result<Outcome, Diagnostics> {
    let config = &*loaded.config;
    let root = &opts.root;
    let (library, experiments, experiments_fp, bodies, old_sitemap) = match reuse {
        Some(r) => {
            let fp = base.map_or(0, |b| b.experiments_fp);
            (r.library, r.experiments, fp, r.bodies, Some(r.sitemap_fp))
        }
        None => {
            let load = super::load_options(opts, config);
            let parsed: Vec<(PathBuf, Result<Parsed, Diagnostic>)> = files
                .iter()
                .map(|(p, e)| (p.clone(), e.parsed.clone()))
                .collect();
            let (mut library, errors) = Library::from_parsed(&load, parsed, &others);
            if !errors.is_empty() {
                return Err(Diagnostics(errors).sorted());
            }
            let experiments_fp = experiments_fp(&library);
            if base.is_some_and(|b| b.experiments_fp != experiments_fp) {
                return Ok(Outcome::Full);
            }
            let (experiments, errors) = SiteExperiments::load(config, &library);
            if !errors.is_empty() {
                return Err(Diagnostics(errors).sorted());
            }
            experiments.apply_shipped_overrides(&mut library);
            (
                Arc::new(library),
                experiments,
                experiments_fp,
                HashMap::new(),
                None,
            )
        }
    };
    let _ = loaded.forms_cell.set(experiments.clone());
    let mut registry = ShortcodeRegistry::builtin(config);
    experiments.register(&mut registry);
    let handler = registry.handler(&loaded.tera, &loaded.sources);

    // Markdown: reuse what is still valid, render the rest.
    let old_docs = base.map(|b| &*b.docs);
    // Documents name their file relative to the root.
    let file_fps: HashMap<&Path, u64> = files
        .iter()
        .map(|(p, e)| (p.strip_prefix(root).unwrap_or(p), e.fp))
        .collect();
    let rendered_md = std::sync::atomic::AtomicUsize::new(0);
    let doc_entry = |doc: &content::Document, page: Option<&content::Page>| {
        let key = doc_key(&file_fps, doc);
        if let Some(old) = old_docs.and_then(|d| d.get(&doc.file)) {
            let still = old.key == key
                && old.shortcodes == shortcodes_fp(&old.lookups.shortcodes, &loaded.templates)
                && old
                    .lookups
                    .links
                    .iter()
                    .all(|(p, r)| library.resolve(p) == r.as_deref());
            if still {
                return Ok(old.clone());
            }
        }
        rendered_md.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Each document gets its own image collector, so its variants are known per document.
        let images = crate::seo::images::Images::new(root);
        let image_errors = Mutex::new(Vec::new());
        let edited;
        let doc = match bodies.get(&doc.file) {
            Some(body) => {
                edited = content::Document {
                    body: body.clone(),
                    ..doc.clone()
                };
                &edited
            }
            None => doc,
        };
        let (md, lookups) = render_document(root, &library, doc, &handler, &images, &image_errors);
        let mut errors = image_errors.into_inner().unwrap_or_default();
        let md = match md {
            Ok(md) if errors.is_empty() => md,
            Ok(_) => return Err(errors),
            Err(e) => {
                errors.extend(e);
                return Err(errors);
            }
        };
        let summary = page.map_or_else(Value::none, |p| context::page_summary(config, p, &md));
        let summary_fp = fp(&serde_json::to_vec(&summary).unwrap_or_default());
        Ok(Arc::new(DocEntry {
            key,
            shortcodes: shortcodes_fp(&lookups.shortcodes, &loaded.templates),
            lookups,
            md_fp: md_fp(&md),
            md: Arc::new(md),
            summary,
            summary_fp,
            images: images.outputs(),
        }))
    };
    let (page_entries, section_entries): (Vec<_>, Vec<_>) = rayon::join(
        || {
            library
                .pages
                .par_iter()
                .map(|p| doc_entry(&p.doc, Some(p)))
                .collect::<Vec<_>>()
        },
        || {
            library
                .sections
                .par_iter()
                .map(|s| doc_entry(&s.doc, None))
                .collect::<Vec<_>>()
        },
    );
    let mut errors = Vec::new();
    let mut ok = |v: Vec<Result<Arc<DocEntry>, Vec<Diagnostic>>>| -> Vec<Arc<DocEntry>> {
        v.into_iter()
            .filter_map(|r| r.map_err(|e| errors.extend(e)).ok())
            .collect()
    };
    let page_entries = ok(page_entries);
    let section_entries = ok(section_entries);
    if !errors.is_empty() {
        return Err(Diagnostics(errors).sorted());
    }
    let docs_fps = DocFps {
        page_doc: page_entries.iter().map(|e| e.key).collect(),
        page_md: page_entries.iter().map(|e| e.md_fp).collect(),
        summary: page_entries.iter().map(|e| e.summary_fp).collect(),
        section_doc: section_entries.iter().map(|e| e.key).collect(),
        section_md: section_entries.iter().map(|e| e.md_fp).collect(),
    };
    let data = SiteData {
        experiments: &experiments,
        config,
        library: &library,
        pages_md: page_entries.iter().map(|e| e.md.clone()).collect(),
        sections_md: section_entries.iter().map(|e| e.md.clone()).collect(),
        config_value: loaded.config_value.clone(),
        summaries: page_entries.iter().map(|e| e.summary.clone()).collect(),
    };

    // Outputs: what each file is produced by, in the order a build writes them (later wins).
    let plan = jobs::plan(&data, &loaded.tera);
    // Sitemap entries come from paths and front matter only: a body edit keeps them.
    let sitemap_entries = || jobs::sitemap_for(&plan, &data);
    let (mut sitemap, sitemap_fp) = match old_sitemap {
        Some(f) => (None, f),
        None => {
            let entries = sitemap_entries();
            let f = deps::sitemap_fp(&entries);
            (Some(entries), f)
        }
    };
    let inputs = JobInputs {
        data: &data,
        templates: &loaded.templates,
        docs: &docs_fps,
        sitemap: sitemap_fp,
        chains: deps::section_chains(&data),
    };
    let job_outputs: Vec<(String, u64)> = plan
        .par_iter()
        .map(|j| {
            let rel = jobs::output_file(&jobs::job_path(j, &data));
            (rel, inputs.job(j))
        })
        .collect();
    let mut map = OutputMap::with_capacity(job_outputs.len() + 64);
    let mut job_of: HashMap<&str, usize> = HashMap::with_capacity(plan.len());
    for (i, (rel, f)) in job_outputs.iter().enumerate() {
        map.insert(rel.clone(), Producer::Job(*f));
        job_of.insert(rel, i);
    }
    let mut texts: HashMap<String, String> = HashMap::new();
    let chunks = plan
        .iter()
        .filter(|j| matches!(j, jobs::RenderJob::Sitemap { .. }))
        .count();
    let generated = jobs::sitemap_index(&data, chunks)
        .map(|index| ("sitemap.xml", index))
        .into_iter()
        .chain(super::redirect_files(&library, config));
    for (rel, text) in generated {
        map.insert(rel.to_owned(), Producer::Text(fp(&text)));
        texts.insert(rel.to_owned(), text);
    }
    let mut statics: HashMap<String, StaticSource> = HashMap::new();
    match base {
        Some(b) => {
            for (rel, p) in b.outputs.iter() {
                if *p == Producer::Static {
                    map.insert(rel.clone(), Producer::Static);
                }
            }
        }
        None => {
            let files = outputs::static_files(root, &config.theme)
                .map_err(|e| one(Diagnostic::file("static", format!("cannot read: {e}"))))?;
            for (rel, source) in files {
                map.insert(rel.clone(), Producer::Static);
                statics.insert(rel, source);
            }
        }
    }
    for p in &library.pages {
        for asset in &p.assets {
            let name = asset
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = outputs::key(&format!("{}{name}", p.doc.path));
            map.insert(rel, Producer::Copy(asset.clone()));
        }
    }
    for e in page_entries.iter().chain(&section_entries) {
        for (url, cached) in &e.images {
            map.insert(outputs::key(url), Producer::Copy(cached.clone()));
        }
    }

    // What changed since the base.
    let old = base.map(|b| &*b.outputs);
    let changed: Vec<&String> = map
        .iter()
        .filter(|(rel, p)| old.and_then(|o| o.get(*rel)) != Some(p))
        .map(|(rel, _)| rel)
        .collect();
    let deleted: Vec<&String> = old
        .map(|o| o.keys().filter(|rel| !map.contains_key(*rel)).collect())
        .unwrap_or_default();
    let to_render: Vec<usize> = changed
        .iter()
        .filter(|rel| matches!(map[**rel], Producer::Job(_)))
        .map(|rel| job_of[rel.as_str()])
        .collect();
    let sitemap = if to_render
        .iter()
        .any(|&i| matches!(plan[i], jobs::RenderJob::Sitemap { .. }))
    {
        sitemap.get_or_insert_with(sitemap_entries).as_slice()
    } else {
        &[]
    };
    let results: Vec<Result<(String, String), Diagnostic>> = to_render
        .par_iter()
        .map(|&i| {
            let (path, html) =
                jobs::render(&plan[i], &data, &loaded.tera, &loaded.sources, sitemap)?;
            Ok((
                job_outputs[i].0.clone(),
                super::post_process(config, &path, html),
            ))
        })
        .collect();
    let mut rendered: HashMap<String, String> = HashMap::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok((rel, html)) => {
                rendered.insert(rel, html);
            }
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors).sorted());
    }

    // Everything rendered: write.
    let bytes_of = |rel: &str| -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
        if let Some(html) = rendered.get(rel) {
            return Ok(html.as_bytes().into());
        }
        if let Some(text) = texts.get(rel) {
            return Ok(text.as_bytes().into());
        }
        match (&map[rel], statics.get(rel)) {
            (Producer::Copy(source), _) | (Producer::Static, Some(StaticSource::File(source))) => {
                Ok(std::fs::read(source)?.into())
            }
            (Producer::Static, Some(StaticSource::Embedded(b))) => Ok((*b).into()),
            _ => Err(std::io::Error::other("nothing produces this file")),
        }
    };
    let target = opts.output_dir();
    let write_error = |rel: &str, e: std::io::Error| {
        one(Diagnostic::file(rel, format!("cannot write output: {e}")))
    };
    let manifest = experiments.manifest();
    if base.is_none() {
        let out = super::output::Output::new(&target).map_err(|e| write_error("output", e))?;
        changed.par_iter().try_for_each(|rel| {
            let bytes = bytes_of(rel).map_err(|e| write_error(rel, e))?;
            out.write(rel, &bytes).map_err(|e| write_error(rel, e))
        })?;
        let manifest_path = opts.manifest_path();
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
        let staged = super::output::stage_file(&manifest_path, &json)
            .map_err(|e| write_error("manifest", e))?;
        out.commit().map_err(|e| write_error("output", e))?;
        staged
            .persist(&manifest_path)
            .map_err(|e| write_error("manifest", e.error))?;
    } else {
        changed.par_iter().try_for_each(|rel| {
            let bytes = bytes_of(rel).map_err(|e| write_error(rel, e))?;
            outputs::write_atomic(&target, rel, &bytes).map_err(|e| write_error(rel, e))
        })?;
        for rel in &deleted {
            outputs::remove(&target, rel).map_err(|e| write_error(rel, e))?;
        }
    }
    let report = StepReport {
        full: base.is_none(),
        markdown: rendered_md.into_inner(),
        written: changed.len(),
        deleted: deleted.len(),
        pages: library.pages.len(),
        duration: started.elapsed(),
    };
    let changed_len = changed.len();
    let _ = changed_len;
    let (pages, sections) = (library.pages.len(), library.sections.len());
    let mut docs: HashMap<PathBuf, Arc<DocEntry>> = HashMap::with_capacity(pages + sections);
    for (doc, e) in library
        .pages
        .iter()
        .map(|p| &p.doc)
        .chain(library.sections.iter().map(|s| &s.doc))
        .zip(page_entries.iter().chain(&section_entries))
    {
        docs.insert(doc.file.clone(), e.clone());
    }
    drop(data);
    drop(file_fps);
    let snapshot = Snapshot {
        library,
        experiments,
        sitemap_fp,
        root: std::fs::canonicalize(root).unwrap_or_else(|_| root.clone()),
        opts: opts.clone(),
        loaded,
        experiments_fp,
        files: Arc::new(files),
        others: Arc::new(others),
        docs: Arc::new(docs),
        outputs: Arc::new(map),
        manifest,
        pages,
        sections,
    };
    Ok(Outcome::Done(Box::new((snapshot, report))))
}
