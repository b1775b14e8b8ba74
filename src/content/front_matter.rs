//! Front matter: TOML between `+++` lines or YAML between `---` lines.
//!
//! Both formats are turned into one JSON value first (TOML datetimes become RFC 3339 text),
//! then into [`FrontMatter`]. Hugo-style (`tags`, `categories` at the top level) and
//! Zola-style (`[taxonomies] tags = [...]`) tags are both read, so content moved from either
//! builds unchanged. Keys we do not know are kept in `extra`, as Hugo keeps its params.

use crate::diagnostics::Diagnostic;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Parsed front matter of a page or section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FrontMatter {
    /// Page title.
    pub title: Option<String>,
    /// Meta description.
    pub description: Option<String>,
    /// Publication date (RFC 3339 or `YYYY-MM-DD`).
    #[serde(skip)]
    pub date: Option<DateTime<FixedOffset>>,
    /// Last modification date.
    #[serde(skip)]
    pub updated: Option<DateTime<FixedOffset>>,
    /// Drafts are built only with `--drafts`.
    pub draft: bool,
    /// Overrides the last URL segment.
    pub slug: Option<String>,
    /// Template name, e.g. `landing.html`.
    pub template: Option<String>,
    /// Tags (Hugo style, or from `[taxonomies]`).
    pub tags: Vec<String>,
    /// Categories (Hugo style, or from `[taxonomies]`).
    pub categories: Vec<String>,
    /// Zola-style taxonomies table.
    pub taxonomies: BTreeMap<String, Vec<String>>,
    /// Sort weight (lower first when a section sorts by weight).
    pub weight: Option<i64>,
    /// Old paths that redirect here.
    pub aliases: Vec<String>,
    /// Keep out of search engines and the sitemap.
    pub noindex: bool,
    /// Social card image (page-relative, site path or URL).
    pub image: Option<String>,
    /// Free table for templates.
    pub extra: Map<String, Value>,
    /// Raw `[experiment]` table, parsed by the experiments module.
    pub experiment: Option<Value>,
    /// Section only: items per list page.
    pub paginate_by: Option<usize>,
    /// Section only: `date` (newest first, default), `weight`, `title`.
    pub sort_by: Option<String>,
    /// Section only: `false` leaves the section's Atom feed out (default: one is written).
    pub generate_feeds: Option<bool>,
}

/// Keys the build understands; every other key goes to `extra`.
const KNOWN_KEYS: &[&str] = &[
    "title",
    "description",
    "date",
    "updated",
    "lastmod",
    "draft",
    "slug",
    "template",
    "tags",
    "categories",
    "taxonomies",
    "weight",
    "aliases",
    "noindex",
    "image",
    "extra",
    "experiment",
    "paginate_by",
    "sort_by",
    "generate_feeds",
];

/// A file split into front matter and Markdown body.
#[derive(Debug)]
pub struct Split<'a> {
    /// Parsed front matter.
    pub front_matter: FrontMatter,
    /// The Markdown after the closing delimiter.
    pub body: &'a str,
    /// 1-based line of the body's first line in the file.
    pub body_line: usize,
}

/// Splits and parses `source` (the whole file); errors point into the file.
pub fn split<'a>(file: &Path, source: &'a str) -> Result<Split<'a>, Diagnostic> {
    let source_trimmed = source.strip_prefix('\u{feff}').unwrap_or(source);
    let bom = source.len() - source_trimmed.len();
    let first_line = source_trimmed.lines().next().unwrap_or("").trim_end();
    let delim = match first_line {
        "+++" => "+++",
        "---" => "---",
        _ => {
            return Ok(Split {
                front_matter: FrontMatter::default(),
                body: source_trimmed,
                body_line: 1,
            })
        }
    };
    let fm_start = bom + first_line.len() + line_break_len(&source_trimmed[first_line.len()..]);
    let mut offset = fm_start;
    let mut close = None;
    for line in source[fm_start..].split_inclusive('\n') {
        if line.trim_end() == delim {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((fm_end, body_start)) = close else {
        return Err(Diagnostic::at(
            file,
            source,
            1,
            1,
            format!("front matter opened with `{delim}` is never closed"),
        ));
    };
    let fm_text = &source[fm_start..fm_end];
    let fm_line = source[..fm_start].matches('\n').count() + 1;
    let value = if delim == "+++" {
        parse_toml(file, source, fm_text, fm_start)?
    } else {
        parse_yaml(file, source, fm_text, fm_line)?
    };
    let front_matter = from_value(file, source, fm_text, fm_start, value)?;
    Ok(Split {
        front_matter,
        body: &source[body_start..],
        body_line: source[..body_start].matches('\n').count() + 1,
    })
}

fn line_break_len(rest: &str) -> usize {
    if rest.starts_with("\r\n") {
        2
    } else if rest.starts_with('\n') {
        1
    } else {
        0
    }
}

fn parse_toml(file: &Path, source: &str, text: &str, base: usize) -> Result<Value, Diagnostic> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let offset = base + e.span().map_or(0, |s| s.start);
        Diagnostic::at_offset(
            file,
            source,
            offset,
            format!("invalid TOML front matter: {}", e.message()),
        )
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn parse_yaml(file: &Path, source: &str, text: &str, line0: usize) -> Result<Value, Diagnostic> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        // The parser counts lines from 1 within the front matter, whose first line is `line0`.
        let (line, col) = e
            .location()
            .map_or((line0, 1), |l| (line0 + l.line() - 1, l.column()));
        Diagnostic::at(
            file,
            source,
            line,
            col,
            format!(
                "invalid YAML front matter: {}",
                in_file_lines(&e.to_string(), line0)
            ),
        )
    })?;
    serde_json::to_value(yaml).map_err(|e| {
        Diagnostic::at(
            file,
            source,
            line0,
            1,
            format!("invalid YAML front matter: {e}"),
        )
    })
}

/// Rewrites the parser's "at line N column M" (front-matter lines) into file lines, so the
/// message agrees with the position in front of it.
fn in_file_lines(message: &str, line0: usize) -> String {
    static AT_LINE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"line (\d+) column").expect("valid regex"));
    AT_LINE
        .replace_all(message, |c: &regex::Captures<'_>| {
            let n: usize = c[1].parse().unwrap_or(1);
            format!("line {} column", n + line0 - 1)
        })
        .into_owned()
}

/// Line of `key` inside the front matter, for errors about a value.
fn key_position(source: &str, fm_text: &str, fm_start: usize, key: &str) -> usize {
    let mut offset = fm_start;
    for line in fm_text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with(['=', ':']) {
            let value_at = line.find(['=', ':']).map_or(0, |i| i + 1);
            let skip = line[value_at..].len() - line[value_at..].trim_start().len();
            return offset + value_at + skip;
        }
        offset += line.len();
    }
    let _ = source;
    fm_start
}

fn from_value(
    file: &Path,
    source: &str,
    fm_text: &str,
    fm_start: usize,
    value: Value,
) -> Result<FrontMatter, Diagnostic> {
    let Value::Object(mut map) = value else {
        return Err(Diagnostic::at_offset(
            file,
            source,
            fm_start,
            "front matter must be a table of keys",
        ));
    };
    let at = |key: &str, msg: String| {
        Diagnostic::at_offset(
            file,
            source,
            key_position(source, fm_text, fm_start, key),
            msg,
        )
    };
    let date = take_date(&mut map, "date").map_err(|m| at("date", m))?;
    let updated = match take_date(&mut map, "updated").map_err(|m| at("updated", m))? {
        Some(d) => Some(d),
        None => take_date(&mut map, "lastmod").map_err(|m| at("lastmod", m))?,
    };
    // Hugo takes a single string for a list of one (`categories: Travel`).
    for key in ["tags", "categories", "aliases"] {
        if let Some(Value::String(one)) = map.get(key) {
            let list = Value::Array(vec![Value::String(one.clone())]);
            map.insert(key.to_owned(), list);
        }
    }
    // Unknown keys join `extra` (Hugo params style) unless `extra` already has them.
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !KNOWN_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut moved = Map::new();
    for k in unknown {
        if let Some(v) = map.remove(&k) {
            moved.insert(k, v);
        }
    }
    let mut fm: FrontMatter = serde_json::from_value(Value::Object(map)).map_err(|e| {
        let msg = e.to_string();
        let key = msg
            .split('`')
            .nth(1)
            .or_else(|| KNOWN_KEYS.iter().copied().find(|k| msg.contains(k)))
            .unwrap_or("")
            .to_owned();
        at(&key, format!("invalid front matter: {msg}"))
    })?;
    for (k, v) in moved {
        fm.extra.entry(k).or_insert(v);
    }
    if let Some(order) = fm.sort_by.as_deref() {
        if !["date", "weight", "title"].contains(&order) {
            return Err(at(
                "sort_by",
                format!("sort_by must be \"date\", \"weight\" or \"title\", got {order:?}"),
            ));
        }
    }
    fm.date = date;
    fm.updated = updated;
    for (name, terms) in std::mem::take(&mut fm.taxonomies) {
        let list = match name.as_str() {
            "tags" => &mut fm.tags,
            "categories" => &mut fm.categories,
            _ => {
                fm.taxonomies.insert(name, terms);
                continue;
            }
        };
        for t in terms {
            if !list.contains(&t) {
                list.push(t);
            }
        }
    }
    Ok(fm)
}

fn take_date(
    map: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<DateTime<FixedOffset>>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_date(&s).map(Some).ok_or_else(|| {
            format!("invalid {key} {s:?}: expected YYYY-MM-DD or an RFC 3339 date-time")
        }),
        Some(other) => Err(format!("invalid {key} {other}: expected a date")),
    }
}

/// Parses `YYYY-MM-DD`, RFC 3339, or a local date-time (taken as UTC).
pub fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(utc.from_utc_datetime(&n));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z") {
        return Some(d);
    }
    let _ = Utc::now;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<FrontMatter, Diagnostic> {
        split(Path::new("t.md"), src).map(|s| s.front_matter)
    }

    #[test]
    fn toml_and_yaml_agree() {
        let t = parse("+++\ntitle = \"Hi\"\ndate = 2024-03-01\ntags = [\"a\"]\n[taxonomies]\ntags = [\"b\"]\n+++\nbody").unwrap();
        let y = parse(
            "---\ntitle: Hi\ndate: 2024-03-01\ntags: [a]\ntaxonomies:\n  tags: [b]\n---\nbody",
        )
        .unwrap();
        assert_eq!(t.title, y.title);
        assert_eq!(t.date, y.date);
        assert_eq!(t.tags, vec!["a", "b"]);
        assert_eq!(y.tags, vec!["a", "b"]);
    }

    #[test]
    fn sort_by_and_generate_feeds_are_read_not_ignored() {
        let fm = parse("+++\nsort_by = \"weight\"\ngenerate_feeds = false\n+++\n").unwrap();
        assert_eq!(fm.sort_by.as_deref(), Some("weight"));
        assert_eq!(fm.generate_feeds, Some(false));
        let e = parse("+++\ntitle = \"x\"\nsort_by = \"titel\"\n+++\n").unwrap_err();
        assert!(e.message.contains("sort_by must be"), "{e}");
        assert_eq!(e.line, 3, "{e}");
        assert!(parse("+++\ngenerate_feeds = \"no\"\n+++\n").is_err());
    }

    #[test]
    fn body_line_and_unknown_keys() {
        let s = split(
            Path::new("t.md"),
            "+++\ntitle = \"x\"\nauthor = \"Ann\"\n+++\n\nHello",
        )
        .unwrap();
        assert_eq!(s.body_line, 5);
        assert_eq!(s.front_matter.extra["author"], "Ann");
        assert_eq!(s.body.trim(), "Hello");
    }

    #[test]
    fn invalid_date_points_at_value() {
        let e = parse("+++\ntitle = \"x\"\ndate = \"2024-13-45\"\n+++\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 8), "{e}");
        assert!(e.message.contains("invalid date"));
    }

    #[test]
    fn unterminated_is_an_error_on_line_one() {
        let e = parse("---\ntitle: x\nno end\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("never closed"));
    }

    #[test]
    fn bad_toml_line_is_in_file_coordinates() {
        let e = parse("+++\ntitle = \"x\"\ndraft = maybe\n+++\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn bad_yaml_line_is_in_file_coordinates() {
        // Line 3 of the file is the bad one: `---` is line 1, `title: x` line 2.
        let src = "---\ntitle: x\nbad: a: b\ndate: 2024-01-01\n---\nbody\n";
        let e = parse(src).unwrap_err();
        assert_eq!((e.line, e.col), (3, 7), "{e}");
        assert_eq!(e.snippet.as_deref(), Some("bad: a: b"), "{e}");
        assert!(e.message.contains("at line 3 column 7"), "{e}");
        assert!(e.to_string().starts_with("t.md:3:7: "), "{e}");
    }

    #[test]
    fn yaml_error_on_first_front_matter_line() {
        let e = parse("---\ntitle: a: b\n---\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 9), "{e}");
        assert_eq!(e.snippet.as_deref(), Some("title: a: b"), "{e}");
    }

    #[test]
    fn bad_toml_line_and_column_and_snippet() {
        let e = parse("+++\ntitle = \"x\"\ntags = [\"a\" \"b\"]\n+++\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 13), "{e}");
        assert_eq!(e.snippet.as_deref(), Some("tags = [\"a\" \"b\"]"), "{e}");
    }

    #[test]
    fn a_single_string_is_a_list_of_one() {
        let fm =
            parse("---\ntitle: x\ncategories: Travel\ntags: rust\naliases: /old/\n---\n").unwrap();
        assert_eq!(fm.categories, ["Travel"]);
        assert_eq!(fm.tags, ["rust"]);
        assert_eq!(fm.aliases, ["/old/"]);
    }

    #[test]
    fn no_front_matter_is_fine() {
        let s = split(Path::new("t.md"), "# Title\n").unwrap();
        assert!(s.front_matter.title.is_none());
        assert_eq!(s.body_line, 1);
    }
}
