//! One step: from parsed files (or a reused library) to rendered, written outputs.

use super::super::context::{self, SiteData};
use super::super::experiments::SiteExperiments;
use super::super::markdown_pass::render_document;
use super::super::{jobs, BuildOptions, ShortcodeRegistry};
use super::{
    deps, experiments_fp, one, outputs, DocEntry, FileEntry, Loaded, Outcome, Reuse, Snapshot,
    StepReport,
};
use crate::content::{self, Library, Parsed};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::markdown::Rendered;
use deps::{fp, DocFps, JobInputs};
use outputs::{OutputMap, Producer, StaticSource};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tera::Value;

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

pub(super) fn step(
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
            let load = crate::site::load_options(opts, config);
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
        .chain(crate::site::redirect_files(&library, config));
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
                crate::site::post_process(config, &path, html),
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
        let out =
            crate::site::output::Output::new(&target).map_err(|e| write_error("output", e))?;
        changed.par_iter().try_for_each(|rel| {
            let bytes = bytes_of(rel).map_err(|e| write_error(rel, e))?;
            out.write(rel, &bytes).map_err(|e| write_error(rel, e))
        })?;
        let manifest_path = opts.manifest_path();
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
        let staged = crate::site::output::stage_file(&manifest_path, &json)
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
