//! The output folder as a map: each file and what produces it, so a rebuild writes only the
//! files whose producer changed and deletes the ones nothing produces any more.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// What produces one output file.
#[derive(Clone, Debug, PartialEq)]
pub enum Producer {
    /// A render job, by the fingerprint of its inputs.
    Job(u64),
    /// Generated text (sitemap index, redirects), by the fingerprint of its bytes.
    Text(u64),
    /// A file copied from the sources (page asset, image variant).
    Copy(PathBuf),
    /// A static file of the theme or the site (changes to those rebuild everything).
    Static,
}

/// Output path (relative, `/` separated) -> producer.
pub type OutputMap = HashMap<String, Producer>;

/// Where a static file comes from.
pub enum StaticSource {
    /// Embedded in the program (the default theme).
    Embedded(&'static [u8]),
    /// On disk.
    File(PathBuf),
}

/// Static files in the order a build copies them (later ones win): the embedded theme's, the
/// theme's `static/`, the site's `static/`.
pub fn static_files(root: &Path, theme: &str) -> io::Result<Vec<(String, StaticSource)>> {
    let mut out: Vec<(String, StaticSource)> = super::super::templates::embedded_static()
        .iter()
        .map(|(rel, bytes)| ((*rel).to_owned(), StaticSource::Embedded(bytes)))
        .collect();
    for dir in [
        root.join("themes").join(theme).join("static"),
        root.join("static"),
    ] {
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&dir) {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&dir)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, StaticSource::File(entry.into_path())));
        }
    }
    Ok(out)
}

/// Normalizes a site path or output path to the map's key.
pub fn key(rel: &str) -> String {
    rel.trim_start_matches('/').to_owned()
}

/// Replaces `dir/rel` with `bytes` by renaming a finished temporary file over it, so a reader
/// sees the old file or the new one, never a part.
pub fn write_atomic(dir: &Path, rel: &str, bytes: &[u8]) -> io::Result<()> {
    let path = dir.join(rel);
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".splitmark-new-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(parent)?;
    io::Write::write_all(&mut file, bytes)?;
    file.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Deletes `dir/rel` and the folders it leaves empty (a fresh build has no empty folders).
pub fn remove(dir: &Path, rel: &str) -> io::Result<()> {
    let path = dir.join(rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut parent = path.parent();
    while let Some(p) = parent {
        if p == dir || std::fs::remove_dir(p).is_err() {
            break;
        }
        parent = p.parent();
    }
    Ok(())
}
