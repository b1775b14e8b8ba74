//! The SMTP server from its URL: `smtp://user:pass@host:587` (STARTTLS required),
//! `smtps://user:pass@host:465` (implicit TLS), or plain `smtp://127.0.0.1:2525` — plain text
//! only to a loopback host, where nothing crosses a network. [`super::smtp_send`] sends.

use percent_encoding::percent_decode_str;
use std::net::IpAddr;

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtp://` to a remote host: upgrade with STARTTLS or fail.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://` to a loopback host: no TLS.
    Plain,
}

/// A parsed SMTP URL. `Debug` never prints the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name or address.
    pub host: String,
    /// Port (default 587 for STARTTLS, 465 for implicit TLS, 25 for plain).
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    user: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({})", self.describe())
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

impl SmtpUrl {
    /// Parses and checks an SMTP URL.
    pub fn parse(text: &str) -> Result<SmtpUrl, String> {
        let url = url::Url::parse(text.trim())
            .map_err(|e| format!("not a valid smtp:// or smtps:// URL ({e})"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the SMTP URL has no host")?
            .to_owned();
        let security = match url.scheme() {
            "smtps" => Security::Implicit,
            "smtp" if is_loopback(&host) => Security::Plain,
            "smtp" => Security::StartTls,
            other => {
                return Err(format!(
                    "scheme {other}:// is not smtp:// (STARTTLS) or smtps:// (TLS)"
                ))
            }
        };
        if url.path() != "" && url.path() != "/" || url.query().is_some() {
            return Err("the SMTP URL takes no path or query".into());
        }
        let port = url.port().unwrap_or(match security {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::Plain => 25,
        });
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = match (url.username(), url.password()) {
            ("", None) => None,
            (u, Some(p)) if !u.is_empty() => Some((decode(u), decode(p))),
            _ => return Err("the SMTP URL needs both a user and a password, or neither".into()),
        };
        Ok(SmtpUrl {
            host,
            port,
            security,
            user,
        })
    }

    /// `host:port (STARTTLS)`, without credentials.
    pub fn describe(&self) -> String {
        let how = match self.security {
            Security::StartTls => "STARTTLS",
            Security::Implicit => "TLS",
            Security::Plain => "plain, loopback",
        };
        let auth = if self.user.is_some() { ", login" } else { "" };
        format!("{}:{} ({how}{auth})", self.host, self.port)
    }

    /// The user name and password, when the URL has them.
    pub(crate) fn user(&self) -> Option<(&str, &str)> {
        self.user.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_security() {
        let s = SmtpUrl::parse("smtp://user:p%40ss@mail.example.com:587").unwrap();
        assert_eq!(s.security, Security::StartTls);
        assert_eq!(s.user, Some(("user".into(), "p@ss".into())));
        assert_eq!(
            SmtpUrl::parse("smtps://u:p@mail.example.com").unwrap(),
            SmtpUrl {
                host: "mail.example.com".into(),
                port: 465,
                security: Security::Implicit,
                user: Some(("u".into(), "p".into()))
            }
        );
        let local = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((local.security, local.port), (Security::Plain, 2525));
        assert_eq!(
            SmtpUrl::parse("smtp://[::1]:2525").unwrap().security,
            Security::Plain
        );
        assert_eq!(SmtpUrl::parse("smtp://mail.example.com").unwrap().port, 587);
    }

    #[test]
    fn bad_urls_are_refused_and_passwords_never_shown() {
        assert!(SmtpUrl::parse("http://mail.example.com").is_err());
        assert!(SmtpUrl::parse("smtp://u@mail.example.com").is_err());
        assert!(SmtpUrl::parse("smtp://mail.example.com/path").is_err());
        assert!(SmtpUrl::parse("not a url").is_err());
        let s = SmtpUrl::parse("smtp://user:hunter2@mail.example.com:587").unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!s.describe().contains("hunter2"));
        assert!(s.describe().contains("STARTTLS"));
    }
}
