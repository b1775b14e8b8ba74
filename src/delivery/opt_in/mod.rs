//! Double opt-in: the confirmation e-mail to the lead, and the signed link that confirms it.
//!
//! A lead of a form with `double_opt_in = true` is stored `unconfirmed`. In its transaction
//! go its sales deliveries, written `held` (the worker never claims them), and one delivery
//! of [`EVENT_TYPE`] to [`TARGET`]: the confirmation e-mail to the lead's own address, sent
//! through the `[capture.email]` SMTP server with the same retries and log as every other
//! delivery. Its body names the lead, the address, the expiry and the wording; the link's
//! token is signed when the mail is sent, so no token is ever stored. Opening
//! `GET /api/v1/confirm/{token}` confirms the lead and releases its held deliveries in one
//! store write (`crate::store::Store::confirm_lead`).
//!
//! The key is `SPLITMARK_CONFIRM_KEY` from the environment, never from `splitmark.toml`.
//! Without it (or without `[capture.email]`) a site with a double opt-in form does not start.

pub mod mail;
pub mod texts;
pub mod token;

pub use token::{ConfirmKey, Confirmable, TokenError, KEY_ENV};

use super::smtp::SmtpUrl;
use super::{Target, Targets};
use crate::config::Config;
use crate::forms::FormSpec;
use crate::store::{NewDelivery, NewLead, Outbox};
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The event type of a confirmation e-mail's delivery row.
pub const EVENT_TYPE: &str = "lead.confirmation_requested";

/// The target key of a confirmation e-mail's delivery row: the lead itself.
pub const TARGET: &str = "lead-confirmation";

/// The path of confirmation links, followed by the token.
pub const CONFIRM_PATH: &str = "/api/v1/confirm/";

/// What a confirmation e-mail's row stores: everything but the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The lead's id.
    pub lead: String,
    /// Where the mail goes: the lead's address.
    pub email: String,
    /// The form.
    pub form: String,
    /// Until when the link is valid.
    pub expires: DateTime<Utc>,
    /// The subject, filled in.
    pub subject: String,
    /// The text above the link, filled in.
    pub text: String,
}

/// The double opt-in service: the key, where links point, and the SMTP server.
#[derive(Clone, Debug)]
pub struct OptIn {
    key: ConfirmKey,
    base: String,
    smtp: SmtpUrl,
    from: Mailbox,
    site: String,
    language: String,
}

impl OptIn {
    /// The service when any of `forms` asks for double opt-in (`None` when none does), taking
    /// the SMTP server from the `[capture.email]` target and the key from `env`. Every missing
    /// piece is an error naming the form and what it needs.
    pub fn from_config(
        config: &Config,
        forms: &BTreeMap<String, FormSpec>,
        targets: &Targets,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<OptIn>, String> {
        let Some((id, _)) = forms.iter().find(|(_, f)| f.double_opt_in) else {
            return Ok(None);
        };
        let at = format!("[forms.{id}] double_opt_in = true");
        let Some(Target::Email(email)) = targets.get("email") else {
            return Err(format!(
                "{at} needs [capture.email] (smtp_url_env and from): the confirmation e-mail \
                 is sent through that SMTP server"
            ));
        };
        let key = ConfirmKey::from_env(env).map_err(|e| {
            format!(
                "{at} needs a signing key for its confirmation links in the environment \
                 variable {KEY_ENV} (never in splitmark.toml): {e}"
            )
        })?;
        Ok(Some(OptIn {
            key,
            base: super::dashboard_base(config),
            smtp: email.smtp.clone(),
            from: email.from.clone(),
            site: config.title.clone(),
            language: config.language.clone(),
        }))
    }

    /// The start-up line: where links point and how mail goes out.
    pub fn describe(&self) -> String {
        format!(
            "double opt-in: confirmation links to {}{CONFIRM_PATH}…, mail via {} from {}",
            self.base.trim_end_matches('/'),
            self.smtp.describe(),
            self.from.email
        )
    }

    /// The built-in wording in the site's language.
    pub fn texts(&self) -> &'static texts::Texts {
        texts::for_language(&self.language)
    }

    /// The site's `language`.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The lead's outbox: its sales deliveries (`sales`, made as for any lead) held, and the
    /// confirmation e-mail pending. `lead.email` must be set (the form's email field is
    /// required); the lead id is `sales`'s when there is one.
    pub fn outbox(&self, lead: &NewLead, form: &FormSpec, sales: Option<Outbox>) -> Outbox {
        let mut outbox = sales.unwrap_or_else(|| Outbox {
            lead_id: uuid::Uuid::now_v7().to_string(),
            deliveries: Vec::new(),
        });
        for d in &mut outbox.deliveries {
            d.held = true;
        }
        let email = lead.email.clone().unwrap_or_default();
        let expires = lead.received_at + form.confirm_within();
        let until = expires.format("%Y-%m-%d %H:%M UTC").to_string();
        let t = self.texts();
        let fill = |custom: &Option<String>, built_in: &str| {
            texts::fill(
                custom.as_deref().unwrap_or(built_in),
                &self.site,
                &email,
                &until,
            )
        };
        let request = Request {
            lead: outbox.lead_id.clone(),
            email: email.clone(),
            form: lead.form.clone(),
            expires,
            subject: fill(&form.confirm_subject, t.subject),
            text: fill(&form.confirm_text, t.intro),
        };
        outbox.deliveries.push(NewDelivery {
            event_id: format!("msg_{}_confirm", outbox.lead_id),
            event_type: EVENT_TYPE.into(),
            target: TARGET.into(),
            body: serde_json::to_string(&request).expect("a request always serialises"),
            held: false,
            due_ms: None,
        });
        outbox
    }

    /// The confirmation link of `request`.
    pub fn link(&self, request: &Request) -> Option<String> {
        let token = self.key.sign(&request.lead, request.expires)?;
        Some(format!(
            "{}{CONFIRM_PATH}{token}",
            self.base.trim_end_matches('/')
        ))
    }

    /// Checks a link's token at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Confirmable, TokenError> {
        self.key.verify(token, now)
    }

    /// One attempt of the confirmation e-mail stored as `body` under `message_id`.
    pub async fn send(
        &self,
        message_id: &str,
        body: &str,
        timeouts: super::Timeouts,
    ) -> super::Outcome {
        let refused = |reason: String| super::Outcome::Refused { reason };
        let request: Request = match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => return refused(format!("unreadable confirmation request: {e}")),
        };
        let Some(link) = self.link(&request) else {
            return refused(format!("lead id {:?} is not a UUID", request.lead));
        };
        let message = match mail::compose(self, message_id, &request, &link) {
            Ok(m) => m,
            Err(reason) => return refused(reason),
        };
        super::send_mail(&self.smtp, message, timeouts).await
    }
}
