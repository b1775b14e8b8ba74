//! `POST /api/v1/events`: exposure beacons as `sendBeacon` sends them; unique per visitor,
//! bots ignored.

use super::visitor::valid_visitor;
use super::{no_content, with_origin, App, MAX_EVENT_BYTES};
use crate::capture::client::Client;
use crate::capture::http::Body;
use crate::store::{Exposure, StoreError};
use chrono::Utc;
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, Response, StatusCode};

impl App {
    pub(super) async fn event(&self, req: Request<Incoming>, peer: Client) -> Response<Body> {
        let origin = self.allowed_origin(req.headers());
        let ua = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if let Some(res) = self.rate_limited(peer) {
            return res;
        }
        let (_, mut answers, _) = match self.read_answers(req, MAX_EVENT_BYTES, true).await {
            Ok(x) => x,
            Err(res) => return res,
        };
        // Each field is read once: take it rather than copy it.
        let mut get = |k: &str| {
            answers
                .remove(k)
                .and_then(|v| v.into_iter().next())
                .unwrap_or_default()
        };
        if get("type") != "exposure" {
            return with_origin(
                self.reject(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_event",
                    "only {\"type\":\"exposure\"} events are recorded",
                ),
                origin,
            );
        }
        if self.bots.is_bot(&ua) {
            self.metrics
                .bot_events
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return with_origin(no_content(), origin);
        }
        let (experiment, variant, visitor) = (get("experiment"), get("variant"), get("visitor"));
        if !valid_visitor(&visitor) {
            return with_origin(
                self.reject(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_visitor",
                    "visitor must be 1-128 letters, digits, - _ .",
                ),
                origin,
            );
        }
        let manifest = self.manifest();
        match manifest.experiment(&experiment) {
            None => {
                return with_origin(
                    self.reject(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_experiment",
                        "no such experiment",
                    ),
                    origin,
                )
            }
            Some(x) if !x.has_variant(&variant) => {
                return with_origin(
                    self.reject(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_variant",
                        "no such variant",
                    ),
                    origin,
                )
            }
            Some(_) => {}
        }
        let page = Some(get("page")).filter(|p| !p.is_empty());
        let exposure = Exposure {
            experiment,
            variant,
            visitor,
            page,
            at: Utc::now(),
        };
        // Answered once queued: the browser never reads a beacon's answer, so it does not
        // wait for the commit (see `store::queue`).
        match self
            .store
            .queue_exposure(exposure, self.settings.beacon_queue)
        {
            Ok(()) => {
                self.metrics
                    .exposures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                with_origin(no_content(), origin)
            }
            Err(StoreError::QueueFull) => with_origin(self.queue_full(), origin),
            Err(e) => self.store_error(&e),
        }
    }

    /// 503 with `Retry-After` when the store has fallen behind the beacons.
    fn queue_full(&self) -> Response<Body> {
        let mut res = self.reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many events are waiting to be stored; try again shortly",
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        res
    }
}
