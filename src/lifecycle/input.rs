//! Stage changes as callers send them (API JSON, dashboard forms), checked into a
//! [`NewStageEvent`]. Every refusal names the field and is a 422 for the caller.

use super::{money, NewStageEvent, Source, Stage};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// How far in the future an `at` may lie: clocks of CRMs and browsers drift.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// Longest event id, reason and note.
pub const MAX_ID_CHARS: usize = 200;
/// Longest reason or note.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why a change was refused: a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// `bad_stage`, `bad_at`, `at_in_future`, `at_before_lead`, `bad_value`, …
    pub code: &'static str,
    /// For people.
    pub message: String,
}

fn err(code: &'static str, message: impl Into<String>) -> InputError {
    InputError {
        code,
        message: message.into(),
    }
}

/// A change as sent, every field optional text (the shape both ways in share).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawChange {
    /// `stage`.
    pub stage: Option<String>,
    /// `at` (RFC 3339, or `YYYY-MM-DD HH:MM:SS` in UTC).
    pub at: Option<String>,
    /// `value`, decimal text.
    pub value: Option<String>,
    /// `currency`.
    pub currency: Option<String>,
    /// `reason`.
    pub reason: Option<String>,
    /// `note`.
    pub note: Option<String>,
    /// `event_id`.
    pub event_id: Option<String>,
}

/// Where a batch item's lead is: by id, or the most recent lead of an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeadRef {
    /// `id`.
    Id(String),
    /// `email`, lower-cased.
    Email(String),
}

/// The keys a JSON change may have (`id` and `email` only in batches).
const CHANGE_KEYS: [&str; 7] = [
    "stage", "at", "value", "currency", "reason", "note", "event_id",
];

fn text_field(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // A value may be a JSON number; its shortest text is the decimal the sender meant.
        Some(Value::Number(n)) if key == "value" => Ok(Some(n.to_string())),
        Some(_) => Err(err("bad_field", format!("{key} must be text"))),
    }
}

/// A change from a JSON object; `batch` allows (and requires one of) `id` / `email`.
pub fn from_json(value: &Value, batch: bool) -> Result<(Option<LeadRef>, RawChange), InputError> {
    let obj = value
        .as_object()
        .ok_or_else(|| err("bad_item", "each change is a JSON object"))?;
    for k in obj.keys() {
        let allowed = CHANGE_KEYS.contains(&k.as_str()) || (batch && (k == "id" || k == "email"));
        if !allowed {
            return Err(err("unknown_field", format!("unknown field {k:?}")));
        }
    }
    let lead = if batch {
        match (text_field(obj, "id")?, text_field(obj, "email")?) {
            (Some(id), None) => Some(LeadRef::Id(id)),
            (None, Some(email)) if email.contains('@') => {
                Some(LeadRef::Email(email.trim().to_lowercase()))
            }
            (None, Some(_)) => return Err(err("bad_email", "email is not an address")),
            _ => {
                return Err(err(
                    "lead_required",
                    "give the lead's id or its email (not both)",
                ))
            }
        }
    } else {
        None
    };
    let raw = RawChange {
        stage: text_field(obj, "stage")?,
        at: text_field(obj, "at")?,
        value: text_field(obj, "value")?,
        currency: text_field(obj, "currency")?,
        reason: text_field(obj, "reason")?,
        note: text_field(obj, "note")?,
        event_id: text_field(obj, "event_id")?,
    };
    Ok((lead, raw))
}

fn parse_at(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl RawChange {
    /// Checks the change at `now`; the lead's own time is checked by [`check_after_lead`].
    pub fn validate(
        self,
        now: DateTime<Utc>,
        source: Source,
        actor: &str,
    ) -> Result<NewStageEvent, InputError> {
        let stage_text =
            nonempty(self.stage).ok_or_else(|| err("bad_stage", "stage is required"))?;
        let stage = Stage::parse(&stage_text).ok_or_else(|| {
            let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
            err(
                "bad_stage",
                format!(
                    "unknown stage {stage_text:?}: use one of {}",
                    names.join(", ")
                ),
            )
        })?;
        let (at, at_given) = match nonempty(self.at) {
            None => (now, false),
            Some(text) => {
                let at = parse_at(&text)
                    .ok_or_else(|| err("bad_at", format!("at {text:?} is not an RFC 3339 time")))?;
                if at > now + chrono::Duration::seconds(CLOCK_SKEW_SECS) {
                    return Err(err("at_in_future", format!("at {text:?} is in the future")));
                }
                (at, true)
            }
        };
        let (value_minor, currency) = match (nonempty(self.value), nonempty(self.currency)) {
            (None, None) => (None, None),
            (Some(_), None) => return Err(err("currency_required", "a value needs its currency")),
            (None, Some(_)) => return Err(err("value_required", "a currency needs a value")),
            (Some(v), Some(c)) => {
                if !stage.takes_value() {
                    return Err(err(
                        "value_not_allowed",
                        "only opportunity and customer carry a value",
                    ));
                }
                let (minor, code) = money::to_minor(&v, &c).map_err(|e| {
                    let code = match e {
                        money::MoneyError::UnknownCurrency(_) => "bad_currency",
                        _ => "bad_value",
                    };
                    err(code, e.to_string())
                })?;
                (Some(minor), Some(code))
            }
        };
        let reason = nonempty(self.reason);
        if stage == Stage::Disqualified && reason.is_none() {
            return Err(err(
                "reason_required",
                "disqualifying a lead needs a reason",
            ));
        }
        let note = nonempty(self.note);
        for (what, t) in [("reason", &reason), ("note", &note)] {
            if t.as_ref()
                .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
            {
                return Err(err(
                    "too_long",
                    format!("{what} is longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
        }
        let event_id = match nonempty(self.event_id) {
            None => format!("evt_{}", uuid::Uuid::now_v7().simple()),
            Some(id) if id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) => {
                return Err(err(
                    "bad_event_id",
                    format!("event_id is up to {MAX_ID_CHARS} printable characters"),
                ))
            }
            Some(id) => id,
        };
        Ok(NewStageEvent {
            event_id,
            stage,
            at,
            at_given,
            source,
            actor: actor.to_owned(),
            value_minor,
            currency,
            reason,
            note,
        })
    }
}

/// Refuses a change dated before its lead arrived (a second of slack for clock rounding).
pub fn check_after_lead(
    event: &NewStageEvent,
    received_at: DateTime<Utc>,
) -> Result<(), InputError> {
    if event.at_given && event.at < received_at - chrono::Duration::seconds(1) {
        return Err(err(
            "at_before_lead",
            format!(
                "at {} is before the lead arrived ({})",
                event.at.to_rfc3339(),
                received_at.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn check(v: Value) -> Result<NewStageEvent, InputError> {
        let (_, raw) = from_json(&v, false)?;
        raw.validate(now(), Source::Api, "admin")
    }

    #[test]
    fn a_full_change_is_read() {
        let e = check(json!({"stage": "customer", "at": "2026-03-01T09:00:00Z",
            "value": 1200.5, "currency": "eur", "note": "signed", "event_id": "hs-1"}))
        .unwrap();
        assert_eq!(e.stage, Stage::Customer);
        assert_eq!(
            (e.value_minor, e.currency.as_deref()),
            (Some(120050), Some("EUR"))
        );
        assert!(e.at_given);
        assert_eq!(e.event_id, "hs-1");
        let e = check(json!({"stage": "contacted"})).unwrap();
        assert_eq!(e.at, now());
        assert!(!e.at_given);
        assert!(e.event_id.starts_with("evt_"));
    }

    #[test]
    fn refusals_name_the_problem() {
        let code = |v: Value| check(v).unwrap_err().code;
        assert_eq!(code(json!({"stage": "won"})), "bad_stage");
        assert_eq!(code(json!({})), "bad_stage");
        assert_eq!(
            code(json!({"stage": "contacted", "at": "2026-03-01T10:05:00Z"})),
            "at_in_future"
        );
        assert_eq!(
            code(json!({"stage": "contacted", "at": "yesterday"})),
            "bad_at"
        );
        assert_eq!(
            code(json!({"stage": "customer", "value": "10"})),
            "currency_required"
        );
        assert_eq!(
            code(json!({"stage": "customer", "value": "10", "currency": "ABC"})),
            "bad_currency"
        );
        assert_eq!(
            code(json!({"stage": "customer", "value": "10.123", "currency": "EUR"})),
            "bad_value"
        );
        assert_eq!(
            code(json!({"stage": "contacted", "value": "10", "currency": "EUR"})),
            "value_not_allowed"
        );
        assert_eq!(code(json!({"stage": "disqualified"})), "reason_required");
        assert_eq!(
            code(json!({"stage": "new", "colour": "red"})),
            "unknown_field"
        );
        // A minute of clock skew is fine.
        assert!(check(json!({"stage": "contacted", "at": "2026-03-01T10:00:30Z"})).is_ok());
    }

    #[test]
    fn batch_items_name_their_lead() {
        let (lead, _) = from_json(&json!({"email": " Ada@X.test ", "stage": "new"}), true).unwrap();
        assert_eq!(lead, Some(LeadRef::Email("ada@x.test".into())));
        let (lead, _) = from_json(&json!({"id": "L1", "stage": "new"}), true).unwrap();
        assert_eq!(lead, Some(LeadRef::Id("L1".into())));
        assert_eq!(
            from_json(&json!({"stage": "new"}), true).unwrap_err().code,
            "lead_required"
        );
        assert_eq!(
            from_json(&json!({"id": "L1", "stage": "new"}), false)
                .unwrap_err()
                .code,
            "unknown_field"
        );
    }

    #[test]
    fn before_the_lead_is_refused() {
        let e = check(json!({"stage": "contacted", "at": "2026-03-01T08:00:00Z"})).unwrap();
        assert!(check_after_lead(&e, "2026-03-01T07:00:00Z".parse().unwrap()).is_ok());
        assert_eq!(
            check_after_lead(&e, "2026-03-01T09:00:00Z".parse().unwrap())
                .unwrap_err()
                .code,
            "at_before_lead"
        );
    }
}
