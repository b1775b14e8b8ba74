//! Per-client protection: keyed IP hashes (never the raw address) and a token-bucket rate limit.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

type HmacSha256 = Hmac<Sha256>;

/// Hashes client IPs with a key that changes every UTC day.
///
/// The day key is HMAC(secret, date). The secret is kept in a file beside the database (mode
/// 0600) so hashes are stable across restarts within a day — a per-process random secret would
/// split one visitor into several after each deploy. Yesterday's hashes cannot be linked to
/// today's, and the raw address is never stored.
pub struct IpHasher {
    secret: [u8; 32],
    /// Today's keyed HMAC state, computed once a day rather than per request; each hash
    /// starts from a copy of it, so a request pays for its address, not for the key.
    day_key: std::sync::RwLock<Option<(chrono::NaiveDate, HmacSha256)>>,
}

impl IpHasher {
    /// Loads or creates the secret at `path`.
    pub fn load_or_create(path: &Path) -> std::io::Result<IpHasher> {
        if let Ok(bytes) = std::fs::read(path) {
            if let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(IpHasher::with_secret(secret));
            }
        }
        let secret: [u8; 32] = rand::random();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, secret)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(IpHasher::with_secret(secret))
    }

    /// A hasher with a given secret.
    pub fn with_secret(secret: [u8; 32]) -> IpHasher {
        IpHasher {
            secret,
            day_key: std::sync::RwLock::new(None),
        }
    }

    fn keyed_for(&self, day: chrono::NaiveDate) -> HmacSha256 {
        if let Some((d, k)) = &*self.day_key.read().expect("ip key") {
            if *d == day {
                return k.clone();
            }
        }
        let mut k = HmacSha256::new_from_slice(&self.secret).expect("any key length");
        k.update(day.to_string().as_bytes());
        let key: [u8; 32] = k.finalize().into_bytes().into();
        let keyed = HmacSha256::new_from_slice(&key).expect("any key length");
        *self.day_key.write().expect("ip key") = Some((day, keyed.clone()));
        keyed
    }

    /// Hex HMAC of the address under today's key.
    pub fn hash(&self, ip: IpAddr, day: chrono::NaiveDate) -> String {
        let mut m = self.keyed_for(day);
        m.update(ip.to_string().as_bytes());
        hex::encode(&m.finalize().into_bytes()[..16])
    }
}

/// Token buckets per client, keyed by a keyed hash of the client's address.
///
/// The key is a random SipHash key drawn when the limiter starts: buckets live only in memory
/// and only as long as a client keeps sending, so they need no stable or rotating key — just
/// one no other party knows, so nobody can aim collisions at a victim's bucket. This hash is
/// cheap next to the HMAC a stored lead gets ([`IpHasher`]), and it is all a beacon pays.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    key: std::hash::RandomState,
    buckets: Mutex<HashMap<u64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            key: std::hash::RandomState::new(),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for the client at `ip`; on refusal, how long until one is available.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let client = self.key.hash_one(ip);
        let mut b = self.buckets.lock().expect("rate limiter");
        if b.len() > 100_000 {
            // Forget clients whose bucket has refilled: they are indistinguishable from new ones.
            let full = self.burst / self.per_second;
            b.retain(|_, (_, t)| now.duration_since(*t).as_secs_f64() < full);
        }
        let (tokens, last) = b.entry(client).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_rotate_daily_and_hide_the_address() {
        let h = IpHasher::with_secret([7; 32]);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let d1 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let a = h.hash(ip, d1);
        assert_eq!(a, h.hash(ip, d1));
        assert_ne!(a, h.hash(ip, d1.succ_opt().unwrap()));
        assert!(!a.contains("203"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn bucket_allows_burst_then_refuses_then_refills() {
        let r = RateLimiter::new(60, 3);
        let t = Instant::now();
        let (k, other): (IpAddr, IpAddr) = ("203.0.113.9".parse().unwrap(), "::1".parse().unwrap());
        for _ in 0..3 {
            assert!(r.check(k, t).is_ok());
        }
        let wait = r.check(k, t).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(r.check(other, t).is_ok(), "buckets are per client");
        assert!(r.check(k, t + Duration::from_millis(1100)).is_ok());
    }
}
