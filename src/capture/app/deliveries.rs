//! The delivery side of the app: a new lead's outbox rows (decided here, stored with the
//! lead), the delivery log `GET /api/v1/deliveries` and `POST /api/v1/deliveries/{id}/redeliver`
//! (admin token), and the delivery figures of `/metrics`.

use super::{query_param, App};
use crate::capture::http::{json, Body};
use crate::store::{DeliveryQuery, DeliveryRow, DeliveryStatus, LeadReceipt, NewLead, StoreResult};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

/// Most rows one listing returns.
const MAX_LISTED: u32 = 1000;

/// A delivery as the API shows it.
pub(crate) fn row_json(d: &DeliveryRow) -> serde_json::Value {
    json!({
        "id": d.id,
        "lead": d.lead,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "target": d.target,
        "status": d.status,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "first_attempt_at": d.first_attempt_at,
        "first_attempt_ms": d.first_attempt_ms(),
        "delivered_at": d.delivered_at,
        "next_attempt_at": d.next_attempt_at,
    })
}

/// The redelivery route's row id: `/api/v1/deliveries/{id}/redeliver`.
fn redeliver_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/deliveries/")?
        .strip_suffix("/redeliver")
}

impl App {
    /// Stores a new (not spam) lead with the deliveries its targets want, in one transaction.
    pub(super) async fn store_lead(&self, lead: NewLead) -> StoreResult<LeadReceipt> {
        // A double opt-in lead is not for sales until it confirms, so its contact deadline
        // is not scheduled at submission.
        let sla = match lead.confirmation {
            Some(_) => None,
            None => self.settings.contact_within_minutes,
        };
        let outbox = crate::delivery::outbox::outbox_for(self.delivery.targets(), &lead, sla);
        let outbox = self.lead_outbox(&lead, outbox)?;
        self.store.insert_lead_with(lead, outbox).await
    }

    /// The delivery figures appended to `/metrics`.
    pub(super) async fn delivery_metrics(&self) -> String {
        let pending = self.store.pending_deliveries().await.ok();
        self.delivery_metrics.render(pending)
    }

    /// `/api/v1/deliveries…`, after the admin token was checked.
    pub(super) async fn deliveries_api(
        &self,
        req: &Request<Incoming>,
        path: &str,
    ) -> Response<Body> {
        match (req.method(), path) {
            (&Method::GET, "/api/v1/deliveries") => self.list_deliveries(req).await,
            (&Method::POST, p) if redeliver_id(p).is_some() => {
                let Some(id) = redeliver_id(p).and_then(|s| s.parse::<i64>().ok()) else {
                    return self.reject(
                        StatusCode::BAD_REQUEST,
                        "bad_delivery_id",
                        "a delivery id is a number",
                    );
                };
                match self.store.redeliver(id, chrono::Utc::now()).await {
                    Ok(true) => json(
                        StatusCode::ACCEPTED,
                        &json!({"id": id, "status": "pending"}),
                    ),
                    Ok(false) => self.reject(
                        StatusCode::NOT_FOUND,
                        "unknown_delivery",
                        &format!(
                            "there is no delivery {id} to redeliver (a held delivery goes out \
                             when its lead confirms, not before)"
                        ),
                    ),
                    Err(e) => self.store_error(&e),
                }
            }
            (_, "/api/v1/deliveries") => self.reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use GET",
            ),
            _ => self.reject(StatusCode::NOT_FOUND, "not_found", "no such admin endpoint"),
        }
    }

    async fn list_deliveries(&self, req: &Request<Incoming>) -> Response<Body> {
        let status = match query_param(req, "status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match DeliveryStatus::parse(&s) {
                Some(s) => Some(s),
                None => {
                    return self.reject(
                        StatusCode::BAD_REQUEST,
                        "bad_status",
                        "status is pending, held, delivered, failed or cancelled",
                    )
                }
            },
        };
        let limit = match query_param(req, "limit") {
            None => MAX_LISTED,
            Some(l) => match l.parse::<u32>() {
                Ok(n) if (1..=MAX_LISTED).contains(&n) => n,
                _ => {
                    return self.reject(
                        StatusCode::BAD_REQUEST,
                        "bad_limit",
                        &format!("limit is a number from 1 to {MAX_LISTED}"),
                    )
                }
            },
        };
        let query = DeliveryQuery {
            status,
            lead: query_param(req, "lead").filter(|l| !l.is_empty()),
            limit,
        };
        match self.store.deliveries(&query).await {
            Ok(rows) => json(
                StatusCode::OK,
                &json!({"deliveries": rows.iter().map(row_json).collect::<Vec<_>>()}),
            ),
            Err(e) => self.store_error(&e),
        }
    }
}
