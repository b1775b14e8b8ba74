//! The dashboard's sales pages: the uncontacted queue and the stage form of a lead's page.
//! The form is a POST, which the dashboard's router has already refused unless it came from
//! this origin with a session (SameSite=Strict), the same rules as logging in and redelivering.

use super::dashboard::{html, secure_headers};
use super::App;
use crate::capture::body;
use crate::capture::http::{with_type, Body};
use crate::dashboard::stages::StageForm;
use crate::dashboard::Dashboard;
use crate::lifecycle::input::RawChange;
use crate::lifecycle::Source;
use crate::store::{DeliveryQuery, StageOutcome};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

/// Most leads the queue shows.
const QUEUE_ROWS: u32 = 200;
/// Largest stage form.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// `/admin/leads/{id}/stage` → the id.
pub(super) fn stage_lead_id(path: &str) -> Option<&str> {
    path.strip_prefix("/admin/leads/")?
        .strip_suffix("/stage")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn see_other(location: &str) -> Response<Body> {
    let mut res = with_type(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    secure_headers(&mut res);
    res
}

fn fresh_form(error: Option<String>) -> StageForm {
    StageForm {
        event_id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        error,
    }
}

impl App {
    /// `GET /admin/queue`.
    pub(super) async fn queue_page(&self, dash: &Dashboard) -> Response<Body> {
        match self.store.uncontacted_leads(QUEUE_ROWS).await {
            Ok(leads) => html(StatusCode::OK, dash.queue(&leads, chrono::Utc::now())),
            Err(e) => self.store_error(&e),
        }
    }

    /// A lead's page with its stage form (and `error` from a refused change).
    pub(super) async fn lead_page_with(
        &self,
        dash: &Dashboard,
        id: &str,
        status: StatusCode,
        error: Option<String>,
    ) -> Response<Body> {
        let lead = match self.store.lead_by_id(id).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                return html(
                    StatusCode::NOT_FOUND,
                    dash.message("Not found", "There is no such lead."),
                )
            }
            Err(e) => return self.store_error(&e),
        };
        let query = DeliveryQuery {
            lead: Some(lead.id.clone()),
            ..Default::default()
        };
        let (rows, history) = match (
            self.store.deliveries(&query).await,
            self.store.stage_history(&lead.id).await,
        ) {
            (Ok(r), Ok(h)) => (r, h),
            (Err(e), _) | (_, Err(e)) => return self.store_error(&e),
        };
        html(
            status,
            dash.lead_page(&lead, &rows, &history, &fresh_form(error)),
        )
    }

    /// `POST /admin/leads/{id}/stage`: records the change, then back to the lead (or the
    /// queue); a refused change shows the lead again with why.
    pub(super) async fn stage_post(
        &self,
        req: Request<Incoming>,
        dash: &Dashboard,
        id: &str,
        actor: &str,
    ) -> Response<Body> {
        let (parts, incoming) = req.into_parts();
        let bytes = match body::read_within(
            &parts.headers,
            incoming,
            MAX_FORM_BYTES,
            self.body_timeout(),
        )
        .await
        {
            Ok(b) => b,
            Err(e) => {
                let (status, _) = e.status();
                return self
                    .lead_page_with(dash, id, status, Some(e.message().into()))
                    .await;
            }
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let raw = RawChange {
            stage: get("stage"),
            at: None,
            value: get("value"),
            currency: get("currency"),
            reason: get("reason"),
            note: get("note"),
            event_id: get("event_id"),
        };
        let back_to_queue = get("back").as_deref() == Some("queue");
        let event = match raw.validate(chrono::Utc::now(), Source::Dashboard, actor) {
            Ok(e) => e,
            Err(e) => {
                return self
                    .lead_page_with(dash, id, StatusCode::UNPROCESSABLE_ENTITY, Some(e.message))
                    .await
            }
        };
        let lead = match self.store.lead_by_id(id).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                return html(
                    StatusCode::NOT_FOUND,
                    dash.message("Not found", "There is no such lead."),
                )
            }
            Err(e) => return self.store_error(&e),
        };
        match self.record_change(&lead, event).await {
            Ok(StageOutcome::Recorded(_)) | Ok(StageOutcome::Replayed(_)) => {
                if back_to_queue {
                    see_other("/admin/queue")
                } else {
                    see_other(&format!("/admin/leads/{}#stage", lead.id))
                }
            }
            Ok(StageOutcome::Conflict(_)) => {
                self.lead_page_with(
                    dash,
                    id,
                    StatusCode::CONFLICT,
                    Some("This form was already used for another change; the page now shows the current stage.".into()),
                )
                .await
            }
            Ok(StageOutcome::UnknownLead) => html(
                StatusCode::NOT_FOUND,
                dash.message("Not found", "There is no such lead."),
            ),
            Err(res) => {
                if res.status() == StatusCode::UNPROCESSABLE_ENTITY {
                    return self
                        .lead_page_with(dash, id, res.status(), Some("That change was refused.".into()))
                        .await;
                }
                res
            }
        }
    }
}
