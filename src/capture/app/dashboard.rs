//! `/admin/`: the dashboard's routes, login and session handling.
//!
//! Login trades a user's name and secret (or the admin token) for a signed session cookie
//! (HttpOnly, SameSite=Strict, Secure when a trusted proxy says the client came over https).
//! Every signed-in request is checked against its page's action (`access.rs`): a page the
//! role may not use is a 403 page. Requests that change
//! state (log in and out, redeliver, change a lead's stage) are POSTs that must come from this origin, and
//! SameSite=Strict keeps the session off every cross-site request, so no CSRF token is needed.

use super::{access, query_param, App};
use crate::capture::body;
use crate::capture::client::Client;
use crate::capture::http::{with_type, Body};
use crate::dashboard::viewer::{self, Viewer};
use crate::dashboard::{self, session, Dashboard, LeadFilters, LeadsPage};
use crate::users::Principal;
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
    pub(super) async fn dashboard(&self, req: Request<Incoming>, peer: Client) -> Response<Body> {
        let dash = &self.dashboard;
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
        let who = match self.session_principal(req.headers()).await {
            Ok(who) => who,
            Err(e) => return self.store_error(&e),
        };
        match (&method, path.as_str()) {
            (&Method::GET, "/admin") => return redirect("/admin/", None),
            (&Method::GET, "/admin/login") => {
                if who.is_some() {
                    return redirect("/admin/queue", None);
                }
                return html(StatusCode::OK, dash.login(None));
            }
            (&Method::POST, "/admin/login") => return self.login(req, peer, dash).await,
            (&Method::POST, "/admin/logout") => {
                // Secure only when a trusted proxy says the client came over https.
                return redirect("/admin/login", Some(session::set_cookie(None, peer.https)));
            }
            _ => {}
        }
        // No session, or its user was removed or replaced since: sign in again.
        let Some(who) = who else {
            return redirect("/admin/login", None);
        };
        let action = access::dashboard_action(&method, &path);
        viewer::scope(Viewer::of(&who), async {
            if who.allows(action) {
                self.dashboard_page(req, dash, &who).await
            } else {
                self.metrics.reject("forbidden");
                html(
                    StatusCode::FORBIDDEN,
                    dash.message(
                        "Not allowed",
                        &format!(
                            "You are signed in as {} with the {} role, which may not {}. Ask an admin.",
                            who.name(),
                            who.role().as_str(),
                            action.describe()
                        ),
                    ),
                )
            }
        })
        .await
    }

    /// A signed-in request the principal may make; changes it makes are recorded under its
    /// `actor_name()`.
    async fn dashboard_page(
        &self,
        req: Request<Incoming>,
        dash: &Dashboard,
        who: &Principal,
    ) -> Response<Body> {
        let path = req.uri().path().to_owned();
        match (req.method(), path.as_str()) {
            (&Method::GET, "/admin/") => self.overview(dash).await,
            (&Method::GET, "/admin/leads") => self.leads_page(&req, dash).await,
            (&Method::GET, "/admin/deliveries") => self.deliveries_page(dash).await,
            (&Method::GET, "/admin/queue") => self.queue_page(dash).await,
            (&Method::POST, p) if super::dashboard_stages::stage_lead_id(p).is_some() => {
                let id = super::dashboard_stages::stage_lead_id(p)
                    .unwrap_or_default()
                    .to_owned();
                self.stage_post(req, dash, &id, who.actor_name()).await
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

    /// `POST /admin/login`: a user name and its secret, or no name and the admin token.
    async fn login(
        &self,
        req: Request<Incoming>,
        peer: Client,
        dash: &Dashboard,
    ) -> Response<Body> {
        // Guessing is throttled like any other client request.
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
        let form = match body.await {
            Ok(bytes) => {
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default()
            }
            Err(e) => {
                let (status, _) = e.status();
                return html(status, dash.login(Some(e.message())));
            }
        };
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let (user, given) = (field("user"), field("token"));
        let signed_in = |value: String| {
            redirect(
                "/admin/queue",
                Some(session::set_cookie(Some(&value), peer.https)),
            )
        };
        if user.is_empty() {
            if let Some(token) = &self.admin_token {
                if !given.is_empty() && bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                    return signed_in(session::issue(token, now()));
                }
            }
            self.metrics.reject("unauthorized");
            return html(
                StatusCode::UNAUTHORIZED,
                dash.login(Some("That is not the admin token.")),
            );
        }
        match self.sign_in_user(&user, &given).await {
            Ok(Some(u)) => signed_in(session::issue_user(
                self.identity_session_key(),
                &u.name,
                u.created_ms,
                now(),
            )),
            Ok(None) => {
                self.metrics.reject("unauthorized");
                html(
                    StatusCode::UNAUTHORIZED,
                    dash.login(Some("Unknown user or wrong secret.")),
                )
            }
            Err(e) => self.store_error(&e),
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
        let (mut funnel, cost) = match self.cost(dash).await {
            Ok(Ok((spend, report))) => (
                dashboard::funnel::build(&rows, &crate::report::spend::campaign_totals(&spend)),
                dashboard::cost::cost_view(Ok(&report)),
            ),
            Ok(Err(e)) => (
                dashboard::funnel::build(&rows, dash.costs()),
                dashboard::cost::cost_view(Err(e)),
            ),
            Err(err) => return self.store_error(&err),
        };
        let opt_in: Vec<String> = manifest
            .forms
            .iter()
            .filter(|(_, f)| f.double_opt_in)
            .map(|(id, _)| id.clone())
            .collect();
        if !opt_in.is_empty() {
            match self.store.confirmation_counts().await {
                Ok(c) => funnel.confirmations = crate::report::opt_in::per_form(&c, &opt_in),
                Err(err) => return self.store_error(&err),
            }
        }
        match self.store.contact_samples().await {
            Ok(samples) => {
                let rows = crate::lifecycle::speed::by_group(&samples, chrono::Utc::now());
                funnel.speed = rows.iter().map(|r| r.line()).collect();
            }
            Err(err) => return self.store_error(&err),
        }
        html(StatusCode::OK, dash.overview(&views, &funnel, &cost))
    }

    /// The spend and the cost report, or why the spend file could not be read.
    async fn cost(
        &self,
        dash: &Dashboard,
    ) -> crate::store::StoreResult<
        Result<
            (
                Vec<crate::report::spend::SpendRow>,
                crate::report::cost::CostReport,
            ),
            String,
        >,
    > {
        let rows = self.store.source_outcomes().await?;
        Ok(dash.spend().map(|spend| {
            let report = crate::report::cost::build(&rows, &spend);
            (spend, report)
        }))
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
