//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, one writer thread that
//! group-commits.
//!
//! Every write goes through a channel to a single writer thread. The writer takes whatever is
//! queued (up to [`MAX_BATCH`]), applies it in ONE transaction (each write in its own savepoint,
//! so one bad write cannot fail its neighbours), commits — an fsync of the WAL — and only then
//! answers each request. Under load many submissions share one fsync; a single submission
//! still commits at once. Reads use their own connections and never wait for the writer.

use super::metrics::CommitMetrics;
use super::*;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::oneshot;

/// Most writes committed in one transaction.
pub const MAX_BATCH: usize = 1024;

enum Op {
    Lead(Box<NewLead>, oneshot::Sender<StoreResult<LeadReceipt>>),
    Exposure(Exposure, oneshot::Sender<StoreResult<ExposureReceipt>>),
    Erase(String, oneshot::Sender<StoreResult<u64>>),
    Close(oneshot::Sender<()>),
}

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    tx: Mutex<Option<mpsc::Sender<Op>>>,
    path: PathBuf,
    readers: Arc<Mutex<Vec<Connection>>>,
    metrics: Arc<CommitMetrics>,
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn open_conn(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and starts the writer.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        let mut conn = open_conn(path)?;
        schema::migrate(&mut conn).map_err(StoreError::Migration)?;
        let (tx, rx) = mpsc::channel();
        let metrics = Arc::new(CommitMetrics::default());
        let m = metrics.clone();
        std::thread::Builder::new()
            .name("splitmark-writer".into())
            .spawn(move || writer(conn, rx, &m))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(SqliteStore {
            tx: Mutex::new(Some(tx)),
            path: path.to_path_buf(),
            readers: Arc::default(),
            metrics,
        })
    }

    fn send(&self, op: Op) -> StoreResult<()> {
        let guard = self.tx.lock().expect("writer handle");
        let tx = guard
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
        tx.send(op)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.lock().expect("reader pool").pop();
            let conn = match conn {
                Some(c) => c,
                None => open_conn(&path)?,
            };
            let out = f(&conn).map_err(db_err);
            pool.lock().expect("reader pool").push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }
}

fn now_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn insert_lead(tx: &Connection, lead: &NewLead) -> rusqlite::Result<LeadReceipt> {
    let since = now_ms(lead.received_at) - DEDUPE_WINDOW_SECS * 1000;
    // Statements are cached per connection: the writer runs the same few all day.
    let earlier: Option<(String, bool)> = tx
        .prepare_cached("SELECT id, qualified FROM leads WHERE dedupe_key = ?1 AND received_ms >= ?2 ORDER BY received_ms LIMIT 1")?
        .query_row(params![lead.dedupe_key, since], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, qualified)) = earlier {
        return Ok(LeadReceipt {
            id,
            duplicate: true,
            qualified,
        });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let flag = lead.attribution_flag.map(|f| {
        serde_json::to_value(f)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    });
    tx.prepare_cached(
        "INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
            utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    )?
    .execute(params![
            id,
            lead.received_at.to_rfc3339(),
            now_ms(lead.received_at),
            lead.form,
            serde_json::Value::Object(lead.answers.clone()).to_string(),
            lead.email,
            lead.experiment,
            lead.variant,
            flag,
            lead.visitor,
            lead.page,
            lead.referrer,
            lead.utm.source,
            lead.utm.medium,
            lead.utm.campaign,
            lead.utm.term,
            lead.utm.content,
            lead.user_agent,
            lead.ip_hash,
            lead.score,
            lead.qualified,
            lead.spam_reason,
            lead.consent,
            lead.dedupe_key,
    ])?;
    // A submission implies the exposure (beacons get blocked); it is not a page view.
    if let (None, None, Some(exp), Some(var), Some(vis)) = (
        &lead.spam_reason,
        lead.attribution_flag,
        &lead.experiment,
        &lead.variant,
        &lead.visitor,
    ) {
        let ms = now_ms(lead.received_at);
        tx.prepare_cached(
            "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 0, ?5)
             ON CONFLICT (experiment, visitor) DO NOTHING",
        )?
        .execute(params![exp, vis, var, ms, lead.page])?;
    }
    Ok(LeadReceipt {
        id,
        duplicate: false,
        qualified: lead.qualified,
    })
}

fn record_exposure(tx: &Connection, e: &Exposure) -> rusqlite::Result<ExposureReceipt> {
    let ms = now_ms(e.at);
    let existing: Option<(String, i64)> = tx
        .query_row(
            "SELECT variant, views FROM exposures WHERE experiment = ?1 AND visitor = ?2",
            params![e.experiment, e.visitor],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match existing {
        Some((variant, views)) => {
            tx.prepare_cached("UPDATE exposures SET views = views + 1, last_ms = ?3 WHERE experiment = ?1 AND visitor = ?2")?
                .execute(params![e.experiment, e.visitor, ms])?;
            // An exposure implied by a submission has no views yet: the first beacon is still
            // the visitor's first view.
            Ok(ExposureReceipt {
                first: views == 0,
                variant,
            })
        }
        None => {
            tx.prepare_cached("INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 1, ?5)")?
                .execute(params![e.experiment, e.visitor, e.variant, ms, e.page])?;
            Ok(ExposureReceipt {
                first: true,
                variant: e.variant.clone(),
            })
        }
    }
}

enum Done {
    Lead(
        oneshot::Sender<StoreResult<LeadReceipt>>,
        StoreResult<LeadReceipt>,
    ),
    Exposure(
        oneshot::Sender<StoreResult<ExposureReceipt>>,
        StoreResult<ExposureReceipt>,
    ),
    Erase(oneshot::Sender<StoreResult<u64>>, StoreResult<u64>),
    Close(oneshot::Sender<()>),
}

fn in_savepoint<T>(
    tx: &mut rusqlite::Transaction<'_>,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> StoreResult<T> {
    let sp = tx.savepoint().map_err(db_err)?;
    let out = f(&sp).map_err(db_err)?;
    sp.commit().map_err(db_err)?;
    Ok(out)
}

fn apply_batch(conn: &mut Connection, batch: Vec<Op>) -> (Vec<Done>, rusqlite::Result<()>) {
    let mut done = Vec::with_capacity(batch.len());
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let err = db_err(&e);
            for op in batch {
                done.push(fail(op, &err));
            }
            return (done, Err(e));
        }
    };
    for op in batch {
        done.push(match op {
            Op::Lead(lead, reply) => {
                let r = in_savepoint(&mut tx, |t| insert_lead(t, &lead));
                Done::Lead(reply, r)
            }
            Op::Exposure(e, reply) => {
                let r = in_savepoint(&mut tx, |t| record_exposure(t, &e));
                Done::Exposure(reply, r)
            }
            Op::Erase(email, reply) => {
                let r = in_savepoint(&mut tx, |t| {
                    t.execute(
                        "DELETE FROM leads WHERE email = ?1",
                        params![email.to_lowercase()],
                    )
                    .map(|n| n as u64)
                });
                Done::Erase(reply, r)
            }
            Op::Close(reply) => Done::Close(reply),
        });
    }
    let committed = tx.commit();
    (done, committed)
}

fn fail(op: Op, err: &StoreError) -> Done {
    let e = || StoreError::Database(err.to_string());
    match op {
        Op::Lead(_, r) => Done::Lead(r, Err(e())),
        Op::Exposure(_, r) => Done::Exposure(r, Err(e())),
        Op::Erase(_, r) => Done::Erase(r, Err(e())),
        Op::Close(r) => Done::Close(r),
    }
}

fn writer(mut conn: Connection, rx: mpsc::Receiver<Op>, metrics: &CommitMetrics) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let size = batch.len();
        let started = Instant::now();
        let (done, committed) = apply_batch(&mut conn, batch);
        metrics.observe(started.elapsed().as_secs_f64(), size);
        let commit_err = committed
            .err()
            .map(|e| StoreError::Database(format!("commit failed: {e}")));
        let mut closing = None;
        for d in done {
            // Nothing is acknowledged unless the transaction committed.
            match d {
                Done::Lead(tx, r) => drop(
                    tx.send(
                        commit_err
                            .as_ref()
                            .map_or(r, |e| Err(StoreError::Database(e.to_string()))),
                    ),
                ),
                Done::Exposure(tx, r) => drop(
                    tx.send(
                        commit_err
                            .as_ref()
                            .map_or(r, |e| Err(StoreError::Database(e.to_string()))),
                    ),
                ),
                Done::Erase(tx, r) => drop(
                    tx.send(
                        commit_err
                            .as_ref()
                            .map_or(r, |e| Err(StoreError::Database(e.to_string()))),
                    ),
                ),
                Done::Close(tx) => closing = Some(tx),
            }
        }
        if let Some(tx) = closing {
            let _ = tx.send(());
            return;
        }
    }
}

fn opt_str(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    r.get(i)
}

const LEAD_COLUMNS: &str = "id, received_at, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key";

fn lead_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Lead> {
    let received: String = r.get(1)?;
    let answers: String = r.get(3)?;
    let flag: Option<String> = r.get(7)?;
    Ok(Lead {
        id: r.get(0)?,
        lead: NewLead {
            received_at: DateTime::parse_from_rfc3339(&received)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            form: r.get(2)?,
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            email: opt_str(r, 4)?,
            experiment: opt_str(r, 5)?,
            variant: opt_str(r, 6)?,
            attribution_flag: flag
                .and_then(|f| serde_json::from_value(serde_json::Value::String(f)).ok()),
            visitor: opt_str(r, 8)?,
            page: opt_str(r, 9)?,
            referrer: opt_str(r, 10)?,
            utm: Utm {
                source: opt_str(r, 11)?,
                medium: opt_str(r, 12)?,
                campaign: opt_str(r, 13)?,
                term: opt_str(r, 14)?,
                content: opt_str(r, 15)?,
            },
            user_agent: opt_str(r, 16)?,
            ip_hash: opt_str(r, 17)?,
            score: r.get(18)?,
            qualified: r.get(19)?,
            spam_reason: opt_str(r, 20)?,
            consent: opt_str(r, 21)?,
            dedupe_key: r.get(22)?,
        },
    })
}

/// WHERE clause and parameters of a lead query.
fn lead_filter(q: &LeadQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    let mut clauses = Vec::new();
    let mut params: Vec<V> = Vec::new();
    for (col, val) in [
        ("form", &q.form),
        ("experiment", &q.experiment),
        ("variant", &q.variant),
    ] {
        if let Some(v) = val {
            params.push(V::Text(v.clone()));
            clauses.push(format!("{col} = ?{}", params.len()));
        }
    }
    if let Some(qual) = q.qualified {
        clauses.push(format!("qualified = {}", i32::from(qual)));
    }
    match q.spam {
        Some(true) => clauses.push("spam_reason IS NOT NULL".into()),
        Some(false) => clauses.push("spam_reason IS NULL".into()),
        None => {}
    }
    let w = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (w, params)
}

const COUNTS_SQL: &str = "
    SELECT e.variant, COUNT(*), SUM(e.views),
      SUM(EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = ?2 AND l.spam_reason IS NULL
                  AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL))),
      SUM(EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = ?2 AND l.spam_reason IS NULL AND l.qualified = 1
                  AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL)))
    FROM exposures e WHERE e.experiment = ?1 GROUP BY e.variant ORDER BY e.variant";

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn insert_lead(&self, lead: NewLead) -> StoreResult<LeadReceipt> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Lead(Box::new(lead), tx))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?
    }

    async fn record_exposure(&self, exposure: Exposure) -> StoreResult<ExposureReceipt> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Exposure(exposure, tx))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?
    }

    async fn experiment_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<VariantCounts>> {
        let (e, g) = (experiment.to_owned(), goal_form.to_owned());
        self.read(move |c| {
            let mut st = c.prepare_cached(COUNTS_SQL)?;
            let rows = st.query_map(params![e, g], |r| {
                Ok(VariantCounts {
                    variant: r.get(0)?,
                    visitors: r.get::<_, i64>(1)? as u64,
                    views: r.get::<_, i64>(2)? as u64,
                    conversions: r.get::<_, i64>(3)? as u64,
                    qualified: r.get::<_, i64>(4)? as u64,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn daily_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<DailyVariantCounts>> {
        let (e, g) = (experiment.to_owned(), goal_form.to_owned());
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT day, variant, SUM(v), SUM(cv) FROM (
                   SELECT date(first_ms / 1000, 'unixepoch') AS day, variant, 1 AS v, 0 AS cv FROM exposures WHERE experiment = ?1
                   UNION ALL
                   SELECT date(MIN(l.received_ms) / 1000, 'unixepoch'), e.variant, 0, 1 FROM exposures e JOIN leads l
                     ON l.visitor = e.visitor AND l.form = ?2 AND l.spam_reason IS NULL
                    AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL)
                   WHERE e.experiment = ?1 GROUP BY e.visitor, e.variant)
                 GROUP BY day, variant ORDER BY day, variant",
            )?;
            let rows = st.query_map(params![e, g], |r| {
                let day: String = r.get(0)?;
                Ok(DailyVariantCounts {
                    day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap_or_default(),
                    variant: r.get(1)?,
                    visitors: r.get::<_, i64>(2)? as u64,
                    conversions: r.get::<_, i64>(3)? as u64,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn funnel(&self) -> StoreResult<Vec<FunnelRow>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT date(received_ms / 1000, 'unixepoch') AS day, utm_source, utm_campaign, COUNT(*), SUM(qualified)
                 FROM leads WHERE spam_reason IS NULL
                 GROUP BY day, utm_source, utm_campaign ORDER BY day, utm_source NULLS LAST, utm_campaign NULLS LAST",
            )?;
            let rows = st.query_map([], |r| {
                let day: String = r.get(0)?;
                Ok(FunnelRow {
                    day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap_or_default(),
                    utm_source: opt_str(r, 1)?,
                    utm_campaign: opt_str(r, 2)?,
                    leads: r.get::<_, i64>(3)? as u64,
                    qualified: r.get::<_, i64>(4)? as u64,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn experiment_started_at(&self, experiment: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let e = experiment.to_owned();
        let ms: Option<i64> = self
            .read(move |c| {
                c.query_row(
                    "SELECT MIN(first_ms) FROM exposures WHERE experiment = ?1",
                    params![e],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }

    async fn leads(&self, query: &LeadQuery) -> StoreResult<Vec<Lead>> {
        let q = query.clone();
        self.read(move |c| {
            let (w, mut p) = lead_filter(&q);
            let limit = if q.limit == 0 { -1 } else { i64::from(q.limit) };
            p.push(limit.into());
            p.push(i64::from(q.offset).into());
            let n = p.len();
            let sql = format!("SELECT {LEAD_COLUMNS} FROM leads {w} ORDER BY received_ms DESC, id DESC LIMIT ?{} OFFSET ?{n}", n - 1);
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(p), lead_from_row)?;
            rows.collect()
        })
        .await
    }

    async fn count_leads(&self, query: &LeadQuery) -> StoreResult<u64> {
        let q = query.clone();
        self.read(move |c| {
            let (w, p) = lead_filter(&q);
            c.query_row(
                &format!("SELECT COUNT(*) FROM leads {w}"),
                rusqlite::params_from_iter(p),
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
        .await
    }

    async fn erase_leads(&self, email: &str) -> StoreResult<u64> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Erase(email.to_owned(), tx))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    fn commit_stats(&self) -> CommitStats {
        self.metrics.snapshot()
    }

    async fn close(&self) -> StoreResult<()> {
        let Some(tx) = self.tx.lock().expect("writer handle").take() else {
            return Ok(());
        };
        let (done, rx) = oneshot::channel();
        // Everything queued before this is committed first; then the writer exits.
        if tx.send(Op::Close(done)).is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }
}
