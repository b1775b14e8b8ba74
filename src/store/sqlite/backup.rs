//! `splitmark backup`: SQLite's online backup API, while the capture server keeps writing.

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Copies the database at `src` into `out`, consistent as of one moment.
///
/// All pages are copied in one backup step, inside one read transaction: with WAL the server's
/// writer is never blocked, and the copy is the database as of the moment that transaction
/// began. The copy is written to a temporary file beside `out` (readable by its owner only),
/// switched from WAL to a rollback journal so it is one self-contained file, checked with
/// `PRAGMA quick_check`, synced, and only then renamed over `out`.
pub fn backup(src: &Path, out: &Path) -> Result<(), String> {
    let source = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open the database {}: {e}", src.display()))?;
    source
        .busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".splitmark-backup-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    {
        let mut copy = Connection::open(tmp.path()).map_err(|e| e.to_string())?;
        {
            let b = Backup::new(&source, &mut copy).map_err(|e| e.to_string())?;
            let mut tries = 0;
            loop {
                match b.step(-1).map_err(|e| format!("backup failed: {e}"))? {
                    StepResult::Done => break,
                    // Busy or locked (a checkpoint or a rollback-journal writer): retry for a while.
                    _ if tries < 200 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    _ => return Err("the database stayed locked for 10 s; try again".into()),
                }
            }
        }
        copy.pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| e.to_string())?;
        let check: String = copy
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if check != "ok" {
            return Err(format!("the copy failed its integrity check: {check}"));
        }
    }
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(out)
        .map_err(|e| format!("cannot write {}: {}", out.display(), e.error))?;
    Ok(())
}
