//! Lead delivery: signed webhooks (Standard Webhooks v1), Slack messages and e-mail.
//!
//! This module is the part without storage: what the targets are ([`Targets`]), what an event
//! looks like ([`Event`], [`Message`]), how one attempt is made ([`Deliverer::attempt`]) and
//! when to try again ([`schedule`]). The outbox (rows in the store) and the worker loop that
//! claims rows and records attempts live beside it in `outbox.rs` and `worker.rs`.
//!
//! # The contract with the outbox
//!
//! * **Writing.** When a lead is stored (and only when it is new, not a dedupe repeat), the
//!   store writes, in the lead's transaction, one row per `(target, message)` of
//!   [`Targets::deliveries_for`]`(lead_id, &lead)`. A row keeps `target` (the
//!   [`TargetRef`] text), `event_id` ([`Message::id`]), `event_type`
//!   ([`EventKind::as_str`]) and `body` ([`Message::body`], the JSON serialised once). Spam
//!   leads produce no rows.
//! * **Attempting.** The worker rebuilds `Message { id, kind: EventKind::parse(type), body }`
//!   and calls [`Deliverer::attempt`]. Every attempt sends the stored body byte for byte with
//!   the same `webhook-id`, and a fresh `webhook-timestamp` and signature (the spec signs the
//!   attempt's time, so receivers can refuse replays). A redelivery is just another attempt of
//!   the same row.
//! * **Recording.** [`Outcome::Delivered`] → `delivered`. [`Outcome::Retry`] → attempts + 1,
//!   next attempt after [`schedule::RetrySchedule::next_delay`]`(attempts, rng)` on the
//!   configured schedule, or `failed` when that is
//!   `None`. [`Outcome::Gone`] (HTTP 410) and [`Outcome::Refused`] (SSRF policy, a target no
//!   longer configured, an unreadable row) → `failed` at once. [`Outcome::status`] and
//!   [`Outcome::error`] are what the delivery log shows.
//! * **Targets are independent**: each row is attempted on its own, so a broken webhook never
//!   delays the e-mail.

pub mod email;
pub mod event;
pub mod guard;
pub mod http;
pub mod labels;
pub mod metrics;
pub mod opt_in;
pub mod outbox;
pub mod pool;
pub mod schedule;
pub mod sign;
pub mod slack;
pub mod smtp;
pub mod smtp_send;
pub mod summary;
pub mod targets;
pub mod worker;

pub use event::{event_id, events_for, Event, EventKind, LeadPayload, Message};
pub use http::{HttpClient, Resolver, Timeouts};
pub use labels::Labels;
pub use targets::{Format, Target, TargetRef, Targets};

use crate::config::Config;
use crate::store::NewLead;
use bytes::Bytes;
use std::sync::Arc;
use summary::Summary;

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: an HTTP 2xx, or the SMTP server's 2xx reply code.
    Delivered {
        /// HTTP status or SMTP reply code.
        status: u16,
    },
    /// Not accepted this time; try again on the schedule.
    Retry {
        /// What went wrong, for the delivery log.
        error: String,
        /// The HTTP status or SMTP code, when there was an answer.
        status: Option<u16>,
    },
    /// HTTP 410: the receiver is gone for good; stop.
    Gone,
    /// Not attempted and never will be: the SSRF policy refused the address, or the target is
    /// no longer configured.
    Refused {
        /// Why, for the delivery log.
        reason: String,
    },
}

impl Outcome {
    /// `delivered`, `retry`, `gone` or `refused` (metrics label).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Retry { .. } => "retry",
            Outcome::Gone => "gone",
            Outcome::Refused { .. } => "refused",
        }
    }

    /// The status the receiver answered, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status } => Some(*status),
            Outcome::Retry { status, .. } => *status,
            Outcome::Gone => Some(410),
            Outcome::Refused { .. } => None,
        }
    }

    /// The error text for the log (`None` when delivered).
    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Retry { error, .. } => Some(error.clone()),
            Outcome::Gone => Some("HTTP 410 Gone: the receiver asked to stop".into()),
            Outcome::Refused { reason } => Some(reason.clone()),
        }
    }

    /// Whether trying again could help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Outcome::Retry { .. })
    }
}

/// Where the dashboard is: `[capture] endpoint` when the capture server has its own origin,
/// else the site's `base_url`.
pub fn dashboard_base(config: &Config) -> String {
    config
        .capture
        .get("endpoint")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&config.base_url)
        .trim_end_matches('/')
        .to_owned()
}

/// Characters of a lead id kept as they are in a URL path (ids are UUID text).
const ID_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The dashboard page of a lead: `<base>/admin/leads/<id>`.
pub fn lead_url(dashboard_base: &str, lead_id: &str) -> String {
    format!(
        "{}/admin/leads/{}",
        dashboard_base.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(lead_id, ID_SET)
    )
}

impl Targets {
    /// The outbox rows of a newly stored lead: one `(target, message)` per matching target
    /// and event, none for spam.
    pub fn deliveries_for(&self, lead_id: &str, lead: &NewLead) -> Vec<(TargetRef, Message)> {
        Event::all_for(lead_id, lead)
            .into_iter()
            .flat_map(|event| {
                let message = event.message();
                self.matching(event.kind, &lead.form)
                    .into_iter()
                    .map(move |t| (t, message.clone()))
            })
            .collect()
    }
}

/// Makes attempts. Cheap to share (`Arc`); holds no connections between attempts.
#[derive(Clone, Debug)]
pub struct Deliverer {
    targets: Arc<Targets>,
    dashboard: String,
    labels: Arc<Labels>,
    http: HttpClient,
    timeouts: Timeouts,
    opt_in: Option<Arc<opt_in::OptIn>>,
}

impl Deliverer {
    /// A deliverer for `targets`; `dashboard_base` (see [`dashboard_base`]) makes the lead
    /// links in e-mail and Slack; `labels` names the answers.
    pub fn new(targets: Targets, dashboard_base: impl Into<String>, labels: Labels) -> Deliverer {
        let timeouts = Timeouts::default();
        Deliverer {
            http: HttpClient::new(targets.allow_private, timeouts),
            targets: Arc::new(targets),
            dashboard: dashboard_base.into(),
            labels: Arc::new(labels),
            timeouts,
            opt_in: None,
        }
    }

    /// The same deliverer sending double opt-in confirmation e-mails through `opt_in`.
    pub fn with_opt_in(mut self, opt_in: Option<opt_in::OptIn>) -> Deliverer {
        self.opt_in = opt_in.map(Arc::new);
        self
    }

    /// The double opt-in service, when a form asks for it.
    pub fn opt_in(&self) -> Option<&opt_in::OptIn> {
        self.opt_in.as_deref()
    }

    /// One attempt of a confirmation e-mail row ([`opt_in::EVENT_TYPE`]).
    pub async fn attempt_confirmation(&self, message_id: &str, body: &str) -> Outcome {
        match &self.opt_in {
            Some(o) => o.send(message_id, body, self.timeouts).await,
            None => Outcome::Refused {
                reason: "double opt-in is not configured (no form has double_opt_in = true)".into(),
            },
        }
    }

    /// The same deliverer with other timeouts (tests shorten them).
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Deliverer {
        self.http = self.http.with_timeouts(timeouts);
        self.timeouts = timeouts;
        self
    }

    /// The same deliverer resolving webhook hosts with `resolver`.
    pub fn with_resolver(mut self, resolver: Resolver) -> Deliverer {
        self.http = self.http.with_resolver(resolver);
        self
    }

    /// The same deliverer trusting `roots` for HTTPS instead of Mozilla's (tests, private CAs).
    pub fn with_tls_roots(mut self, roots: rustls::RootCertStore) -> Deliverer {
        self.http = self.http.with_roots(roots);
        self
    }

    /// The configured targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// One attempt of `message` to `target`.
    pub async fn attempt(&self, target: &TargetRef, message: &Message) -> Outcome {
        match self.targets.get(target.as_str()) {
            None => Outcome::Refused {
                reason: format!("target {target} is no longer configured"),
            },
            Some(Target::Webhook(w)) => self.webhook(w, message).await,
            Some(Target::Email(e)) => self.email(e, message).await,
        }
    }

    fn summary(&self, message: &Message) -> Result<Summary, Outcome> {
        let payload = message
            .payload()
            .map_err(|reason| Outcome::Refused { reason })?;
        let link = lead_url(&self.dashboard, &payload.id);
        let mut summary = Summary::new(&payload, message.kind, &self.labels, link);
        crate::lifecycle::notify::annotate(&mut summary, message);
        Ok(summary)
    }

    async fn webhook(&self, w: &targets::Webhook, message: &Message) -> Outcome {
        if let Some(reason) = &w.refused {
            return Outcome::Refused {
                reason: reason.clone(),
            };
        }
        let (body, headers) = match (&w.format, &w.secret) {
            (Format::Standard, Some(secret)) => {
                let ts = chrono::Utc::now().timestamp();
                let signature = secret.sign(&message.id, ts, message.body.as_bytes());
                (
                    Bytes::from(message.body.clone()),
                    vec![
                        ("webhook-id", message.id.clone()),
                        ("webhook-timestamp", ts.to_string()),
                        ("webhook-signature", signature),
                    ],
                )
            }
            (Format::Standard, None) => {
                return Outcome::Refused {
                    reason: "a standard webhook without a secret".into(),
                }
            }
            (Format::Slack, _) => match self.summary(message) {
                Ok(s) => (Bytes::from(slack::message(&s).to_string()), Vec::new()),
                Err(refused) => return refused,
            },
        };
        match self.http.post(&w.url, &headers, body).await {
            Err(http::HttpError::Refused(reason)) => Outcome::Refused { reason },
            Err(http::HttpError::Failed(error)) => Outcome::Retry {
                error,
                status: None,
            },
            Ok(status) => {
                let code = status.as_u16();
                if status.is_success() {
                    Outcome::Delivered { status: code }
                } else if code == 410 {
                    Outcome::Gone
                } else if status.is_redirection() {
                    Outcome::Retry {
                        error: format!("HTTP {status}: redirects are not followed"),
                        status: Some(code),
                    }
                } else {
                    Outcome::Retry {
                        error: format!("HTTP {status}"),
                        status: Some(code),
                    }
                }
            }
        }
    }

    async fn email(&self, e: &targets::Email, message: &Message) -> Outcome {
        let summary = match self.summary(message) {
            Ok(s) => s,
            Err(refused) => return refused,
        };
        let reply_to = message.payload().ok().and_then(|p| p.email);
        let mail = match email::compose(e, &message.id, &summary, reply_to.as_deref()) {
            Ok(m) => m,
            Err(reason) => return Outcome::Refused { reason },
        };
        send_mail(&e.smtp, mail, self.timeouts).await
    }
}

/// Sends one message through `smtp`, bounded by `timeouts`.
pub(crate) async fn send_mail(
    smtp: &smtp::SmtpUrl,
    mail: lettre::Message,
    timeouts: Timeouts,
) -> Outcome {
    let sent = smtp_send::send(smtp, &mail, timeouts.connect);
    match tokio::time::timeout(timeouts.total, sent).await {
        Err(_) => Outcome::Retry {
            error: format!(
                "the SMTP server did not finish within {} s",
                timeouts.total.as_secs_f64()
            ),
            status: None,
        },
        Ok(Ok(status)) => Outcome::Delivered { status },
        Ok(Err(err)) => Outcome::Retry {
            status: err.status,
            error: format!("SMTP: {}", err.message),
        },
    }
}
