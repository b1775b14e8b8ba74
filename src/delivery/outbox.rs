//! The request side of the outbox: which rows a new lead writes, decided before the lead
//! reaches the store so that the store only inserts what it is given, in the lead's
//! transaction.

use super::Targets;
use crate::store::{NewDelivery, NewLead, Outbox};

/// The deliveries of a lead about to be stored, under a lead id made here (the bodies name
/// it), plus its `lead.sla_breached` rows, due `sla_minutes` after it arrived, when
/// `[capture] contact_within_minutes` is set; `None` when no target wants it (spam never has
/// any).
pub fn outbox_for(targets: &Targets, lead: &NewLead, sla_minutes: Option<f64>) -> Option<Outbox> {
    if targets.is_empty() || lead.spam_reason.is_some() {
        return None;
    }
    let lead_id = uuid::Uuid::now_v7().to_string();
    let mut deliveries: Vec<NewDelivery> = targets
        .deliveries_for(&lead_id, lead)
        .into_iter()
        .map(|(target, message)| NewDelivery {
            event_id: message.id,
            event_type: message.kind.as_str().to_owned(),
            target: target.0,
            body: message.body,
            held: false,
            due_ms: None,
        })
        .collect();
    if let Some(minutes) = sla_minutes {
        deliveries.extend(crate::lifecycle::notify::sla_deliveries(
            targets, &lead_id, lead, minutes,
        ));
    }
    (!deliveries.is_empty()).then_some(Outbox {
        lead_id,
        deliveries,
    })
}
