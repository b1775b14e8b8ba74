//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, one writer thread that
//! group-commits.
//!
//! Every write goes through a channel to a single writer thread ([`writer`]), which commits
//! whatever is queued as one transaction — one fsync of the WAL — and only then answers each
//! request. Under load many submissions share one fsync; a single submission still commits at
//! once. Reads use their own connections and never wait for the writer.

use super::metrics::CommitMetrics;
use super::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use tokio::sync::oneshot;

pub mod backup;
mod confirm;
mod deliveries;
mod leads;
mod lifecycle;
mod outcomes;
mod recent;
mod reports;
mod retention;
mod users;
mod writer;
mod writes;

pub use writer::MAX_BATCH;
use writer::{writer, Op, Reply};

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    tx: Mutex<Option<mpsc::Sender<Op>>>,
    beacons: Arc<queue::BeaconQueue>,
    /// Answered beacons waiting for the writer (see `writer.rs`).
    waiting: Arc<writer::Beacons>,
    path: PathBuf,
    readers: Arc<Mutex<Vec<Connection>>>,
    metrics: Arc<CommitMetrics>,
    signal: Arc<tokio::sync::Notify>,
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
        let recent = recent::RecentLeads::load(
            &conn,
            DEDUPE_WINDOW_SECS * 1000,
            Utc::now().timestamp_millis(),
        )
        .map_err(db_err)?;
        let (tx, rx) = mpsc::channel();
        let metrics = Arc::new(CommitMetrics::default());
        let m = metrics.clone();
        let signal = Arc::new(tokio::sync::Notify::new());
        let s = signal.clone();
        let waiting = Arc::new(writer::Beacons::default());
        let w = waiting.clone();
        std::thread::Builder::new()
            .name("splitmark-writer".into())
            .spawn(move || writer(conn, recent, rx, &w, &m, &s))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(SqliteStore {
            tx: Mutex::new(Some(tx)),
            beacons: Arc::default(),
            waiting,
            path: path.to_path_buf(),
            readers: Arc::default(),
            metrics,
            signal,
        })
    }

    fn send(&self, op: Op) -> StoreResult<()> {
        self.with_writer(|tx| send_to(tx, op))
    }

    /// Runs `f` with the writer's channel, under its lock: after [`Store::close`] took the
    /// channel, nothing more is queued.
    fn with_writer(&self, f: impl FnOnce(&mpsc::Sender<Op>) -> StoreResult<()>) -> StoreResult<()> {
        let guard = self.tx.lock().expect("writer handle");
        let tx = guard
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
        f(tx)
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

impl SqliteStore {
    async fn delivery_op(
        &self,
        op: deliveries::DeliveryOp,
    ) -> StoreResult<deliveries::DeliveryAnswer> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Delivery(Box::new(op), Reply::new(tx)))?;
        answered(rx).await
    }

    async fn changed(&self, op: deliveries::DeliveryOp) -> StoreResult<bool> {
        Ok(matches!(
            self.delivery_op(op).await?,
            deliveries::DeliveryAnswer::Changed(true)
        ))
    }
}

fn send_to(tx: &mpsc::Sender<Op>, op: Op) -> StoreResult<()> {
    tx.send(op)
        .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))
}

/// The writer's answer to a write; the write it hands back is dropped here, on the thread
/// that allocated it.
async fn answered<T, P>(rx: oneshot::Receiver<writer::Answer<T, P>>) -> StoreResult<T> {
    let (answer, _write) = rx
        .await
        .map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?;
    answer
}

fn opt_str(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    r.get(i)
}

/// A `COUNT(*)` or `SUM` column: SQLite returns them as signed integers, never negative here.
fn count_column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    r.get::<_, i64>(i).map(|n| n as u64)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn insert_lead_with(
        &self,
        lead: NewLead,
        outbox: Option<Outbox>,
    ) -> StoreResult<LeadReceipt> {
        let (tx, rx) = oneshot::channel();
        let lead = writes::PreparedLead::with_outbox(lead, outbox)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        self.send(Op::Lead(Box::new(lead), Reply::new(tx)))?;
        answered(rx).await
    }

    async fn record_exposure(&self, exposure: Exposure) -> StoreResult<ExposureReceipt> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Exposure(exposure, Reply::new(tx)))?;
        answered(rx).await
    }

    fn queue_exposure(&self, exposure: Exposure, limit: usize) -> StoreResult<()> {
        let slot = self.beacons.reserve(limit)?;
        // Under the channel's lock, so that a close sends its `Close` after this beacon is
        // in the list, and the writer commits it before it exits.
        self.with_writer(|tx| match self.waiting.push(exposure, slot) {
            true => send_to(tx, Op::Beacons),
            false => Ok(()),
        })
    }

    async fn experiment_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<VariantCounts>> {
        let (e, g) = (experiment.to_owned(), goal_form.to_owned());
        self.read(move |c| reports::experiment_counts(c, &e, &g))
            .await
    }

    async fn daily_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<DailyVariantCounts>> {
        let (e, g) = (experiment.to_owned(), goal_form.to_owned());
        self.read(move |c| reports::daily_counts(c, &e, &g)).await
    }

    async fn funnel(&self) -> StoreResult<Vec<FunnelRow>> {
        self.read(reports::funnel).await
    }

    async fn experiment_started_at(&self, experiment: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let e = experiment.to_owned();
        let ms = self
            .read(move |c| reports::experiment_started_ms(c, &e))
            .await?;
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }

    async fn leads(&self, query: &LeadQuery) -> StoreResult<Vec<Lead>> {
        let q = query.clone();
        self.read(move |c| leads::list(c, &q)).await
    }

    async fn count_leads(&self, query: &LeadQuery) -> StoreResult<u64> {
        let q = query.clone();
        self.read(move |c| leads::count(c, &q)).await
    }

    async fn erase_leads(&self, email: &str) -> StoreResult<u64> {
        let (tx, rx) = oneshot::channel();
        let email = email.to_lowercase();
        // The scan for the email (there is no index on it: emails are random keys, and an
        // index would cost a random page write per lead) runs on a reader, not in the writer.
        let erasure = self.read(move |c| writes::Erasure::scan(c, email)).await?;
        self.send(Op::Erase(erasure, Reply::new(tx)))?;
        answered(rx).await
    }

    async fn lead_by_id(&self, id: &str) -> StoreResult<Option<Lead>> {
        let Some((from, to)) = deliveries::lead_window(id) else {
            return Ok(None);
        };
        let id = id.to_owned();
        self.read(move |c| leads::by_id(c, (from, to), &id)).await
    }

    async fn claim_deliveries(&self, claim: Claim) -> StoreResult<Claimed> {
        match self
            .delivery_op(deliveries::DeliveryOp::Claim(claim))
            .await?
        {
            deliveries::DeliveryAnswer::Claimed(c) => Ok(c),
            _ => Ok(Claimed::default()),
        }
    }

    async fn record_attempt(&self, attempt: AttemptRecord) -> StoreResult<bool> {
        self.changed(deliveries::DeliveryOp::Record(attempt)).await
    }

    async fn deliveries(&self, query: &DeliveryQuery) -> StoreResult<Vec<DeliveryRow>> {
        let q = query.clone();
        self.read(move |c| deliveries::list(c, &q)).await
    }

    async fn redeliver(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let op = deliveries::DeliveryOp::Redeliver(id, now.timestamp_millis());
        self.changed(op).await
    }

    async fn pending_deliveries(&self) -> StoreResult<u64> {
        self.read(deliveries::pending).await
    }

    fn delivery_signal(&self) -> Arc<tokio::sync::Notify> {
        self.signal.clone()
    }

    async fn start_delivering(&self) -> StoreResult<()> {
        // One process owns the file: leases left by a killed run are nobody's now.
        self.changed(deliveries::DeliveryOp::ReleaseLeases)
            .await
            .map(|_| ())
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    async fn purge_expired(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<PurgeCounts> {
        let policy = policy.clone();
        self.read(move |c| retention::purge(c, &policy, now)).await
    }

    async fn lead_page(
        &self,
        query: &PageQuery,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Lead>> {
        let (q, after) = (query.clone(), after.cloned());
        self.read(move |c| retention::page(c, &q, after.as_ref(), limit))
            .await
    }

    // --- Outcomes (outcomes.rs) ---
    async fn experiment_outcomes(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<OutcomeRow>> {
        outcomes::experiment_outcomes(self, experiment, goal_form).await
    }

    async fn source_outcomes(&self) -> StoreResult<Vec<SourceOutcomeRow>> {
        outcomes::source_outcomes(self).await
    }

    async fn confirm_lead(&self, id: &str, now: DateTime<Utc>) -> StoreResult<ConfirmOutcome> {
        let Some(window) = deliveries::lead_window(id) else {
            return Ok(ConfirmOutcome::NotFound);
        };
        let op = deliveries::DeliveryOp::Confirm(confirm::Confirm {
            id: id.to_owned(),
            window,
            now_ms: now.timestamp_millis(),
        });
        match self.delivery_op(op).await? {
            deliveries::DeliveryAnswer::Confirmed(outcome) => Ok(outcome),
            _ => Err(StoreError::Database(
                "confirming answered something else".into(),
            )),
        }
    }

    async fn confirmation_counts(&self) -> StoreResult<Vec<ConfirmationCounts>> {
        self.read(confirm::counts).await
    }

    async fn add_user(&self, user: NewUser, replace: bool) -> StoreResult<UserAdded> {
        self.read(move |c| users::add(c, &user, replace)).await
    }

    async fn user(&self, name: &str) -> StoreResult<Option<StoredUser>> {
        let name = name.to_owned();
        self.read(move |c| users::get(c, &name)).await
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        self.read(users::list).await
    }

    async fn remove_user(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_owned();
        self.read(move |c| users::remove(c, &name)).await
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            queued_exposures: self.beacons.queued() as u64,
            dropped_exposures: self.beacons.dropped(),
            ..self.metrics.snapshot()
        }
    }

    async fn record_stage_events(&self, writes: Vec<StageWrite>) -> StoreResult<Vec<StageOutcome>> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Stages(writes, Reply::new(tx)))?;
        answered(rx).await
    }

    async fn stage_history(&self, lead_id: &str) -> StoreResult<Vec<crate::lifecycle::StageEvent>> {
        let id = lead_id.to_owned();
        self.read(move |c| lifecycle::history(c, &id)).await
    }

    async fn latest_leads_by_email(
        &self,
        emails: &[String],
    ) -> StoreResult<std::collections::HashMap<String, Lead>> {
        let emails = emails.to_vec();
        self.read(move |c| lifecycle::latest_by_email(c, &emails))
            .await
    }

    async fn uncontacted_leads(&self, limit: u32) -> StoreResult<Vec<Lead>> {
        self.read(move |c| lifecycle::uncontacted(c, limit)).await
    }

    async fn contact_samples(&self) -> StoreResult<Vec<ContactSample>> {
        self.read(lifecycle::contact_samples).await
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
