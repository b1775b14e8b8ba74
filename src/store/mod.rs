//! Lead and exposure storage behind one trait.
//!
//! The capture server, the report and the dashboard talk to storage only through [`Store`].
//! Two implementations share it: SQLite (embedded default, one group-committing writer) and
//! PostgreSQL (many stateless capture instances behind a load balancer). Every write method
//! resolves only after its transaction has committed durably, so an acknowledged submission
//! survives a crash.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use deliveries::{
    AfterAttempt, AttemptRecord, Claim, Claimed, ClaimedDelivery, DeliveryQuery, DeliveryRow,
    DeliveryStatus, NewDelivery, Outbox,
};
pub use lifecycle::{ContactSample, StageOutcome, StageWrite};
pub use opt_in::{ConfirmOutcome, Confirmation, ConfirmationCounts};
pub use outcomes::{OutcomeRow, SourceOutcomeRow};
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

/// UTM parameters of the landing URL, as the browser script copies them into the form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    /// `utm_source`
    pub source: Option<String>,
    /// `utm_medium`
    pub medium: Option<String>,
    /// `utm_campaign`
    pub campaign: Option<String>,
    /// `utm_term`
    pub term: Option<String>,
    /// `utm_content`
    pub content: Option<String>,
}

/// Why a lead's experiment attribution was not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionFlag {
    /// `_experiment` names no experiment in the manifest.
    UnknownExperiment,
    /// `_variant` names no variant of that experiment.
    UnknownVariant,
}

impl AttributionFlag {
    /// The stored and exported text (`unknown_experiment`, `unknown_variant`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttributionFlag::UnknownExperiment => "unknown_experiment",
            AttributionFlag::UnknownVariant => "unknown_variant",
        }
    }

    /// The flag stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<AttributionFlag> {
        [
            AttributionFlag::UnknownExperiment,
            AttributionFlag::UnknownVariant,
        ]
        .into_iter()
        .find(|f| f.as_str() == text)
    }
}

/// A validated lead as the capture server hands it to the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewLead {
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// Form id.
    pub form: String,
    /// The visitor's answers, field name to value (checkbox groups are arrays).
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The answer of the form's email field, lower-cased, if any.
    pub email: Option<String>,
    /// `_experiment` as submitted (kept even when unknown).
    pub experiment: Option<String>,
    /// `_variant` as submitted (kept even when unknown).
    pub variant: Option<String>,
    /// Set when the attribution is not counted toward the experiment.
    pub attribution_flag: Option<AttributionFlag>,
    /// `_visitor`, the first-party visitor id.
    pub visitor: Option<String>,
    /// `_page`, the path the form was submitted from.
    pub page: Option<String>,
    /// The referrer the script captured.
    pub referrer: Option<String>,
    /// UTM parameters.
    pub utm: Utm,
    /// The request's user agent.
    pub user_agent: Option<String>,
    /// Keyed hash of the client IP (the key rotates daily); never the raw address.
    pub ip_hash: Option<String>,
    /// Qualification score.
    pub score: i64,
    /// Whether the score reached the form's threshold.
    pub qualified: bool,
    /// Set when the lead is spam (e.g. `honeypot`); spam is stored, never counted or delivered.
    pub spam_reason: Option<String>,
    /// The consent checkbox's label text, stored as proof of consent.
    pub consent: Option<String>,
    /// Identity of the submission for deduplication: the same key within
    /// [`DEDUPE_WINDOW_SECS`] of an earlier lead returns the earlier lead's id.
    pub dedupe_key: String,
    /// Double opt-in state: `None` where the form does not ask for it; a new lead of a
    /// double opt-in form is stored [`Confirmation::Unconfirmed`].
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
    /// The form's version as shown ([`crate::forms::form_version`]), for the consent proof.
    #[serde(default)]
    pub form_version: Option<String>,
}

impl NewLead {
    /// The exposure `(experiment, variant, visitor)` this lead implies, when it counts toward
    /// an experiment: attributed to a known variant, not spam, from a known visitor. Stores
    /// record it in the lead's transaction (beacons get blocked; submissions must still count).
    pub fn implied_exposure(&self) -> Option<(&str, &str, &str)> {
        match (
            &self.spam_reason,
            self.attribution_flag,
            &self.experiment,
            &self.variant,
            &self.visitor,
        ) {
            (None, None, Some(e), Some(v), Some(vis)) => Some((e, v, vis)),
            _ => None,
        }
    }
}

/// How long an identical submission (same `dedupe_key`) counts as the same lead. SQLite keeps
/// this window in the writer's memory, bounded under extreme load (see `store/sqlite/recent.rs`).
pub const DEDUPE_WINDOW_SECS: i64 = 300;

/// The store's answer to [`Store::insert_lead`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadReceipt {
    /// Time-ordered lead id (UUIDv7 text).
    pub id: String,
    /// True when this was a repeat of an earlier lead inside the dedupe window.
    pub duplicate: bool,
    /// Whether the (original) lead is qualified.
    pub qualified: bool,
}

/// One exposure of a visitor to an experiment's variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// Experiment id.
    pub experiment: String,
    /// Variant id the visitor saw.
    pub variant: String,
    /// First-party visitor id.
    pub visitor: String,
    /// Page path, if known.
    pub page: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// The store's answer to [`Store::record_exposure`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureReceipt {
    /// True for the visitor's first exposure to this experiment.
    pub first: bool,
    /// The visitor's variant: the first one ever recorded for (experiment, visitor).
    pub variant: String,
}

/// Raw per-variant counts of one experiment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantCounts {
    /// Variant id.
    pub variant: String,
    /// Distinct exposed visitors (their first variant is this one).
    pub visitors: u64,
    /// Distinct exposed visitors who submitted the goal form (not spam, not flagged).
    pub conversions: u64,
    /// Of those, visitors with at least one qualified lead.
    pub qualified: u64,
    /// Page views including repeats.
    pub views: u64,
}

/// Cumulative-chart input: conversions and visitors of one variant on one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyVariantCounts {
    /// UTC day.
    pub day: NaiveDate,
    /// Variant id.
    pub variant: String,
    /// Visitors first exposed that day.
    pub visitors: u64,
    /// Conversions that day (first goal submission of an exposed visitor).
    pub conversions: u64,
}

/// Funnel input: non-spam leads received on one UTC day from one source and campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelRow {
    /// UTC day the leads arrived.
    pub day: NaiveDate,
    /// `utm_source`, if the lead had one.
    pub utm_source: Option<String>,
    /// `utm_campaign`, if the lead had one.
    pub utm_campaign: Option<String>,
    /// Leads (not spam).
    pub leads: u64,
    /// Of those, qualified leads.
    pub qualified: u64,
}

/// Filter and page for listing leads (dashboard, export).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadQuery {
    /// Only this form.
    pub form: Option<String>,
    /// Only this experiment.
    pub experiment: Option<String>,
    /// Only this variant.
    pub variant: Option<String>,
    /// Only qualified (true) or unqualified (false) leads.
    pub qualified: Option<bool>,
    /// Only spam (true) or only non-spam (false); `None` means both.
    pub spam: Option<bool>,
    /// Page size; 0 means no limit.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// A parameter of a [`LeadQuery`]'s WHERE clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterValue {
    /// A text column's value.
    Text(String),
    /// A flag column's value.
    Flag(bool),
}

impl LeadQuery {
    /// The WHERE clause of the filters (empty without any) with numbered placeholders
    /// `{mark}1`, `{mark}2`, … (`?` for SQLite, `$` for PostgreSQL), and their values in order.
    pub fn where_clause(&self, mark: char) -> (String, Vec<FilterValue>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        for (col, val) in [
            ("form", &self.form),
            ("experiment", &self.experiment),
            ("variant", &self.variant),
        ] {
            if let Some(v) = val {
                params.push(FilterValue::Text(v.clone()));
                clauses.push(format!("{col} = {mark}{}", params.len()));
            }
        }
        if let Some(q) = self.qualified {
            params.push(FilterValue::Flag(q));
            clauses.push(format!("qualified = {mark}{}", params.len()));
        }
        match self.spam {
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
}

/// A stored lead, newest first in listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    /// Time-ordered id.
    pub id: String,
    /// Everything that was recorded.
    #[serde(flatten)]
    pub lead: NewLead,
    /// When the lead clicked its confirmation link (double opt-in).
    #[serde(default)]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Where it stands in the sales funnel (derived from its stage history).
    #[serde(flatten)]
    pub stage: crate::lifecycle::StageState,
}

/// Write-path figures for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// Sum of commit latencies in seconds.
    pub commit_seconds_sum: f64,
    /// Cumulative commit-latency histogram: (upper bound in seconds, count).
    pub commit_seconds_buckets: Vec<(f64, u64)>,
    /// Sum of batch sizes (writes per transaction).
    pub batch_size_sum: u64,
    /// Cumulative batch-size histogram: (upper bound, count).
    pub batch_size_buckets: Vec<(f64, u64)>,
    /// Beacons answered and not yet committed.
    pub queued_exposures: u64,
    /// Beacons answered whose commit failed (lost), since start.
    pub dropped_exposures: u64,
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
