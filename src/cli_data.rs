//! `splitmark export`, `erase` and `backup`: the stored leads from the command line, safe to
//! run while `splitmark capture` serves the same database.
//!
//! SQLite in WAL mode lets these readers run beside the server's writer; `erase` writes
//! through a normal transaction that waits (busy timeout) for the server's commits.

use crate::capture::db_url;
use crate::store::export::{ExportFormat, LeadWriter};
use crate::store::{LeadQuery, PageCursor, PageQuery, SharedStore};
use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Leads read from the store per page: bounds the export's memory whatever the table's size.
pub const PAGE: u32 = 500;

/// Options of `splitmark export`.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Site root (for the default database).
    pub root: PathBuf,
    /// Database URL.
    pub db: Option<String>,
    /// Output format.
    pub format: ExportFormat,
    /// Only this form's leads.
    pub form: Option<String>,
    /// Only leads received at or after this (`YYYY-MM-DD`, or RFC 3339).
    pub since: Option<String>,
    /// Only leads received up to this day, inclusive (`YYYY-MM-DD`), or before this instant
    /// (RFC 3339).
    pub until: Option<String>,
    /// Output file (default: standard output); written atomically.
    pub output: Option<PathBuf>,
}

/// A `--since`/`--until` bound in milliseconds. A day is a UTC day: `--since` starts at its
/// midnight, `--until` includes the whole day; an RFC 3339 instant is taken as given.
pub fn parse_bound(text: &str, until: bool) -> anyhow::Result<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        anyhow!("{text:?} is not a date: use YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T12:00:00Z")
    })?;
    let day = if until {
        day.succ_opt()
            .ok_or_else(|| anyhow!("{text:?} is too late"))?
    } else {
        day
    };
    Ok(day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis())
}

/// Opens the store of `--db`; a SQLite file must already exist (these commands never create
/// an empty database by mistake).
pub(crate) async fn open_existing(root: &Path, db: Option<&str>) -> anyhow::Result<SharedStore> {
    let url = db_url(root, db);
    if let Some(path) = sqlite_path(&url) {
        if !path.is_file() {
            bail!(
                "there is no database at {} (give --db or --root)",
                path.display()
            );
        }
    }
    crate::store::open(&url).await.map_err(|e| anyhow!("{e}"))
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let p = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(PathBuf::from(p))
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Pages through the store into `out`; returns how many leads were written.
async fn stream(
    store: &SharedStore,
    query: &PageQuery,
    out: impl Write,
    format: ExportFormat,
) -> anyhow::Result<u64> {
    let mut w = LeadWriter::new(out, format)?;
    let mut after: Option<PageCursor> = None;
    loop {
        let page = store
            .lead_page(query, after.as_ref(), PAGE)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        for lead in &page {
            w.write(lead)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(PageCursor::after(last)),
            _ => break,
        }
    }
    let n = w.count();
    w.finish()?;
    Ok(n)
}

/// `splitmark export`: returns how many leads were written.
pub fn export(opts: &ExportOptions) -> anyhow::Result<u64> {
    let query = PageQuery {
        filter: LeadQuery {
            form: opts.form.clone(),
            ..LeadQuery::default()
        },
        since_ms: opts
            .since
            .as_deref()
            .map(|s| parse_bound(s, false))
            .transpose()?,
        until_ms: opts
            .until
            .as_deref()
            .map(|s| parse_bound(s, true))
            .transpose()?,
    };
    runtime()?.block_on(async {
        let store = open_existing(&opts.root, opts.db.as_deref()).await?;
        let n = match &opts.output {
            None => {
                let stdout = std::io::stdout().lock();
                stream(&store, &query, std::io::BufWriter::new(stdout), opts.format).await?
            }
            Some(path) => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                // A temporary file beside the output, renamed over it once complete: a reader
                // never sees half an export, and a failed one leaves the old file as it was.
                let tmp = tempfile::Builder::new()
                    .prefix(".splitmark-export-")
                    .tempfile_in(dir)
                    .with_context(|| format!("cannot write in {}", dir.display()))?;
                let n = stream(
                    &store,
                    &query,
                    std::io::BufWriter::new(tmp.as_file()),
                    opts.format,
                )
                .await?;
                tmp.as_file().sync_all()?;
                tmp.persist(path)
                    .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
                n
            }
        };
        store.close().await.map_err(|e| anyhow!("{e}"))?;
        Ok(n)
    })
}

/// `splitmark erase EMAIL`: deletes every lead with that email; returns how many.
pub fn erase(root: &Path, db: Option<&str>, email: &str) -> anyhow::Result<u64> {
    let email = email.trim();
    if !email.contains('@') {
        bail!("{email:?} is not an email address");
    }
    runtime()?.block_on(async {
        let store = open_existing(root, db).await?;
        let n = store.erase_leads(email).await.map_err(|e| anyhow!("{e}"))?;
        store.close().await.map_err(|e| anyhow!("{e}"))?;
        Ok(n)
    })
}

/// `splitmark backup OUT`: a consistent copy of a SQLite database; PostgreSQL has its own
/// tools.
pub fn backup(root: &Path, db: Option<&str>, out: &Path) -> anyhow::Result<()> {
    let url = db_url(root, db);
    let Some(path) = sqlite_path(&url) else {
        bail!(
            "splitmark backup copies SQLite databases; back up PostgreSQL with its own tools:\n  \
             pg_dump --format=custom --file=leads.dump \"$DATABASE_URL\"\n\
             and restore with pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" leads.dump \
             (see docs/deploy.md)"
        );
    };
    if !path.is_file() {
        bail!("there is no database at {}", path.display());
    }
    crate::store::sqlite::backup::backup(&path, out).map_err(|e| anyhow!(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_bound_covers_the_whole_utc_day() {
        let since = parse_bound("2026-01-31", false).unwrap();
        let until = parse_bound("2026-01-31", true).unwrap();
        assert_eq!(until - since, 86_400_000);
        assert_eq!(
            parse_bound("2026-01-31T12:00:00+01:00", true).unwrap(),
            since + 11 * 3_600_000
        );
        assert!(parse_bound("31.01.2026", false).is_err());
    }
}
