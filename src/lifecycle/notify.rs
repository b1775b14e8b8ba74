//! The way out: `lead.stage_changed` and `lead.sla_breached` through the outbox.
//!
//! Both bodies are the Standard Webhooks envelope of `lead.created` with the same lead in
//! `data`, plus what happened: `data.change` (the stage event) or `data.sla` (the deadline).
//! Receivers that read `lead.created` read these too; e-mail and Slack render from the lead
//! and [`annotate`] puts the change into the headline and the facts.

use super::{money, NewStageEvent};
use crate::delivery::summary::{one_line, Summary};
use crate::delivery::{EventKind, LeadPayload, Message, Targets};
use crate::store::{Lead, NewDelivery, NewLead};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn envelope(
    kind: EventKind,
    at: DateTime<Utc>,
    payload: &LeadPayload,
    key: &str,
    extra: Value,
) -> String {
    let mut data = serde_json::to_value(payload).unwrap_or_default();
    data[key] = extra;
    json!({
        "type": kind.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The `webhook-id` of a stage event: derived from the lead and the event id (which may hold
/// any text, the spec wants no `.`), so a replay of the event is recognisably the same.
pub fn stage_message_id(lead_id: &str, event_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(lead_id.as_bytes());
    h.update([0]);
    h.update(event_id.as_bytes());
    format!(
        "msg_{}_{}",
        hex::encode(&h.finalize()[..12]),
        EventKind::LeadStageChanged.id_suffix()
    )
}

/// The change as `data.change` shows it.
pub fn change_json(e: &NewStageEvent) -> Value {
    json!({
        "event_id": e.event_id,
        "stage": e.stage,
        "at": e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "source": e.source,
        "actor": e.actor,
        "value": e.value_minor.zip(e.currency.as_deref()).map(|(m, c)| money::format_minor(m, c)),
        "value_minor": e.value_minor,
        "currency": e.currency,
        "reason": e.reason,
        "note": e.note,
    })
}

/// The outbox rows of a stage change: one per target subscribed to `lead.stage_changed`.
pub fn stage_deliveries(targets: &Targets, lead: &Lead, e: &NewStageEvent) -> Vec<NewDelivery> {
    let kind = EventKind::LeadStageChanged;
    let matching = targets.matching(kind, &lead.lead.form);
    if matching.is_empty() || lead.lead.spam_reason.is_some() {
        return Vec::new();
    }
    let payload = LeadPayload::from_new_lead(&lead.id, &lead.lead);
    let body = envelope(kind, e.at, &payload, "change", change_json(e));
    let id = stage_message_id(&lead.id, &e.event_id);
    matching
        .into_iter()
        .map(|t| NewDelivery {
            event_id: id.clone(),
            event_type: kind.as_str().to_owned(),
            target: t.0,
            body: body.clone(),
            due_ms: None,
            held: false,
        })
        .collect()
}

/// The scheduled `lead.sla_breached` rows of a new lead, due `minutes` after it arrived;
/// the contacting event's transaction cancels them (see the stores' lifecycle writes).
pub fn sla_deliveries(
    targets: &Targets,
    lead_id: &str,
    lead: &NewLead,
    minutes: f64,
) -> Vec<NewDelivery> {
    let kind = EventKind::LeadSlaBreached;
    let matching = targets.matching(kind, &lead.form);
    if matching.is_empty() || lead.spam_reason.is_some() {
        return Vec::new();
    }
    let due =
        lead.received_at + chrono::Duration::milliseconds((minutes * 60_000.0).round() as i64);
    let payload = LeadPayload::from_new_lead(lead_id, lead);
    let sla = json!({
        "contact_within_minutes": minutes,
        "due_at": due.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let body = envelope(kind, due, &payload, "sla", sla);
    let id = format!("msg_{lead_id}_{}", kind.id_suffix());
    matching
        .into_iter()
        .map(|t| NewDelivery {
            event_id: id.clone(),
            event_type: kind.as_str().to_owned(),
            target: t.0,
            body: body.clone(),
            due_ms: Some(due.timestamp_millis()),
            held: false,
        })
        .collect()
}

/// Puts a stage change or a missed deadline into a summary built from the lead.
pub fn annotate(summary: &mut Summary, message: &Message) {
    let data = serde_json::from_str::<Value>(&message.body)
        .ok()
        .map(|v| v["data"].clone())
        .unwrap_or_default();
    let text = |v: &Value| v.as_str().map(one_line).filter(|s| !s.is_empty());
    match message.kind {
        EventKind::LeadStageChanged => {
            let c = &data["change"];
            let stage = c["stage"]
                .as_str()
                .and_then(super::Stage::parse)
                .map_or("another stage", |s| s.label());
            let mut headline = format!("{}: {stage}", summary.who);
            let value = text(&c["value"]).zip(text(&c["currency"]));
            if let Some((v, cur)) = &value {
                headline.push_str(&format!(" ({v} {cur})"));
            }
            summary.headline = one_line(&format!("Stage changed: {headline}"));
            let mut facts = vec![("Stage".to_owned(), stage.to_owned())];
            for (label, key) in [
                ("Changed at", "at"),
                ("By", "actor"),
                ("Reason", "reason"),
                ("Note", "note"),
            ] {
                if let Some(v) = text(&c[key]) {
                    facts.push((label.to_owned(), v));
                }
            }
            if let Some((v, cur)) = value {
                facts.push(("Value".to_owned(), format!("{v} {cur}")));
            }
            facts.append(&mut summary.facts);
            summary.facts = facts;
        }
        EventKind::LeadSlaBreached => {
            let minutes = data["sla"]["contact_within_minutes"]
                .as_f64()
                .unwrap_or_default();
            summary.headline = one_line(&format!(
                "Not contacted within {minutes} min: {} ({})",
                summary.who,
                summary
                    .facts
                    .iter()
                    .find(|(k, _)| k == "Received")
                    .map_or("", |(_, v)| v)
            ));
            if let Some(due) = text(&data["sla"]["due_at"]) {
                summary.facts.insert(0, ("Contact was due".to_owned(), due));
            }
        }
        EventKind::LeadCreated | EventKind::LeadQualified => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Labels;
    use crate::lifecycle::{Source, Stage};

    fn lead() -> Lead {
        let mut answers = serde_json::Map::new();
        answers.insert("name".into(), "Ada".into());
        Lead {
            id: "L1".into(),
            lead: NewLead {
                received_at: "2026-03-01T10:00:00Z".parse().unwrap(),
                form: "demo".into(),
                answers,
                email: Some("ada@example.com".into()),
                experiment: None,
                variant: None,
                attribution_flag: None,
                visitor: None,
                page: None,
                referrer: None,
                utm: Default::default(),
                user_agent: None,
                ip_hash: None,
                score: 0,
                qualified: false,
                spam_reason: None,
                consent: None,
                dedupe_key: "k".into(),
                confirmation: None,
                form_version: None,
            },
            confirmed_at: None,
            stage: Default::default(),
        }
    }

    fn targets() -> Targets {
        let c = crate::config::Config::parse(
            "base_url = \"https://x.test\"\n[[capture.webhooks]]\nurl = \"https://hooks.x.test/a\"\nsecret_env = \"S\"\nevents = [\"lead.stage_changed\", \"lead.sla_breached\"]\n",
        )
        .unwrap();
        let env = |n: &str| (n == "S").then(|| "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        Targets::from_config(&c, &env).unwrap()
    }

    fn change() -> NewStageEvent {
        NewStageEvent {
            event_id: "hs.1".into(),
            stage: Stage::Customer,
            at: "2026-03-02T10:00:00Z".parse().unwrap(),
            at_given: true,
            source: Source::Api,
            actor: "admin".into(),
            value_minor: Some(120050),
            currency: Some("EUR".into()),
            reason: None,
            note: Some("signed".into()),
        }
    }

    #[test]
    fn the_stage_body_is_the_lead_with_its_change() {
        let rows = stage_deliveries(&targets(), &lead(), &change());
        assert_eq!(rows.len(), 1);
        let d = &rows[0];
        assert_eq!(d.event_type, "lead.stage_changed");
        assert!(!d.event_id.contains('.'));
        assert_eq!(
            d.event_id,
            stage_message_id("L1", "hs.1"),
            "stable across replays"
        );
        let v: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(v["type"], "lead.stage_changed");
        assert_eq!(v["data"]["id"], "L1");
        assert_eq!(v["data"]["change"]["stage"], "customer");
        assert_eq!(v["data"]["change"]["value"], "1200.50");
        let m = Message {
            id: d.event_id.clone(),
            kind: EventKind::LeadStageChanged,
            body: d.body.clone(),
        };
        let p = m.payload().unwrap();
        let mut s = Summary::new(&p, m.kind, &Labels::default(), "L".into());
        annotate(&mut s, &m);
        assert_eq!(s.headline, "Stage changed: Ada: Customer (1200.50 EUR)");
        assert!(s.facts.contains(&("Note".into(), "signed".into())));
    }

    #[test]
    fn the_sla_row_is_due_after_the_deadline() {
        let l = lead();
        let rows = sla_deliveries(&targets(), "L1", &l.lead, 5.0);
        assert_eq!(rows.len(), 1);
        let due: DateTime<Utc> = "2026-03-01T10:05:00Z".parse().unwrap();
        assert_eq!(rows[0].due_ms, Some(due.timestamp_millis()));
        assert_eq!(rows[0].event_id, "msg_L1_sla");
        let m = Message {
            id: rows[0].event_id.clone(),
            kind: EventKind::LeadSlaBreached,
            body: rows[0].body.clone(),
        };
        let mut s = Summary::new(
            &m.payload().unwrap(),
            m.kind,
            &Labels::default(),
            "L".into(),
        );
        annotate(&mut s, &m);
        assert!(
            s.headline.starts_with("Not contacted within 5 min: Ada"),
            "{}",
            s.headline
        );
    }
}
