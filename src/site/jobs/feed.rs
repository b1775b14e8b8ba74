//! Contexts of Atom feeds: the site's and each section's.

use super::{base_context, JobContext};
use crate::site::context::{description_of, SiteData};
use serde::Serialize;
use std::path::PathBuf;

/// Entries in a feed.
const FEED_ENTRIES: usize = 20;

#[derive(Serialize)]
struct FeedEntry<'a> {
    title: &'a str,
    permalink: String,
    date: Option<String>,
    updated: Option<String>,
    description: String,
    content: &'a str,
}

/// The pages a feed shows (newest first, dated, indexable), and its base path and title.
pub fn feed_items(data: &SiteData<'_>, section: Option<usize>) -> (Vec<usize>, String, String) {
    let lib = data.library;
    let (items, base, title): (Vec<usize>, String, String) = match section {
        Some(s) => {
            let s = &lib.sections[s];
            (
                s.pages.clone(),
                s.doc.path.clone(),
                format!("{} — {}", s.doc.title(), data.config.title),
            )
        }
        None => {
            let mut all: Vec<usize> = (0..lib.pages.len()).collect();
            all.sort_by(|&a, &b| lib.pages[b].doc.meta.date.cmp(&lib.pages[a].doc.meta.date));
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
    (dated, base, title)
}

/// The site's feed (`None`) or a section's.
pub(super) fn feed_context(data: &SiteData<'_>, section: Option<usize>) -> JobContext {
    let (dated, base, title) = feed_items(data, section);
    let entries: Vec<FeedEntry<'_>> = dated
        .iter()
        .map(|&i| {
            let p = &data.library.pages[i];
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
                description: description_of(&p.doc, md),
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
    let file = PathBuf::from(crate::config::CONFIG_FILE);
    (file, "atom.xml".into(), path, ctx)
}
