//! When to try again: the Standard Webhooks retry schedule by default, or the waits of
//! `[capture] retry_schedule`.
//!
//! The first attempt is immediate. After the n-th failed attempt the next one waits the n-th
//! delay of the schedule (±20% jitter, so many failures against one receiver spread out);
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

/// Most attempts of one delivery on the default schedule (the first plus one per delay).
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// Jitter: the delay is scaled by a uniform factor in `[1 - JITTER, 1 + JITTER]`.
pub const JITTER: f64 = 0.2;

/// Most delays `[capture] retry_schedule` may list.
pub const MAX_DELAYS: usize = 20;

/// The longest single wait `[capture] retry_schedule` accepts (30 days).
pub const LONGEST_DELAY: Duration = Duration::from_secs(30 * 24 * HOUR);

/// The waits between attempts of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// The Standard Webhooks schedule, [`RETRY_DELAYS`].
    fn default() -> Self {
        RetrySchedule {
            delays: RETRY_DELAYS.to_vec(),
        }
    }
}

impl RetrySchedule {
    /// A schedule of these waits: 1 to [`MAX_DELAYS`] of them, each positive and at most
    /// [`LONGEST_DELAY`].
    pub fn new(delays: Vec<Duration>) -> Result<RetrySchedule, String> {
        if delays.is_empty() || delays.len() > MAX_DELAYS {
            return Err(format!("must list 1 to {MAX_DELAYS} waits"));
        }
        if let Some(d) = delays.iter().find(|d| d.is_zero() || **d > LONGEST_DELAY) {
            return Err(format!(
                "waits must be positive and at most 30 days, not {d:?}"
            ));
        }
        Ok(RetrySchedule { delays })
    }

    /// Reads `[capture] retry_schedule`: an array of durations such as `"5s"`, `"5m"`, `"2h"`
    /// (units `ms`, `s`, `m`, `h`, `d`).
    pub fn from_toml(v: &toml::Value) -> Result<RetrySchedule, String> {
        let what = "[capture] retry_schedule";
        let items = v.as_array().ok_or(format!(
            "{what} must be an array of durations like [\"5s\", \"5m\"]"
        ))?;
        let delays = items
            .iter()
            .map(|item| {
                item.as_str().and_then(parse_duration).ok_or(format!(
                    "{what}: {item} is not a duration like \"30s\", \"5m\" or \"2h\""
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        RetrySchedule::new(delays).map_err(|e| format!("{what} {e}"))
    }

    /// The waits, in order.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Most attempts of one delivery (the first plus one per delay).
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// The delay before the next attempt without jitter, after `attempts_so_far` attempts
    /// have failed; `None` once the schedule is used up (the delivery has failed).
    pub fn base_delay(&self, attempts_so_far: u32) -> Option<Duration> {
        match attempts_so_far {
            0 => Some(Duration::ZERO),
            n => self.delays.get(n as usize - 1).copied(),
        }
    }

    /// The jittered delay before the next attempt, or `None` when the delivery has failed.
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        attempts_so_far: u32,
        rng: &mut R,
    ) -> Option<Duration> {
        let base = self.base_delay(attempts_so_far)?;
        Some(base.mul_f64(rng.random_range(1.0 - JITTER..=1.0 + JITTER)))
    }
}

/// `"250ms"`, `"5s"`, `"5m"`, `"2h"`, `"1d"`: a whole number and a unit.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().ok()?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(n.checked_mul(unit_ms)?))
}

/// The delay before the next attempt on the default schedule, without jitter.
pub fn base_delay(attempts_so_far: u32) -> Option<Duration> {
    RetrySchedule::default().base_delay(attempts_so_far)
}

/// The jittered delay before the next attempt on the default schedule.
pub fn next_delay<R: Rng + ?Sized>(attempts_so_far: u32, rng: &mut R) -> Option<Duration> {
    RetrySchedule::default().next_delay(attempts_so_far, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn schedule(toml_src: &str) -> Result<RetrySchedule, String> {
        let t: toml::Table = toml::from_str(&format!("v = {toml_src}")).unwrap();
        RetrySchedule::from_toml(&t["v"])
    }

    #[test]
    fn configured_schedule_is_read_and_checked() {
        let s = schedule(r#"["250ms", "5s", "5m", "2h", "1d"]"#).unwrap();
        assert_eq!(
            s.delays(),
            [
                Duration::from_millis(250),
                Duration::from_secs(5),
                Duration::from_secs(300),
                Duration::from_secs(7200),
                Duration::from_secs(86_400),
            ]
        );
        assert_eq!(s.max_attempts(), 6);
        assert_eq!(s.base_delay(5), Some(Duration::from_secs(86_400)));
        assert_eq!(s.base_delay(6), None);
        for (bad, says) in [
            ("[]", "1 to 20"),
            (&format!("[{}]", vec!["\"1s\""; 21].join(", ")), "1 to 20"),
            (r#"["0s"]"#, "positive"),
            (r#"["31d"]"#, "at most 30 days"),
            (r#"["5"]"#, "not a duration"),
            (r#"["5 parsecs"]"#, "not a duration"),
            (r#"["-5s"]"#, "not a duration"),
            (r#"[5]"#, "not a duration"),
            (r#""5s""#, "must be an array"),
        ] {
            let err = schedule(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.contains("retry_schedule"), "{bad}: {err}");
        }
        assert_eq!(schedule(r#"["20s"]"#).unwrap().max_attempts(), 2);
    }

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
