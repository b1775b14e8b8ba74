//! `splitmark import`: a Hugo or Zola site -> a new splitmark site, with a report of what
//! could not be carried.
//!
//! The source is only read. The new site gets a `splitmark.toml` converted from the other
//! tool's settings, a copy of `content/` and `static/` (page bundles and co-located assets
//! included, front matter unchanged: the loader reads both tools' keys), and `IMPORT.md`, the
//! report: templates, shortcodes without a template (file:line of every use), settings and
//! front-matter keys that have no splitmark meaning, and files that would not be published.

mod draft;
mod hugo;
mod leftovers;
mod report;
mod scan;
mod source;
mod zola;

pub use report::{ImportReport, SiteKind, Use};
pub use scan::{shortcode_uses, KNOWN_SHORTCODES};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The report's file name in the new site.
pub const REPORT_FILE: &str = "IMPORT.md";

/// What to import, and where to.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The Hugo or Zola site's root.
    pub source: PathBuf,
    /// The new site's folder (missing or empty); default [`default_target`].
    pub into: Option<PathBuf>,
}

/// `DIR-splitmark` beside `DIR`.
pub fn default_target(source: &Path) -> PathBuf {
    let abs = std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf());
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".into());
    abs.with_file_name(format!("{name}-splitmark"))
}

/// A detected site: its tool, its merged settings, and the files they came from.
struct Detected {
    kind: SiteKind,
    settings: Map<String, Value>,
    files: Vec<PathBuf>,
}

fn detect(dir: &Path) -> Result<Detected> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let mut files = Vec::new();
    let mut settings = Map::new();
    let default_dir = dir.join("config").join("_default");
    if default_dir.is_dir() {
        let (m, f) = source::read_hugo_dir(&default_dir)?;
        settings = m;
        files = f;
    }
    if let Some(p) = source::find(dir, &["hugo"]) {
        return hugo_at(p, settings, files);
    }
    let toml_config = dir.join("config.toml");
    if toml_config.is_file() {
        let value = source::read(&toml_config)?;
        let map = value.as_object().cloned().unwrap_or_default();
        // Zola's keys are snake_case and it has no baseURL; Hugo reads keys case-insensitively
        // and knows no base_url.
        if map.contains_key("base_url") {
            return Ok(Detected {
                kind: SiteKind::Zola,
                settings: map,
                files: vec![toml_config],
            });
        }
        return hugo_at(toml_config, settings, files);
    }
    if let Some(p) = source::find(dir, &["config"]) {
        return hugo_at(p, settings, files);
    }
    if !files.is_empty() {
        return Ok(Detected {
            kind: SiteKind::Hugo,
            settings,
            files,
        });
    }
    bail!(
        "{} has no Hugo (hugo.toml, config.toml/yaml/json, config/_default/) or Zola \
         (config.toml) configuration",
        dir.display()
    )
}

fn hugo_at(
    path: PathBuf,
    mut settings: Map<String, Value>,
    mut files: Vec<PathBuf>,
) -> Result<Detected> {
    if let Value::Object(m) = source::read(&path)? {
        source::merge(&mut settings, m);
    }
    files.push(path);
    Ok(Detected {
        kind: SiteKind::Hugo,
        settings,
        files,
    })
}

fn ensure_empty_target(target: &Path) -> Result<()> {
    if target.exists() {
        let mut entries = std::fs::read_dir(target)
            .with_context(|| format!("cannot read {}", target.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty; import writes a new site into a missing or empty folder",
                target.display()
            );
        }
    }
    std::fs::create_dir_all(target).with_context(|| format!("cannot create {}", target.display()))
}

/// Copies `from` into `to` recursively; returns the number of files.
fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
    let mut n = 0;
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)
                .with_context(|| format!("cannot create {}", dest.display()))?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Imports the site at `opts.source`; see the module documentation.
pub fn import(opts: &ImportOptions) -> Result<ImportReport> {
    let src = &opts.source;
    let detected = detect(src)?;
    let target = opts.into.clone().unwrap_or_else(|| default_target(src));
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if abs(&target).starts_with(abs(src)) {
        bail!(
            "{} is inside the site being imported; choose a folder outside it",
            target.display()
        );
    }
    ensure_empty_target(&target)?;
    let mut settings = Vec::new();
    let mut carried = Vec::new();
    let config_names: Vec<String> = detected
        .files
        .iter()
        .map(|f| f.strip_prefix(src).unwrap_or(f).display().to_string())
        .collect();
    carried.push(format!("splitmark.toml from {}", config_names.join(", ")));
    let mut known: BTreeSet<String> = KNOWN_SHORTCODES.iter().map(|s| (*s).to_owned()).collect();
    for dir in ["content", "static"] {
        if src.join(dir).is_dir() {
            let n = copy_tree(&src.join(dir), &target.join(dir))?;
            carried.push(format!("{dir}/ ({n} files)"));
        }
    }
    let (templates, mut files) =
        leftovers::collect(src, &target, detected.kind, &mut known, &mut carried)?;
    let scanned = scan::scan(&target, detected.kind, &known)
        .with_context(|| format!("cannot scan {}", target.join("content").display()))?;
    carried.push(format!(
        "{} Markdown pages, front matter unchanged",
        scanned.pages
    ));
    if scanned.more_rewritten > 0 {
        carried.push(format!(
            "<!--more--> rewritten to <!-- more --> in {} files",
            scanned.more_rewritten
        ));
    }
    files.extend(scanned.files);
    let mut front_matter = scanned.front_matter;
    let draft = match detected.kind {
        SiteKind::Hugo => {
            // Page URLs as splitmark makes them, for menu entries declared in front matter.
            let (library, _) = crate::content::Library::load(&crate::content::LoadOptions {
                root: target.clone(),
                drafts: false,
                taxonomies: hugo::taxonomies(&detected.settings, &mut Vec::new()),
            });
            let page_menus = hugo::page_menus(&library, &mut front_matter);
            hugo::convert(&detected.settings, &page_menus, &mut settings)
        }
        SiteKind::Zola => zola::convert(&detected.settings, &mut settings),
    };
    let text = draft.to_toml(&format!("{} ({})", detected.kind, src.display()));
    // What import writes must load: a failure here is a defect of the conversion.
    crate::config::Config::parse(&text)
        .map_err(|d| anyhow::anyhow!("the converted splitmark.toml is invalid: {d}"))?;
    std::fs::write(target.join(crate::config::CONFIG_FILE), text)
        .with_context(|| format!("cannot write {}", target.display()))?;
    let report = ImportReport {
        kind: detected.kind,
        target: target.clone(),
        carried,
        settings,
        templates,
        shortcodes: scanned.shortcodes,
        front_matter,
        files,
    };
    std::fs::write(
        target.join(REPORT_FILE),
        format!("# Import report\n\n```text\n{report}```\n"),
    )
    .with_context(|| format!("cannot write {}", target.join(REPORT_FILE).display()))?;
    Ok(report)
}
