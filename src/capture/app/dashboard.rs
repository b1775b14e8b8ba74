//! `/admin/`: the dashboard's routes, login and session handling.
//!
//! Login trades the admin token for a signed session cookie (HttpOnly, SameSite=Strict,
//! Secure when a trusted proxy says the client came over https). Requests that change state
//! (log in and out, redeliver, change a lead's stage) are POSTs that must come from this
//! origin, and SameSite=Strict keeps the session off every cross-site request, so no CSRF
//! token is needed.

use super::{query_param, raw_cookie, App};
use crate::capture::body;
use crate::capture::client::Client;
use crate::capture::http::{with_type, Body};
use crate::dashboard::{self, session, Dashboard, LeadFilters, LeadsPage};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use subtle::ConstantTimeEq;

/// Largest login form accepted.
const MAX_LOGIN_BYTES: usize = 4 * 1024;

/// Refuses cross-site form posts: browsers send `Origin` (and `Sec-Fetch-Site`) on them.
fn same_origin(headers: &HeaderMap) -> bool {
    let h = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match (h(header::ORIGIN), h(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(super) fn html(status: StatusCode, page: Result<String, String>) -> Response<Body> {
    let mut res = match page {
        Ok(body) => with_type(status, "text/html; charset=utf-8", body),
        Err(e) => {
            eprintln!("dashboard template error: {e}");
            with_type(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "the dashboard template failed; see the server log",
            )
        }
    };
    secure_headers(&mut res);
    res
}

/// Admin pages are private, never cached, framed or allowed to run script.
pub(super) fn secure_headers(res: &mut Response<Body>) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: under it browsers send `Origin: null` on form posts, which the
    // same-origin check would then refuse.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

pub(super) fn redirect(to: &'static str, cookie: Option<String>) -> Response<Body> {
    let mut res = with_type(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    res.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    secure_headers(&mut res);
    res
}

impl App {
    fn logged_in(&self, token: &str, headers: &HeaderMap) -> bool {
        raw_cookie(headers, session::COOKIE).is_some_and(|v| session::verify(token, &v, now()))
    }

    pub(super) async fn dashboard(&self, req: Request<Incoming>, peer: Client) -> Response<Body> {
        let dash = &self.dashboard;
        let Some(token) = self.admin_token.clone() else {
            return html(
                StatusCode::FORBIDDEN,
                dash.message(
                    "Dashboard disabled",
                    "Set SPLITMARK_ADMIN_TOKEN and restart the capture server to use the dashboard.",
                ),
            );
        };
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        if matches!(method, Method::POST) && !same_origin(req.headers()) {
            return html(
                StatusCode::FORBIDDEN,
                dash.message(
                    "Refused",
                    "This form must be sent from the dashboard itself.",
                ),
            );
        }
        match (&method, path.as_str()) {
            (&Method::GET, "/admin") => return redirect("/admin/", None),
            (&Method::GET, "/admin/login") => {
                if self.logged_in(&token, req.headers()) {
                    return redirect("/admin/queue", None);
                }
                return html(StatusCode::OK, dash.login(None));
            }
            (&Method::POST, "/admin/login") => return self.login(req, peer, dash, &token).await,
            (&Method::POST, "/admin/logout") => {
                // Secure only when a trusted proxy says the client came over https.
                return redirect("/admin/login", Some(session::set_cookie(None, peer.https)));
            }
            _ => {}
        }
        if !self.logged_in(&token, req.headers()) {
            return redirect("/admin/login", None);
        }
        match (&method, path.as_str()) {
            (&Method::GET, "/admin/") => self.overview(dash).await,
            (&Method::GET, "/admin/leads") => self.leads_page(&req, dash).await,
            (&Method::GET, "/admin/deliveries") => self.deliveries_page(dash).await,
            (&Method::GET, "/admin/queue") => self.queue_page(dash).await,
            (&Method::POST, p) if super::dashboard_stages::stage_lead_id(p).is_some() => {
                let id = super::dashboard_stages::stage_lead_id(p)
                    .unwrap_or_default()
                    .to_owned();
                self.stage_post(req, dash, &id).await
            }
            (&Method::GET, p) if p.starts_with("/admin/leads/") => {
                self.lead_page(dash, &p["/admin/leads/".len()..]).await
            }
            (&Method::POST, p) if p.starts_with("/admin/deliveries/") => {
                self.redeliver_page(dash, p).await
            }
            (&Method::GET, "/admin/leads.csv") => {
                let (filters, _) = filters(&req);
                match self.store.leads(&filters.query_all()).await {
                    Ok(leads) => {
                        let mut res = self.csv_response(&leads);
                        secure_headers(&mut res);
                        res
                    }
                    Err(e) => self.store_error(&e),
                }
            }
            _ => html(
                StatusCode::NOT_FOUND,
                dash.message("Not found", "There is no such dashboard page."),
            ),
        }
    }

    async fn login(
        &self,
        req: Request<Incoming>,
        peer: Client,
        dash: &Dashboard,
        token: &str,
    ) -> Response<Body> {
        // Guessing the token is throttled like any other client request.
        if let Some(res) = self.rate_limited(peer) {
            return res;
        }
        let (parts, incoming) = req.into_parts();
        let body = body::read_within(
            &parts.headers,
            incoming,
            MAX_LOGIN_BYTES,
            self.body_timeout(),
        );
        let given = match body.await {
            Ok(bytes) => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "token"))
                .map(|(_, v)| v)
                .unwrap_or_default(),
            Err(e) => {
                let (status, _) = e.status();
                return html(status, dash.login(Some(e.message())));
            }
        };
        if !given.is_empty() && bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            let value = session::issue(token, now());
            // The dashboard opens on the sales queue.
            redirect(
                "/admin/queue",
                Some(session::set_cookie(Some(&value), peer.https)),
            )
        } else {
            self.metrics.reject("unauthorized");
            html(
                StatusCode::UNAUTHORIZED,
                dash.login(Some("That is not the admin token.")),
            )
        }
    }

    async fn overview(&self, dash: &Dashboard) -> Response<Body> {
        let manifest = self.manifest();
        let mut views = Vec::new();
        for e in &manifest.experiments {
            let report = match crate::report::load(self.store.as_ref(), e).await {
                Ok(r) => r,
                Err(err) => return self.store_error(&err),
            };
            let daily = match self.store.daily_counts(&e.id, &e.goal).await {
                Ok(d) => d,
                Err(err) => return self.store_error(&err),
            };
            views.push(dashboard::experiment_view(&report, &daily, &e.page));
        }
        let rows = match self.store.funnel().await {
            Ok(r) => r,
            Err(err) => return self.store_error(&err),
        };
        let mut funnel = dashboard::funnel::build(&rows, dash.costs());
        match self.store.contact_samples().await {
            Ok(samples) => {
                let rows = crate::lifecycle::speed::by_group(&samples, chrono::Utc::now());
                funnel.speed = rows.iter().map(|r| r.line()).collect();
            }
            Err(err) => return self.store_error(&err),
        }
        html(StatusCode::OK, dash.overview(&views, &funnel))
    }

    async fn leads_page(&self, req: &Request<Incoming>, dash: &Dashboard) -> Response<Body> {
        let (filters, page) = filters(req);
        let query = filters.query(page);
        let (leads, total) = match (
            self.store.leads(&query).await,
            self.store.count_leads(&query).await,
        ) {
            (Ok(l), Ok(t)) => (l, t),
            (Err(e), _) | (_, Err(e)) => return self.store_error(&e),
        };
        let manifest = self.manifest();
        let forms = manifest.forms.keys().cloned().collect();
        let mut variants: Vec<String> = manifest
            .experiments
            .iter()
            .flat_map(|e| e.variants.iter().map(|v| v.id.clone()))
            .collect();
        variants.sort();
        variants.dedup();
        let view = LeadsPage::new(filters, forms, variants, &leads, total, page);
        html(StatusCode::OK, dash.leads(&view))
    }
}

/// The leads table's filters and 1-based page from the query string.
fn filters(req: &Request<Incoming>) -> (LeadFilters, u32) {
    let get = |k: &str| query_param(req, k).unwrap_or_default();
    let page = get("page").parse::<u32>().unwrap_or(1).clamp(1, 100_000);
    (
        LeadFilters {
            form: get("form"),
            variant: get("variant"),
            qualified: get("qualified"),
            spam: get("spam"),
        },
        page,
    )
}
