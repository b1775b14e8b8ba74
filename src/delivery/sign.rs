//! Standard Webhooks v1 signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
//!
//! The secret is shown to users as `whsec_<base64>`; the key is the decoded bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The prefix of a symmetric Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Fewest key bytes the spec allows (192 bits).
const MIN_KEY: usize = 24;
/// Most key bytes the spec allows (512 bits).
const MAX_KEY: usize = 64;

/// A decoded signing key. Its `Debug` never prints the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Secret {
    /// Parses `whsec_<base64>` (24 to 64 key bytes).
    pub fn parse(text: &str) -> Result<Secret, String> {
        let b64 = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            format!("the secret must start with {SECRET_PREFIX} (a Standard Webhooks secret)")
        })?;
        Secret::from_base64(b64)
    }

    /// The key from its base64 text (without `whsec_`).
    pub fn from_base64(b64: &str) -> Result<Secret, String> {
        let key = BASE64
            .decode(b64)
            .map_err(|_| format!("the secret after {SECRET_PREFIX} is not valid base64"))?;
        if !(MIN_KEY..=MAX_KEY).contains(&key.len()) {
            return Err(format!(
                "the secret's key is {} bytes; Standard Webhooks asks for {MIN_KEY} to {MAX_KEY}",
                key.len()
            ));
        }
        Ok(Secret(key))
    }

    /// A new random secret, as `whsec_<base64>` (32 key bytes).
    pub fn generate() -> String {
        let key: [u8; 32] = rand::random();
        format!("{SECRET_PREFIX}{}", BASE64.encode(key))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// The `webhook-signature` value for one attempt.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", BASE64.encode(self.mac(msg_id, timestamp, body)))
    }

    /// Whether a `webhook-signature` header (space-separated `v1,<sig>` entries) holds a
    /// valid signature of this message. Compares in constant time; ignores other versions.
    pub fn verify(&self, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let want = self.mac(msg_id, timestamp, body);
        header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|sig| BASE64.decode(sig).ok())
            .any(|sig| bool::from(sig.as_slice().ct_eq(&want)))
    }
}

/// Signs with the base64 key text (the secret without `whsec_`): `v1,<base64>`.
pub fn sign(secret_b64: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    Ok(Secret::from_base64(secret_b64)?.sign(msg_id, timestamp, body))
}

/// Checks a `webhook-signature` header against the base64 key text.
pub fn verify(secret_b64: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    Secret::from_base64(secret_b64).is_ok_and(|s| s.verify(msg_id, timestamp, body, header))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector every Standard Webhooks library checks (the spec's reference values).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn reproduces_the_reference_signature() {
        assert_eq!(Secret::parse(SECRET).unwrap().sign(ID, TS, BODY), SIGNATURE);
        assert_eq!(
            sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ID, TS, BODY).unwrap(),
            SIGNATURE
        );
    }

    #[test]
    fn verifies_the_reference_and_refuses_any_change() {
        let s = Secret::parse(SECRET).unwrap();
        assert!(s.verify(ID, TS, BODY, SIGNATURE));
        // Several signatures (key rotation): any valid one passes.
        assert!(s.verify(ID, TS, BODY, &format!("v1,Zm9v {SIGNATURE}")));
        assert!(!s.verify(ID, TS, br#"{"test": 2432232315}"#, SIGNATURE));
        assert!(!s.verify("msg_other", TS, BODY, SIGNATURE));
        assert!(!s.verify(ID, TS + 1, BODY, SIGNATURE));
        assert!(!s.verify(
            ID,
            TS,
            BODY,
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        ));
        assert!(!s.verify(ID, TS, BODY, ""));
        let other = Secret::parse(&Secret::generate()).unwrap();
        assert!(!other.verify(ID, TS, BODY, SIGNATURE));
    }

    #[test]
    fn bad_secrets_are_refused_with_a_reason() {
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .contains("whsec_"));
        assert!(Secret::parse("whsec_not base64!")
            .unwrap_err()
            .contains("base64"));
        assert!(Secret::parse("whsec_c2hvcnQ=")
            .unwrap_err()
            .contains("bytes"));
        let fresh = Secret::generate();
        assert!(Secret::parse(&fresh).is_ok());
        assert_ne!(fresh, Secret::generate());
        assert_eq!(
            format!("{:?}", Secret::parse(SECRET).unwrap()),
            "Secret(24 bytes)"
        );
    }
}
