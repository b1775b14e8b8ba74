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
mod step;

use step::step;

use super::experiments::SiteExperiments;
use super::markdown_pass::Lookups;
use super::templates::TemplateSources;
use super::{BuildOptions, FormsCell};
use crate::config::Config;
use crate::content::{self, Library, Parsed};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::markdown::Rendered;
use deps::fp;
use outputs::OutputMap;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
