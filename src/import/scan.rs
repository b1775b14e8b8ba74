//! The imported content, file by file: shortcodes without a template (with their lines),
//! front-matter keys splitmark does not act on, files that would not be published, and the
//! one rewrite an import makes (Hugo's `<!--more-->` to splitmark's `<!-- more -->`).

use super::report::{SiteKind, Use};
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// Shortcodes splitmark provides (the last two are its own).
pub const KNOWN_SHORTCODES: &[&str] = &[
    "figure",
    "youtube",
    "vimeo",
    "details",
    "highlight",
    "ref",
    "relref",
    "param",
    "form",
    "variant",
];

/// Front-matter keys with a meaning in Hugo or Zola that splitmark does not act on.
const INERT_KEYS: &[(&str, &str)] = &[
    (
        "url",
        "the page is served at its content path; add the old URL to aliases",
    ),
    (
        "path",
        "the page is served at its content path; add the old URL to aliases",
    ),
    ("publishDate", "the page is published at once"),
    ("expiryDate", "pages do not expire"),
    ("layout", "custom layouts are not carried"),
    ("type", "custom layouts are not carried"),
    ("outputs", "only HTML is written"),
    ("resources", "resource metadata is not carried"),
    ("headless", "headless bundles are published like any page"),
    ("cascade", "cascading front matter is not carried"),
    ("build", "build options are not carried"),
    ("images", "use image = \"...\" for the social card"),
    (
        "summary",
        "the summary is what precedes <!-- more -->, else the first paragraph",
    ),
    ("linkTitle", "not used"),
    ("page_template", "custom templates are not carried"),
    ("redirect_to", "use aliases on the target page"),
    ("render", "every section is rendered"),
    ("transparent", "sections are not transparent"),
    ("in_search_index", "no search index is built"),
    ("insert_anchor_links", "heading anchors are fixed"),
    ("generate_feeds", "one site-wide feed is written"),
];

/// Findings of the scan.
#[derive(Debug, Default)]
pub struct Scan {
    /// Unknown shortcodes and their uses.
    pub shortcodes: BTreeMap<String, Vec<Use>>,
    /// File, key, why.
    pub front_matter: Vec<(PathBuf, String, String)>,
    /// Files that will not be published, and why.
    pub files: Vec<(PathBuf, String)>,
    /// Markdown files seen.
    pub pages: usize,
    /// Files whose `<!--more-->` was rewritten.
    pub more_rewritten: usize,
}

static HUGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{([<%])\s*(/\*)?\s*(/)?\s*([A-Za-z0-9_][A-Za-z0-9_./-]*)").expect("regex")
});
static ZOLA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{[{%]-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("regex"));
static CODE_SPAN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`+[^`]*`+").expect("regex"));

/// Scans `content` (already copied to the new site, `root` being that site) in place.
pub fn scan(root: &Path, kind: SiteKind, known: &BTreeSet<String>) -> std::io::Result<Scan> {
    let content = root.join("content");
    let mut scan = Scan::default();
    if !content.is_dir() {
        return Ok(scan);
    }
    for entry in walkdir::WalkDir::new(&content).sort_by_file_name() {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        let is_md = path
            .extension()
            .is_some_and(|e| e == "md" || e == "markdown");
        if !is_md {
            if let Some(why) = unpublished(path, kind) {
                scan.files.push((rel, why));
            }
            continue;
        }
        scan.pages += 1;
        let text = std::fs::read_to_string(path)?;
        if let Some(new) = rewrite_more(&text) {
            std::fs::write(path, new)?;
            scan.more_rewritten += 1;
        }
        for (key, why) in inert_keys(&text) {
            scan.front_matter.push((rel.clone(), key, why));
        }
        for (name, line) in shortcode_uses(&text) {
            if !known.contains(&name) {
                scan.shortcodes.entry(name).or_default().push(Use {
                    file: rel.clone(),
                    line,
                });
            }
        }
    }
    Ok(scan)
}

/// Why a non-Markdown file under `content/` will not be published, if it will not.
fn unpublished(path: &Path, kind: SiteKind) -> Option<String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ["html", "htm", "org", "adoc", "asciidoc", "rst", "pdc", "ad"].contains(&ext) {
        return Some(format!(
            "{} content in .{ext} is not read; only Markdown pages are built",
            kind
        ));
    }
    let dir = path.parent()?;
    if dir.join("index.md").is_file() {
        return None;
    }
    Some(if dir.join("_index.md").is_file() {
        "beside a section's _index.md, which publishes no files: move it into static/ or into \
         a page bundle (a folder with index.md)"
            .into()
    } else {
        "not beside an index.md (nested in a bundle, or loose in a section), so not copied to \
         the output: a Markdown image that uses it still works (images go through the image \
         pipeline), a link to it does not; move it next to the page's index.md or into static/"
            .into()
    })
}

fn rewrite_more(text: &str) -> Option<String> {
    if !text.contains("<!--more-->") {
        return None;
    }
    Some(text.replace("<!--more-->", crate::markdown::MORE_MARKER))
}

/// Top-level front-matter keys in [`INERT_KEYS`], case-insensitively (as Hugo reads them).
fn inert_keys(text: &str) -> Vec<(String, String)> {
    let Some(map) = front_matter_map(text) else {
        return Vec::new();
    };
    map.keys()
        .filter_map(|k| {
            INERT_KEYS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(k))
                .map(|(_, why)| (k.clone(), (*why).to_owned()))
        })
        .collect()
}

fn front_matter_map(text: &str) -> Option<serde_json::Map<String, Value>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let delim = lines.next()?.trim_end();
    if delim != "+++" && delim != "---" {
        return None;
    }
    let mut fm = String::new();
    for line in lines {
        if line.trim_end() == delim {
            let value: Value = if delim == "+++" {
                super::source::toml_to_json(toml::Value::Table(toml::from_str(&fm).ok()?))
            } else {
                serde_norway::from_str(&fm).ok()?
            };
            return match value {
                Value::Object(m) => Some(m),
                _ => None,
            };
        }
        fm.push_str(line);
    }
    None
}

/// Every shortcode call outside fenced code and code spans: name and 1-based file line.
/// Hugo escapes (`{{</* x */>}}`) and closing tags are not calls.
pub fn shortcode_uses(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        if let (Some(c), true) = (marker, indent < 4) {
            let n = trimmed.chars().take_while(|x| *x == c).count();
            if n >= 3 {
                match fence {
                    None => fence = Some((c, n)),
                    Some((fc, fnum)) if fc == c && n >= fnum && trimmed[n..].trim().is_empty() => {
                        fence = None
                    }
                    Some(_) => {}
                }
                continue;
            }
        }
        if fence.is_some() {
            continue;
        }
        let visible = CODE_SPAN.replace_all(line, |c: &regex::Captures<'_>| " ".repeat(c[0].len()));
        for c in HUGO.captures_iter(&visible) {
            if c.get(2).is_none() && c.get(3).is_none() {
                out.push((c[4].to_owned(), i + 1));
            }
        }
        for c in ZOLA.captures_iter(&visible) {
            out.push((c[1].to_owned(), i + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_of_both_syntaxes_outside_code() {
        let text = "+++\ntitle = \"x\"\n+++\n{{< callout info >}}\nhi\n{{< /callout >}}\n\
                    {{% note %}}x{{% /note %}}\n`{{< inline >}}`\n```\n{{< fenced >}}\n```\n\
                    {{</* escaped */>}}\n{{ zola_inline(a=1) }}\n{% zola_block() %}b{% end %}\n\
                    {{< figure src=\"a.png\" >}}";
        let uses = shortcode_uses(text);
        let names: Vec<(&str, usize)> = uses.iter().map(|(n, l)| (n.as_str(), *l)).collect();
        assert_eq!(
            names,
            [
                ("callout", 4),
                ("note", 7),
                ("zola_inline", 13),
                ("zola_block", 14),
                ("figure", 15)
            ]
        );
    }

    #[test]
    fn inert_keys_are_found_in_toml_and_yaml() {
        let t = inert_keys("+++\ntitle = \"x\"\nurl = \"/old/\"\n+++\n");
        assert_eq!(t[0].0, "url");
        let y = inert_keys("---\ntitle: x\npublishDate: 2024-01-01\nlayout: wide\n---\n");
        let keys: Vec<&str> = y.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["publishDate", "layout"]);
    }
}
