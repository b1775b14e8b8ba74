//! Loading `content/` into a read-only [`Library`].

use super::front_matter;
use super::{Document, Page, Section};
use crate::diagnostics::{relative, Diagnostic};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Site root (the folder with `splitmark.toml`).
    pub root: PathBuf,
    /// Include pages marked `draft = true`.
    pub drafts: bool,
    /// Taxonomies declared besides `tags` and `categories` (`Config::taxonomies`).
    pub taxonomies: Vec<String>,
}

/// One taxonomy (`tags`, `categories` or a declared one) and its terms, sorted by name.
#[derive(Clone, Debug)]
pub struct Taxonomy {
    /// `tags`, `categories` or a name from `Config::taxonomies`.
    pub name: String,
    /// Terms sorted by slug.
    pub terms: Vec<Term>,
}

/// One term of a taxonomy.
#[derive(Clone, Debug)]
pub struct Term {
    /// The term as first written.
    pub name: String,
    /// URL slug.
    pub slug: String,
    /// Site path, e.g. `/tags/rust/`.
    pub path: String,
    /// Pages with this term, newest first.
    pub pages: Vec<usize>,
}

/// Every page, section and taxonomy of a site.
#[derive(Clone, Debug, Default)]
pub struct Library {
    /// All pages (drafts only with `--drafts`).
    pub pages: Vec<Page>,
    /// All sections; index 0 is the home section.
    pub sections: Vec<Section>,
    /// `tags`, `categories` and the declared ones (only those that are used).
    pub taxonomies: Vec<Taxonomy>,
    by_content_path: HashMap<String, String>,
}

/// One Markdown file read and split into front matter and body, before assembly.
#[derive(Clone, Debug)]
pub struct Parsed {
    rel: PathBuf,
    content_path: String,
    meta: front_matter::FrontMatter,
    body: std::sync::Arc<str>,
    body_line: usize,
}

impl Library {
    /// Loads every Markdown file under `<root>/content`, collecting all errors.
    ///
    /// On errors the partial library is returned too, so later stages (Markdown) can report
    /// their own errors in the same run; files that failed to load still count as link
    /// targets, which avoids a misleading "broken link" on top of the real error.
    pub fn load(opts: &LoadOptions) -> (Library, Vec<Diagnostic>) {
        let content = opts.root.join("content");
        let (markdown, others) = match walk(&content) {
            Ok(x) => x,
            Err(e) => return (Library::default(), vec![e]),
        };
        let results: Vec<(PathBuf, Result<Parsed, Diagnostic>)> = markdown
            .into_par_iter()
            .map(|path| {
                let r = parse_file(&opts.root, &content, &path);
                (path, r)
            })
            .collect();
        Library::from_parsed(opts, results, &others)
    }

    /// Assembles a library from files already parsed (in [`walk_content`] order) and the
    /// other files under `content/`; what [`Library::load`] does after reading.
    pub fn from_parsed(
        opts: &LoadOptions,
        results: Vec<(PathBuf, Result<Parsed, Diagnostic>)>,
        others: &[PathBuf],
    ) -> (Library, Vec<Diagnostic>) {
        let content = opts.root.join("content");
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        let mut failed = Vec::new();
        for (path, r) in results {
            match r {
                Ok(p) if p.meta.draft && !opts.drafts => {}
                Ok(mut p) => match claim_taxonomies(&mut p.meta, &opts.taxonomies) {
                    Ok(()) => parsed.push(p),
                    Err(msg) => errors.push(Diagnostic::file(&p.rel, msg)),
                },
                Err(e) => {
                    errors.push(e);
                    failed.push(
                        relative(&content, &path)
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let mut lib = assemble(parsed, others, &content, &opts.root, &mut errors);
        lib.taxonomies = build_taxonomies(&lib.pages, &opts.taxonomies);
        for f in failed {
            lib.by_content_path
                .entry(f)
                .or_insert_with(|| "#".to_owned());
        }
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        (lib, errors)
    }

    /// Site path of a content file named as in `@/blog/hello.md`.
    pub fn resolve(&self, content_path: &str) -> Option<&str> {
        self.by_content_path.get(content_path).map(String::as_str)
    }

    /// The home section.
    pub fn home(&self) -> &Section {
        &self.sections[0]
    }
}

/// The Markdown files and the other files under `<root>/content`, in load order.
pub fn walk_content(root: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Diagnostic> {
    walk(&root.join("content"))
}

/// Reads and parses one Markdown file under `<root>/content`.
pub fn parse_content_file(root: &Path, path: &Path) -> Result<Parsed, Diagnostic> {
    parse_file(root, &root.join("content"), path)
}

fn walk(content: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Diagnostic> {
    if !content.is_dir() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut markdown = Vec::new();
    let mut others = Vec::new();
    let entries = walkdir::WalkDir::new(content)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in entries {
        let entry = entry.map_err(|e| Diagnostic::file("content", format!("cannot read: {e}")))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.into_path();
        if path.extension().is_some_and(|e| e == "md") {
            markdown.push(path);
        } else {
            others.push(path);
        }
    }
    Ok((markdown, others))
}

impl Parsed {
    /// The Markdown body.
    pub fn body(&self) -> &std::sync::Arc<str> {
        &self.body
    }

    /// Whether `other` is the same file with the same front matter, so only the body differs
    /// (the library built from either is the same but for that body).
    pub fn same_but_body(&self, other: &Parsed) -> bool {
        self.rel == other.rel
            && self.content_path == other.content_path
            && self.body_line == other.body_line
            && format!("{:?}", self.meta) == format!("{:?}", other.meta)
    }

    fn into_document(self, path: String) -> Document {
        Document {
            file: self.rel,
            content_path: self.content_path,
            path,
            meta: self.meta,
            body: self.body,
            body_line: self.body_line,
        }
    }
}

fn parse_file(root: &Path, content: &Path, path: &Path) -> Result<Parsed, Diagnostic> {
    let rel = relative(root, path);
    let source = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::file(&rel, format!("cannot read: {e}")))?;
    let split = front_matter::split(&rel, &source)?;
    let content_path = relative(content, path).to_string_lossy().replace('\\', "/");
    let is_section = content_path.rsplit('/').next() == Some("_index.md");
    let m = &split.front_matter;
    let section_only = [
        ("paginate_by", m.paginate_by.is_some()),
        ("sort_by", m.sort_by.is_some()),
        ("generate_feeds", m.generate_feeds.is_some()),
    ];
    if let Some((key, _)) = section_only.iter().find(|(_, set)| *set && !is_section) {
        // On a page these would be accepted and do nothing.
        return Err(Diagnostic::file(
            &rel,
            format!("{key} applies to sections only: move it to the folder's _index.md"),
        ));
    }
    Ok(Parsed {
        rel,
        content_path,
        meta: split.front_matter,
        body: split.body.into(),
        body_line: split.body_line,
    })
}

/// Slugified site path of a folder below `content/` (`blog/Big News` -> `/blog/big-news/`).
fn dir_path(dir: &str) -> String {
    let mut out = String::from("/");
    for seg in dir.split('/').filter(|s| !s.is_empty()) {
        out.push_str(&slug::slugify(seg));
        out.push('/');
    }
    out
}

fn parent_dir(content_path: &str) -> &str {
    content_path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn assemble(
    parsed: Vec<Parsed>,
    others: &[PathBuf],
    content: &Path,
    root: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Library {
    let mut lib = Library::default();
    // Sections: `_index.md` files, then implicit ones for folders holding pages.
    let mut section_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let (index_files, page_files): (Vec<Parsed>, Vec<Parsed>) = parsed.into_iter().partition(|p| {
        p.content_path.ends_with("_index.md")
            && p.content_path.rsplit('/').next() == Some("_index.md")
    });
    let mut index_files = index_files;
    index_files.sort_by(|a, b| a.content_path.cmp(&b.content_path));
    let home_idx = index_files
        .iter()
        .position(|p| p.content_path == "_index.md");
    let home = home_idx.map(|i| index_files.remove(i));
    let push_section = |lib: &mut Library,
                        section_dirs: &mut BTreeMap<String, usize>,
                        dir: String,
                        parsed: Option<Parsed>| {
        let path = dir_path(&dir);
        let doc = match parsed {
            Some(p) => p.into_document(path),
            None => Document {
                file: PathBuf::from("content").join(&dir),
                content_path: if dir.is_empty() {
                    "_index.md".into()
                } else {
                    format!("{dir}/_index.md")
                },
                path,
                meta: front_matter::FrontMatter {
                    title: Some(implicit_title(&dir)),
                    ..Default::default()
                },
                body: "".into(),
                body_line: 1,
            },
        };
        section_dirs.insert(dir, lib.sections.len());
        lib.sections.push(Section {
            doc,
            pages: Vec::new(),
            subsections: Vec::new(),
            parent: None,
        });
    };
    push_section(&mut lib, &mut section_dirs, String::new(), home);
    for p in index_files {
        let dir = parent_dir(&p.content_path).to_owned();
        push_section(&mut lib, &mut section_dirs, dir, Some(p));
    }
    // A bundle is `dir/index.md`: the folder is the page, not a section.
    let is_bundle = |p: &Parsed| p.content_path.rsplit('/').next() == Some("index.md");
    for p in &page_files {
        let dir = if is_bundle(p) {
            parent_dir(parent_dir(&p.content_path))
        } else {
            parent_dir(&p.content_path)
        };
        let mut d = dir.to_owned();
        // Implicit sections for every folder level holding pages (Hugo builds these too).
        while !section_dirs.contains_key(&d) {
            push_section(&mut lib, &mut section_dirs, d.clone(), None);
            d = parent_dir(&d).to_owned();
        }
    }
    // Parent links.
    let dirs: Vec<(String, usize)> = section_dirs.iter().map(|(d, i)| (d.clone(), *i)).collect();
    for (dir, idx) in &dirs {
        if dir.is_empty() {
            continue;
        }
        let mut d = parent_dir(dir).to_owned();
        loop {
            if let Some(&p) = section_dirs.get(&d) {
                lib.sections[*idx].parent = Some(p);
                lib.sections[p].subsections.push(*idx);
                break;
            }
            if d.is_empty() {
                break;
            }
            d = parent_dir(&d).to_owned();
        }
    }
    // Pages.
    let mut urls: HashMap<String, PathBuf> = HashMap::new();
    for s in &lib.sections {
        urls.insert(s.doc.path.clone(), s.doc.file.clone());
        lib.by_content_path
            .insert(s.doc.content_path.clone(), s.doc.path.clone());
    }
    for p in page_files {
        let bundle = is_bundle(&p);
        let (dir, stem) = if bundle {
            let d = parent_dir(&p.content_path);
            (
                parent_dir(d).to_owned(),
                d.rsplit('/').next().unwrap_or(d).to_owned(),
            )
        } else {
            let file = p.content_path.rsplit('/').next().unwrap_or(&p.content_path);
            (
                parent_dir(&p.content_path).to_owned(),
                file.trim_end_matches(".md").to_owned(),
            )
        };
        let section = section_dirs[&dir];
        let is_not_found = p.content_path == "404.md";
        let slug = p
            .meta
            .slug
            .clone()
            .map(slug::slugify)
            .unwrap_or_else(|| slug::slugify(&stem));
        let path = if is_not_found {
            "/404.html".to_owned()
        } else {
            format!("{}{}/", lib.sections[section].doc.path, slug)
        };
        if let Some(other) = urls.get(&path) {
            errors.push(Diagnostic::file(
                &p.rel,
                format!("URL {path} is also produced by {}", other.display()),
            ));
            continue;
        }
        urls.insert(path.clone(), p.rel.clone());
        let assets = if bundle {
            let bundle_dir = content.join(parent_dir(&p.content_path));
            others
                .iter()
                .filter(|o| o.parent() == Some(bundle_dir.as_path()))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        lib.by_content_path
            .insert(p.content_path.clone(), path.clone());
        let idx = lib.pages.len();
        lib.pages.push(Page {
            doc: p.into_document(path),
            section,
            assets,
            is_not_found,
        });
        if !is_not_found {
            lib.sections[section].pages.push(idx);
        }
    }
    for alias_owner in &lib.pages {
        for alias in &alias_owner.doc.meta.aliases {
            let a = normalize_alias(alias);
            if let Some(other) = urls.get(&a) {
                errors.push(Diagnostic::file(
                    &alias_owner.doc.file,
                    format!("alias {a} collides with {}", other.display()),
                ));
            }
        }
    }
    let _ = root;
    sort_sections(&mut lib);
    lib
}

/// `old/path` or `/old/path` -> `/old/path/` (a file-like alias such as `/a.html` is kept).
pub fn normalize_alias(alias: &str) -> String {
    let mut a = alias.trim().to_owned();
    if !a.starts_with('/') {
        a.insert(0, '/');
    }
    if !a.ends_with('/') && !a.rsplit('/').next().unwrap_or("").contains('.') {
        a.push('/');
    }
    a
}

fn implicit_title(dir: &str) -> String {
    let last = dir
        .rsplit('/')
        .next()
        .unwrap_or(dir)
        .replace(['-', '_'], " ");
    let mut c = last.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn sort_sections(lib: &mut Library) {
    let pages = &lib.pages;
    for s in &mut lib.sections {
        match s.doc.meta.sort_by.as_deref() {
            Some("weight") => s.pages.sort_by_key(|&i| {
                (
                    pages[i].doc.meta.weight.unwrap_or(i64::MAX),
                    pages[i].doc.path.clone(),
                )
            }),
            Some("title") => s
                .pages
                .sort_by(|&a, &b| pages[a].doc.title().cmp(pages[b].doc.title())),
            _ => s.pages.sort_by(|&a, &b| newest_first(pages, a, b)),
        }
    }
}

fn newest_first(pages: &[Page], a: usize, b: usize) -> std::cmp::Ordering {
    pages[b]
        .doc
        .date()
        .cmp(&pages[a].doc.date())
        .then_with(|| pages[a].doc.path.cmp(&pages[b].doc.path))
}

/// Moves a Hugo-style top-level list of a declared taxonomy (`authors = [...]`) from `extra`
/// into `taxonomies`, and refuses terms of a taxonomy the site does not declare: they would
/// otherwise vanish from the built site without a word.
fn claim_taxonomies(
    meta: &mut front_matter::FrontMatter,
    declared: &[String],
) -> Result<(), String> {
    for name in declared {
        if let Some(serde_json::Value::Array(items)) = meta.extra.get(name) {
            let terms: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            if let Some(terms) = terms {
                meta.extra.remove(name);
                let list = meta.taxonomies.entry(name.clone()).or_default();
                for t in terms {
                    if !list.contains(&t) {
                        list.push(t);
                    }
                }
            }
        }
    }
    if let Some(name) = meta.taxonomies.keys().find(|k| !declared.contains(k)) {
        return Err(format!(
            "taxonomy {name:?} is not declared: add it to `taxonomies` in splitmark.toml"
        ));
    }
    Ok(())
}

fn build_taxonomies(pages: &[Page], declared: &[String]) -> Vec<Taxonomy> {
    let mut out = Vec::new();
    let builtin = ["tags", "categories"].into_iter().map(str::to_owned);
    let names = builtin.chain(
        declared
            .iter()
            .filter(|n| *n != "tags" && *n != "categories")
            .cloned(),
    );
    for name in names {
        let mut terms: BTreeMap<String, Term> = BTreeMap::new();
        for (i, p) in pages.iter().enumerate() {
            let list = match name.as_str() {
                "tags" => &p.doc.meta.tags,
                "categories" => &p.doc.meta.categories,
                other => match p.doc.meta.taxonomies.get(other) {
                    Some(list) => list,
                    None => continue,
                },
            };
            for t in list {
                let slug = slug::slugify(t);
                let term = terms.entry(slug.clone()).or_insert_with(|| Term {
                    name: t.clone(),
                    path: format!("/{name}/{slug}/"),
                    slug,
                    pages: Vec::new(),
                });
                if term.pages.last() != Some(&i) {
                    term.pages.push(i);
                }
            }
        }
        if terms.is_empty() {
            continue;
        }
        let mut terms: Vec<Term> = terms.into_values().collect();
        for t in &mut terms {
            t.pages.sort_by(|&a, &b| newest_first(pages, a, b));
        }
        out.push(Taxonomy { name, terms });
    }
    out
}
