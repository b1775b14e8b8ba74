//! Where leads go: `[[capture.webhooks]]` and `[capture.email]` from `splitmark.toml`.
//!
//! ```toml
//! [capture]
//! allow_private_targets = false          # true lets webhooks reach loopback/private networks
//! retry_schedule = ["5s", "5m", "30m"]   # optional; default the Standard Webhooks schedule
//!
//! [[capture.webhooks]]
//! url = "https://hooks.example.com/leads"  # or url_env = "SLACK_HOOK_URL" (the URL is a secret)
//! secret_env = "SALES_HOOK_SECRET"         # whsec_… from the environment (format = "standard")
//! events = ["lead.created", "lead.qualified"]  # default ["lead.created"]
//! forms = ["demo"]                         # optional filter
//! format = "standard"                      # or "slack" (unsigned incoming-webhook message)
//!
//! [capture.email]
//! smtp_url_env = "SPLITMARK_SMTP_URL"      # smtp://user:pass@host:587, smtps://…, from the env
//! from = "Leads <leads@example.com>"
//! to = ["sales@example.com"]
//! events = ["lead.created"]                # default ["lead.created"]
//! forms = ["demo"]                         # optional
//! ```
//!
//! Secrets are read from the environment only: a `secret`, `smtp_url` or `password` key in the
//! file is an error that says so. Every target has a stable key ([`TargetRef`]) that delivery
//! rows store; changing a webhook's URL makes it a new target.

mod read;

use super::event::EventKind;
use super::schedule::RetrySchedule;
use super::sign::Secret;
use super::smtp::SmtpUrl;
use crate::config::Config;
use lettre::message::Mailbox;
use read::{email_target, url_key, webhook, Env};
use serde::{Deserialize, Serialize};

/// The stable key of a target, stored in every delivery row: `webhook:<12 hex of the URL's
/// SHA-256>` or `email`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TargetRef(pub String);

impl TargetRef {
    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TargetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for TargetRef {
    fn from(s: String) -> Self {
        TargetRef(s)
    }
}

impl From<&str> for TargetRef {
    fn from(s: &str) -> Self {
        TargetRef(s.to_owned())
    }
}

/// What a webhook's body looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Standard Webhooks envelope, signed.
    Standard,
    /// A Slack incoming-webhook message `{"text", "blocks"}`, unsigned.
    Slack,
}

/// Which events of which forms a target receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Subscribed kinds.
    pub events: Vec<EventKind>,
    /// Forms (all when `None`).
    pub forms: Option<Vec<String>>,
}

impl Filter {
    /// Whether `kind` from `form` goes to this target.
    pub fn matches(&self, kind: EventKind, form: &str) -> bool {
        self.events.contains(&kind)
            && self
                .forms
                .as_ref()
                .is_none_or(|f| f.iter().any(|x| x == form))
    }
}

/// A webhook receiver.
#[derive(Clone)]
pub struct Webhook {
    /// Where to post.
    pub url: url::Url,
    /// Whether the URL came from the environment (then only its origin is shown).
    pub url_is_secret: bool,
    /// Signing key (`None` for Slack).
    pub secret: Option<Secret>,
    /// Body format.
    pub format: Format,
    /// What it receives.
    pub filter: Filter,
    /// Set when the URL names an address the SSRF policy refuses (known without DNS).
    pub refused: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL from url_env is a secret (Slack's carry their token in the path).
        f.debug_struct("Webhook")
            .field("url", &self.shown_url())
            .field("signed", &self.secret.is_some())
            .field("format", &self.format)
            .field("filter", &self.filter)
            .field("refused", &self.refused)
            .finish()
    }
}

impl Webhook {
    /// The URL as safe to print: in full, or only its origin when it is a secret.
    pub fn shown_url(&self) -> String {
        if self.url_is_secret {
            format!("{}/…", self.url.origin().ascii_serialization())
        } else {
            self.url.to_string()
        }
    }
}

/// The sales inbox.
#[derive(Clone, Debug)]
pub struct Email {
    /// Server, security and credentials.
    pub smtp: SmtpUrl,
    /// `From:`.
    pub from: Mailbox,
    /// `To:`.
    pub to: Vec<Mailbox>,
    /// What it receives.
    pub filter: Filter,
}

/// One delivery target.
#[derive(Clone, Debug)]
pub enum Target {
    /// An HTTP receiver.
    Webhook(Webhook),
    /// An e-mail inbox over SMTP.
    Email(Email),
}

impl Target {
    /// What this target receives.
    pub fn filter(&self) -> &Filter {
        match self {
            Target::Webhook(w) => &w.filter,
            Target::Email(e) => &e.filter,
        }
    }
}

/// Every configured target, in file order (webhooks, then e-mail).
#[derive(Clone, Debug, Default)]
pub struct Targets {
    list: Vec<(TargetRef, Target)>,
    /// `[capture] allow_private_targets`.
    pub allow_private: bool,
    /// `[capture] retry_schedule`, the Standard Webhooks schedule by default.
    pub retry_schedule: RetrySchedule,
}

impl Targets {
    /// Reads `[capture] allow_private_targets`, `retry_schedule`, `[[capture.webhooks]]` and `[capture.email]`,
    /// taking secrets from `env`. Every problem is an error naming the target and the key.
    pub fn from_config(config: &Config, env: Env<'_>) -> Result<Targets, String> {
        let capture = &config.capture;
        let allow_private = match capture.get("allow_private_targets") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or("[capture] allow_private_targets must be true or false")?,
        };
        let retry_schedule = match capture.get("retry_schedule") {
            None => RetrySchedule::default(),
            Some(v) => RetrySchedule::from_toml(v)?,
        };
        let mut targets = Targets {
            list: Vec::new(),
            allow_private,
            retry_schedule,
        };
        if let Some(hooks) = capture.get("webhooks") {
            let hooks = hooks
                .as_array()
                .ok_or("[capture] webhooks must be written as [[capture.webhooks]] tables")?;
            for (i, hook) in hooks.iter().enumerate() {
                let at = format!("[[capture.webhooks]] #{}", i + 1);
                let table = hook.as_table().ok_or(format!("{at} must be a table"))?;
                let w = webhook(table, &at, config, env, allow_private)?;
                let key = TargetRef(format!("webhook:{}", url_key(w.url.as_str())));
                if targets.get(key.as_str()).is_some() {
                    return Err(format!("{at}: the same url is configured twice"));
                }
                targets.list.push((key, Target::Webhook(w)));
            }
        }
        if let Some(email) = capture.get("email") {
            let at = "[capture.email]";
            let table = email.as_table().ok_or(format!("{at} must be a table"))?;
            let e = email_target(table, at, config, env)?;
            targets
                .list
                .push((TargetRef("email".into()), Target::Email(e)));
        }
        Ok(targets)
    }

    /// The targets that receive `kind` from `form` (refused ones included, so their failed
    /// deliveries show in the log with the reason).
    pub fn matching(&self, kind: EventKind, form: &str) -> Vec<TargetRef> {
        self.list
            .iter()
            .filter(|(_, t)| t.filter().matches(kind, form))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The target stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Target> {
        self.list
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, t)| t)
    }

    /// Every target with its key.
    pub fn iter(&self) -> impl Iterator<Item = (&TargetRef, &Target)> {
        self.list.iter().map(|(k, t)| (k, t))
    }

    /// Whether no target is configured.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// One line per target for the start-up report; refused targets say why.
    pub fn describe(&self) -> Vec<String> {
        if self.list.is_empty() {
            return vec!["delivery: no webhooks or e-mail configured".into()];
        }
        self.list
            .iter()
            .map(|(key, t)| match t {
                Target::Webhook(w) => {
                    let kind = match w.format {
                        Format::Standard => "signed",
                        Format::Slack => "slack",
                    };
                    let head = format!("delivery: {key} → {} ({kind}", w.shown_url());
                    match &w.refused {
                        Some(r) => format!("{head}) REFUSED: {r}"),
                        None => format!("{head}; {})", describe_filter(&w.filter)),
                    }
                }
                Target::Email(e) => {
                    let to: Vec<String> = e.to.iter().map(|m| m.email.to_string()).collect();
                    format!(
                        "delivery: {key} → {} via {} ({})",
                        to.join(", "),
                        e.smtp.describe(),
                        describe_filter(&e.filter)
                    )
                }
            })
            .collect()
    }
}

fn describe_filter(f: &Filter) -> String {
    let events: Vec<&str> = f.events.iter().map(|k| k.as_str()).collect();
    match &f.forms {
        Some(forms) => format!("{}; forms {}", events.join(", "), forms.join(", ")),
        None => format!("{}; all forms", events.join(", ")),
    }
}

#[cfg(test)]
mod tests;
