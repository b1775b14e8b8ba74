//! When to try again: the Standard Webhooks retry schedule, as data.
//!
//! The first attempt is immediate. After the n-th failed attempt the next one waits
//! `RETRY_DELAYS[n - 1]` (±20% jitter, so many failures against one receiver spread out);
//! after the last one the delivery is `failed` and kept.

use rand::Rng;
use std::time::Duration;

const MIN: u64 = 60;
const HOUR: u64 = 60 * MIN;

/// Waits after the 1st, 2nd, … failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, 24 h.
pub const RETRY_DELAYS: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * MIN),
    Duration::from_secs(30 * MIN),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(5 * HOUR),
    Duration::from_secs(10 * HOUR),
    Duration::from_secs(14 * HOUR),
    Duration::from_secs(20 * HOUR),
    Duration::from_secs(24 * HOUR),
];

/// Most attempts of one delivery (the first plus one per retry delay).
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// Jitter: the delay is scaled by a uniform factor in `[1 - JITTER, 1 + JITTER]`.
pub const JITTER: f64 = 0.2;

/// The delay before the next attempt without jitter, after `attempts_so_far` attempts have
/// failed; `None` once the schedule is used up (the delivery has failed).
pub fn base_delay(attempts_so_far: u32) -> Option<Duration> {
    match attempts_so_far {
        0 => Some(Duration::ZERO),
        n => RETRY_DELAYS.get(n as usize - 1).copied(),
    }
}

/// The jittered delay before the next attempt, or `None` when the delivery has failed.
pub fn next_delay<R: Rng + ?Sized>(attempts_so_far: u32, rng: &mut R) -> Option<Duration> {
    let base = base_delay(attempts_so_far)?;
    Some(base.mul_f64(rng.random_range(1.0 - JITTER..=1.0 + JITTER)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn schedule_table() {
        let s = Duration::from_secs;
        let table = [
            (0, Some(s(0))),
            (1, Some(s(5))),
            (2, Some(s(300))),
            (3, Some(s(1800))),
            (4, Some(s(7200))),
            (5, Some(s(5 * 3600))),
            (6, Some(s(10 * 3600))),
            (7, Some(s(14 * 3600))),
            (8, Some(s(20 * 3600))),
            (9, Some(s(24 * 3600))),
            (10, None),
            (11, None),
            (u32::MAX, None),
        ];
        for (attempts, want) in table {
            assert_eq!(base_delay(attempts), want, "after {attempts} attempts");
        }
        assert_eq!(MAX_ATTEMPTS, 10);
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_varies() {
        let mut rng = StdRng::seed_from_u64(7);
        for attempts in 1..MAX_ATTEMPTS {
            let base = base_delay(attempts).unwrap();
            let seen: Vec<Duration> = (0..200)
                .map(|_| next_delay(attempts, &mut rng).unwrap())
                .collect();
            for d in &seen {
                assert!(*d >= base.mul_f64(0.8) && *d <= base.mul_f64(1.2), "{d:?}");
            }
            // Not a constant: both halves of the band are used.
            assert!(seen.iter().any(|d| *d < base.mul_f64(0.95)));
            assert!(seen.iter().any(|d| *d > base.mul_f64(1.05)));
        }
        assert_eq!(next_delay(MAX_ATTEMPTS, &mut rng), None);
        assert_eq!(next_delay(0, &mut rng), Some(Duration::ZERO));
    }
}
