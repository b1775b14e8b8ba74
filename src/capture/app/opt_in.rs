//! Double opt-in on the request side: a new lead's confirmation state, form version and
//! outbox, and `GET /api/v1/confirm/{token}`, the page a lead sees after clicking the link.

use super::App;
use crate::capture::client::Client;
use crate::capture::http::{with_type, Body};
use crate::delivery::opt_in::{texts::Texts, TokenError};
use crate::forms::{form_version, FormSpec};
use crate::manifest::Manifest;
use crate::store::{ConfirmOutcome, Confirmation, NewLead, Outbox, StoreError};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};

/// The version of the form as this visitor saw it: in their variant's texts when the lead is
/// attributed to a variant of an experiment whose goal is this form.
/// The manifest keeps them, computed once (see [`Manifest::form_version`]).
pub(super) fn shown_version(
    manifest: &Manifest,
    form_id: &str,
    form: &FormSpec,
    lead: &NewLead,
) -> String {
    match manifest.form_version(form_id, lead.experiment.as_deref(), lead.variant.as_deref()) {
        Some(v) => v.to_owned(),
        // A form the manifest does not list (not reached from `submit`, which looked it up).
        None => form_version(form),
    }
}

/// The state a new lead of `form` is stored with.
pub(super) fn initial_confirmation(form: &FormSpec) -> Option<Confirmation> {
    form.double_opt_in.then_some(Confirmation::Unconfirmed)
}

/// Which page a confirmation link leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Confirmed,
    Already,
    Invalid,
    Expired,
    NotFound,
    Unavailable,
}

impl Answer {
    fn status(self) -> StatusCode {
        match self {
            Answer::Confirmed | Answer::Already => StatusCode::OK,
            Answer::Invalid => StatusCode::BAD_REQUEST,
            Answer::Expired => StatusCode::GONE,
            Answer::NotFound => StatusCode::NOT_FOUND,
            Answer::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `state` the template sees.
    fn state(self) -> &'static str {
        match self {
            Answer::Confirmed => "confirmed",
            Answer::Already => "already_confirmed",
            Answer::Invalid => "invalid",
            Answer::Expired => "expired",
            Answer::NotFound => "not_found",
            Answer::Unavailable => "unavailable",
        }
    }

    fn words(self, t: &Texts) -> (&'static str, &'static str) {
        match self {
            Answer::Confirmed => t.confirmed,
            Answer::Already => t.already,
            Answer::Invalid => t.invalid,
            Answer::Expired => t.expired,
            Answer::NotFound => t.not_found,
            Answer::Unavailable => t.unavailable,
        }
    }
}

impl App {
    /// The outbox of a new lead: as for any lead, or, for a double opt-in lead, its sales
    /// deliveries held and the confirmation e-mail due. Refused when the server cannot send
    /// the e-mail (a rebuild in `serve` turned double opt-in on after the start).
    pub(super) fn lead_outbox(
        &self,
        lead: &NewLead,
        sales: Option<Outbox>,
    ) -> Result<Option<Outbox>, StoreError> {
        if lead.confirmation.is_none() {
            return Ok(sales);
        }
        let manifest = self.manifest();
        let (Some(form), Some(opt_in)) = (manifest.forms.get(&lead.form), self.delivery.opt_in())
        else {
            return Err(StoreError::Unavailable(format!(
                "form {} asks for double opt-in, which this server was not started with \
                 (restart it with {} set and [capture.email] configured)",
                lead.form,
                crate::delivery::opt_in::KEY_ENV
            )));
        };
        Ok(Some(opt_in.outbox(lead, form, sales)))
    }

    /// `GET /api/v1/confirm/{token}`: confirms the lead and shows a page in the site's layout.
    pub(super) async fn confirm_page(
        &self,
        method: &Method,
        token: &str,
        peer: Client,
    ) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            return self.reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "open the confirmation link with GET",
            );
        }
        if let Some(res) = self.rate_limited(peer) {
            return res;
        }
        let Some(opt_in) = self.delivery.opt_in() else {
            return self.confirmation_answer(
                Answer::NotFound,
                crate::delivery::opt_in::texts::for_language("en"),
            );
        };
        let texts = opt_in.texts();
        let now = chrono::Utc::now();
        let answer = match opt_in.verify(token, now) {
            Err(TokenError::Invalid) => Answer::Invalid,
            Err(TokenError::Expired) => Answer::Expired,
            Ok(c) => match self.store.confirm_lead(&c.lead, now).await {
                Ok(ConfirmOutcome::Confirmed { .. }) => Answer::Confirmed,
                Ok(ConfirmOutcome::AlreadyConfirmed { .. }) => Answer::Already,
                Ok(ConfirmOutcome::NotFound | ConfirmOutcome::NotAsked) => Answer::NotFound,
                Err(e) => {
                    eprintln!("storage error while confirming a lead: {e}");
                    Answer::Unavailable
                }
            },
        };
        let code = match answer {
            Answer::Confirmed => "confirmed",
            Answer::Already => "already_confirmed",
            Answer::Invalid => "invalid_token",
            Answer::Expired => "expired_token",
            Answer::NotFound => "unknown_lead",
            Answer::Unavailable => "storage_unavailable",
        };
        if !matches!(answer, Answer::Confirmed | Answer::Already) {
            self.metrics.reject(code);
        }
        self.confirmation_answer(answer, texts)
    }

    fn confirmation_answer(&self, answer: Answer, texts: &Texts) -> Response<Body> {
        let (heading, message) = answer.words(texts);
        let back = self.pages.site_link("/");
        let html = self
            .pages
            .confirmation(answer.state(), heading, message, &back);
        let mut res = with_type(answer.status(), "text/html; charset=utf-8", html);
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        // The token is in the URL: no page it links to may learn it.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if answer == Answer::Unavailable {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        res
    }
}
