//! Admin sessions: a signed, expiring cookie instead of server-side session state.
//!
//! The cookie value is `<expiry unix seconds>.<hex HMAC-SHA256(admin token, "session|expiry")>`.
//! Being stateless, it works across several capture instances sharing one token and a
//! restart, and rotating the token logs every session out. SameSite=Strict keeps it off
//! cross-site requests, which is what makes the dashboard's forms CSRF-safe.

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
    fn cookie_attributes() {
        let c = set_cookie(Some("v"), true);
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!set_cookie(Some("v"), false).contains("Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
    }
}
