//! Answers to a plain form post (no JavaScript, no `Accept: application/json`): pages a person
//! reads, with a way back to the page the form was on.

use super::{wants_json, App};
use crate::capture::form_pages::Refusal;
use crate::capture::http::{with_type, Body};
use crate::forms::{Answers, FieldErrors, FormSpec, Prefill};
use crate::manifest::Manifest;
use crate::store::NewLead;
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

/// A plain post the server is answering with the form again.
pub(super) struct Sent<'a> {
    /// Form id.
    pub form_id: &'a str,
    /// Its spec.
    pub form: &'a FormSpec,
    /// What was sent, with the messages.
    pub prefill: Prefill,
    /// Where "back" links.
    pub back_url: String,
}

/// The answers and hidden attribution fields as sent, with the messages per field.
pub(super) fn prefill(lead: &NewLead, answers: Answers, errors: &FieldErrors) -> Prefill {
    let u = &lead.utm;
    let meta = [
        ("_experiment", &lead.experiment),
        ("_variant", &lead.variant),
        ("_visitor", &lead.visitor),
        ("_page", &lead.page),
        ("_referrer", &lead.referrer),
        ("utm_source", &u.source),
        ("utm_medium", &u.medium),
        ("utm_campaign", &u.campaign),
        ("utm_term", &u.term),
        ("utm_content", &u.content),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v.clone()?)))
    .collect();
    Prefill {
        answers,
        errors: errors
            .iter()
            .map(|(k, e)| (k.clone(), e.message.clone()))
            .collect(),
        meta,
    }
}

/// The form as the visitor saw it: in their variant's texts, when the post names one.
fn as_seen(
    manifest: &Manifest,
    form_id: &str,
    form: &FormSpec,
    meta: &Prefill,
) -> Option<FormSpec> {
    let experiment = manifest
        .experiment(meta.meta.get("_experiment")?)
        .filter(|x| x.goal == form_id)?;
    let texts = experiment.form_texts(meta.meta.get("_variant")?)?;
    Some(crate::forms::apply_texts(form, texts))
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
        manifest: &Manifest,
        sent: &Sent<'_>,
        errors: &FieldErrors,
    ) -> Response<Body> {
        let seen = as_seen(manifest, sent.form_id, sent.form, &sent.prefill);
        let html = self.pages.refusal(&Refusal {
            form_id: sent.form_id,
            form: seen.as_ref().unwrap_or(sent.form),
            errors,
            prefill: Some(&sent.prefill),
            retry_after: None,
            back_url: &sent.back_url,
            notice: None,
        });
        human(StatusCode::UNPROCESSABLE_ENTITY, html)
    }

    /// The store refused a valid plain post: the form again with everything typed, to send
    /// once more (with the store's status and `Retry-After`).
    pub(super) fn unsaved_page(
        &self,
        refused: Response<Body>,
        manifest: &Manifest,
        sent: &Sent<'_>,
    ) -> Response<Body> {
        let seen = as_seen(manifest, sent.form_id, sent.form, &sent.prefill);
        let form = seen.as_ref().unwrap_or(sent.form);
        self.refused_page(
            refused,
            sent.form_id,
            form,
            Some(&sent.prefill),
            &sent.back_url,
        )
    }

    /// A refusal that is not about the answers (too many attempts, a body that cannot be
    /// read, a store that is down) as a page, with the status and `Retry-After` of `refused`,
    /// and the form again when what was sent is known.
    pub(super) fn refused_page(
        &self,
        refused: Response<Body>,
        form_id: &str,
        form: &FormSpec,
        prefill: Option<&Prefill>,
        back_url: &str,
    ) -> Response<Body> {
        let status = refused.status();
        let retry = refused.headers().get(header::RETRY_AFTER).cloned();
        let secs = retry
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse().ok());
        let notice = match status {
            StatusCode::TOO_MANY_REQUESTS => None,
            StatusCode::SERVICE_UNAVAILABLE => {
                Some("Your answers could not be saved just now. Please send them again.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => Some("The form was too large to send."),
            _ => Some("The form could not be read. Please try again."),
        };
        let html = self.pages.refusal(&Refusal {
            form_id,
            form,
            errors: &FieldErrors::new(),
            prefill,
            retry_after: (status == StatusCode::TOO_MANY_REQUESTS).then(|| secs.unwrap_or(1)),
            back_url,
            notice,
        });
        let mut res = human(status, html);
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
