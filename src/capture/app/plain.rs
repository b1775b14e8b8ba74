//! Answers to a plain form post (no JavaScript, no `Accept: application/json`): pages a person
//! reads, with a way back to the page the form was on.

use super::{wants_json, App};
use crate::capture::form_pages::Refusal;
use crate::capture::http::{with_type, Body};
use crate::forms::{FieldErrors, FormSpec, Prefill};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode, Uri};

/// Whether the client is a browser posting a plain form, which wants a page, not JSON.
pub(super) fn wants_page(headers: &HeaderMap) -> bool {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    !json_body && !wants_json(headers)
}

/// A site path that is safe to link to: absolute, on this origin, no control characters.
pub(super) fn local_path(p: &str) -> Option<&str> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(char::is_control);
    ok.then_some(p)
}

/// `/api/v1/forms/{form}/thanks?page=…`: where a plain post goes when its form names no
/// `success_url`.
pub(super) fn thanks_location(form_id: &str, page: Option<&str>) -> String {
    let mut to = format!("/api/v1/forms/{form_id}/thanks");
    if let Some(p) = page.and_then(local_path) {
        to.push('?');
        to.push_str(&serde_urlencoded::to_string([("page", p)]).unwrap_or_default());
    }
    to
}

impl App {
    /// Where "back to the form" links: the `Referer` when it is a page of this site (same
    /// origin as the request, or one of `allowed_origins`), else the `_page` the form sent,
    /// else the home page. Never a script URL, never someone else's site.
    pub(super) fn back_url(&self, headers: &HeaderMap, page: Option<&str>) -> String {
        if let Some(url) = self.referer_back(headers) {
            return url;
        }
        self.pages
            .site_link(page.and_then(local_path).unwrap_or("/"))
    }

    fn referer_back(&self, headers: &HeaderMap) -> Option<String> {
        let referer: Uri = headers.get(header::REFERER)?.to_str().ok()?.parse().ok()?;
        let scheme = referer.scheme_str()?;
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = referer.authority()?.as_str();
        let path = referer.path_and_query().map_or("/", |p| p.as_str());
        // A page of the capture API itself (the form shown again after an error) is not
        // where the visitor started; `_page` knows better.
        if referer.path().starts_with("/api/") {
            return None;
        }
        local_path(path)?;
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) {
            return Some(path.to_owned());
        }
        let origin = format!("{scheme}://{authority}");
        self.settings
            .allowed_origins
            .iter()
            .any(|o| o != "*" && o.eq_ignore_ascii_case(&origin))
            .then(|| format!("{origin}{path}"))
    }

    /// The form again, with the values sent and a message per field, in the site's layout.
    pub(super) fn invalid_page(
        &self,
        form_id: &str,
        form: &FormSpec,
        errors: &FieldErrors,
        prefill: &Prefill,
        back_url: &str,
    ) -> Response<Body> {
        let html = self.pages.refusal(&Refusal {
            form_id,
            form,
            errors,
            prefill: Some(prefill),
            retry_after: None,
            back_url,
        });
        human(StatusCode::UNPROCESSABLE_ENTITY, html)
    }

    /// "Too many attempts" for a plain post, keeping the 429's `Retry-After`.
    pub(super) fn too_many_page(
        &self,
        limited: Response<Body>,
        form_id: &str,
        form: &FormSpec,
        headers: &HeaderMap,
    ) -> Response<Body> {
        let retry = limited.headers().get(header::RETRY_AFTER).cloned();
        let secs = retry
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let html = self.pages.refusal(&Refusal {
            form_id,
            form,
            errors: &FieldErrors::new(),
            prefill: None,
            retry_after: Some(secs),
            back_url: &self.back_url(headers, None),
        });
        let mut res = human(StatusCode::TOO_MANY_REQUESTS, html);
        if let Some(v) = retry {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }

    /// `GET /api/v1/forms/{form}/thanks?page=…`: the form's success message in the site's
    /// layout, with a link back to the page.
    pub(super) fn thanks_page(&self, form_id: &str, page: Option<&str>) -> Response<Body> {
        let manifest = self.manifest();
        let Some(form) = manifest.forms.get(form_id) else {
            return self.reject(
                StatusCode::NOT_FOUND,
                "unknown_form",
                &format!("there is no form {form_id:?}"),
            );
        };
        let back = self
            .pages
            .site_link(page.and_then(local_path).unwrap_or("/"));
        human(StatusCode::OK, self.pages.success(form_id, form, &back))
    }
}

/// An HTML page with the visitor's data in it: never cached, never framed.
fn human(status: StatusCode, html: String) -> Response<Body> {
    let mut res = with_type(status, "text/html; charset=utf-8", html);
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_site_paths_are_links() {
        assert_eq!(local_path("/landing/?a=1"), Some("/landing/?a=1"));
        for bad in [
            "//evil.test/",
            "javascript:alert(1)",
            "/\\evil",
            "x",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_thank_you_location_carries_the_page_encoded() {
        assert_eq!(
            thanks_location("demo", Some("/a b/?x=1&y")),
            "/api/v1/forms/demo/thanks?page=%2Fa+b%2F%3Fx%3D1%26y"
        );
        assert_eq!(
            thanks_location("demo", Some("//evil.test")),
            "/api/v1/forms/demo/thanks"
        );
    }
}
