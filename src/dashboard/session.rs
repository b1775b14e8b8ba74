//! Dashboard sessions: a signed, expiring cookie instead of server-side session state.
//!
//! Two kinds share the cookie. The admin token's is
//! `<expiry unix seconds>.<hex HMAC-SHA256(admin token, "session|expiry")>`; a named user's
//! is `u.<expiry>.<created_ms>.<name>.<hex HMAC-SHA256(session key, ...)>`, signed with the
//! key of [`crate::users::keys`] (never the user's secret). Being stateless, both work across
//! several capture instances and a restart; rotating the token (or the session secret) logs
//! every session out. A user's session names the `created_ms` of the user's row, and the
//! server honours it only while that row exists with that value, so removing or replacing
//! the user ends its sessions at once. SameSite=Strict keeps the cookie off cross-site
//! requests, which is what makes the dashboard's forms CSRF-safe.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the session cookie.
pub const COOKIE: &str = "sm_admin";
/// How long a login lasts.
pub const LIFETIME_SECS: i64 = 12 * 60 * 60;

fn mac(token: &str, expires: i64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    m.update(b"splitmark admin session|");
    m.update(expires.to_string().as_bytes());
    m
}

/// A fresh session value valid for [`LIFETIME_SECS`] from `now` (unix seconds).
pub fn issue(token: &str, now: i64) -> String {
    let expires = now + LIFETIME_SECS;
    let sig = mac(token, expires).finalize().into_bytes();
    format!("{expires}.{}", hex::encode(sig))
}

/// Whether `value` is an unexpired session signed with `token` (constant-time check).
pub fn verify(token: &str, value: &str, now: i64) -> bool {
    let Some((exp, sig)) = value.split_once('.') else {
        return false;
    };
    let (Ok(expires), Ok(sig)) = (exp.parse::<i64>(), hex::decode(sig)) else {
        return false;
    };
    expires > now
        && expires <= now + LIFETIME_SECS
        && mac(token, expires).verify_slice(&sig).is_ok()
}

/// Prefix of a named user's session value.
const USER_PREFIX: &str = "u.";

fn user_mac(key: &[u8; 32], expires: i64, created_ms: i64, name: &str) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"splitmark user session|");
    m.update(format!("{expires}|{created_ms}|{name}").as_bytes());
    m
}

/// A fresh session of user `name` (created at `created_ms`), valid for [`LIFETIME_SECS`].
pub fn issue_user(key: &[u8; 32], name: &str, created_ms: i64, now: i64) -> String {
    let expires = now + LIFETIME_SECS;
    let sig = user_mac(key, expires, created_ms, name)
        .finalize()
        .into_bytes();
    format!(
        "{USER_PREFIX}{expires}.{created_ms}.{name}.{}",
        hex::encode(sig)
    )
}

/// The user name and `created_ms` of an unexpired user session signed with `key`
/// (constant-time check); `None` for anything else, including an admin-token session.
pub fn verify_user(key: &[u8; 32], value: &str, now: i64) -> Option<(String, i64)> {
    let rest = value.strip_prefix(USER_PREFIX)?;
    let (payload, sig) = rest.rsplit_once('.')?;
    let mut parts = payload.splitn(3, '.');
    let expires = parts.next()?.parse::<i64>().ok()?;
    let created_ms = parts.next()?.parse::<i64>().ok()?;
    let name = parts.next()?;
    let sig = hex::decode(sig).ok()?;
    let fresh = expires > now && expires <= now + LIFETIME_SECS;
    (fresh
        && user_mac(key, expires, created_ms, name)
            .verify_slice(&sig)
            .is_ok())
    .then(|| (name.to_owned(), created_ms))
}

/// The `Set-Cookie` value that stores `value` (or clears the cookie when `None`).
pub fn set_cookie(value: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECS}{secure}"
        ),
        None => format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_verifies_until_it_expires() {
        let s = issue("secret", 1_000);
        assert!(verify("secret", &s, 1_000));
        assert!(verify("secret", &s, 1_000 + LIFETIME_SECS - 1));
        assert!(!verify("secret", &s, 1_000 + LIFETIME_SECS));
    }

    #[test]
    fn forged_or_foreign_sessions_fail() {
        let s = issue("secret", 1_000);
        assert!(!verify("other-token", &s, 1_000));
        let (exp, sig) = s.split_once('.').unwrap();
        let later: i64 = exp.parse::<i64>().unwrap() + 3600;
        assert!(!verify("secret", &format!("{later}.{sig}"), 1_000));
        for bad in ["", ".", "abc", "123.", "x.00", &format!("{exp}.zz")] {
            assert!(!verify("secret", bad, 1_000), "{bad:?}");
        }
    }

    #[test]
    fn a_user_session_names_its_user_and_row() {
        let key = [7u8; 32];
        let s = issue_user(&key, "bob.smith", 42, 1_000);
        assert_eq!(verify_user(&key, &s, 1_000), Some(("bob.smith".into(), 42)));
        assert_eq!(verify_user(&key, &s, 1_000 + LIFETIME_SECS), None);
        assert_eq!(verify_user(&[8u8; 32], &s, 1_000), None, "another key");
        assert!(!verify("secret", &s, 1_000), "not an admin-token session");
        assert_eq!(verify_user(&key, &issue("secret", 1_000), 1_000), None);
        // Changing the name, the row's time or the expiry breaks the signature.
        for forged in [
            s.replace("bob.smith", "alice"),
            s.replace(".42.", ".43."),
            s.replacen(
                &(1_000 + LIFETIME_SECS).to_string(),
                &(2_000 + LIFETIME_SECS).to_string(),
                1,
            ),
        ] {
            assert_eq!(verify_user(&key, &forged, 1_000), None, "{forged}");
        }
        for bad in ["u.", "u.1.2.x", "u.x.2.n.00", "u.1.x.n.00"] {
            assert_eq!(verify_user(&key, bad, 1_000), None, "{bad:?}");
        }
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie(Some("v"), true);
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!set_cookie(Some("v"), false).contains("Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
    }
}
