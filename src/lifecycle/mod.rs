//! The sales funnel behind each lead: stages, the events that change them, and speed to lead.
//!
//! A lead's history is a list of stage events (`lead_events`); everything the queue, the
//! reports and the export read per lead derives from that list ([`derive`]): the current stage
//! (the event with the latest `at`, ties by the order they were recorded), the first time each
//! funnel step was reached (once reached, always counted, even when the lead is moved back;
//! reaching a later step implies the earlier ones at that time), and the values of the
//! opportunity and the deal. The stores recompute it from the whole history in the event's
//! transaction, so a CRM reporting an event out of order still leaves the lead right.

mod derive;
pub mod input;
pub mod km;
pub mod money;
pub mod notify;
pub mod speed;

pub use derive::{derive, Derived, HistoryItem};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a lead stands in the sales funnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Captured, nobody has talked to it yet.
    #[default]
    New,
    /// Somebody reached the lead.
    Contacted,
    /// Sales accepted it as a real prospect (SQL).
    SalesQualified,
    /// A deal is open (may carry its value).
    Opportunity,
    /// Won (may carry the deal's value).
    Customer,
    /// Not a prospect, for a stated reason; possible at any point.
    Disqualified,
}

impl Stage {
    /// Every stage, in funnel order (`disqualified` last).
    pub const ALL: [Stage; 6] = [
        Stage::New,
        Stage::Contacted,
        Stage::SalesQualified,
        Stage::Opportunity,
        Stage::Customer,
        Stage::Disqualified,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Contacted => "contacted",
            Stage::SalesQualified => "sales_qualified",
            Stage::Opportunity => "opportunity",
            Stage::Customer => "customer",
            Stage::Disqualified => "disqualified",
        }
    }

    /// The stage named `text`, if it is one.
    pub fn parse(text: &str) -> Option<Stage> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A label for people: `Sales qualified`.
    pub fn label(self) -> &'static str {
        match self {
            Stage::New => "New",
            Stage::Contacted => "Contacted",
            Stage::SalesQualified => "Sales qualified",
            Stage::Opportunity => "Opportunity",
            Stage::Customer => "Customer",
            Stage::Disqualified => "Disqualified",
        }
    }

    /// The step on the way to `customer` (0 = new … 4 = customer); `None` for disqualified,
    /// which is off the path.
    fn step(self) -> Option<usize> {
        match self {
            Stage::New => Some(0),
            Stage::Contacted => Some(1),
            Stage::SalesQualified => Some(2),
            Stage::Opportunity => Some(3),
            Stage::Customer => Some(4),
            Stage::Disqualified => None,
        }
    }

    /// Whether an event of this stage may carry a value.
    pub fn takes_value(self) -> bool {
        matches!(self, Stage::Opportunity | Stage::Customer)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a stage change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A person, in the dashboard.
    Dashboard,
    /// The admin API (a script or a CRM sync).
    Api,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dashboard => "dashboard",
            Source::Api => "api",
        }
    }

    /// The source stored as `text` (unknown text reads as `api`).
    pub fn parse(text: &str) -> Source {
        if text == "dashboard" {
            Source::Dashboard
        } else {
            Source::Api
        }
    }
}

/// A stage change about to be recorded, validated (see [`input`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStageEvent {
    /// Idempotency key: the same id again answers the first result.
    pub event_id: String,
    /// The new stage.
    pub stage: Stage,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Whether the caller gave `at` (a retry without it matches any recorded time).
    pub at_given: bool,
    /// Dashboard or API.
    pub source: Source,
    /// Who made the change (see `capture::app::lead_events::actor`).
    pub actor: String,
    /// The value in minor units of `currency` (opportunity and customer only).
    pub value_minor: Option<i64>,
    /// ISO 4217 code of the value.
    pub currency: Option<String>,
    /// Why (required for `disqualified`).
    pub reason: Option<String>,
    /// A free note.
    pub note: Option<String>,
}

impl NewStageEvent {
    /// Whether `recorded` (stored under the same event id) says the same thing: same lead,
    /// stage, value, currency, reason and note, and the same time when this one names one.
    /// Where it came from and who sent it may differ (a retry through another path).
    pub fn same_as(&self, lead_id: &str, recorded: &StageEvent) -> bool {
        recorded.lead_id == lead_id
            && recorded.stage == self.stage
            && (!self.at_given || recorded.at.timestamp_millis() == self.at.timestamp_millis())
            && recorded.value_minor == self.value_minor
            && recorded.currency == self.currency
            && recorded.reason == self.reason
            && recorded.note == self.note
    }
}

/// A recorded stage change, as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEvent {
    /// Idempotency key.
    pub event_id: String,
    /// The lead.
    pub lead_id: String,
    /// The stage it moved to.
    pub stage: Stage,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Dashboard or API.
    pub source: Source,
    /// Who.
    pub actor: String,
    /// Value in minor units.
    pub value_minor: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// What derives from a lead's history, kept on the lead row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StageState {
    /// The current stage.
    pub stage: Stage,
    /// When the current stage was reached (`None` for a lead never moved).
    pub stage_at: Option<DateTime<Utc>>,
    /// First contact (the start of speed-to-lead's clock is the lead's own time).
    pub contacted_at: Option<DateTime<Utc>>,
    /// First reached `sales_qualified`.
    pub sales_qualified_at: Option<DateTime<Utc>>,
    /// First reached `opportunity`.
    pub opportunity_at: Option<DateTime<Utc>>,
    /// First reached `customer`.
    pub customer_at: Option<DateTime<Utc>>,
    /// First disqualified.
    pub disqualified_at: Option<DateTime<Utc>>,
    /// The opportunity's value, minor units of `currency`.
    pub pipeline_minor: Option<i64>,
    /// The deal's value, minor units of `currency`.
    pub revenue_minor: Option<i64>,
    /// ISO 4217 code of the values.
    pub currency: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Stage::parse("won"), None);
    }

    #[test]
    fn a_retry_matches_unless_its_content_differs() {
        let recorded = StageEvent {
            event_id: "e1".into(),
            lead_id: "l1".into(),
            stage: Stage::Contacted,
            at: DateTime::from_timestamp_millis(1000).unwrap(),
            recorded_at: DateTime::from_timestamp_millis(1000).unwrap(),
            source: Source::Api,
            actor: "admin".into(),
            value_minor: None,
            currency: None,
            reason: None,
            note: Some("called".into()),
        };
        let mut retry = NewStageEvent {
            event_id: "e1".into(),
            stage: Stage::Contacted,
            at: DateTime::from_timestamp_millis(5000).unwrap(),
            at_given: false,
            source: Source::Dashboard,
            actor: "someone".into(),
            value_minor: None,
            currency: None,
            reason: None,
            note: Some("called".into()),
        };
        assert!(retry.same_as("l1", &recorded), "no `at` given: any time");
        assert!(!retry.same_as("l2", &recorded));
        retry.at_given = true;
        assert!(!retry.same_as("l1", &recorded), "another time");
        retry.at = recorded.at;
        assert!(retry.same_as("l1", &recorded));
        retry.note = None;
        assert!(!retry.same_as("l1", &recorded));
    }
}
