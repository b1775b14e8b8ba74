//! Serving the built site, with server-side assignment: a page with a running experiment is
//! marked with the visitor's variant before it leaves the server, so it needs no JavaScript
//! to show the right variant, and the exposure is recorded here.

use super::visitor::{new_visitor_id, valid_visitor, visitor_cookie, VISITOR_COOKIE};
use super::App;
use crate::capture::http::Body;
use crate::experiments::Status;
use crate::store::Exposure;
use chrono::Utc;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response};

/// Marks `<html>` with `data-sm-<experiment>="<variant>"`.
pub fn mark_html(html: &str, experiment: &str, variant: &str) -> String {
    match html.find("<html") {
        Some(i) => format!(
            "{}<html data-sm-{experiment}=\"{variant}\"{}",
            &html[..i],
            &html[i + 5..]
        ),
        None => html.to_owned(),
    }
}

fn opted_out(headers: &HeaderMap) -> bool {
    let is_one = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()) == Some("1");
    is_one("dnt") || is_one("sec-gpc")
}

fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        == Some("https")
}

impl App {
    pub(super) async fn serve_page(&self, req: Request<Incoming>) -> Response<Body> {
        let site = self
            .site
            .as_ref()
            .expect("serve_page only runs with a site");
        let path = req.uri().path().to_owned();
        let headers = req.headers().clone();
        let manifest = self.manifest();
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let experiment = manifest
            .experiments
            .iter()
            .find(|e| e.page == path && e.status == Status::Running);
        let skip = self.bots.is_bot(ua) || (self.settings.respect_dnt && opted_out(&headers));
        let (assignment, new_visitor) = match (experiment, skip) {
            (Some(e), false) => {
                let (visitor, new) = match visitor_cookie(&headers) {
                    Some(v) => (v, false),
                    None => (new_visitor_id(Utc::now().timestamp_millis() as u64), true),
                };
                (
                    Some((e.id.clone(), e.assign(&visitor).to_owned(), visitor)),
                    new,
                )
            }
            _ => (None, false),
        };
        let extra = self.html_filter.as_deref();
        let filter = |_: &str, html: String| {
            let html = match &assignment {
                Some((e, v, _)) => mark_html(&html, e, v),
                None => html,
            };
            match extra {
                Some(f) => f(html),
                None => html,
            }
        };
        let use_filter = assignment.is_some() || extra.is_some();
        let mut res = site
            .respond(
                req.method(),
                &path,
                &headers,
                if use_filter { Some(&filter) } else { None },
            )
            .await;
        if let Some((experiment, variant, visitor)) = assignment {
            if res.status().is_success() && valid_visitor(&visitor) {
                let h = res.headers_mut();
                // The HTML now depends on the visitor: keep shared caches out of it.
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-cache"),
                );
                h.append(header::VARY, HeaderValue::from_static("Cookie"));
                h.remove(header::ETAG);
                if new_visitor {
                    let c = format!(
                        "{VISITOR_COOKIE}={visitor}; Path=/; Max-Age=34560000; SameSite=Lax{}",
                        if secure(&headers) { "; Secure" } else { "" }
                    );
                    if let Ok(v) = HeaderValue::from_str(&c) {
                        h.append(header::SET_COOKIE, v);
                    }
                }
                let exposure = Exposure {
                    experiment,
                    variant,
                    visitor,
                    page: Some(path),
                    at: Utc::now(),
                };
                match self.store.record_exposure(exposure).await {
                    Ok(_) => {
                        self.metrics
                            .exposures
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(e) => eprintln!("exposure not recorded: {e}"),
                }
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn marks_the_html_element() {
        assert_eq!(
            super::mark_html("<!doctype html>\n<html lang=\"en\">", "hero", "b"),
            "<!doctype html>\n<html data-sm-hero=\"b\" lang=\"en\">"
        );
    }
}
