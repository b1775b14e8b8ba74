//! Admin endpoints: experiment counts, lead export and erasure. The admin token or a named
//! user's credentials (`identity.rs`), each route gated by its action; never CORS-open.

use super::{access, query_param, App};
use crate::capture::client::Client;
use crate::capture::http::{json, with_type, Body};
use crate::store::{Lead, LeadQuery};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use serde_json::json;

impl App {
    /// `/api/v1/experiments…`, `/api/v1/leads…`, `/api/v1/deliveries…`: refused unless the
    /// request's principal may do the route's action (see `access.rs`).
    pub(super) async fn admin(&self, req: Request<Incoming>, peer: Client) -> Response<Body> {
        let action = access::api_action(req.method(), req.uri().path(), &|k| query_param(&req, k));
        let who = match self.authorize(&req, peer, action).await {
            Ok(who) => who,
            Err(res) => return res,
        };
        let path = req.uri().path().trim_end_matches('/').to_owned();
        if path == "/api/v1/lead-events" || super::lead_events::events_lead_id(&path).is_some() {
            return self.lead_events_api(req, &path, who.actor_name()).await;
        }
        match (req.method(), path.as_str()) {
            (&Method::GET, "/api/v1/experiments") => self.experiments_json(None).await,
            (&Method::GET, p) if p.starts_with("/api/v1/experiments/") => {
                self.experiments_json(Some(&p["/api/v1/experiments/".len()..]))
                    .await
            }
            (_, p) if p.starts_with("/api/v1/deliveries") => self.deliveries_api(&req, p).await,
            (&Method::GET, "/api/v1/leads") => self.export(&req).await,
            (&Method::DELETE, "/api/v1/leads") => {
                match query_param(&req, "email").filter(|e| e.contains('@')) {
                    Some(email) => match self.store.erase_leads(&email).await {
                        Ok(n) => json(StatusCode::OK, &json!({"erased": n})),
                        Err(e) => self.store_error(&e),
                    },
                    None => self.reject(
                        StatusCode::BAD_REQUEST,
                        "email_required",
                        "give ?email=address of the person to erase",
                    ),
                }
            }
            _ => self.reject(StatusCode::NOT_FOUND, "not_found", "no such admin endpoint"),
        }
    }

    async fn experiment_json(
        &self,
        e: &crate::manifest::ExperimentManifest,
    ) -> Result<serde_json::Value, Box<Response<Body>>> {
        let report = crate::report::load(self.store.as_ref(), e)
            .await
            .map_err(|err| Box::new(self.store_error(&err)))?;
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["page"] = json!(e.page);
        Ok(v)
    }

    async fn experiments_json(&self, id: Option<&str>) -> Response<Body> {
        let manifest = self.manifest();
        match id {
            Some(id) => match manifest.experiment(id) {
                Some(e) => match self.experiment_json(e).await {
                    Ok(v) => json(StatusCode::OK, &v),
                    Err(res) => *res,
                },
                None => self.reject(
                    StatusCode::NOT_FOUND,
                    "unknown_experiment",
                    &format!("there is no experiment {id:?}"),
                ),
            },
            None => {
                let mut all = Vec::new();
                for e in &manifest.experiments {
                    match self.experiment_json(e).await {
                        Ok(v) => all.push(v),
                        Err(res) => return *res,
                    }
                }
                json(StatusCode::OK, &json!({"experiments": all}))
            }
        }
    }

    async fn export(&self, req: &Request<Incoming>) -> Response<Body> {
        let query = lead_query(req);
        let leads = match self.store.leads(&query).await {
            Ok(l) => l,
            Err(e) => return self.store_error(&e),
        };
        match query_param(req, "format").as_deref().unwrap_or("json") {
            "json" => json(StatusCode::OK, &json!({"leads": leads})),
            "csv" => self.csv_response(&leads),
            _ => self.reject(
                StatusCode::BAD_REQUEST,
                "bad_format",
                "format must be csv or json",
            ),
        }
    }
}

impl App {
    /// Leads as a CSV download.
    pub(super) fn csv_response(&self, leads: &[Lead]) -> Response<Body> {
        match leads_csv(leads) {
            Ok(csv) => {
                let mut res = with_type(StatusCode::OK, "text/csv; charset=utf-8", csv);
                res.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    header::HeaderValue::from_static("attachment; filename=\"leads.csv\""),
                );
                res
            }
            Err(e) => self.reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export_failed",
                &e.to_string(),
            ),
        }
    }
}

/// Filters and paging from the query string.
pub(super) fn lead_query(req: &Request<Incoming>) -> LeadQuery {
    let flag = |k: &str| {
        query_param(req, k).and_then(|v| match v.as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        })
    };
    let text = |k: &str| query_param(req, k).filter(|s| !s.is_empty());
    LeadQuery {
        form: text("form"),
        experiment: text("experiment"),
        variant: text("variant"),
        qualified: flag("qualified"),
        spam: flag("spam"),
        limit: query_param(req, "limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        offset: query_param(req, "offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

/// Leads as CSV; every cell is neutralised against spreadsheet formulas.
pub use crate::store::export::leads_csv;
