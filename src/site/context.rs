//! Template context values: built once per build, shared by every render job.
//!
//! Tera 2 values are reference-counted, so a page summary built here is cloned into every list
//! page that shows it without copying its text. List pages get summaries only, never whole
//! pages (the cause of Zola 0.22's slowdown on large tag lists).

use crate::config::Config;
use crate::content::{Document, Library, Page};
use crate::markdown::{Rendered, TocEntry};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use tera::Value;

/// Longest meta description we generate from a summary.
pub const DESCRIPTION_MAX: usize = 155;

/// Everything the render jobs read: the library, its rendered Markdown, and values built once.
pub struct SiteData<'a> {
    /// Forms and experiments.
    pub experiments: &'a super::experiments::SiteExperiments,
    /// Configuration.
    pub config: &'a Config,
    /// Pages, sections, taxonomies.
    pub library: &'a Library,
    /// Rendered Markdown of each page (same index as `library.pages`).
    pub pages_md: Vec<std::sync::Arc<Rendered>>,
    /// Rendered Markdown of each section.
    pub sections_md: Vec<std::sync::Arc<Rendered>>,
    /// `config` as a template value (serialized once).
    pub config_value: Value,
    /// Summary value of each page, for lists.
    pub summaries: Vec<Value>,
}

#[derive(Serialize)]
struct Summary<'a> {
    title: &'a str,
    description: String,
    permalink: String,
    path: &'a str,
    date: Option<String>,
    updated: Option<String>,
    summary: Option<&'a str>,
    tags: &'a [String],
    categories: &'a [String],
    /// Terms of the declared taxonomies, by taxonomy name.
    taxonomies: &'a std::collections::BTreeMap<String, Vec<String>>,
    reading_time: usize,
    word_count: usize,
    image: Option<String>,
    weight: Option<i64>,
    draft: bool,
    extra: &'a Map<String, Json>,
}

#[derive(Serialize)]
struct Crumb {
    title: String,
    path: String,
    permalink: String,
}

#[derive(Serialize)]
struct Full<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    slug: &'a str,
    content: &'a str,
    toc: &'a [TocEntry],
    noindex: bool,
    aliases: &'a [String],
    section_path: &'a str,
    template: Option<&'a str>,
    experiment: Option<&'a Json>,
    lang: &'a str,
    ancestors: Vec<Crumb>,
    page_count: usize,
    /// Inline `<style>` + `<script>` for a running experiment.
    experiment_head: Option<String>,
    /// Id of the running experiment.
    experiment_id: Option<&'a str>,
    /// Variants of a running experiment with their overrides applied.
    variants: Vec<VariantValue>,
}

#[derive(Serialize)]
struct VariantValue {
    id: String,
    title: String,
    description: String,
    extra: Map<String, Json>,
}

fn rfc3339(d: Option<DateTime<FixedOffset>>) -> Option<String> {
    d.map(|d| d.to_rfc3339())
}

/// Text of an HTML fragment, whitespace collapsed.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = html_escape::decode_html_entities(&out).into_owned();
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` at a word boundary so it fits `max` characters, adding an ellipsis.
pub fn cut_description(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        if out.chars().count() + word.chars().count() + 1 > max - 1 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = text.chars().take(max - 1).collect();
    }
    let trimmed = out
        .trim_end_matches([',', ';', ':', '.', '-', ' '])
        .to_owned();
    trimmed + "…"
}

/// Front-matter description, else the summary (or first words) cut near 155 characters.
pub fn description_of(doc: &Document, md: &Rendered) -> String {
    if let Some(d) = doc
        .meta
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        return d.trim().to_owned();
    }
    let source = md.summary.as_deref().unwrap_or(&md.html);
    cut_description(&plain_text(source), DESCRIPTION_MAX)
}

/// Absolute URL of an image named in front matter (page-relative, site path or URL).
pub fn image_url(config: &Config, page_path: &str, image: Option<&str>) -> Option<String> {
    let image = image.or(config.default_image.as_deref())?;
    if image.starts_with("http://") || image.starts_with("https://") || image.starts_with('/') {
        return Some(config.permalink(image));
    }
    Some(config.permalink(&format!("{page_path}{image}")))
}

fn summary<'a>(config: &Config, doc: &'a Document, md: &'a Rendered) -> Summary<'a> {
    Summary {
        title: doc.title(),
        description: description_of(doc, md),
        permalink: config.permalink(&doc.path),
        path: &doc.path,
        date: rfc3339(doc.meta.date),
        updated: rfc3339(doc.meta.updated.or(doc.meta.date)),
        summary: md.summary.as_deref(),
        tags: &doc.meta.tags,
        categories: &doc.meta.categories,
        taxonomies: &doc.meta.taxonomies,
        reading_time: md.reading_time,
        word_count: md.word_count,
        image: image_url(config, &doc.path, doc.meta.image.as_deref()),
        weight: doc.meta.weight,
        draft: doc.meta.draft,
        extra: &doc.meta.extra,
    }
}

/// The summary value of a page (what list pages see).
pub fn page_summary(config: &Config, page: &Page, md: &Rendered) -> Value {
    Value::from_serializable(&summary(config, &page.doc, md))
}

fn ancestors(data: &SiteData<'_>, mut section: Option<usize>) -> Vec<Crumb> {
    let mut out = Vec::new();
    while let Some(i) = section {
        let s = &data.library.sections[i];
        out.push(Crumb {
            title: s.doc.title().to_owned(),
            path: s.doc.path.clone(),
            permalink: data.config.permalink(&s.doc.path),
        });
        section = s.parent;
    }
    out.reverse();
    out
}

/// The full value of a document (page or section) for its own template.
pub fn document_value(
    data: &SiteData<'_>,
    doc: &Document,
    md: &Rendered,
    section: Option<usize>,
    page_count: usize,
) -> Value {
    let slug = doc
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let section_path = section.map_or("/", |i| data.library.sections[i].doc.path.as_str());
    let live = data
        .experiments
        .by_path
        .get(&doc.path)
        .filter(|e| e.is_live());
    Value::from_serializable(&Full {
        summary: summary(data.config, doc, md),
        slug,
        content: &md.html,
        toc: &md.toc,
        noindex: doc.meta.noindex,
        aliases: &doc.meta.aliases,
        section_path,
        template: doc.meta.template.as_deref(),
        experiment: doc.meta.experiment.as_ref(),
        lang: &data.config.language,
        ancestors: ancestors(data, section),
        page_count,
        experiment_head: data.experiments.head_for(&doc.path),
        experiment_id: live.map(|e| e.id.as_str()),
        variants: live.map(|e| variant_values(doc, md, e)).unwrap_or_default(),
    })
}

fn variant_values(
    doc: &Document,
    md: &Rendered,
    spec: &crate::experiments::ExperimentSpec,
) -> Vec<VariantValue> {
    spec.variants
        .iter()
        .map(|v| {
            let mut extra = doc.meta.extra.clone();
            for (k, val) in &v.extra {
                extra.insert(k.clone(), val.clone());
            }
            VariantValue {
                id: v.id.clone(),
                title: v.title.clone().unwrap_or_else(|| doc.title().to_owned()),
                description: v
                    .description
                    .clone()
                    .unwrap_or_else(|| description_of(doc, md)),
                extra,
            }
        })
        .collect()
}

/// Head metadata (`meta` in templates) of a page or section.
pub fn doc_meta(
    data: &SiteData<'_>,
    doc: &Document,
    md: &Rendered,
    section: Option<usize>,
    url_path: &str,
) -> Value {
    use crate::seo::{head_meta, Crumb as SeoCrumb, Kind, PageInfo};
    let kind = if doc.path == "/" {
        Kind::Home
    } else if doc.meta.date.is_some() && !doc.path.ends_with(".html") {
        Kind::Article
    } else {
        Kind::Page
    };
    let description = description_of(doc, md);
    let image = image_url(data.config, &doc.path, doc.meta.image.as_deref());
    let published = rfc3339(doc.meta.date);
    let modified = rfc3339(doc.meta.updated);
    let url = data.config.permalink(url_path);
    let breadcrumbs = ancestors(data, section)
        .into_iter()
        .map(|c| SeoCrumb {
            name: if c.title.is_empty() {
                "Home".into()
            } else {
                c.title
            },
            url: c.permalink,
        })
        .collect();
    let info = PageInfo {
        kind,
        title: doc.meta.title.as_deref(),
        description: Some(&description),
        url: &url,
        image: image.as_deref(),
        published: published.as_deref(),
        modified: modified.as_deref(),
        tags: &doc.meta.tags,
        author: doc.meta.extra.get("author").and_then(Json::as_str),
        noindex: doc.meta.noindex,
        breadcrumbs,
    };
    Value::from_serializable(&head_meta(data.config, &info))
}

/// Head metadata of a generated page (taxonomy lists) with a title and a description.
pub fn simple_meta(data: &SiteData<'_>, title: &str, description: &str, url_path: &str) -> Value {
    use crate::seo::{head_meta, Crumb as SeoCrumb, Kind, PageInfo};
    let url = data.config.permalink(url_path);
    let home = SeoCrumb {
        name: "Home".into(),
        url: data.config.permalink("/"),
    };
    let image = image_url(data.config, "/", None);
    let info = PageInfo {
        kind: Kind::Page,
        title: Some(title),
        description: Some(description),
        url: &url,
        image: image.as_deref(),
        published: None,
        modified: None,
        tags: &[],
        author: None,
        noindex: false,
        breadcrumbs: vec![home],
    };
    Value::from_serializable(&head_meta(data.config, &info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_cut_cleanly() {
        let long = "word ".repeat(60);
        let d = cut_description(long.trim(), 155);
        assert!(d.chars().count() <= 155, "{}", d.len());
        assert!(d.ends_with("word…"), "{d}");
        assert_eq!(cut_description("short", 155), "short");
    }

    #[test]
    fn plain_text_strips_tags_and_entities() {
        assert_eq!(plain_text("<p>A &amp; <b>B</b></p>\n<p>C</p>"), "A & B C");
    }
}
