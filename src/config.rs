//! `splitmark.toml` -> [`Config`]: loaded once per build, immutable afterwards.
//!
//! The forms, capture and campaign tables are kept as raw TOML here and parsed by the modules
//! that own them, so the site build does not depend on the capture server's settings.

use crate::diagnostics::Diagnostic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The name of the site configuration file in a site root.
pub const CONFIG_FILE: &str = "splitmark.toml";

/// Site configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Absolute URL the site is served from, e.g. `https://example.com` (no trailing slash).
    pub base_url: String,
    /// Site title, shown after page titles and in feeds.
    #[serde(default)]
    pub title: String,
    /// Default meta description.
    #[serde(default)]
    pub description: String,
    /// `<html lang>` value.
    #[serde(default = "default_language")]
    pub language: String,
    /// Author or organisation name (feeds, JSON-LD).
    #[serde(default)]
    pub author: String,
    /// Theme folder under `themes/`; `default` is embedded in the binary.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Items per page in section and tag lists.
    #[serde(default = "default_paginate_by")]
    pub paginate_by: usize,
    /// Minify HTML and CSS output.
    #[serde(default)]
    pub minify: bool,
    /// Image used for social cards when a page has none (a site path or URL).
    #[serde(default)]
    pub default_image: Option<String>,
    /// Theme colour for mobile browser chrome.
    #[serde(default = "default_theme_color")]
    pub theme_color: String,
    /// Navigation menu: `[[menu]] name = "Blog", url = "/blog/"`; an item may hold one level
    /// of `children` (a submenu).
    #[serde(default)]
    pub menu: Vec<MenuItem>,
    /// Taxonomies besides `tags` and `categories` (which are always on), e.g. `["authors"]`.
    /// Pages list their terms as `[taxonomies] authors = [...]` or a top-level `authors`.
    #[serde(default)]
    pub taxonomies: Vec<String>,
    /// Free table for templates.
    #[serde(default)]
    pub extra: toml::Table,
    /// `[forms.<id>]`: parsed by [`crate::forms`].
    #[serde(default, skip_serializing)]
    pub forms: toml::Table,
    /// `[capture]`: parsed by the capture server.
    #[serde(default, skip_serializing)]
    pub capture: toml::Table,
    /// `[campaigns.<utm_campaign>]`: costs for the report.
    #[serde(default, skip_serializing)]
    pub campaigns: toml::Table,
    /// `[report]`: the ad-spend file (see [`crate::report::spend`]).
    #[serde(default, skip_serializing)]
    pub report: crate::report::spend::ReportConfig,
}

/// One navigation link.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    /// Link text.
    pub name: String,
    /// Site path or absolute URL.
    pub url: String,
    /// Submenu items, shown under this one.
    #[serde(default)]
    pub children: Vec<MenuItem>,
}

fn default_language() -> String {
    "en".into()
}
fn default_theme() -> String {
    "default".into()
}
fn default_paginate_by() -> usize {
    10
}
fn default_theme_color() -> String {
    "#1f4fd1".into()
}

impl Config {
    /// Reads and validates `<root>/splitmark.toml`.
    pub fn load(root: &Path) -> Result<Config, Diagnostic> {
        let path: PathBuf = root.join(CONFIG_FILE);
        let source = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::file(CONFIG_FILE, format!("cannot read {}: {e}", path.display()))
        })?;
        Self::parse(&source)
    }

    /// Parses and validates configuration text.
    pub fn parse(source: &str) -> Result<Config, Diagnostic> {
        let mut config: Config = toml::from_str(source).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            Diagnostic::at_offset(CONFIG_FILE, source, offset, e.message().to_owned())
        })?;
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        config.validate(source)?;
        Ok(config)
    }

    fn validate(&self, source: &str) -> Result<(), Diagnostic> {
        let at_key = |key: &str, msg: String| {
            let offset = source.find(&format!("{key} ")).unwrap_or(0);
            Diagnostic::at_offset(CONFIG_FILE, source, offset, msg)
        };
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(at_key(
                "base_url",
                format!(
                    "base_url must be an absolute http(s) URL, got {:?}",
                    self.base_url
                ),
            ));
        }
        for item in &self.menu {
            if let Some(deep) = item.children.iter().find(|c| !c.children.is_empty()) {
                return Err(at_key(
                    "children",
                    format!(
                        "menu item {:?} under {:?} has children: menus nest one level deep",
                        deep.name, item.name
                    ),
                ));
            }
        }
        for (i, name) in self.taxonomies.iter().enumerate() {
            let slug = slug::slugify(name);
            if slug != *name || self.taxonomies[..i].contains(name) {
                return Err(at_key(
                    "taxonomies",
                    format!(
                        "taxonomy {name:?} must be a unique lowercase slug (letters, digits, -)"
                    ),
                ));
            }
        }
        if self.paginate_by == 0 {
            return Err(at_key(
                "paginate_by",
                "paginate_by must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Absolute URL of a site path (`/blog/` -> `https://example.com/blog/`).
    pub fn permalink(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_owned();
        }
        if path.starts_with('/') {
            format!("{}{}", self.base_url, path)
        } else {
            format!("{}/{}", self.base_url, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_trailing_slash() {
        let c = Config::parse("base_url = \"https://x.test/\"\ntitle = \"X\"\n").unwrap();
        assert_eq!(c.base_url, "https://x.test");
        assert_eq!(c.language, "en");
        assert_eq!(c.paginate_by, 10);
        assert_eq!(c.permalink("/a/"), "https://x.test/a/");
    }

    #[test]
    fn bad_toml_names_line() {
        let err = Config::parse("title = \"X\"\nbase_url = \n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn nested_menu_and_taxonomies() {
        let c = Config::parse(
            "base_url = \"https://x.test\"\ntaxonomies = [\"authors\"]\n[[menu]]\nname = \"Docs\"\nurl = \"/docs/\"\n[[menu.children]]\nname = \"Intro\"\nurl = \"/docs/intro/\"\n",
        )
        .unwrap();
        assert_eq!(c.menu[0].children[0].url, "/docs/intro/");
        assert_eq!(c.taxonomies, ["authors"]);
        let deep = "base_url = \"https://x.test\"\n[[menu]]\nname = \"A\"\nurl = \"/a/\"\n[[menu.children]]\nname = \"B\"\nurl = \"/b/\"\n[[menu.children.children]]\nname = \"C\"\nurl = \"/c/\"\n";
        let err = Config::parse(deep).unwrap_err();
        assert!(err.message.contains("one level deep"), "{err}");
        let err = Config::parse("base_url = \"https://x.test\"\ntaxonomies = [\"My Tax\"]\n")
            .unwrap_err();
        assert!(err.message.contains("slug"), "{err}");
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn relative_base_url_is_refused() {
        let err = Config::parse("base_url = \"/site\"\n").unwrap_err();
        assert!(err.message.contains("absolute"), "{err}");
        assert_eq!(err.line, 1);
    }
}
