//! Search and social metadata for each rendered page: the values behind `<title>`, meta
//! description, canonical, OpenGraph/Twitter tags and JSON-LD.
//!
//! Computed in Rust rather than in templates so every page gets correct, escaped values with
//! nothing to configure; the theme's `partials/head.html` and `partials/jsonld.html` only
//! print them and can be overridden by name.

pub mod images;

use crate::config::Config;
use serde::Serialize;
use serde_json::{json, Value};

/// A breadcrumb step.
#[derive(Clone, Debug, Serialize)]
pub struct Crumb {
    /// Link text.
    pub name: String,
    /// Absolute URL.
    pub url: String,
}

/// What kind of page is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The home page.
    Home,
    /// A dated page (blog post).
    Article,
    /// Any other page, list or taxonomy page.
    Page,
}

/// Inputs for one page's metadata.
#[derive(Clone, Debug)]
pub struct PageInfo<'a> {
    /// Kind of page.
    pub kind: Kind,
    /// The page's own title (without the site name); `None` for untitled pages.
    pub title: Option<&'a str>,
    /// Description (already derived from the summary where missing).
    pub description: Option<&'a str>,
    /// Absolute canonical URL.
    pub url: &'a str,
    /// Absolute image URL.
    pub image: Option<&'a str>,
    /// RFC 3339 publication date.
    pub published: Option<&'a str>,
    /// RFC 3339 modification date.
    pub modified: Option<&'a str>,
    /// Tags.
    pub tags: &'a [String],
    /// Author override (front matter `extra.author`).
    pub author: Option<&'a str>,
    /// Keep out of search engines.
    pub noindex: bool,
    /// Ancestors, root first (without the page itself).
    pub breadcrumbs: Vec<Crumb>,
}

/// Values for `partials/head.html`.
#[derive(Clone, Debug, Serialize)]
pub struct HeadMeta {
    /// `<title>`: page title — site title (home: site title alone unless the page has one).
    pub title: String,
    /// og:title / twitter:title: the page title alone.
    pub og_title: String,
    /// Meta description.
    pub description: String,
    /// Canonical URL.
    pub canonical: String,
    /// `website` or `article`.
    pub og_type: &'static str,
    /// Absolute image URL, if any.
    pub image: Option<String>,
    /// `summary_large_image` with an image, else `summary`.
    pub twitter_card: &'static str,
    /// Publication date for article:published_time.
    pub published: Option<String>,
    /// Modification date for article:modified_time.
    pub modified: Option<String>,
    /// Tags for article:tag.
    pub tags: Vec<String>,
    /// Emit `<meta name="robots" content="noindex">`.
    pub noindex: bool,
    /// JSON-LD graph for `partials/jsonld.html`.
    pub jsonld: Value,
}

/// Builds the head metadata of a page.
pub fn head_meta(config: &Config, info: &PageInfo<'_>) -> HeadMeta {
    let page_title = info.title.filter(|t| !t.trim().is_empty());
    let title = match (info.kind, page_title) {
        (Kind::Home, Some(t)) if t != config.title => format!("{t} — {}", config.title),
        (Kind::Home, _) | (_, None) => config.title.clone(),
        (_, Some(t)) => format!("{t} — {}", config.title),
    };
    let description = info
        .description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(&config.description)
        .to_owned();
    let image = info.image.map(str::to_owned);
    HeadMeta {
        og_title: page_title.unwrap_or(&config.title).to_owned(),
        title,
        canonical: info.url.to_owned(),
        og_type: if info.kind == Kind::Article {
            "article"
        } else {
            "website"
        },
        twitter_card: if image.is_some() {
            "summary_large_image"
        } else {
            "summary"
        },
        image,
        published: info.published.map(str::to_owned),
        modified: info.modified.or(info.published).map(str::to_owned),
        tags: info.tags.to_vec(),
        noindex: info.noindex,
        jsonld: jsonld(config, info, &description),
        description,
    }
}

fn organization(config: &Config) -> Value {
    let name = if config.author.is_empty() {
        &config.title
    } else {
        &config.author
    };
    json!({
        "@type": "Organization",
        "@id": format!("{}/#organization", config.base_url),
        "name": name,
        "url": format!("{}/", config.base_url),
        "logo": {"@type": "ImageObject", "url": config.permalink("/apple-touch-icon.png")},
    })
}

fn breadcrumbs(info: &PageInfo<'_>, name: &str) -> Option<Value> {
    if info.breadcrumbs.is_empty() {
        return None;
    }
    let mut items: Vec<Value> = info
        .breadcrumbs
        .iter()
        .enumerate()
        .map(
            |(i, c)| json!({"@type": "ListItem", "position": i + 1, "name": c.name, "item": c.url}),
        )
        .collect();
    items.push(
        json!({"@type": "ListItem", "position": items.len() + 1, "name": name, "item": info.url}),
    );
    Some(json!({"@type": "BreadcrumbList", "itemListElement": items}))
}

/// The JSON-LD graph: WebSite + Organization on the home page, BlogPosting on posts,
/// WebPage elsewhere, plus a BreadcrumbList below a section.
pub fn jsonld(config: &Config, info: &PageInfo<'_>, description: &str) -> Value {
    let name = info
        .title
        .filter(|t| !t.is_empty())
        .unwrap_or(&config.title);
    let mut graph = Vec::new();
    match info.kind {
        Kind::Home => {
            graph.push(json!({
                "@type": "WebSite",
                "@id": format!("{}/#website", config.base_url),
                "url": format!("{}/", config.base_url),
                "name": config.title,
                "description": description,
                "inLanguage": config.language,
                "publisher": {"@id": format!("{}/#organization", config.base_url)},
            }));
            graph.push(organization(config));
        }
        Kind::Article => {
            let author = info.author.unwrap_or(if config.author.is_empty() { &config.title } else { &config.author });
            let image = info.image.map_or_else(|| config.permalink("/apple-touch-icon.png"), str::to_owned);
            graph.push(json!({
                "@type": "BlogPosting",
                "headline": name,
                "description": description,
                "datePublished": info.published,
                "dateModified": info.modified.or(info.published),
                "author": {"@type": "Person", "name": author},
                "publisher": organization(config),
                "image": image,
                "mainEntityOfPage": {"@type": "WebPage", "@id": info.url},
                "url": info.url,
                "inLanguage": config.language,
                "keywords": info.tags,
            }));
        }
        Kind::Page => graph.push(json!({
            "@type": "WebPage",
            "url": info.url,
            "name": name,
            "description": description,
            "inLanguage": config.language,
            "isPartOf": {"@type": "WebSite", "url": format!("{}/", config.base_url), "name": config.title},
        })),
    }
    if let Some(b) = breadcrumbs(info, name) {
        graph.push(b);
    }
    json!({"@context": "https://schema.org", "@graph": graph})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            "base_url = \"https://x.test\"\ntitle = \"Site\"\ndescription = \"Default\"\n",
        )
        .unwrap()
    }

    fn info(kind: Kind) -> PageInfo<'static> {
        PageInfo {
            kind,
            title: Some("Post"),
            description: None,
            url: "https://x.test/blog/post/",
            image: None,
            published: Some("2024-01-01T00:00:00+00:00"),
            modified: None,
            tags: &[],
            author: None,
            noindex: false,
            breadcrumbs: vec![Crumb {
                name: "Blog".into(),
                url: "https://x.test/blog/".into(),
            }],
        }
    }

    #[test]
    fn article_has_blogposting_and_breadcrumbs() {
        let m = head_meta(&config(), &info(Kind::Article));
        assert_eq!(m.title, "Post — Site");
        assert_eq!(m.description, "Default");
        assert_eq!(m.og_type, "article");
        let graph = m.jsonld["@graph"].as_array().unwrap();
        assert_eq!(graph[0]["@type"], "BlogPosting");
        assert_eq!(graph[0]["dateModified"], "2024-01-01T00:00:00+00:00");
        assert_eq!(graph[1]["itemListElement"][1]["position"], 2);
    }

    #[test]
    fn home_has_website_and_organization() {
        let mut i = info(Kind::Home);
        i.title = Some("Site");
        i.breadcrumbs.clear();
        let m = head_meta(&config(), &i);
        assert_eq!(m.title, "Site");
        let types: Vec<&str> = m.jsonld["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["@type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["WebSite", "Organization"]);
    }
}
