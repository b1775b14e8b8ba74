//! What an import carried over, and, precisely, what it could not.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The tool a site was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// Hugo (`hugo.toml`, `config.toml`, `config/_default/`, YAML or JSON).
    Hugo,
    /// Zola (`config.toml` with `base_url`).
    Zola,
}

impl fmt::Display for SiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SiteKind::Hugo => "Hugo",
            SiteKind::Zola => "Zola",
        })
    }
}

/// Where a shortcode is used: a file (relative to the imported site) and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Use {
    /// The content file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

/// The outcome of `splitmark import`.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The source site's tool.
    pub kind: SiteKind,
    /// The new site's folder.
    pub target: PathBuf,
    /// What was carried, one line each (settings and file counts).
    pub carried: Vec<String>,
    /// Settings not carried: key and why.
    pub settings: Vec<(String, String)>,
    /// Template files (layouts, templates, theme files) not carried.
    pub templates: Vec<PathBuf>,
    /// Shortcodes with no template in splitmark, with every use.
    pub shortcodes: BTreeMap<String, Vec<Use>>,
    /// Front-matter keys splitmark does not act on: file, key, why.
    pub front_matter: Vec<(PathBuf, String, String)>,
    /// Other files or folders not carried, and why.
    pub files: Vec<(PathBuf, String)>,
}

impl ImportReport {
    /// True when nothing was left behind.
    pub fn is_complete(&self) -> bool {
        self.settings.is_empty()
            && self.templates.is_empty()
            && self.shortcodes.is_empty()
            && self.front_matter.is_empty()
            && self.files.is_empty()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Imported a {} site into {}",
            self.kind,
            self.target.display()
        )?;
        for c in &self.carried {
            writeln!(f, "  carried: {c}")?;
        }
        if self.is_complete() {
            return writeln!(f, "Nothing was left behind.");
        }
        writeln!(f, "\nNot carried (fix these by hand):")?;
        if !self.shortcodes.is_empty() {
            writeln!(
                f,
                "\nShortcodes with no template (each is a build error until \
                 templates/shortcodes/<name>.html exists):"
            )?;
            for (name, uses) in &self.shortcodes {
                writeln!(f, "  {name}:")?;
                for u in uses {
                    writeln!(f, "    {}:{}", u.file.display(), u.line)?;
                }
            }
        }
        if !self.templates.is_empty() {
            writeln!(
                f,
                "\nTemplates (splitmark uses Tera templates under templates/; the default \
                 theme renders every page until you write your own):"
            )?;
            for t in &self.templates {
                writeln!(f, "  {}", t.display())?;
            }
        }
        if !self.settings.is_empty() {
            writeln!(f, "\nSettings:")?;
            for (k, why) in &self.settings {
                writeln!(f, "  {k}: {why}")?;
            }
        }
        if !self.front_matter.is_empty() {
            writeln!(f, "\nFront matter (kept in the file, not acted on):")?;
            for (file, k, why) in &self.front_matter {
                writeln!(f, "  {}: {k}: {why}", file.display())?;
            }
        }
        if !self.files.is_empty() {
            writeln!(f, "\nFiles:")?;
            for (p, why) in &self.files {
                writeln!(f, "  {}: {why}", p.display())?;
            }
        }
        Ok(())
    }
}
