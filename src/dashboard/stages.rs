//! The sales side of the dashboard: a lead's stage with its buttons and history, and the
//! uncontacted queue (the screen a salesperson keeps open: new leads, qualified first, then
//! oldest first, each with its age and a one-tap "Contacted").

use super::deliveries::DeliveryView;
use super::leads::{lead_row, LeadRow};
use super::Dashboard;
use crate::lifecycle::speed::human;
use crate::lifecycle::{money, Stage, StageEvent, StageState};
use crate::store::{DeliveryRow, Lead};
use chrono::{DateTime, Utc};
use serde::Serialize;

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A stage button.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StageButton {
    /// `contacted`.
    pub id: &'static str,
    /// `Contacted`.
    pub label: &'static str,
    /// Whether it is the lead's stage now.
    pub current: bool,
}

/// A funnel step a lead reached, and when.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Reached {
    /// `Contacted`.
    pub step: &'static str,
    /// When it was first reached.
    pub at: String,
}

/// A lead's stage as its page shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StageView {
    /// `Sales qualified`.
    pub label: &'static str,
    /// `sales_qualified`.
    pub id: &'static str,
    /// Since when, or empty.
    pub since: String,
    /// Every step reached, with when.
    pub reached: Vec<Reached>,
    /// `1200.50 EUR` of the opportunity, or empty.
    pub pipeline: String,
    /// Of the deal, or empty.
    pub revenue: String,
    /// Time from the lead to its first contact, or empty.
    pub time_to_contact: String,
    /// The buttons, in funnel order.
    pub buttons: Vec<StageButton>,
}

fn value(minor: Option<i64>, currency: &Option<String>) -> String {
    match (minor, currency) {
        (Some(m), Some(c)) => format!("{} {c}", money::format_minor(m, c)),
        _ => String::new(),
    }
}

/// The view of `state` for a lead received at `received`.
pub fn stage_view(state: &StageState, received: DateTime<Utc>) -> StageView {
    let reached = [
        ("Contacted", state.contacted_at),
        ("Sales qualified", state.sales_qualified_at),
        ("Opportunity", state.opportunity_at),
        ("Customer", state.customer_at),
        ("Disqualified", state.disqualified_at),
    ]
    .into_iter()
    .filter_map(|(step, t)| {
        t.map(|t| Reached {
            step,
            at: time(Some(t)),
        })
    })
    .collect();
    StageView {
        label: state.stage.label(),
        id: state.stage.as_str(),
        since: time(state.stage_at),
        reached,
        pipeline: value(state.pipeline_minor, &state.currency),
        revenue: value(state.revenue_minor, &state.currency),
        time_to_contact: state
            .contacted_at
            .map(|c| {
                human(Some(
                    (c - received).num_milliseconds().max(0) as f64 / 1000.0,
                ))
            })
            .unwrap_or_default(),
        buttons: Stage::ALL
            .iter()
            .map(|s| StageButton {
                id: s.as_str(),
                label: s.label(),
                current: *s == state.stage,
            })
            .collect(),
    }
}

/// One event of the history.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HistoryRow {
    /// When it happened.
    pub at: String,
    /// Stage label.
    pub stage: &'static str,
    /// Value with currency, or empty.
    pub value: String,
    /// Who.
    pub actor: String,
    /// `dashboard` or `api`.
    pub source: &'static str,
    /// Reason, or empty.
    pub reason: String,
    /// Note, or empty.
    pub note: String,
}

fn history_row(e: &StageEvent) -> HistoryRow {
    HistoryRow {
        at: time(Some(e.at)),
        stage: e.stage.label(),
        value: value(e.value_minor, &e.currency),
        actor: e.actor.clone(),
        source: e.source.as_str(),
        reason: e.reason.clone().unwrap_or_default(),
        note: e.note.clone().unwrap_or_default(),
    }
}

/// One lead of the queue.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QueueRow {
    /// The lead as the tables show it.
    pub lead: LeadRow,
    /// `12 min` since it arrived.
    pub age: String,
    /// Waiting longer than five minutes.
    pub late: bool,
}

/// What the lead page's stage form needs besides the lead.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageForm {
    /// A fresh event id for the form: submitting the same form twice records one change.
    pub event_id: String,
    /// Why the last change was refused, if it was.
    pub error: Option<String>,
}

impl Dashboard {
    /// A lead with its stage, stage form, history and deliveries.
    pub fn lead_page(
        &self,
        lead: &Lead,
        deliveries: &[DeliveryRow],
        history: &[StageEvent],
        form: &StageForm,
    ) -> Result<String, String> {
        let view: LeadRow = lead_row(lead);
        let views: Vec<DeliveryView> = deliveries.iter().map(DeliveryView::from).collect();
        let stage = stage_view(&lead.stage, lead.lead.received_at);
        let history: Vec<HistoryRow> = history.iter().map(history_row).collect();
        self.render("admin/lead.html", "leads", |c| {
            c.insert("lead", &view);
            c.insert("consent", &super::consent::consent_view(lead));
            c.insert("deliveries", &views);
            c.insert("stage", &stage);
            c.insert("history", &history);
            c.insert("event_id", &form.event_id);
            c.insert("stage_error", &form.error);
        })
    }

    /// The uncontacted queue at `now`; `event_id` is a fresh base for the rows' forms.
    pub fn queue(&self, leads: &[Lead], now: DateTime<Utc>) -> Result<String, String> {
        let rows: Vec<QueueRow> = leads
            .iter()
            .map(|l| {
                let waited = (now - l.lead.received_at).num_milliseconds().max(0) as f64 / 1000.0;
                QueueRow {
                    lead: lead_row(l),
                    age: human(Some(waited)),
                    late: waited > crate::lifecycle::speed::WITHIN_SECS,
                }
            })
            .collect();
        let event_base = format!("evt_{}", uuid::Uuid::now_v7().simple());
        self.render("admin/queue.html", "queue", |c| {
            c.insert("rows", &rows);
            c.insert("event_base", &event_base);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_shows_reached_steps_values_and_the_wait() {
        let received: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let state = StageState {
            stage: Stage::Customer,
            stage_at: Some("2026-03-03T10:00:00Z".parse().unwrap()),
            contacted_at: Some("2026-03-01T10:03:00Z".parse().unwrap()),
            customer_at: Some("2026-03-03T10:00:00Z".parse().unwrap()),
            revenue_minor: Some(500),
            currency: Some("JPY".into()),
            ..StageState::default()
        };
        let v = stage_view(&state, received);
        assert_eq!(v.label, "Customer");
        assert_eq!(v.time_to_contact, "3 min");
        assert_eq!(v.revenue, "500 JPY");
        assert_eq!(v.reached.len(), 2);
        assert_eq!(v.buttons.iter().filter(|b| b.current).count(), 1);
    }
}
