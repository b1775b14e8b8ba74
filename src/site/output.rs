//! The output folder: written fresh next to the target, then swapped in.
//!
//! A build writes into a temporary folder beside `public/` (same file system, so renames are
//! atomic) and only replaces `public/` when everything succeeded. A failed build drops the
//! temporary folder and leaves the previous output byte-for-byte untouched.

use std::io;
use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary file beside `target` (same folder, so the final rename is
/// atomic); the caller renames it in with `persist(target)` once the build has succeeded.
pub fn stage_file(target: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".manifest.new-");
    // Like any file the build writes (the process umask decides), not tempfile's owner-only
    // mode: the capture server may run as another user.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(&parent)?;
    io::Write::write_all(&mut file, bytes)?;
    file.as_file().sync_all()?;
    Ok(file)
}

/// A temporary output folder that becomes `target` on [`Output::commit`].
pub struct Output {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Output {
    /// Creates the temporary folder next to `target`.
    pub fn new(target: &Path) -> io::Result<Output> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let name = target
            .file_name()
            .map_or("public".into(), |n| n.to_string_lossy().into_owned());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.new-"))
            .tempdir_in(&parent)?;
        Ok(Output {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// Where files are written during the build.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` at `rel` (creating folders); safe to call from many threads.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.dir.path().join(rel.trim_start_matches('/'));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)
    }

    /// Replaces the target with the new output: the old one is moved aside, the new one
    /// renamed in, then the old one deleted.
    pub fn commit(self) -> io::Result<()> {
        let new = self.dir.keep();
        let old = if self.target.exists() {
            let parent = new.parent().unwrap_or(Path::new("."));
            let aside = tempfile::Builder::new()
                .prefix(".public.old-")
                .tempdir_in(parent)?
                .keep();
            std::fs::remove_dir(&aside)?;
            std::fs::rename(&self.target, &aside)?;
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&new, &self.target) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.target);
            }
            let _ = std::fs::remove_dir_all(&new);
            return Err(e);
        }
        if let Some(old) = old {
            std::fs::remove_dir_all(old)?;
        }
        Ok(())
    }
}
