//! The sales funnel behind each lead: stages, the events that change them, and speed to lead.
//!
//! A lead's history is a list of stage events (`lead_events`); everything the queue, the
//! reports and the export read per lead derives from that list ([`derive`]): the current stage
//! (the event with the latest `at`, ties by the order they were recorded), the first time each
//! funnel step was reached (once reached, always counted, even when the lead is moved back;
//! reaching a later step implies the earlier ones at that time), and the values of the
//! opportunity and the deal. The stores recompute it from the whole history in the event's
//! transaction, so a CRM reporting an event out of order still leaves the lead right.

pub mod input;
pub mod km;
pub mod money;
pub mod notify;
pub mod speed;

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

/// One event as [`derive`] needs it, in history order (by `at`, then as recorded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    /// Stage.
    pub stage: Stage,
    /// `at` in Unix milliseconds.
    pub at_ms: i64,
    /// Value in minor units.
    pub value_minor: Option<i64>,
    /// Its currency.
    pub currency: Option<String>,
}

/// The lead's derived columns, in milliseconds, as the stores write them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// Current stage.
    pub stage: Stage,
    /// Its time.
    pub stage_ms: Option<i64>,
    /// First reached contacted, sales_qualified, opportunity, customer (funnel order).
    pub reached_ms: [Option<i64>; 4],
    /// First disqualified.
    pub disqualified_ms: Option<i64>,
    /// Opportunity value.
    pub pipeline_minor: Option<i64>,
    /// Deal value.
    pub revenue_minor: Option<i64>,
    /// Currency of the values.
    pub currency: Option<String>,
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Derives a lead's columns from its history, given in order (by `at`, ties as recorded).
///
/// Values: the latest valued event fixes the currency; the pipeline is the latest valued
/// opportunity event in that currency and the revenue the latest valued customer event.
pub fn derive(history: &[HistoryItem]) -> Derived {
    let mut d = Derived::default();
    for e in history {
        d.stage = e.stage;
        d.stage_ms = Some(e.at_ms);
        match e.stage.step() {
            Some(step) => {
                for reached in &mut d.reached_ms[..step] {
                    *reached = min_opt(*reached, e.at_ms);
                }
            }
            None => d.disqualified_ms = min_opt(d.disqualified_ms, e.at_ms),
        }
        if e.value_minor.is_some() {
            d.currency = e.currency.clone();
        }
    }
    let latest = |stage: Stage| {
        history
            .iter()
            .rev()
            .find(|e| e.stage == stage && e.value_minor.is_some() && e.currency == d.currency)
            .and_then(|e| e.value_minor)
    };
    d.pipeline_minor = latest(Stage::Opportunity);
    d.revenue_minor = latest(Stage::Customer);
    d
}

impl Derived {
    /// The state as the lead carries it.
    pub fn state(&self) -> StageState {
        let t = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
        StageState {
            stage: self.stage,
            stage_at: t(self.stage_ms),
            contacted_at: t(self.reached_ms[0]),
            sales_qualified_at: t(self.reached_ms[1]),
            opportunity_at: t(self.reached_ms[2]),
            customer_at: t(self.reached_ms[3]),
            disqualified_at: t(self.disqualified_ms),
            pipeline_minor: self.pipeline_minor,
            revenue_minor: self.revenue_minor,
            currency: self.currency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(stage: Stage, at_ms: i64) -> HistoryItem {
        HistoryItem {
            stage,
            at_ms,
            value_minor: None,
            currency: None,
        }
    }

    #[test]
    fn stages_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Stage::parse("won"), None);
    }

    #[test]
    fn a_later_step_implies_the_earlier_ones_and_moving_back_keeps_them() {
        let d = derive(&[
            item(Stage::Contacted, 100),
            item(Stage::Customer, 300),
            item(Stage::New, 400),
        ]);
        assert_eq!(d.stage, Stage::New, "moved back");
        assert_eq!(d.stage_ms, Some(400));
        assert_eq!(d.reached_ms, [Some(100), Some(300), Some(300), Some(300)]);
        assert_eq!(d.disqualified_ms, None);
    }

    #[test]
    fn an_earlier_event_lowers_reached_times_but_not_the_current_stage() {
        // History is in `at` order: a backdated opportunity sits before the contact.
        let d = derive(&[item(Stage::Opportunity, 50), item(Stage::Contacted, 100)]);
        assert_eq!(d.stage, Stage::Contacted);
        assert_eq!(d.reached_ms, [Some(50), Some(50), Some(50), None]);
    }

    #[test]
    fn disqualified_is_off_the_path() {
        let d = derive(&[item(Stage::Disqualified, 10), item(Stage::Contacted, 20)]);
        assert_eq!(d.disqualified_ms, Some(10));
        assert_eq!(d.reached_ms[0], Some(20));
        assert_eq!(d.stage, Stage::Contacted);
    }

    #[test]
    fn values_follow_the_latest_valued_event_of_each_stage() {
        let valued = |stage, at_ms, v, c: &str| HistoryItem {
            stage,
            at_ms,
            value_minor: Some(v),
            currency: Some(c.into()),
        };
        let d = derive(&[
            valued(Stage::Opportunity, 1, 1000, "EUR"),
            valued(Stage::Opportunity, 2, 1500, "EUR"),
            item(Stage::Customer, 3),
        ]);
        assert_eq!(
            (d.pipeline_minor, d.revenue_minor, d.currency.as_deref()),
            (Some(1500), None, Some("EUR"))
        );
        let d = derive(&[
            valued(Stage::Opportunity, 1, 1000, "EUR"),
            valued(Stage::Customer, 2, 900, "USD"),
        ]);
        assert_eq!(
            (d.pipeline_minor, d.revenue_minor, d.currency.as_deref()),
            (None, Some(900), Some("USD")),
            "values in another currency than the latest are not mixed in"
        );
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
