//! The outbox's records: deliveries written with their lead, claimed by the delivery worker,
//! each attempt logged.
//!
//! The store only keeps what it is given: which targets a lead goes to, and each body, are
//! decided on the request's side (`crate::delivery::outbox`) before the lead reaches the store,
//! so a lead and its deliveries commit in one transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A lead's deliveries, stored in the lead's own transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    /// The id the lead is stored under: the bodies name it, so it is made before the insert.
    pub lead_id: String,
    /// One row per target and event.
    pub deliveries: Vec<NewDelivery>,
}

/// One event for one target, as the request side prepared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The event's id (`webhook-id`): the same on every retry and redelivery.
    pub event_id: String,
    /// `lead.created`, `lead.qualified`.
    pub event_type: String,
    /// The target's key in the configuration.
    pub target: String,
    /// The body, serialised once; sent (and signed) exactly as stored.
    pub body: String,
    /// Written `held` (never claimed) until the lead confirms its address (double opt-in).
    pub held: bool,
    /// When the first attempt is due (Unix ms); `None` for at once. A `lead.sla_breached`
    /// row waits for its deadline.
    pub due_ms: Option<i64>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// A 2xx answer arrived.
    Delivered,
    /// Given up: the schedule ran out, or the target answered 410. Kept.
    Failed,
    /// Waiting for the lead to confirm its address (double opt-in); never claimed until then.
    Held,
    /// Not needed any more: a `lead.sla_breached` row whose lead was contacted in time.
    Cancelled,
}

impl DeliveryStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Held => "held",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
            DeliveryStatus::Held,
            DeliveryStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A request for due deliveries.
#[derive(Clone, Debug)]
pub struct Claim {
    /// Who claims (an id per process): an attempt is recorded only by its claimant.
    pub worker: String,
    /// Now.
    pub now: DateTime<Utc>,
    /// How long the claim holds; a row whose lease expired is claimed again (a killed
    /// instance's rows go to another). Longer than any attempt may take.
    pub lease: Duration,
    /// Most rows to claim.
    pub limit: u32,
}

/// A claimed delivery, ready to attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// Row id.
    pub id: i64,
    /// The lead's id.
    pub lead_id: String,
    /// `webhook-id`.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Target key.
    pub target: String,
    /// The body as stored.
    pub body: String,
    /// Attempts so far (in this round: a redelivery starts again at 0).
    pub attempts: u32,
    /// When the row was written (with its lead).
    pub created_at: DateTime<Utc>,
    /// When the first attempt was made, if one was.
    pub first_attempt_at: Option<DateTime<Utc>>,
}

/// The store's answer to [`crate::store::Store::claim_deliveries`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claimed {
    /// The rows now leased to the claimant.
    pub deliveries: Vec<ClaimedDelivery>,
    /// When the next pending row not claimed now falls due (its next attempt, or its lease's
    /// end), if there is one: the worker sleeps until then. A claim that took as many rows as
    /// it asked for answers the claim's own time: more may be due at once, and finding the
    /// next due time would read every pending row.
    pub next_due: Option<DateTime<Utc>>,
}

/// What became of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Delivered: done.
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Given up (410, or the schedule ran out).
    Failed,
    /// Not attempted: no longer needed (a deadline met after all).
    Cancelled,
}

/// One attempt, as the worker records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The delivery.
    pub delivery: i64,
    /// The claimant: nothing is recorded if the row is no longer leased to it.
    pub worker: String,
    /// When the attempt started.
    pub at: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
    /// `delivered`, `http_error`, `gone`, `network_error`, `refused`, … (for the log and metrics).
    pub outcome: String,
    /// The HTTP status, if one came back.
    pub http_status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The row's next state.
    pub next: AfterAttempt,
}

/// Filter for listing deliveries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only this lead's.
    pub lead: Option<String>,
    /// Page size; 0 means no limit.
    pub limit: u32,
}

/// A delivery as listed (API, dashboard): failed first, then pending, then held, then
/// delivered; newest
/// first within each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    /// Row id.
    pub id: i64,
    /// The lead's id.
    pub lead: String,
    /// `webhook-id`.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Target key.
    pub target: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts in this round.
    pub attempts: u32,
    /// The last answer's HTTP status.
    pub last_status: Option<u16>,
    /// The last error.
    pub last_error: Option<String>,
    /// When the row was written.
    pub created_at: DateTime<Utc>,
    /// When the first attempt was made.
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending rows).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    /// Milliseconds from the lead's commit to the first attempt.
    pub fn first_attempt_ms(&self) -> Option<i64> {
        self.first_attempt_at
            .map(|t| (t - self.created_at).num_milliseconds())
    }
}

/// A stored millisecond timestamp as a time.
pub(crate) fn from_ms(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

/// The ordering of listings: failed first, then pending, then held, then delivered and
/// cancelled.
pub(crate) const LIST_ORDER: &str =
    "CASE status WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 WHEN 'held' THEN 2 ELSE 3 END, id DESC";

/// The stored columns of [`AfterAttempt`]: status, next attempt, delivered at.
pub(crate) fn after_columns(
    next: AfterAttempt,
    at_ms: i64,
) -> (&'static str, Option<i64>, Option<i64>) {
    match next {
        AfterAttempt::Delivered => ("delivered", None, Some(at_ms)),
        AfterAttempt::RetryAt(t) => ("pending", Some(t.timestamp_millis()), None),
        AfterAttempt::Failed => ("failed", None, None),
        AfterAttempt::Cancelled => ("cancelled", None, None),
    }
}

/// The window of `received_ms` a lead id can belong to: a UUIDv7 names the millisecond it was
/// made, on the request's thread right after the lead's `received_at` was taken. A minute on
/// either side covers any clock step between the two; `None` for an id that is not a UUIDv7.
pub(crate) fn lead_id_window(id: &str) -> Option<(i64, i64)> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    let ms = secs as i64 * 1000 + i64::from(nanos / 1_000_000);
    Some((ms - 60_000, ms + 60_000))
}
