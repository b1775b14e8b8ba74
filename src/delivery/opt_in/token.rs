//! The confirmation link's token: which lead, until when, signed with the server's key.
//!
//! `base64url(lead id (16 bytes) ‖ expiry (8 bytes, big-endian Unix seconds) ‖ tag)`, where
//! the tag is the HMAC-SHA256 under the key of a fixed label, the id and the expiry. Nothing
//! is stored for a token: the link carries what it needs, and only the key's holder can make
//! one. The tag is checked in constant time, before the expiry is believed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "SPLITMARK_CONFIRM_KEY";

/// Fewest bytes of key accepted (256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// Separates these tags from any other use of the key.
const LABEL: &[u8] = b"splitmark confirm v1\0";

const TAG: usize = 32;
const LEN: usize = 16 + 8 + TAG;

/// The signing key. `Debug` never prints it.
#[derive(Clone)]
pub struct ConfirmKey(Vec<u8>);

impl std::fmt::Debug for ConfirmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfirmKey({} bytes)", self.0.len())
    }
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours: wrong length or alphabet, or a tag that does not verify (a
    /// changed character, another server's key).
    Invalid,
    /// Genuine, but past its expiry.
    Expired,
}

/// A verified token's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmable {
    /// The lead's id (UUID text).
    pub lead: String,
    /// Until when the link is valid.
    pub expires: DateTime<Utc>,
}

impl ConfirmKey {
    /// The key from the text of [`KEY_ENV`] (its UTF-8 bytes; at least [`MIN_KEY_BYTES`]).
    pub fn parse(text: &str) -> Result<ConfirmKey, String> {
        let text = text.trim();
        if text.len() < MIN_KEY_BYTES {
            return Err(format!(
                "{KEY_ENV} is {} bytes; it needs at least {MIN_KEY_BYTES} (for example the \
                 output of `openssl rand -base64 32`)",
                text.len()
            ));
        }
        Ok(ConfirmKey(text.as_bytes().to_vec()))
    }

    /// The key from the environment, or why there is none.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<ConfirmKey, String> {
        match env(KEY_ENV) {
            Some(v) if !v.trim().is_empty() => ConfirmKey::parse(&v),
            _ => Err(format!("{KEY_ENV} is not set")),
        }
    }

    fn tag(&self, id: &[u8; 16], expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(LABEL);
        mac.update(id);
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// The token for `lead` (a UUID) valid until `expires`; `None` for an id that is not one.
    pub fn sign(&self, lead: &str, expires: DateTime<Utc>) -> Option<String> {
        let id = *uuid::Uuid::parse_str(lead).ok()?.as_bytes();
        let secs = expires.timestamp();
        let tag = self.tag(&id, secs).finalize().into_bytes();
        let mut raw = Vec::with_capacity(LEN);
        raw.extend_from_slice(&id);
        raw.extend_from_slice(&secs.to_be_bytes());
        raw.extend_from_slice(&tag);
        Some(B64URL.encode(raw))
    }

    /// Checks `token` at `now`: the tag first (constant time), then the expiry.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Confirmable, TokenError> {
        if token.len() > 2 * LEN {
            return Err(TokenError::Invalid);
        }
        let raw = B64URL.decode(token).map_err(|_| TokenError::Invalid)?;
        if raw.len() != LEN {
            return Err(TokenError::Invalid);
        }
        let id: [u8; 16] = raw[..16].try_into().expect("16 bytes");
        let secs = i64::from_be_bytes(raw[16..24].try_into().expect("8 bytes"));
        self.tag(&id, secs)
            .verify_slice(&raw[24..])
            .map_err(|_| TokenError::Invalid)?;
        let expires = DateTime::from_timestamp(secs, 0).ok_or(TokenError::Invalid)?;
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(Confirmable {
            lead: uuid::Uuid::from_bytes(id).to_string(),
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConfirmKey {
        ConfirmKey::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    const LEAD: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

    #[test]
    fn a_token_verifies_until_it_expires() {
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let until = now + chrono::Duration::hours(72);
        let t = key().sign(LEAD, until).unwrap();
        assert!(t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let ok = key().verify(&t, now).unwrap();
        assert_eq!((ok.lead.as_str(), ok.expires), (LEAD, until));
        assert_eq!(key().verify(&t, until), Err(TokenError::Expired));
    }

    #[test]
    fn any_changed_character_or_another_key_is_invalid() {
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let t = key().sign(LEAD, now + chrono::Duration::hours(1)).unwrap();
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(b).unwrap();
            if changed != t {
                assert_eq!(key().verify(&changed, now), Err(TokenError::Invalid), "{i}");
            }
        }
        let other = ConfirmKey::parse("another key that is long enough!!").unwrap();
        assert_eq!(other.verify(&t, now), Err(TokenError::Invalid));
        for junk in ["", "abc", "%%%", &"A".repeat(500)] {
            assert_eq!(key().verify(junk, now), Err(TokenError::Invalid));
        }
        assert!(key().sign("not a uuid", now).is_none());
    }

    #[test]
    fn short_or_missing_keys_are_refused() {
        assert!(ConfirmKey::parse("short")
            .unwrap_err()
            .contains("at least 32"));
        assert!(ConfirmKey::from_env(&|_| None)
            .unwrap_err()
            .contains(KEY_ENV));
        assert!(!format!("{:?}", key()).contains("0123"));
    }
}
