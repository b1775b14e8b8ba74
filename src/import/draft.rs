//! The `splitmark.toml` an import writes, built up from the other tool's settings.

use serde::Serialize;

/// One menu entry; `children` is a submenu.
#[derive(Clone, Debug, Serialize)]
pub struct DraftMenu {
    /// Link text.
    pub name: String,
    /// Site path or absolute URL.
    pub url: String,
    /// Submenu.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<DraftMenu>,
}

/// The settings of the new site, in `splitmark.toml` order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Draft {
    /// Absolute base URL.
    pub base_url: String,
    /// Site title.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Default description.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `<html lang>`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// Author.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Items per list page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paginate_by: Option<usize>,
    /// Minify output.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub minify: bool,
    /// Taxonomies besides tags and categories.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub taxonomies: Vec<String>,
    /// Navigation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub menu: Vec<DraftMenu>,
    /// Free values for templates.
    #[serde(skip_serializing_if = "toml::Table::is_empty")]
    pub extra: toml::Table,
}

/// Used when the source site has no absolute base URL; named in the report.
pub const PLACEHOLDER_BASE_URL: &str = "https://example.com";

impl Draft {
    /// The file text, with a header saying where it came from.
    pub fn to_toml(&self, from: &str) -> String {
        let body = toml::to_string(self).expect("draft config serializes");
        format!("# Imported from {from} by `splitmark import`; see IMPORT.md.\n{body}")
    }
}
