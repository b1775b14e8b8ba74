//! The key that signs users' dashboard sessions.
//!
//! Never a user's secret (a user could then forge sessions for others): it is derived, with
//! HMAC-SHA256 under a fixed label, from `SPLITMARK_SESSION_SECRET` when that is set, else
//! from `SPLITMARK_ADMIN_TOKEN`. Every instance with the same variables derives the same key,
//! so a session works behind a load balancer and across restarts; changing the variable
//! signs every user out. With neither set, the key is random for this process: users can
//! still sign in, but their sessions end when the process stops and hold on this instance
//! only.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable of the session secret.
pub const SESSION_SECRET_VAR: &str = "SPLITMARK_SESSION_SECRET";
/// Shortest session secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// Where the session key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `SPLITMARK_SESSION_SECRET`.
    SessionSecret,
    /// `SPLITMARK_ADMIN_TOKEN`.
    AdminToken,
    /// Random for this process.
    Random,
}

/// The 32-byte HMAC key of user sessions.
#[derive(Clone)]
pub struct SessionKey {
    key: [u8; 32],
    source: KeySource,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey({:?})", self.source)
    }
}

fn derive(secret: &str) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(b"splitmark user session key v1");
    m.finalize().into_bytes().into()
}

impl SessionKey {
    /// The key from `SPLITMARK_SESSION_SECRET` (read through `env`), else from the admin
    /// token, else random. A session secret shorter than [`MIN_SECRET_LEN`] is an error.
    pub fn from_env(
        admin_token: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<SessionKey, String> {
        if let Some(secret) = env(SESSION_SECRET_VAR).filter(|s| !s.is_empty()) {
            if secret.len() < MIN_SECRET_LEN {
                return Err(format!(
                    "{SESSION_SECRET_VAR} has {} characters; give at least {MIN_SECRET_LEN} (e.g. openssl rand -base64 32)",
                    secret.len()
                ));
            }
            return Ok(SessionKey {
                key: derive(&secret),
                source: KeySource::SessionSecret,
            });
        }
        if let Some(token) = admin_token.filter(|t| !t.is_empty()) {
            return Ok(SessionKey {
                key: derive(token),
                source: KeySource::AdminToken,
            });
        }
        Ok(SessionKey::random())
    }

    /// A key for this process only.
    pub fn random() -> SessionKey {
        SessionKey {
            key: derive(&super::secret::generate()),
            source: KeySource::Random,
        }
    }

    /// The key's bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// Where it came from.
    pub fn source(&self) -> KeySource {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(secret: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
        move |k| {
            (k == SESSION_SECRET_VAR)
                .then(|| secret.map(str::to_owned))
                .flatten()
        }
    }

    #[test]
    fn the_key_comes_from_the_secret_then_the_token_then_chance() {
        let long = "x".repeat(MIN_SECRET_LEN);
        let leaked: &'static str = Box::leak(long.into_boxed_str());
        let a = SessionKey::from_env(Some("tok"), &env(Some(leaked))).unwrap();
        assert_eq!(a.source(), KeySource::SessionSecret);
        let b = SessionKey::from_env(Some("tok"), &env(None)).unwrap();
        assert_eq!(b.source(), KeySource::AdminToken);
        assert_eq!(
            b.bytes(),
            SessionKey::from_env(Some("tok"), &env(None))
                .unwrap()
                .bytes(),
            "instances with one token share the key"
        );
        assert_ne!(a.bytes(), b.bytes());
        assert_ne!(
            b.bytes().as_slice(),
            b"tok",
            "the key is derived, not the token"
        );
        let c = SessionKey::from_env(None, &env(None)).unwrap();
        assert_eq!(c.source(), KeySource::Random);
        assert_ne!(c.bytes(), SessionKey::random().bytes());
        assert!(SessionKey::from_env(None, &env(Some("short"))).is_err());
    }
}
