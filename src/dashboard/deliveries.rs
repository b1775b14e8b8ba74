//! The deliveries page (failed first, each with a redeliver button) and a lead's own page
//! with its deliveries.

use super::Dashboard;
use crate::store::{DeliveryRow, Lead};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One delivery as the dashboard shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DeliveryView {
    /// Row id (the redeliver form posts to it).
    pub id: i64,
    /// Lead id.
    pub lead: String,
    /// `lead.created`, …
    pub event: String,
    /// Target key.
    pub target: String,
    /// `pending`, `delivered`, `failed`.
    pub status: &'static str,
    /// Attempts in this round.
    pub attempts: u32,
    /// `HTTP 503`, the error, or empty.
    pub last: String,
    /// `42 ms` from the lead to the first attempt, or empty.
    pub first_attempt: String,
    /// When the next attempt is due, or empty.
    pub next_attempt: String,
    /// When the lead's row was written.
    pub created: String,
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(d: &DeliveryRow) -> DeliveryView {
        let last = match (&d.last_status, &d.last_error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => String::new(),
        };
        DeliveryView {
            id: d.id,
            lead: d.lead.clone(),
            event: d.event_type.clone(),
            target: d.target.clone(),
            status: d.status.as_str(),
            attempts: d.attempts,
            last,
            first_attempt: d
                .first_attempt_ms()
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
            next_attempt: time(d.next_attempt_at),
            created: time(Some(d.created_at)),
        }
    }
}

impl Dashboard {
    /// The deliveries page.
    pub fn deliveries(&self, rows: &[DeliveryRow]) -> Result<String, String> {
        let views: Vec<DeliveryView> = rows.iter().map(DeliveryView::from).collect();
        self.render("admin/deliveries.html", "deliveries", |c| {
            c.insert("deliveries", &views)
        })
    }

    /// One lead with its deliveries (and no stage history; see [`Dashboard::lead_page`]).
    pub fn lead(&self, lead: &Lead, rows: &[DeliveryRow]) -> Result<String, String> {
        self.lead_page(lead, rows, &[], &Default::default())
    }
}
