//! Template loading and the functions/filters every template can use.
//!
//! Lookup order (later wins): the default theme embedded in the binary (the base layer of
//! every theme), then
//! `themes/<theme>/templates` on disk, then the site's own `templates/`. A site overrides any
//! theme template, partial, feed or sitemap by dropping a file of the same name.

use crate::config::Config;
use crate::diagnostics::Diagnostic;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tera::{Kwargs, State, Tera, TeraResult, Value};

#[allow(missing_docs)]
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_theme.rs"));
}

/// Embedded default-theme static files: (relative path, bytes).
pub fn embedded_static() -> &'static [(&'static str, &'static [u8])] {
    embedded::STATIC
}

/// Where a template came from, for error messages.
#[derive(Clone, Debug)]
pub struct TemplateSources {
    origins: BTreeMap<String, String>,
    /// Source text of each template (for `serve` to see what a template includes).
    texts: BTreeMap<String, String>,
}

impl TemplateSources {
    /// Human-readable origin of a template (`templates/page.html`, `embedded default theme`).
    pub fn origin(&self, name: &str) -> &str {
        self.origins
            .get(name)
            .map_or("unknown template", String::as_str)
    }

    /// Every template by name with its source text.
    pub fn texts(&self) -> &BTreeMap<String, String> {
        &self.texts
    }
}

fn disk_templates(
    dir: &Path,
    into: &mut BTreeMap<String, (String, String)>,
    root: &Path,
) -> Result<(), Diagnostic> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry =
            entry.map_err(|e| Diagnostic::file(dir, format!("cannot read templates: {e}")))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let shown = crate::diagnostics::relative(root, entry.path());
        let source = std::fs::read_to_string(entry.path())
            .map_err(|e| Diagnostic::file(&shown, format!("cannot read template: {e}")))?;
        into.insert(rel, (source, shown.display().to_string()));
    }
    Ok(())
}

/// Directories a theme's files come from, lowest priority first.
pub fn theme_dirs(root: &Path, config: &Config) -> Vec<PathBuf> {
    vec![root.join("themes").join(&config.theme), root.to_path_buf()]
}

/// Loads all templates and registers the site's functions and filters.
pub fn load(
    root: &Path,
    config: &Config,
    extra: &(dyn Fn(&mut Tera) + Sync),
) -> Result<(Tera, TemplateSources), Diagnostic> {
    let mut all: BTreeMap<String, (String, String)> = BTreeMap::new();
    // The embedded default theme is the base layer of every theme: a theme only needs the
    // templates it changes.
    for (name, bytes) in embedded::TEMPLATES {
        let source = String::from_utf8_lossy(bytes).into_owned();
        all.insert(
            (*name).to_owned(),
            (source, format!("embedded default theme ({name})")),
        );
    }
    if config.theme != "default" && !root.join("themes").join(&config.theme).is_dir() {
        return Err(Diagnostic::file(
            crate::config::CONFIG_FILE,
            format!("theme {:?} not found in themes/", config.theme),
        ));
    }
    disk_templates(
        &root.join("themes").join(&config.theme).join("templates"),
        &mut all,
        root,
    )?;
    disk_templates(&root.join("templates"), &mut all, root)?;
    let mut tera = Tera::new();
    tera.autoescape_on([".html", ".htm", ".xml"]);
    register(&mut tera, config);
    extra(&mut tera);
    let origins = all
        .iter()
        .map(|(k, (_, o))| (k.clone(), o.clone()))
        .collect();
    let texts = all
        .iter()
        .map(|(k, (s, _))| (k.clone(), s.clone()))
        .collect();
    let sources = TemplateSources { origins, texts };
    tera.add_raw_templates(all.iter().map(|(k, (s, _))| (k.as_str(), s.as_str())))
        .map_err(|e| {
            Diagnostic::file("templates", format!("template error: {}", error_chain(&e)))
        })?;
    Ok((tera, sources))
}

/// A tera error with its causes, one per line.
pub fn error_chain(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        s.push_str("\n  caused by: ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

fn register(tera: &mut Tera, config: &Config) {
    let base = config.base_url.clone();
    let cfg = config.clone();
    tera.register_function(
        "url",
        move |kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let path: String = kwargs.must_get("path")?;
            let _ = &base;
            Ok(cfg.permalink(&path))
        },
    );
    tera.register_filter(
        "date",
        |value: &str, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let format: String = kwargs
                .get("format")?
                .unwrap_or_else(|| "%Y-%m-%d".to_owned());
            let date = crate::content::front_matter::parse_date(value)
                .ok_or_else(|| tera::Error::message(format!("date: {value:?} is not a date")))?;
            Ok(date.format(&format).to_string())
        },
    );
    tera.register_filter(
        "json_encode",
        |value: Value, _: Kwargs, _: &State| -> TeraResult<Value> {
            let json = serde_json::to_string(&value).map_err(tera::Error::message)?;
            Ok(Value::safe_string(&script_safe_json(&json)))
        },
    );
    tera.register_filter("slugify", |value: &str, _: Kwargs, _: &State| -> String {
        slug::slugify(value)
    });
    tera.register_filter(
        "xml_escape",
        |value: &str, _: Kwargs, _: &State| -> String {
            html_escape::encode_quoted_attribute(value).into_owned()
        },
    );
}

/// JSON that is safe inside `<script>`: `<`, `>`, `&` and line separators become escapes,
/// so `</script>` in user data cannot end the element.
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_safe_json_escapes_breakouts() {
        let s = script_safe_json(r#"{"t":"</script><b>&"}"#);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["t"], "</script><b>&");
    }
}
