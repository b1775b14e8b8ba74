//! Login secrets: 32 random bytes shown once, stored only as an argon2id hash.
//!
//! The hash is a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with the argon2
//! crate's default parameters, which follow OWASP's recommendation. Checking a secret costs
//! tens of milliseconds of CPU on purpose, so callers run it on a blocking thread, and the
//! admin API remembers verified credentials for a while ([`super::credentials`]).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use std::sync::LazyLock;

/// Random bytes in a secret.
pub const SECRET_BYTES: usize = 32;

/// A new secret: [`SECRET_BYTES`] from rand's cryptographic generator (ChaCha, seeded by the
/// operating system), base64url without
/// padding (43 characters, no `:` so it can follow a name in `Bearer name:secret`).
pub fn generate() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The PHC string of `secret`, with a fresh random salt.
pub fn hash(secret: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the secret: {e}"))
}

/// Whether `secret` matches the PHC string `phc` (constant-time comparison of the hashes).
/// A malformed PHC string matches nothing.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time of one check against no user, so that an unknown name answers as slowly
/// as a wrong secret and response times do not tell which names exist.
pub fn verify_nobody(secret: &str) {
    static NOBODY: LazyLock<String> =
        LazyLock::new(|| hash(&generate()).unwrap_or_else(|_| String::new()));
    let _ = verify(secret, &NOBODY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_against_its_hash_only() {
        let s = generate();
        assert_eq!(s.len(), 43);
        assert!(!s.contains(':'));
        assert_ne!(s, generate());
        let h = hash(&s).unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(!h.contains(&s));
        assert!(verify(&s, &h));
        assert!(!verify(&generate(), &h));
        assert!(!verify(&s, "not a phc string"));
        assert_ne!(h, hash(&s).unwrap(), "each hash has its own salt");
    }
}
