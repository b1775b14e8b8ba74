//! The admin API of the sales funnel: `POST /api/v1/leads/{id}/events` (one stage change),
//! `GET /api/v1/leads/{id}/events` (the history) and `POST /api/v1/lead-events` (a batch for
//! CRM syncs, each item finding its lead by `id` or by `email`, answered item by item).
//!
//! Every change is recorded with the actor [`App::actor`] resolves, and written with its
//! `lead.stage_changed` deliveries in one transaction.

use super::App;
use crate::capture::body;
use crate::capture::http::{json, Body};
use crate::lifecycle::input::{self, InputError, LeadRef};
use crate::lifecycle::{money, notify, NewStageEvent, Source, StageEvent};
use crate::store::{Lead, StageOutcome, StageWrite};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Most changes in one batch.
pub const MAX_BATCH_ITEMS: usize = 500;
/// Largest batch body.
const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Largest single change.
const MAX_EVENT_BYTES: usize = 16 * 1024;

/// A stage event as the API shows it.
pub(crate) fn event_json(e: &StageEvent) -> Value {
    json!({
        "event_id": e.event_id,
        "lead": e.lead_id,
        "stage": e.stage,
        "at": e.at,
        "recorded_at": e.recorded_at,
        "source": e.source,
        "actor": e.actor,
        "value": e.value_minor.zip(e.currency.as_deref()).map(|(m, c)| money::format_minor(m, c)),
        "value_minor": e.value_minor,
        "currency": e.currency,
        "reason": e.reason,
        "note": e.note,
    })
}

/// `/api/v1/leads/{id}/events` → the id.
pub(super) fn events_lead_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/leads/")?
        .strip_suffix("/events")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// An item's answer: HTTP-like status, and the event or the error.
fn item_answer(outcome: &StageOutcome) -> (StatusCode, Value) {
    match outcome {
        StageOutcome::Recorded(e) => (StatusCode::CREATED, json!({"event": event_json(e)})),
        StageOutcome::Replayed(e) => (
            StatusCode::OK,
            json!({"event": event_json(e), "replayed": true}),
        ),
        StageOutcome::Conflict(e) => (
            StatusCode::CONFLICT,
            json!({"error": "event_id_conflict",
                   "message": format!("event_id {:?} was recorded with other content", e.event_id),
                   "event": event_json(e)}),
        ),
        StageOutcome::UnknownLead => (
            StatusCode::NOT_FOUND,
            json!({"error": "unknown_lead", "message": "there is no such lead"}),
        ),
    }
}

fn input_error(e: &InputError) -> (StatusCode, Value) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"error": e.code, "message": e.message}),
    )
}

impl App {
    /// The outbox rows and the store write of a validated change to `lead`.
    fn stage_write(&self, lead: &Lead, event: NewStageEvent) -> StageWrite {
        StageWrite {
            deliveries: notify::stage_deliveries(self.delivery.targets(), lead, &event),
            lead_id: lead.id.clone(),
            event,
        }
    }

    /// Records one validated change to `lead` (a dashboard form or the single API).
    pub(super) async fn record_change(
        &self,
        lead: &Lead,
        event: NewStageEvent,
    ) -> Result<StageOutcome, Response<Body>> {
        if let Err(e) = input::check_after_lead(&event, lead.lead.received_at) {
            return Err(self.reject(StatusCode::UNPROCESSABLE_ENTITY, e.code, &e.message));
        }
        let write = self.stage_write(lead, event);
        match self.store.record_stage_events(vec![write]).await {
            Ok(mut out) if out.len() == 1 => Ok(out.remove(0)),
            Ok(_) => Err(self.store_error(&crate::store::StoreError::Database(
                "the store answered the wrong number of changes".into(),
            ))),
            Err(e) => Err(self.store_error(&e)),
        }
    }

    async fn read_json(&self, req: Request<Incoming>, max: usize) -> Result<Value, Response<Body>> {
        let (parts, incoming) = req.into_parts();
        let fail = |e: body::BodyError| {
            let (status, code) = e.status();
            self.reject(status, code, e.message())
        };
        match body::kind(&parts.headers).map_err(fail)? {
            body::Kind::Json => {}
            _ => {
                return Err(fail(body::BodyError::Unsupported(
                    "send application/json".into(),
                )))
            }
        }
        let bytes = body::read_within(&parts.headers, incoming, max, self.body_timeout())
            .await
            .map_err(fail)?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            self.reject(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                &format!("the body is not JSON: {e}"),
            )
        })?;
        Ok(value)
    }

    /// `/api/v1/leads/{id}/events` and `/api/v1/lead-events`, once the request's principal
    /// is known; `actor` (its [`Principal::actor_name`](crate::users::Principal::actor_name))
    /// is recorded on every change.
    pub(super) async fn lead_events_api(
        &self,
        req: Request<Incoming>,
        path: &str,
        actor: &str,
    ) -> Response<Body> {
        match (req.method().clone(), events_lead_id(path)) {
            (Method::POST, Some(id)) => {
                let id = id.to_owned();
                self.post_one(req, &id, actor).await
            }
            (Method::GET, Some(id)) => self.history_json(id).await,
            (Method::POST, None) => self.post_batch(req, actor).await,
            _ => self.reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use POST (or GET for a lead's history)",
            ),
        }
    }

    async fn history_json(&self, id: &str) -> Response<Body> {
        match self.store.lead_by_id(id).await {
            Ok(Some(lead)) => match self.store.stage_history(&lead.id).await {
                Ok(events) => json(
                    StatusCode::OK,
                    &json!({"lead": lead.id, "state": lead.stage,
                            "events": events.iter().map(event_json).collect::<Vec<_>>()}),
                ),
                Err(e) => self.store_error(&e),
            },
            Ok(None) => self.reject(
                StatusCode::NOT_FOUND,
                "unknown_lead",
                "there is no such lead",
            ),
            Err(e) => self.store_error(&e),
        }
    }

    async fn post_one(&self, req: Request<Incoming>, id: &str, actor: &str) -> Response<Body> {
        let value = match self.read_json(req, MAX_EVENT_BYTES).await {
            Ok(v) => v,
            Err(res) => return res,
        };
        let event = match input::from_json(&value, false)
            .and_then(|(_, raw)| raw.validate(chrono::Utc::now(), Source::Api, actor))
        {
            Ok(e) => e,
            Err(e) => return self.reject(StatusCode::UNPROCESSABLE_ENTITY, e.code, &e.message),
        };
        let lead = match self.store.lead_by_id(id).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                return self.reject(
                    StatusCode::NOT_FOUND,
                    "unknown_lead",
                    "there is no such lead",
                )
            }
            Err(e) => return self.store_error(&e),
        };
        let outcome = match self.record_change(&lead, event).await {
            Ok(o) => o,
            Err(res) => return res,
        };
        let (status, mut body) = item_answer(&outcome);
        if status.is_success() {
            if let Ok(Some(after)) = self.store.lead_by_id(id).await {
                body["state"] = serde_json::to_value(&after.stage).unwrap_or_default();
            }
        } else {
            self.metrics.reject(if status == StatusCode::CONFLICT {
                "event_id_conflict"
            } else {
                "unknown_lead"
            });
        }
        json(status, &body)
    }

    async fn post_batch(&self, req: Request<Incoming>, actor: &str) -> Response<Body> {
        let value = match self.read_json(req, MAX_BATCH_BYTES).await {
            Ok(v) => v,
            Err(res) => return res,
        };
        let items = match &value {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("events") {
                Some(Value::Array(a)) if o.len() == 1 => a,
                _ => {
                    return self.reject(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "bad_batch",
                        "send {\"events\": [...]} or a JSON array of changes",
                    )
                }
            },
            _ => {
                return self.reject(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_batch",
                    "send {\"events\": [...]} or a JSON array of changes",
                )
            }
        };
        if items.len() > MAX_BATCH_ITEMS {
            return self.reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                &format!("a batch holds at most {MAX_BATCH_ITEMS} changes; send several"),
            );
        }
        let now = chrono::Utc::now();
        let parsed: Vec<Result<(LeadRef, NewStageEvent), InputError>> = items
            .iter()
            .map(|item| {
                let (lead, raw) = input::from_json(item, true)?;
                let event = raw.validate(now, Source::Api, actor)?;
                let lead = lead.ok_or_else(|| InputError {
                    code: "lead_required",
                    message: "give the lead's id or its email".into(),
                })?;
                Ok((lead, event))
            })
            .collect();
        // One scan finds every address's latest lead; ids go through their index one by one.
        let emails: Vec<String> = parsed
            .iter()
            .filter_map(|p| match p {
                Ok((LeadRef::Email(e), _)) => Some(e.clone()),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let by_email = match self.store.latest_leads_by_email(&emails).await {
            Ok(m) => m,
            Err(e) => return self.store_error(&e),
        };
        let mut by_id: HashMap<String, Option<Lead>> = HashMap::new();
        for p in &parsed {
            if let Ok((LeadRef::Id(id), _)) = p {
                if !by_id.contains_key(id) {
                    match self.store.lead_by_id(id).await {
                        Ok(l) => by_id.insert(id.clone(), l),
                        Err(e) => return self.store_error(&e),
                    };
                }
            }
        }
        let mut answers: Vec<Option<(StatusCode, Value)>> = vec![None; parsed.len()];
        let mut writes = Vec::new();
        let mut slots = Vec::new();
        for (i, p) in parsed.into_iter().enumerate() {
            let (lead_ref, event) = match p {
                Ok(x) => x,
                Err(e) => {
                    answers[i] = Some(input_error(&e));
                    continue;
                }
            };
            let lead = match &lead_ref {
                LeadRef::Id(id) => by_id.get(id).and_then(|l| l.as_ref()),
                LeadRef::Email(e) => by_email.get(e),
            };
            let Some(lead) = lead else {
                answers[i] = Some(item_answer(&StageOutcome::UnknownLead));
                continue;
            };
            if let Err(e) = input::check_after_lead(&event, lead.lead.received_at) {
                answers[i] = Some(input_error(&e));
                continue;
            }
            writes.push(self.stage_write(lead, event));
            slots.push(i);
        }
        let outcomes = match self.store.record_stage_events(writes).await {
            Ok(o) => o,
            Err(e) => return self.store_error(&e),
        };
        for (i, outcome) in slots.into_iter().zip(outcomes.iter()) {
            answers[i] = Some(item_answer(outcome));
        }
        let results: Vec<Value> = answers
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let (status, mut body) = a.unwrap_or_else(|| {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({"error": "not_processed"}),
                    )
                });
                body["index"] = json!(i);
                body["status"] = json!(status.as_u16());
                body
            })
            .collect();
        let recorded = results.iter().filter(|r| r["status"] == 201).count();
        json(
            StatusCode::OK,
            &json!({"recorded": recorded, "results": results}),
        )
    }
}
