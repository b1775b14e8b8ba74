//! Lead and exposure storage behind one trait.
//!
//! The capture server, the report and the dashboard talk to storage only through [`Store`].
//! Two implementations share it: SQLite (embedded default, one group-committing writer) and
//! PostgreSQL (many stateless capture instances behind a load balancer). Every write method
//! resolves only after its transaction has committed durably, so an acknowledged submission
//! survives a crash.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

pub use deliveries::{
    AfterAttempt, AttemptRecord, Claim, Claimed, ClaimedDelivery, DeliveryQuery, DeliveryRow,
    DeliveryStatus, NewDelivery, Outbox,
};
pub use lifecycle::{ContactSample, StageOutcome, StageWrite};
pub use opt_in::{ConfirmOutcome, Confirmation, ConfirmationCounts};
pub use outcomes::{OutcomeRow, SourceOutcomeRow};
pub use records::*;
pub use retention::{PageCursor, PageQuery, PurgeCounts, RetentionPolicy};
pub use users::{NewUser, StoredUser, UserAdded, UserRecord};

/// Result type of every storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// What can go wrong in storage. The capture server maps every variant to a 503 with a
/// stable error code; none of them is the client's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or the writer has shut down.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The schema could not be brought to the current version.
    #[error("schema migration failed: {0}")]
    Migration(String),
    /// Too many beacons are waiting for their commit (see [`queue::BeaconQueue`]).
    #[error("too many events are waiting to be stored")]
    QueueFull,
    /// The `--db` URL is not one we understand.
    #[error("unsupported database URL {0:?} (expected sqlite:PATH or postgres://...)")]
    BadUrl(String),
}

/// A report row's day, as both stores' queries format it (`YYYY-MM-DD`, UTC).
fn report_day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

/// A database error as a [`StoreError`], with its causes: the PostgreSQL driver's own text is
/// only "db error", the server's message is its source.
fn db_err(e: impl std::error::Error) -> StoreError {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    StoreError::Database(text)
}

/// Storage used by the capture server, the report and the dashboard.
///
/// Every write resolves only after its transaction committed durably. A lead that names a
/// known experiment and variant (`attribution_flag` is `None`, not spam, visitor known) also
/// records the implied exposure in the same transaction: beacons get blocked, submissions
/// must still count.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Store a lead (deduplicated on `dedupe_key` within [`DEDUPE_WINDOW_SECS`]).
    async fn insert_lead(&self, lead: NewLead) -> StoreResult<LeadReceipt> {
        self.insert_lead_with(lead, None).await
    }
    /// Store a lead and, in the same transaction, its deliveries (none for a duplicate).
    async fn insert_lead_with(
        &self,
        lead: NewLead,
        outbox: Option<Outbox>,
    ) -> StoreResult<LeadReceipt>;
    /// Lease due deliveries to `claim.worker` (rows whose lease expired are due again).
    async fn claim_deliveries(&self, claim: Claim) -> StoreResult<Claimed>;
    /// Log an attempt and move its delivery on; false (nothing written) when the row is no
    /// longer leased to this worker.
    async fn record_attempt(&self, attempt: AttemptRecord) -> StoreResult<bool>;
    /// Deliveries matching `query`: failed first, then pending, then delivered.
    async fn deliveries(&self, query: &DeliveryQuery) -> StoreResult<Vec<DeliveryRow>>;
    /// Make a delivery pending and due at `now` again (same event id); false if there is none.
    async fn redeliver(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Deliveries still pending, for `/metrics`.
    async fn pending_deliveries(&self) -> StoreResult<u64>;
    /// The lead stored as `id` (a time-ordered id: found near the time it names).
    async fn lead_by_id(&self, id: &str) -> StoreResult<Option<Lead>>;
    /// Signalled when deliveries were committed (here or, on PostgreSQL, by any instance).
    fn delivery_signal(&self) -> Arc<tokio::sync::Notify>;
    /// Called once when this process's delivery worker starts. SQLite, whose file one process
    /// owns, frees every lease (a killed run's rows are due at once); PostgreSQL lets leases
    /// expire, since another instance may hold them.
    async fn start_delivering(&self) -> StoreResult<()> {
        Ok(())
    }
    /// Record an exposure; the visitor's first variant sticks, repeats count as views.
    async fn record_exposure(&self, exposure: Exposure) -> StoreResult<ExposureReceipt>;
    /// Queue an exposure for the next group commit and return at once, without waiting for
    /// it to commit (a beacon's answer is never read). Refused with
    /// [`StoreError::QueueFull`] when `limit` exposures are already waiting; [`Store::close`]
    /// commits whatever is queued.
    fn queue_exposure(&self, exposure: Exposure, limit: usize) -> StoreResult<()>;
    /// Per-variant counts of an experiment whose conversion is a submission of `goal_form`.
    async fn experiment_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<VariantCounts>>;
    /// Per-day counts for the cumulative chart, oldest first.
    async fn daily_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<DailyVariantCounts>>;
    /// Non-spam leads grouped by UTC day, `utm_source` and `utm_campaign`, oldest day first.
    async fn funnel(&self) -> StoreResult<Vec<FunnelRow>>;
    /// First exposure time of an experiment, if any.
    async fn experiment_started_at(&self, experiment: &str) -> StoreResult<Option<DateTime<Utc>>>;
    /// Leads matching `query`, newest first.
    async fn leads(&self, query: &LeadQuery) -> StoreResult<Vec<Lead>>;
    /// How many leads match `query` (ignoring limit/offset).
    async fn count_leads(&self, query: &LeadQuery) -> StoreResult<u64>;
    /// Erase every lead with this email (right to erasure); returns how many.
    async fn erase_leads(&self, email: &str) -> StoreResult<u64>;
    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Deletes what `policy` no longer keeps at `now`: old leads with their deliveries, and
    /// exposures of visitors gone before the window (see [`retention`]). In short
    /// transactions, so the capture server keeps writing meanwhile.
    async fn purge_expired(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<PurgeCounts>;
    /// Up to `limit` leads matching `query`, oldest first, after `after`: pages for a
    /// streamed export that stay consistent while new leads arrive.
    async fn lead_page(
        &self,
        query: &PageQuery,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Lead>>;
    /// Write-path figures for `/metrics`.
    fn commit_stats(&self) -> CommitStats;

    // --- Outcomes: what became of the leads, for experiments and campaigns (outcomes.rs) ---
    /// Every goal-form lead of a visitor exposed to `experiment`, with its stage times and
    /// value, ordered by variant, visitor and time.
    async fn experiment_outcomes(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<OutcomeRow>>;
    /// Non-spam leads per `utm_source`, `utm_campaign` and deal currency, with how many
    /// became opportunities and customers and what the customers are worth.
    async fn source_outcomes(&self) -> StoreResult<Vec<SourceOutcomeRow>>;

    // --- Double opt-in (see [`opt_in`]) ---
    /// Confirms the lead stored as `id` at `now`, in one write that also makes its held
    /// deliveries pending and due at `now` (and wakes the worker). Idempotent: a second call
    /// answers [`ConfirmOutcome::AlreadyConfirmed`] and changes nothing.
    async fn confirm_lead(&self, id: &str, now: DateTime<Utc>) -> StoreResult<ConfirmOutcome>;
    /// Non-spam leads of double opt-in forms per form: unconfirmed and confirmed.
    async fn confirmation_counts(&self) -> StoreResult<Vec<ConfirmationCounts>>;
    // --- Named users: the dashboard's and the admin API's sign-ins (see src/users/) ---
    /// Add a user, or with `replace` overwrite its role and secret and move its
    /// `created_ms` forward (which ends its sessions); [`UserAdded::Exists`] otherwise.
    async fn add_user(&self, user: NewUser, replace: bool) -> StoreResult<UserAdded>;
    /// The user called `name`, with its secret's hash (a primary-key look-up, made on every
    /// signed-in request so that a removed user is refused at once).
    async fn user(&self, name: &str) -> StoreResult<Option<StoredUser>>;
    /// Every user by name, without hashes.
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Remove a user (its sessions end); false if there was none.
    async fn remove_user(&self, name: &str) -> StoreResult<bool>;

    // ---- Sales stages and speed to lead (see `store::lifecycle`) ----
    /// Records stage changes in order, each in its own transaction (SQLite: savepoint) with
    /// its deliveries and the lead's derived columns; answers one outcome per write.
    async fn record_stage_events(&self, writes: Vec<StageWrite>) -> StoreResult<Vec<StageOutcome>>;
    /// A lead's stage history, by `at`, ties in the order recorded.
    async fn stage_history(&self, lead_id: &str) -> StoreResult<Vec<crate::lifecycle::StageEvent>>;
    /// The most recent lead of each of `emails` (lower-cased), in one scan for all of them.
    async fn latest_leads_by_email(
        &self,
        emails: &[String],
    ) -> StoreResult<std::collections::HashMap<String, Lead>>;
    /// Up to `limit` non-spam leads still `new` and never contacted: qualified first, then
    /// oldest first (the sales queue).
    async fn uncontacted_leads(&self, limit: u32) -> StoreResult<Vec<Lead>>;
    /// The contact timing of every non-spam lead (speed-to-lead figures).
    async fn contact_samples(&self) -> StoreResult<Vec<ContactSample>>;
    /// Flush queued writes and stop the writer (graceful shutdown).
    async fn close(&self) -> StoreResult<()>;
}

/// A shared handle to whichever store `--db` chose.
pub type SharedStore = Arc<dyn Store>;

pub mod deliveries;
pub mod export;
pub mod lifecycle;
mod metrics;
pub mod opt_in;
pub mod outcomes;
pub mod postgres;
pub mod queue;
mod records;
pub mod retention;
mod schema;
pub mod sqlite;
pub mod users;

/// Opens the store named by a `--db` URL: `sqlite:PATH` (or a bare path) or
/// `postgres://user:password@host/database`.
pub async fn open(url: &str) -> StoreResult<SharedStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PgStore::open(url).await?));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::BadUrl(url.to_owned()));
    }
    Ok(Arc::new(sqlite::SqliteStore::open(std::path::Path::new(
        path,
    ))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_flags_store_as_their_json_names() {
        for f in [
            AttributionFlag::UnknownExperiment,
            AttributionFlag::UnknownVariant,
        ] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            assert_eq!(AttributionFlag::parse(f.as_str()), Some(f));
        }
        assert_eq!(AttributionFlag::parse("unknown"), None);
    }
}
