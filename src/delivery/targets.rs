//! Where leads go: `[[capture.webhooks]]` and `[capture.email]` from `splitmark.toml`.
//!
//! ```toml
//! [capture]
//! allow_private_targets = false          # true lets webhooks reach loopback/private networks
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

use super::event::EventKind;
use super::guard;
use super::sign::Secret;
use super::smtp::SmtpUrl;
use crate::config::Config;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use toml::Value;

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
#[derive(Clone, Debug)]
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
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Targets {
    /// Reads `[capture] allow_private_targets`, `[[capture.webhooks]]` and `[capture.email]`,
    /// taking secrets from `env`. Every problem is an error naming the target and the key.
    pub fn from_config(config: &Config, env: Env<'_>) -> Result<Targets, String> {
        let capture = &config.capture;
        let allow_private = match capture.get("allow_private_targets") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or("[capture] allow_private_targets must be true or false")?,
        };
        let mut targets = Targets {
            list: Vec::new(),
            allow_private,
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

/// 12 hex digits of the URL's SHA-256: short, stable, and it does not spell out the URL
/// (which may hold a token) in delivery rows.
fn url_key(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..6])
}

/// The text of an environment variable named by `key` (which must be set and not empty).
fn from_env(table: &toml::Table, key: &str, at: &str, env: Env<'_>) -> Result<String, String> {
    let name = string(table, key, at)?.ok_or(format!("{at}: {key} is required"))?;
    env(&name)
        .filter(|v| !v.trim().is_empty())
        .ok_or(format!("{at}: {key} {name} is not set"))
}

fn string(table: &toml::Table, key: &str, at: &str) -> Result<Option<String>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(format!("{at}: {key} must be a non-empty string")),
    }
}

fn strings(table: &toml::Table, key: &str, at: &str) -> Result<Option<Vec<String>>, String> {
    let Some(v) = table.get(key) else {
        return Ok(None);
    };
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(format!("{at}: {key} must be a list of strings"))?,
        _ => return Err(format!("{at}: {key} must be a list of strings")),
    };
    if list.is_empty() {
        return Err(format!("{at}: {key} is empty"));
    }
    Ok(Some(list))
}

fn filter(table: &toml::Table, at: &str, config: &Config) -> Result<Filter, String> {
    let events = match strings(table, "events", at)? {
        None => vec![EventKind::LeadCreated],
        Some(names) => names
            .iter()
            .map(|n| {
                EventKind::parse(n).ok_or_else(|| {
                    let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!("{at}: unknown event {n:?} (known: {})", known.join(", "))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let forms = strings(table, "forms", at)?;
    for f in forms.iter().flatten() {
        if !config.forms.contains_key(f) {
            return Err(format!(
                "{at}: forms names {f:?}, which is not a [forms.{f}]"
            ));
        }
    }
    Ok(Filter { events, forms })
}

/// Keys that would put a secret into the file, with the key to use instead.
fn refuse_secret_keys(table: &toml::Table, at: &str, keys: &[(&str, &str)]) -> Result<(), String> {
    for (key, instead) in keys {
        if table.contains_key(*key) {
            return Err(format!(
                "{at}: {key} may not be written in splitmark.toml (secrets come from the \
                 environment): put it in an environment variable and name it with {instead}"
            ));
        }
    }
    Ok(())
}

fn refuse_unknown(table: &toml::Table, at: &str, known: &[&str]) -> Result<(), String> {
    match table.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{at}: unknown setting {k:?} (known: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

fn webhook(
    table: &toml::Table,
    at: &str,
    config: &Config,
    env: Env<'_>,
    allow_private: bool,
) -> Result<Webhook, String> {
    refuse_secret_keys(table, at, &[("secret", "secret_env")])?;
    refuse_unknown(
        table,
        at,
        &["url", "url_env", "secret_env", "events", "forms", "format"],
    )?;
    let format = match string(table, "format", at)?.as_deref() {
        None | Some("standard") => Format::Standard,
        Some("slack") => Format::Slack,
        Some(other) => {
            return Err(format!(
                "{at}: format {other:?} is not one of \"standard\", \"slack\""
            ))
        }
    };
    let (text, url_is_secret) = match (table.contains_key("url"), table.contains_key("url_env")) {
        (true, false) => (string(table, "url", at)?.unwrap_or_default(), false),
        (false, true) => (from_env(table, "url_env", at, env)?, true),
        (true, true) => return Err(format!("{at}: give url or url_env, not both")),
        (false, false) => return Err(format!("{at}: url is required")),
    };
    let shown = if url_is_secret {
        "the url from url_env"
    } else {
        &text
    };
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("{at}: url {shown:?} is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{at}: url {shown:?} must be http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{at}: url {shown:?} carries credentials; use secret_env for signing, or url_env \
             when the URL itself is a secret"
        ));
    }
    let secret = match (format, table.contains_key("secret_env")) {
        (Format::Standard, _) => {
            let text = from_env(table, "secret_env", at, env)?;
            let name = string(table, "secret_env", at)?.unwrap_or_default();
            Some(Secret::parse(&text).map_err(|e| format!("{at}: secret_env {name}: {e}"))?)
        }
        (Format::Slack, true) => {
            return Err(format!(
                "{at}: format = \"slack\" messages are not signed; remove secret_env"
            ))
        }
        (Format::Slack, false) => None,
    };
    let refused = config_time_refusal(&url, allow_private);
    Ok(Webhook {
        url,
        url_is_secret,
        secret,
        format,
        filter: filter(table, at, config)?,
        refused,
    })
}

/// The SSRF refusal known from the URL alone: a literal address or a loopback name.
fn config_time_refusal(url: &url::Url, allow_private: bool) -> Option<String> {
    let ip: IpAddr = match url.host()? {
        url::Host::Ipv4(v4) => v4.into(),
        url::Host::Ipv6(v6) => v6.into(),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                return Some(format!(
                    "{d} is a loopback name (set [capture] allow_private_targets = true to allow it)"
                ));
            }
            return None;
        }
    };
    guard::refusal(ip, allow_private).map(|why| {
        if allow_private {
            format!("{ip} is {why}")
        } else {
            format!("{ip} is {why} (refused unless [capture] allow_private_targets = true)")
        }
    })
}

fn email_target(
    table: &toml::Table,
    at: &str,
    config: &Config,
    env: Env<'_>,
) -> Result<Email, String> {
    refuse_secret_keys(
        table,
        at,
        &[
            ("smtp_url", "smtp_url_env"),
            ("password", "smtp_url_env"),
            ("smtp_password", "smtp_url_env"),
        ],
    )?;
    refuse_unknown(
        table,
        at,
        &["smtp_url_env", "from", "to", "events", "forms"],
    )?;
    let name = string(table, "smtp_url_env", at)?.unwrap_or_default();
    let smtp = SmtpUrl::parse(&from_env(table, "smtp_url_env", at, env)?)
        .map_err(|e| format!("{at}: smtp_url_env {name}: {e}"))?;
    let mailbox = |text: &str, key: &str| {
        text.parse::<Mailbox>()
            .map_err(|e| format!("{at}: {key} {text:?} is not an e-mail address ({e})"))
    };
    let from = mailbox(
        &string(table, "from", at)?.ok_or(format!("{at}: from is required"))?,
        "from",
    )?;
    let to = strings(table, "to", at)?
        .ok_or(format!("{at}: to is required"))?
        .iter()
        .map(|t| mailbox(t, "to"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Email {
        smtp,
        from,
        to,
        filter: filter(table, at, config)?,
    })
}

#[cfg(test)]
mod tests;
