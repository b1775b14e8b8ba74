//! Routing and handlers of the capture server.

mod access;
mod admin;
mod dashboard;
mod dashboard_deliveries;
mod dashboard_stages;
mod deliveries;
mod events;
mod identity;
mod lead_events;
mod network;
mod opt_in;
mod pages;
mod plain;
mod submit;
mod visitor;

pub use network::MetricsListener;
pub use visitor::VISITOR_COOKIE;

use super::body::{self, BodyError, Kind};
use super::client::Client;
use super::guard::{IpHasher, RateLimiter};
use super::http::{empty, error, json, Body};
use super::metrics::Metrics;
use super::settings::Settings;
use super::static_files::StaticSite;
use crate::manifest::Manifest;
use crate::store::{SharedStore, StoreError};
use chrono::Utc;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// Largest exposure beacon.
const MAX_EVENT_BYTES: usize = 8 * 1024;

/// The capture application: shared by every connection.
pub struct App {
    manifest: RwLock<Arc<Manifest>>,
    store: SharedStore,
    settings: Settings,
    admin_token: Option<String>,
    site: Option<StaticSite>,
    hasher: IpHasher,
    limiter: RateLimiter,
    bots: isbot::Bots,
    /// Request and outcome counters.
    pub metrics: Metrics,
    html_filter: Option<Box<dyn Fn(String) -> String + Send + Sync>>,
    dashboard: crate::dashboard::Dashboard,
    pages: super::form_pages::FormPages,
    delivery: Arc<crate::delivery::Deliverer>,
    delivery_metrics: Arc<crate::delivery::metrics::DeliveryMetrics>,
    identity: identity::Identity,
}

/// What the App needs to start.
pub struct AppParts {
    /// Forms and experiments.
    pub manifest: Manifest,
    /// Storage.
    pub store: SharedStore,
    /// `[capture]` settings.
    pub settings: Settings,
    /// Admin bearer token; `None` disables the admin API.
    pub admin_token: Option<String>,
    /// The built site to serve, if any.
    pub site: Option<StaticSite>,
    /// Keyed IP hashing.
    pub hasher: IpHasher,
    /// Extra rewriting of served HTML (live reload in `serve`).
    pub html_filter: Option<Box<dyn Fn(String) -> String + Send + Sync>>,
    /// The `/admin/` dashboard's templates and settings.
    pub dashboard: crate::dashboard::Dashboard,
    /// Pages for plain (no-JavaScript) form posts.
    pub pages: super::form_pages::FormPages,
    /// Where leads are delivered (the outbox rows are decided from its targets).
    pub delivery: crate::delivery::Deliverer,
    /// The key that signs named users' dashboard sessions.
    pub session_key: crate::users::keys::SessionKey,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// A cookie's value as sent.
fn raw_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The form of a thank-you page path, `/api/v1/forms/{form}/thanks`.
fn thanks_form(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/forms/")?
        .strip_suffix("/thanks")
        .filter(|f| !f.is_empty() && !f.contains('/'))
}

fn query_param(req: &Request<Incoming>, key: &str) -> Option<String> {
    let q = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A spreadsheet cell that cannot run as a formula.
pub fn neutralize_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

impl App {
    /// Builds the app.
    pub fn new(p: AppParts) -> App {
        App {
            limiter: RateLimiter::new(p.settings.rate_per_minute, p.settings.rate_burst),
            manifest: RwLock::new(Arc::new(p.manifest)),
            store: p.store,
            settings: p.settings,
            admin_token: p.admin_token.filter(|t| !t.is_empty()),
            site: p.site,
            hasher: p.hasher,
            bots: isbot::Bots::default(),
            metrics: Metrics::default(),
            html_filter: p.html_filter,
            dashboard: p.dashboard,
            pages: p.pages,
            delivery: Arc::new(p.delivery),
            delivery_metrics: Arc::default(),
            identity: identity::Identity::new(p.session_key),
        }
    }

    /// The deliverer and the figures its worker keeps (the capture server runs the worker).
    pub fn delivery(
        &self,
    ) -> (
        Arc<crate::delivery::Deliverer>,
        Arc<crate::delivery::metrics::DeliveryMetrics>,
    ) {
        (self.delivery.clone(), self.delivery_metrics.clone())
    }

    /// Replaces the manifest (the dev server does this after each rebuild).
    pub fn set_manifest(&self, m: Manifest) {
        *self.manifest.write().expect("manifest") = Arc::new(m);
    }

    fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().expect("manifest").clone()
    }

    /// The store (for shutdown).
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    fn reject(&self, status: StatusCode, code: &'static str, message: &str) -> Response<Body> {
        self.metrics.reject(code);
        error(status, code, message)
    }

    fn store_error(&self, e: &StoreError) -> Response<Body> {
        eprintln!("storage error: {e}");
        self.reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the lead could not be stored; please try again",
        )
    }

    /// Answers one request.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let started = Instant::now();
        let (client, version) = (self.client(peer, req.headers()), req.version());
        let mut res = self.route(req, client).await;
        self.metrics.observe(started.elapsed().as_secs_f64());
        network::close_after_timeout(&mut res, version);
        res.headers_mut().insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        res
    }

    async fn route(&self, req: Request<Incoming>, peer: Client) -> Response<Body> {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let public_api = path.starts_with("/api/v1/forms/") || path == "/api/v1/events";
        if public_api && method == Method::OPTIONS {
            return self.preflight(req.headers());
        }
        let mut res = match (&method, path.as_str()) {
            (&Method::POST, p) if p.starts_with("/api/v1/forms/") => {
                let form = p["/api/v1/forms/".len()..].trim_end_matches('/').to_owned();
                Box::pin(self.submit(req, peer, &form)).await
            }
            // Each route's future is boxed on its own: the request's future, copied into its
            // box on every request, stays small, and a beacon copies only its own handler's.
            (&Method::POST, "/api/v1/events") => Box::pin(self.event(req, peer)).await,
            (&Method::GET, p) if thanks_form(p).is_some() => {
                let form = thanks_form(p).unwrap_or_default();
                self.thanks_page(form, query_param(&req, "page").as_deref())
            }
            (m, p) if p.starts_with(crate::delivery::opt_in::CONFIRM_PATH) => {
                let token = &p[crate::delivery::opt_in::CONFIRM_PATH.len()..];
                Box::pin(self.confirm_page(m, token, peer)).await
            }
            (_, p)
                if p.starts_with("/api/v1/experiments")
                    || p.starts_with("/api/v1/leads")
                    || p.starts_with("/api/v1/lead-events")
                    || p.starts_with("/api/v1/deliveries") =>
            {
                Box::pin(self.admin(req, peer)).await
            }
            (_, p) if crate::dashboard::is_dashboard_path(p) => {
                Box::pin(self.dashboard(req, peer)).await
            }
            (&Method::GET, "/healthz") => match self.store.ping().await {
                Ok(()) => json(StatusCode::OK, &json!({"status": "ok"})),
                Err(e) => json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"status": "unavailable", "error": e.to_string()}),
                ),
            },
            (&Method::GET, "/metrics") => self.metrics_for_admin(&req, peer).await,
            (_, p) if p.starts_with("/api/") => {
                if public_api {
                    self.reject(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "method_not_allowed",
                        "use POST",
                    )
                } else {
                    self.reject(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
                }
            }
            _ => match &self.site {
                Some(_) => Box::pin(self.serve_page(req)).await,
                None => error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "this server only answers the capture API",
                ),
            },
        };
        if public_api {
            let origin = req_origin(&res);
            self.cors(&mut res, &origin);
        }
        res
    }

    fn allowed_origin(&self, headers: &HeaderMap) -> Option<String> {
        let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
        self.settings
            .allowed_origins
            .iter()
            .any(|o| o == origin || o == "*")
            .then(|| origin.to_owned())
    }

    fn preflight(&self, headers: &HeaderMap) -> Response<Body> {
        let mut res = Response::new(empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        if let Some(origin) = self.allowed_origin(headers) {
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_str(&origin).expect("origin header is valid"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, accept"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
        res
    }

    fn cors(&self, res: &mut Response<Body>, origin: &Option<String>) {
        if let Some(o) = origin {
            if let Ok(v) = HeaderValue::from_str(o) {
                res.headers_mut()
                    .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
                res.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
        }
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }

    fn client_key(&self, peer: Client) -> String {
        self.hasher.hash(peer.ip, Utc::now().date_naive())
    }

    fn rate_limited(&self, peer: Client) -> Option<Response<Body>> {
        let wait = self.limiter.check(peer.ip, Instant::now()).err()?;
        let mut res = self.reject(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; slow down",
        );
        let secs = wait.as_secs() + 1;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        Some(res)
    }

    async fn read_answers(
        &self,
        req: Request<Incoming>,
        max: usize,
        allow_text: bool,
    ) -> Result<(HeaderMap, crate::forms::Answers, bool), Response<Body>> {
        let (parts, incoming) = req.into_parts();
        let fail = |e: BodyError| {
            let (status, code) = e.status();
            self.reject(status, code, e.message())
        };
        let kind = body::kind(&parts.headers).map_err(fail)?;
        if kind == Kind::Text && !allow_text {
            return Err(fail(BodyError::Unsupported(
                "text/plain is accepted for beacons only".into(),
            )));
        }
        let json_body = matches!(kind, Kind::Json);
        let bytes = body::read_within(&parts.headers, incoming, max, self.body_timeout())
            .await
            .map_err(fail)?;
        let answers = body::parse(&kind, bytes, self.settings.max_fields)
            .await
            .map_err(fail)?;
        Ok((parts.headers, answers, json_body))
    }
}

fn no_content() -> Response<Body> {
    let mut res = Response::new(empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}

fn with_origin(mut res: Response<Body>, origin: Option<String>) -> Response<Body> {
    if let Some(o) = origin {
        res.extensions_mut().insert(CorsOrigin(o));
    }
    res
}

#[derive(Clone)]
struct CorsOrigin(String);

fn req_origin(res: &Response<Body>) -> Option<String> {
    res.extensions().get::<CorsOrigin>().map(|c| c.0.clone())
}

/// Identity of a submission for deduplication: form, visitor and canonical answers.
pub fn dedupe_key(
    form: &str,
    visitor: Option<&str>,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut h = Sha256::new();
    h.update(form.as_bytes());
    h.update([0]);
    h.update(visitor.unwrap_or("").as_bytes());
    h.update([0]);
    // serde_json keeps insertion order; answers come in field order, which is canonical.
    // Serialised straight into the hash: no copy of the answers, no intermediate string.
    let _ = serde_json::to_writer(HashWriter(&mut h), answers);
    hex::encode(&h.finalize()[..16])
}

/// Lets serde_json write into a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
