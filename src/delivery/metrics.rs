//! Delivery figures for `/metrics`: attempts by outcome and the time from a lead's receipt to
//! its first attempt.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Outcome labels, as [`super::Outcome::label`] names them.
const OUTCOMES: [&str; 4] = ["delivered", "retry", "gone", "refused"];

/// Upper bounds (seconds) of the first-attempt latency histogram.
const BOUNDS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0,
];

/// Counters the worker updates.
#[derive(Default)]
pub struct DeliveryMetrics {
    attempts: [AtomicU64; 4],
    first: [AtomicU64; 12],
    first_count: AtomicU64,
    first_micros: AtomicU64,
}

impl DeliveryMetrics {
    /// Counts an attempt by its outcome label.
    pub fn attempt(&self, outcome: &str) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.attempts[i].fetch_add(1, Relaxed);
        }
    }

    /// Records a delivery's first attempt, `seconds` after its lead arrived.
    pub fn first_attempt(&self, seconds: f64) {
        let seconds = seconds.max(0.0);
        self.first_count.fetch_add(1, Relaxed);
        self.first_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.first[i].fetch_add(1, Relaxed);
        }
    }

    /// The text exposition; `pending` is the store's count of pending deliveries.
    pub fn render(&self, pending: Option<u64>) -> String {
        let mut s = String::new();
        s.push_str("# HELP splitmark_delivery_attempts_total Delivery attempts by outcome.\n# TYPE splitmark_delivery_attempts_total counter\n");
        for (o, n) in OUTCOMES.iter().zip(&self.attempts) {
            let _ = writeln!(
                s,
                "splitmark_delivery_attempts_total{{outcome=\"{o}\"}} {}",
                n.load(Relaxed)
            );
        }
        if let Some(p) = pending {
            let _ = write!(s, "# HELP splitmark_deliveries_pending Deliveries waiting for an attempt.\n# TYPE splitmark_deliveries_pending gauge\nsplitmark_deliveries_pending {p}\n");
        }
        let name = "splitmark_delivery_first_attempt_seconds";
        let _ = write!(s, "# HELP {name} Time from a lead's arrival to its delivery's first attempt.\n# TYPE {name} histogram\n");
        let mut cumulative = 0;
        for (b, n) in BOUNDS.iter().zip(&self.first) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(s, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.first_count.load(Relaxed);
        let _ = write!(
            s,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {}\n{name}_count {count}\n",
            self.first_micros.load(Relaxed) as f64 / 1e6
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = DeliveryMetrics::default();
        m.first_attempt(0.004);
        m.first_attempt(0.3);
        m.first_attempt(4000.0);
        m.attempt("delivered");
        m.attempt("retry");
        m.attempt("retry");
        let text = m.render(Some(7));
        assert!(text.contains("splitmark_delivery_first_attempt_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("splitmark_delivery_first_attempt_seconds_bucket{le=\"0.5\"} 2\n"));
        assert!(text.contains("splitmark_delivery_first_attempt_seconds_bucket{le=\"600\"} 2\n"));
        assert!(text.contains("splitmark_delivery_first_attempt_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("splitmark_delivery_attempts_total{outcome=\"retry\"} 2\n"));
        assert!(text.contains("splitmark_deliveries_pending 7\n"));
    }
}
