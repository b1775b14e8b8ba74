//! What an import leaves behind besides content: templates, themes and the folders splitmark
//! does not read. Zola's shortcode templates are the exception: they are Tera, like ours, and
//! are copied along so the shortcodes they define keep working.

use super::report::SiteKind;
use anyhow::Result;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Template files not carried, and other files or folders not carried with the reason.
pub type Leftovers = (Vec<PathBuf>, Vec<(PathBuf, String)>);

/// Lists the leftovers of `src`, copying Zola shortcode templates into `target` (their names
/// join `known`, and a line joins `carried`).
pub fn collect(
    src: &Path,
    target: &Path,
    kind: SiteKind,
    known: &mut BTreeSet<String>,
    carried: &mut Vec<String>,
) -> Result<Leftovers> {
    let mut templates = Vec::new();
    let mut files = Vec::new();
    match kind {
        SiteKind::Hugo => {
            templates.extend(files_under(src, Path::new("layouts")));
            for (dir, why) in [
                (
                    "assets",
                    "Hugo Pipes assets are not processed: put built files in static/",
                ),
                ("data", "data files are not read by splitmark templates"),
                ("i18n", "translations are not supported"),
                (
                    "archetypes",
                    "splitmark has no archetypes (not needed to build)",
                ),
            ] {
                if src.join(dir).is_dir() {
                    files.push((PathBuf::from(format!("{dir}/")), why.to_owned()));
                }
            }
        }
        SiteKind::Zola => {
            for t in files_under(src, Path::new("templates")) {
                let in_shortcodes = t.starts_with("templates/shortcodes");
                if in_shortcodes && t.extension().is_some_and(|e| e == "html") {
                    let dest = target.join(&t);
                    std::fs::create_dir_all(dest.parent().expect("has a parent"))?;
                    std::fs::copy(src.join(&t), &dest)?;
                    if let Some(stem) = t.file_stem() {
                        known.insert(stem.to_string_lossy().into_owned());
                    }
                    carried.push(format!(
                        "{} (Tera, as in Zola: check it renders as before)",
                        t.display()
                    ));
                } else {
                    templates.push(t);
                }
            }
            if src.join("sass").is_dir() {
                files.push((
                    PathBuf::from("sass/"),
                    "Sass is not compiled: compile it to CSS in static/".to_owned(),
                ));
            }
        }
    }
    if src.join("themes").is_dir() {
        for entry in std::fs::read_dir(src.join("themes"))?.flatten() {
            files.push((
                PathBuf::from(format!("themes/{}/", entry.file_name().to_string_lossy())),
                format!("a {} theme is not carried; the default theme is used", kind),
            ));
        }
    }
    Ok((templates, files))
}

/// Files below `root/dir`, relative to `root`, sorted.
pub fn files_under(root: &Path, dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root.join(dir))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(root)
                .unwrap_or(e.path())
                .to_path_buf()
        })
        .collect()
}
