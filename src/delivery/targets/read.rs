//! Reading targets from their TOML tables: every key checked, secrets from the environment.

use super::{Email, Filter, Format, Webhook};
use crate::config::Config;
use crate::delivery::event::EventKind;
use crate::delivery::guard;
use crate::delivery::sign::Secret;
use crate::delivery::smtp::SmtpUrl;
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use toml::Value;

/// How the environment is read (a function, so tests give their own).
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// 12 hex digits of the URL's SHA-256: short, stable, and it does not spell out the URL
/// (which may hold a token) in delivery rows.
pub(super) fn url_key(url: &str) -> String {
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

pub(super) fn webhook(
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
    guard::refusal(ip, allow_private)
        .map(|why| format!("{ip} is {why}{}", guard::hint(ip, allow_private)))
}

pub(super) fn email_target(
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
