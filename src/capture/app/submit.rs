//! `POST /api/v1/forms/{form}`: parse, split attribution, honeypot, validate, score, store,
//! answer (303 for a plain post, 201 JSON for scripts, 422 with per-field messages: JSON for
//! scripts, the form again in the site's layout for people).

use super::plain::{prefill, thanks_location, wants_page, Sent};
use super::visitor::{valid_visitor, visitor_cookie};
use super::{dedupe_key, wants_json, with_origin, App};
use crate::capture::client::Client;
use crate::capture::http::{empty, json, Body};
use crate::forms::{cut_chars, split_meta, FieldErrors};
use crate::store::{AttributionFlag, NewLead};
use chrono::Utc;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::json;

/// The `201` answer to a script: the lead's id, whether it qualified, and for a double
/// opt-in form `"confirmation": "unconfirmed"` (the page can tell the visitor to look for the
/// confirmation e-mail).
#[derive(serde::Serialize)]
struct Created<'a> {
    id: &'a str,
    qualified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmation: Option<&'static str>,
}

impl App {
    pub(super) async fn submit(
        &self,
        req: Request<Incoming>,
        peer: Client,
        form_id: &str,
    ) -> Response<Body> {
        let manifest = self.manifest();
        let origin = self.allowed_origin(req.headers());
        let Some(form) = manifest.forms.get(form_id) else {
            return with_origin(
                self.reject(
                    StatusCode::NOT_FOUND,
                    "unknown_form",
                    &format!("there is no form {form_id:?}"),
                ),
                origin,
            );
        };
        // A person posting a plain form gets pages; where they link back to is known before
        // the body is read, for the answers that come before reading it.
        let plain_back = wants_page(req.headers()).then(|| self.back_url(req.headers(), None));
        if let Some(res) = self.rate_limited(peer) {
            return match &plain_back {
                Some(back) => self.refused_page(res, form_id, form, None, back),
                None => res,
            };
        }
        let (headers, mut answers, json_body) = match self
            .read_answers(req, self.settings.max_body_bytes, false)
            .await
        {
            Ok(x) => x,
            Err(res) => {
                return match &plain_back {
                    Some(back) => self.refused_page(res, form_id, form, None, back),
                    None => res,
                }
            }
        };
        let json_reply = json_body || wants_json(&headers);
        let meta = split_meta(&mut answers);
        let gotcha = meta.gotcha.is_some();
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| cut_chars(s, 512).to_owned());
        let visitor = meta
            .visitor
            .filter(|v| valid_visitor(v))
            .or_else(|| visitor_cookie(&headers));
        let base = NewLead {
            received_at: Utc::now(),
            form: form_id.to_owned(),
            answers: serde_json::Map::new(),
            email: None,
            // The meta fields move into the lead; later steps read them from `base`.
            experiment: meta.experiment,
            variant: meta.variant,
            attribution_flag: None,
            visitor,
            page: meta.page,
            referrer: meta.referrer,
            utm: meta.utm,
            user_agent,
            ip_hash: Some(self.client_key(peer)),
            score: 0,
            qualified: false,
            spam_reason: None,
            consent: None,
            dedupe_key: String::new(),
            confirmation: None,
            form_version: None,
        };
        // The success answer needs the page after the lead has gone to the store.
        let page = base.page.clone();
        if gotcha {
            // Same answer as a real lead, so the bot learns nothing; stored, never counted.
            let raw: serde_json::Map<String, serde_json::Value> =
                answers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let lead = NewLead {
                dedupe_key: dedupe_key(form_id, base.visitor.as_deref(), &raw),
                answers: raw,
                spam_reason: Some("honeypot".into()),
                ..base
            };
            return match self.store.insert_lead(lead).await {
                Ok(r) => {
                    self.metrics
                        .spam
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    with_origin(
                        self.success(form_id, form, &page, &r.id, false, json_reply),
                        origin,
                    )
                }
                Err(e) => self.store_error(&e),
            };
        }
        let valid = match form.validate(&answers) {
            Ok(v) => v,
            Err(errors) if json_reply => return with_origin(self.invalid(&errors), origin),
            Err(errors) => {
                self.metrics.reject("validation_failed");
                let sent = Sent {
                    form_id,
                    form,
                    prefill: prefill(&base, answers, &errors),
                    back_url: self.back_url(&headers, base.page.as_deref()),
                };
                return self.invalid_page(&manifest, &sent, &errors);
            }
        };
        // Kept for a plain post, to give the answers back if the store cannot take them.
        let unsaved = (!json_reply).then(|| Sent {
            form_id,
            form,
            prefill: prefill(&base, answers, &FieldErrors::new()),
            back_url: self.back_url(&headers, base.page.as_deref()),
        });
        let score = form.score(&valid);
        let attribution_flag = match (&base.experiment, &base.variant) {
            (Some(e), v) => match manifest.experiment(e) {
                None => Some(AttributionFlag::UnknownExperiment),
                Some(x) if !v.as_deref().is_some_and(|v| x.has_variant(v)) => {
                    Some(AttributionFlag::UnknownVariant)
                }
                Some(_) => None,
            },
            (None, Some(_)) => Some(AttributionFlag::UnknownExperiment),
            (None, None) => None,
        };
        let form_version = Some(super::opt_in::shown_version(
            &manifest, form_id, form, &base,
        ));
        let lead = NewLead {
            confirmation: super::opt_in::initial_confirmation(form),
            form_version,
            dedupe_key: dedupe_key(form_id, base.visitor.as_deref(), &valid.answers),
            answers: valid.answers,
            email: valid.email,
            consent: valid.consent,
            score: score.points,
            qualified: score.qualified,
            attribution_flag,
            ..base
        };
        match self.store_lead(lead).await {
            Ok(r) => {
                let counter = if r.duplicate {
                    &self.metrics.duplicates
                } else {
                    &self.metrics.submissions
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                with_origin(
                    self.success(form_id, form, &page, &r.id, r.qualified, json_reply),
                    origin,
                )
            }
            Err(e) => match unsaved {
                Some(sent) => self.unsaved_page(self.store_error(&e), &manifest, &sent),
                None => self.store_error(&e),
            },
        }
    }

    pub(super) fn success(
        &self,
        form_id: &str,
        form: &crate::forms::FormSpec,
        page: &Option<String>,
        id: &str,
        qualified: bool,
        json_reply: bool,
    ) -> Response<Body> {
        if json_reply {
            let confirmation = super::opt_in::initial_confirmation(form).map(|c| c.as_str());
            return json(
                StatusCode::CREATED,
                &Created {
                    id,
                    qualified,
                    confirmation,
                },
            );
        }
        // A static page cannot show a message without a script, so the thank-you page is the
        // form's own `success_url` or one this server renders.
        let to = match &form.success_url {
            Some(url) => url.clone(),
            None => thanks_location(form_id, page.as_deref()),
        };
        let mut res = Response::new(empty());
        *res.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&to) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        res
    }

    /// The `422` answer to a script: a message and a code per field.
    pub(super) fn invalid(&self, errors: &FieldErrors) -> Response<Body> {
        self.metrics.reject("validation_failed");
        let fields: serde_json::Map<String, serde_json::Value> = errors
            .iter()
            .map(|(k, e)| (k.clone(), json!(e.message)))
            .collect();
        let codes: serde_json::Map<String, serde_json::Value> = errors
            .iter()
            .map(|(k, e)| (k.clone(), json!(e.code)))
            .collect();
        json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": "validation_failed", "message": "Some fields need attention.", "fields": fields, "codes": codes}),
        )
    }
}
