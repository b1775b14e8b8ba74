//! The stores' side of the sales funnel: stage changes written with their deliveries, the
//! history, and what the queue and the speed-to-lead figures read.
//!
//! Both stores write a change the same way, in one transaction: answer a known `event_id`
//! from the recorded event (a replay, or a conflict when its content differs), append the
//! event to `lead_events`, recompute the lead's derived columns from its whole history
//! ([`crate::lifecycle::derive`]), cancel the lead's pending `lead.sla_breached` rows once it
//! has been contacted or disqualified, and insert the change's deliveries.

use super::NewDelivery;
use crate::lifecycle::{NewStageEvent, Source, Stage, StageEvent, StageState};
use chrono::{DateTime, Utc};

pub use crate::lifecycle::speed::ContactSample;

/// One stage change for the store: its lead, the validated event, and its outbox rows
/// (decided on the request's side, like a lead's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageWrite {
    /// The lead's id.
    pub lead_id: String,
    /// The change.
    pub event: NewStageEvent,
    /// `lead.stage_changed` rows, written only when the event is new.
    pub deliveries: Vec<NewDelivery>,
}

/// What became of a [`StageWrite`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageOutcome {
    /// Recorded now.
    Recorded(StageEvent),
    /// The event id was recorded before with the same content: that event, nothing written.
    Replayed(StageEvent),
    /// The event id was recorded before with other content: that event, nothing written.
    Conflict(StageEvent),
    /// No lead has that id (any more).
    UnknownLead,
}

/// The columns of a `lead_events` row, in [`event_from_parts`] order.
pub(crate) const EVENT_COLUMNS: &str =
    "event_id, lead_id, stage, at_ms, recorded_ms, source, actor, value_minor, currency, reason, note";

/// The SQL that cancels a contacted lead's waiting deadline rows (`{p}` = placeholder of the
/// lead id).
pub(crate) fn cancel_sla_sql(p: &str) -> String {
    format!(
        "UPDATE deliveries SET status = 'cancelled', next_attempt_ms = NULL, lease_until_ms = NULL, claimed_by = NULL
         WHERE lead_id = {p} AND event_type = 'lead.sla_breached' AND status = 'pending'"
    )
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A stage event from its stored columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn event_from_parts(
    event_id: String,
    lead_id: String,
    stage: &str,
    at_ms: i64,
    recorded_ms: i64,
    source: &str,
    actor: String,
    value_minor: Option<i64>,
    currency: Option<String>,
    reason: Option<String>,
    note: Option<String>,
) -> StageEvent {
    StageEvent {
        event_id,
        lead_id,
        stage: Stage::parse(stage).unwrap_or_default(),
        at: time(at_ms),
        recorded_at: time(recorded_ms),
        source: Source::parse(source),
        actor,
        value_minor,
        currency,
        reason,
        note,
    }
}

/// The lead's stage state from its stored columns (milliseconds).
pub(crate) fn state_from_parts(
    stage: &str,
    ms: [Option<i64>; 6],
    pipeline_minor: Option<i64>,
    revenue_minor: Option<i64>,
    currency: Option<String>,
) -> StageState {
    let t = |m: Option<i64>| m.and_then(DateTime::from_timestamp_millis);
    StageState {
        stage: Stage::parse(stage).unwrap_or_default(),
        stage_at: t(ms[0]),
        contacted_at: t(ms[1]),
        sales_qualified_at: t(ms[2]),
        opportunity_at: t(ms[3]),
        customer_at: t(ms[4]),
        disqualified_at: t(ms[5]),
        pipeline_minor,
        revenue_minor,
        currency,
    }
}

/// A known event id's answer: a replay when the content matches, else a conflict.
pub(crate) fn answer_known(w: &StageWrite, recorded: StageEvent) -> StageOutcome {
    if w.event.same_as(&w.lead_id, &recorded) {
        StageOutcome::Replayed(recorded)
    } else {
        StageOutcome::Conflict(recorded)
    }
}

/// The event as recorded now.
pub(crate) fn recorded(w: &StageWrite, now_ms: i64) -> StageEvent {
    let e = &w.event;
    StageEvent {
        event_id: e.event_id.clone(),
        lead_id: w.lead_id.clone(),
        stage: e.stage,
        at: e.at,
        recorded_at: time(now_ms),
        source: e.source,
        actor: e.actor.clone(),
        value_minor: e.value_minor,
        currency: e.currency.clone(),
        reason: e.reason.clone(),
        note: e.note.clone(),
    }
}
