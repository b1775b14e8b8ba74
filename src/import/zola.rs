//! Zola settings -> [`Draft`]: base URL, title, description, language, author, taxonomies,
//! `minify_html`, `[extra]`, and a menu from `[extra]` when it has the common shape.

use super::draft::{Draft, DraftMenu, PLACEHOLDER_BASE_URL};
use super::source::{as_text, json_to_toml, leaf_keys};
use serde_json::{Map, Value};

/// Root keys carried (or matching splitmark's fixed behaviour when at their default).
const CARRIED: &[&str] = &[
    "base_url",
    "title",
    "description",
    "default_language",
    "author",
    "taxonomies",
    "minify_html",
    "extra",
];

/// Keys of `[extra]` that themes commonly use for the navigation menu.
const MENU_KEYS: &[&str] = &["menu", "main_menu", "menu_items", "navbar_items", "nav"];

/// Converts a Zola `config.toml`; unsupported settings land in `settings`.
pub fn convert(cfg: &Map<String, Value>, settings: &mut Vec<(String, String)>) -> Draft {
    let mut d = Draft::default();
    let text = |k: &str| cfg.get(k).and_then(as_text).unwrap_or_default();
    let written = text("base_url");
    d.base_url = written.trim_end_matches('/').to_owned();
    if !(d.base_url.starts_with("http://") || d.base_url.starts_with("https://")) {
        settings.push((
            "base_url".into(),
            format!(
                "{written:?} is not an absolute URL; {PLACEHOLDER_BASE_URL} was written instead"
            ),
        ));
        d.base_url = PLACEHOLDER_BASE_URL.into();
    }
    d.title = text("title");
    d.description = text("description");
    d.language = text("default_language");
    d.author = text("author");
    d.minify = cfg
        .get("minify_html")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    d.taxonomies = taxonomies(cfg, settings);
    if let Some(extra) = cfg.get("extra") {
        let mut dropped = Vec::new();
        if let Some(toml::Value::Table(t)) = json_to_toml(extra, "extra", &mut dropped) {
            d.extra = t;
        }
        for k in dropped {
            settings.push((k, "null value; TOML has none, so it was left out".into()));
        }
        if let Some(m) = extra.as_object() {
            d.menu = menu_from_extra(m, &d.base_url);
        }
    }
    for (k, v) in cfg {
        if CARRIED.contains(&k.as_str()) || matches_fixed_behaviour(k, v) {
            continue;
        }
        for leaf in leaf_keys(k, v) {
            settings.push((leaf, why_not(k).into()));
        }
    }
    d
}

/// Settings whose value is what splitmark always does anyway.
fn matches_fixed_behaviour(key: &str, v: &Value) -> bool {
    match key {
        // splitmark always writes /atom.xml.
        "generate_feeds" | "generate_feed" => v.as_bool() == Some(true),
        "feed_filenames" => v == &serde_json::json!(["atom.xml"]),
        "feed_filename" => v.as_str() == Some("atom.xml"),
        "compile_sass" | "build_search_index" => v.as_bool() == Some(false),
        "generate_sitemap" | "generate_robots_txt" => v.as_bool() == Some(true),
        _ => false,
    }
}

fn why_not(key: &str) -> &'static str {
    match key {
        "compile_sass" => "Sass is not compiled: compile sass/ to CSS and put it in static/",
        "build_search_index" => "no search index is built",
        "generate_feeds" | "generate_feed" | "feed_filenames" | "feed_filename" => {
            "splitmark always writes an Atom feed at /atom.xml"
        }
        "markdown" => "Markdown options are not carried; splitmark's rendering is fixed",
        "languages" | "translations" => "multilingual sites are not supported",
        "theme" => "themes are Zola templates and are not carried; the default theme is used",
        _ => "no splitmark equivalent",
    }
}

/// `taxonomies = [{name = "tags"}, {name = "authors", paginate_by = 5}]`.
fn taxonomies(cfg: &Map<String, Value>, settings: &mut Vec<(String, String)>) -> Vec<String> {
    let Some(Value::Array(list)) = cfg.get("taxonomies") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in list.iter().filter_map(Value::as_object) {
        let Some(name) = t.get("name").and_then(as_text) else {
            continue;
        };
        for (k, v) in t {
            let fine = match k.as_str() {
                "name" => true,
                "feed" => v.as_bool() == Some(false),
                "render" => v.as_bool() == Some(true),
                _ => false,
            };
            if !fine {
                settings.push((
                    format!("taxonomies {name:?} {k}"),
                    "per-taxonomy options are not carried (lists use paginate_by)".into(),
                ));
            }
        }
        if name == "tags" || name == "categories" {
            continue;
        }
        if slug::slugify(&name) != name {
            settings.push((
                format!("taxonomies {name:?}"),
                "not a URL slug; taxonomy names must be lowercase slugs".into(),
            ));
            continue;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// A menu list in `[extra]`: tables with a name (or title) and a url (or path), optionally
/// with `children`/`submenu` lists of the same shape.
fn menu_from_extra(extra: &Map<String, Value>, base_url: &str) -> Vec<DraftMenu> {
    let Some(list) = MENU_KEYS
        .iter()
        .find_map(|k| extra.get(*k).and_then(Value::as_array))
    else {
        return Vec::new();
    };
    items(list, base_url, 0)
}

fn items(list: &[Value], base_url: &str, depth: usize) -> Vec<DraftMenu> {
    list.iter()
        .filter_map(Value::as_object)
        .filter_map(|m| {
            let name = m.get("name").or_else(|| m.get("title")).and_then(as_text)?;
            let url = m.get("url").or_else(|| m.get("path")).and_then(as_text)?;
            let children = match ["children", "submenu", "sub"]
                .iter()
                .find_map(|k| m.get(*k).and_then(Value::as_array))
            {
                Some(c) if depth == 0 => items(c, base_url, 1),
                _ => Vec::new(),
            };
            Some(DraftMenu {
                name,
                url: site_path(&url, base_url),
                children,
            })
        })
        .collect()
}

/// `$BASE_URL/blog` or `https://site/blog` -> `/blog`; other URLs stay as written.
fn site_path(url: &str, base_url: &str) -> String {
    let rest = url
        .strip_prefix("$BASE_URL")
        .or_else(|| url.strip_prefix(base_url));
    match rest {
        Some("") => "/".into(),
        Some(r) if r.starts_with('/') => r.to_owned(),
        Some(r) => format!("/{r}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_menu_urls_become_site_paths() {
        assert_eq!(site_path("$BASE_URL/blog/", "https://x.test"), "/blog/");
        assert_eq!(site_path("https://x.test", "https://x.test"), "/");
        assert_eq!(
            site_path("https://other.test/", "https://x.test"),
            "https://other.test/"
        );
    }
}
