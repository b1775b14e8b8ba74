//! Verified admin API credentials, remembered for a while.
//!
//! A CRM sync sends `Authorization: Bearer NAME:SECRET` with every request, and argon2 is
//! deliberately slow (tens of milliseconds of CPU). Rather than issue a second kind of
//! per-user API token (another secret to store, show and rotate), the server verifies a
//! credential once and then remembers the SHA-256 of `(name, created_ms, secret)` for
//! [`TTL`]. SHA-256 is enough here: the secret has 256 random bits, so its digest cannot be
//! guessed back, and only digests of credentials that already verified are kept, in memory.
//!
//! The cache never decides alone: each request still reads the user's row, and the digest
//! covers the row's `created_ms`, so `splitmark user remove` or `--replace` ends access on
//! every instance with the next request. The cache only saves the argon2 step.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified credential is remembered.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// Most credentials remembered; past it, expired ones are dropped, then all.
pub const MAX_ENTRIES: usize = 1024;

/// Digests of verified credentials with their expiry.
#[derive(Debug, Default)]
pub struct VerifiedCredentials {
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

fn digest(name: &str, created_ms: i64, secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0]);
    h.update(created_ms.to_be_bytes());
    h.update(secret.as_bytes());
    h.finalize().into()
}

impl VerifiedCredentials {
    /// Whether this credential verified less than [`TTL`] before `now`.
    pub fn contains(&self, name: &str, created_ms: i64, secret: &str, now: Instant) -> bool {
        let key = digest(name, created_ms, secret);
        let entries = self.entries.lock().expect("credential cache");
        entries.get(&key).is_some_and(|until| *until > now)
    }

    /// Remembers a credential that just verified.
    pub fn insert(&self, name: &str, created_ms: i64, secret: &str, now: Instant) {
        let mut entries = self.entries.lock().expect("credential cache");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, until| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest(name, created_ms, secret), now + TTL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_remembered_until_its_ttl_and_only_for_its_row() {
        let c = VerifiedCredentials::default();
        let t = Instant::now();
        assert!(!c.contains("alice", 1, "s", t));
        c.insert("alice", 1, "s", t);
        assert!(c.contains("alice", 1, "s", t + TTL - Duration::from_millis(1)));
        assert!(!c.contains("alice", 1, "s", t + TTL));
        assert!(!c.contains("alice", 2, "s", t), "a replaced user is new");
        assert!(!c.contains("alice", 1, "t", t));
        assert!(!c.contains("bob", 1, "s", t));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = VerifiedCredentials::default();
        let t = Instant::now();
        for i in 0..MAX_ENTRIES + 10 {
            c.insert(&format!("u{i}"), 1, "s", t);
        }
        assert!(c.entries.lock().unwrap().len() <= MAX_ENTRIES);
        assert!(c.contains(&format!("u{}", MAX_ENTRIES + 9), 1, "s", t));
    }
}
