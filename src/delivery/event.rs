//! What is delivered: an event about a lead, serialised once.
//!
//! The body is the Standard Webhooks envelope `{"type", "timestamp", "data"}`. It is built and
//! serialised once when the lead is stored; every attempt sends those exact bytes, so a retry's
//! signature covers the same body and a receiver that deduplicates by `webhook-id` sees one
//! event however often it arrives.

use crate::store::NewLead;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of events a target can subscribe to.
///
/// A config naming a kind that is never sent is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A lead was stored (not spam).
    LeadCreated,
    /// A stored lead's score reached its form's threshold.
    LeadQualified,
    /// A lead moved to another sales stage (see `crate::lifecycle::notify`).
    LeadStageChanged,
    /// A lead was still uncontacted when `[capture] contact_within_minutes` ran out.
    LeadSlaBreached,
}

impl EventKind {
    /// Every kind, in the order they fire for one lead.
    pub const ALL: [EventKind; 4] = [
        EventKind::LeadCreated,
        EventKind::LeadQualified,
        EventKind::LeadStageChanged,
        EventKind::LeadSlaBreached,
    ];

    /// The `type` of the envelope and the name used in `events = [...]`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LeadCreated => "lead.created",
            EventKind::LeadQualified => "lead.qualified",
            EventKind::LeadStageChanged => "lead.stage_changed",
            EventKind::LeadSlaBreached => "lead.sla_breached",
        }
    }

    /// The kind named `text`, if it is one.
    pub fn parse(text: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// A dot-free word for event ids (the spec forbids `.` in `webhook-id`).
    pub(crate) fn id_suffix(self) -> &'static str {
        match self {
            EventKind::LeadCreated => "created",
            EventKind::LeadQualified => "qualified",
            EventKind::LeadStageChanged => "stage",
            EventKind::LeadSlaBreached => "sla",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The events one stored lead fires: `lead.created` always and `lead.qualified` when it
/// qualified; a spam lead fires none.
pub fn events_for(lead: &NewLead) -> Vec<EventKind> {
    if lead.spam_reason.is_some() {
        return Vec::new();
    }
    let mut kinds = vec![EventKind::LeadCreated];
    if lead.qualified {
        kinds.push(EventKind::LeadQualified);
    }
    kinds
}

/// The lead as receivers see it in `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadPayload {
    /// Lead id (UUIDv7 text).
    pub id: String,
    /// Form id.
    pub form: String,
    /// Answers, field name to value (checkbox groups are arrays).
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The e-mail answer, lower-cased.
    pub email: Option<String>,
    /// Qualification score.
    pub score: i64,
    /// Whether the score reached the threshold.
    pub qualified: bool,
    /// Experiment the lead is attributed to.
    pub experiment: Option<String>,
    /// Variant the visitor saw.
    pub variant: Option<String>,
    /// Page the form was sent from.
    pub page: Option<String>,
    /// Referrer the script captured.
    pub referrer: Option<String>,
    /// `utm_source`
    pub utm_source: Option<String>,
    /// `utm_medium`
    pub utm_medium: Option<String>,
    /// `utm_campaign`
    pub utm_campaign: Option<String>,
    /// `utm_term`
    pub utm_term: Option<String>,
    /// `utm_content`
    pub utm_content: Option<String>,
    /// When the server received the lead (RFC 3339).
    pub received_at: DateTime<Utc>,
}

impl LeadPayload {
    /// The payload of the lead stored as `id`.
    pub fn from_new_lead(id: &str, lead: &NewLead) -> LeadPayload {
        LeadPayload {
            id: id.to_owned(),
            form: lead.form.clone(),
            answers: lead.answers.clone(),
            email: lead.email.clone(),
            score: lead.score,
            qualified: lead.qualified,
            experiment: lead.experiment.clone(),
            variant: lead.variant.clone(),
            page: lead.page.clone(),
            referrer: lead.referrer.clone(),
            utm_source: lead.utm.source.clone(),
            utm_medium: lead.utm.medium.clone(),
            utm_campaign: lead.utm.campaign.clone(),
            utm_term: lead.utm.term.clone(),
            utm_content: lead.utm.content.clone(),
            received_at: lead.received_at,
        }
    }
}

/// One event about one lead.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The `webhook-id`: derived from the lead id and the kind, so it is the same on every
    /// retry, every redelivery and for every target.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// When it happened (the lead's `received_at`).
    pub timestamp: DateTime<Utc>,
    /// The lead.
    pub data: LeadPayload,
}

/// The envelope as serialised (field order is the wire order).
#[derive(Serialize, Deserialize)]
struct Envelope<D> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: D,
}

impl Event {
    /// The `kind` event of the lead stored as `lead_id`.
    pub fn new(kind: EventKind, lead_id: &str, lead: &NewLead) -> Event {
        Event {
            id: event_id(lead_id, kind),
            kind,
            timestamp: lead.received_at,
            data: LeadPayload::from_new_lead(lead_id, lead),
        }
    }

    /// Every event of a stored lead (none for spam).
    pub fn all_for(lead_id: &str, lead: &NewLead) -> Vec<Event> {
        events_for(lead)
            .into_iter()
            .map(|k| Event::new(k, lead_id, lead))
            .collect()
    }

    /// The body sent to webhooks: `{"type","timestamp","data"}`, compact JSON.
    pub fn body_json(&self) -> String {
        let envelope = Envelope {
            kind: self.kind.as_str().to_owned(),
            timestamp: self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
            data: &self.data,
        };
        serde_json::to_string(&envelope).expect("a lead payload always serialises")
    }

    /// The stored form of this event, what the outbox keeps and [`super::Deliverer`] sends.
    pub fn message(&self) -> Message {
        Message {
            id: self.id.clone(),
            kind: self.kind,
            body: self.body_json(),
        }
    }
}

/// The `webhook-id` of `kind` for a lead: `msg_<lead id>_<kind>` (no `.`, as the spec asks).
pub fn event_id(lead_id: &str, kind: EventKind) -> String {
    format!("msg_{lead_id}_{}", kind.id_suffix())
}

/// An event as the outbox stores it: its id, its kind and the body serialised once.
/// Every attempt sends `body` byte for byte with `id` as `webhook-id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `webhook-id`.
    pub id: String,
    /// Event kind (stored as [`EventKind::as_str`]).
    pub kind: EventKind,
    /// The envelope JSON, exactly as signed and sent.
    pub body: String,
}

impl Message {
    /// The lead inside the body (e-mail and Slack render from it).
    pub fn payload(&self) -> Result<LeadPayload, String> {
        serde_json::from_str::<Envelope<LeadPayload>>(&self.body)
            .map(|e| e.data)
            .map_err(|e| format!("stored event {} has an unreadable body: {e}", self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Utm;

    pub(crate) fn lead() -> NewLead {
        let mut answers = serde_json::Map::new();
        answers.insert("email".into(), "ada@example.com".into());
        answers.insert("company_size".into(), "51-200".into());
        NewLead {
            received_at: "2026-03-01T10:00:00.123Z".parse().unwrap(),
            form: "demo".into(),
            answers,
            email: Some("ada@example.com".into()),
            experiment: Some("hero".into()),
            variant: Some("b".into()),
            attribution_flag: None,
            visitor: Some("v1".into()),
            page: Some("/".into()),
            referrer: None,
            utm: Utm {
                source: Some("news".into()),
                ..Utm::default()
            },
            user_agent: Some("UA".into()),
            ip_hash: Some("h".into()),
            score: 30,
            qualified: false,
            spam_reason: None,
            consent: None,
            dedupe_key: "k".into(),
            confirmation: None,
            form_version: None,
        }
    }

    #[test]
    fn kinds_round_trip_and_unknown_is_none() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("lead.updated"), None);
    }

    #[test]
    fn events_follow_spam_and_qualification() {
        let mut l = lead();
        assert_eq!(events_for(&l), vec![EventKind::LeadCreated]);
        l.qualified = true;
        assert_eq!(
            events_for(&l),
            vec![EventKind::LeadCreated, EventKind::LeadQualified]
        );
        l.spam_reason = Some("honeypot".into());
        assert!(events_for(&l).is_empty());
    }

    #[test]
    fn body_is_the_envelope_and_leaves_out_private_fields() {
        let e = Event::new(EventKind::LeadCreated, "0190-abc", &lead());
        assert_eq!(e.id, "msg_0190-abc_created");
        assert!(!e.id.contains('.'));
        let body = e.body_json();
        assert!(
            body.starts_with(
                r#"{"type":"lead.created","timestamp":"2026-03-01T10:00:00.123Z","data":{"id":"0190-abc","form":"demo","#
            ),
            "{body}"
        );
        assert!(body.contains(r#""utm_source":"news""#), "{body}");
        for private in ["ip_hash", "user_agent", "visitor", "dedupe_key"] {
            assert!(!body.contains(private), "{private} leaked: {body}");
        }
        let m = e.message();
        assert_eq!(m.payload().unwrap(), e.data);
    }
}
