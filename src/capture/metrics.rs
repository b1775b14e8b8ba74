//! Prometheus text metrics of the capture server.

use crate::store::CommitStats;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

const LATENCY_BOUNDS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Counters and the request-latency histogram.
#[derive(Default)]
pub struct Metrics {
    /// Stored submissions (not spam, not duplicates).
    pub submissions: AtomicU64,
    /// Repeated submissions answered with the first id.
    pub duplicates: AtomicU64,
    /// Honeypot submissions.
    pub spam: AtomicU64,
    /// Exposures recorded (first and repeat).
    pub exposures: AtomicU64,
    /// Beacons from known bots, ignored.
    pub bot_events: AtomicU64,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    latency: [AtomicU64; 11],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

impl Metrics {
    /// Counts a refused request by its error code.
    pub fn reject(&self, code: &'static str) {
        *self
            .rejections
            .lock()
            .expect("metrics")
            .entry(code)
            .or_default() += 1;
    }

    /// Records one request's latency.
    pub fn observe(&self, seconds: f64) {
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_micros
            .fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(i) = LATENCY_BOUNDS.iter().position(|b| seconds <= *b) {
            self.latency[i].fetch_add(1, Relaxed);
        }
    }

    /// The text exposition.
    pub fn render(&self, store: &CommitStats) -> String {
        let mut s = String::new();
        let counter = |s: &mut String, name: &str, help: &str, v: u64| {
            let _ = write!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            );
        };
        counter(
            &mut s,
            "splitmark_submissions_total",
            "Leads stored.",
            self.submissions.load(Relaxed),
        );
        counter(
            &mut s,
            "splitmark_duplicate_submissions_total",
            "Repeated submissions within the dedupe window.",
            self.duplicates.load(Relaxed),
        );
        counter(
            &mut s,
            "splitmark_spam_total",
            "Submissions stored as spam.",
            self.spam.load(Relaxed),
        );
        counter(
            &mut s,
            "splitmark_exposures_total",
            "Exposures recorded.",
            self.exposures.load(Relaxed),
        );
        counter(
            &mut s,
            "splitmark_bot_events_total",
            "Beacons from known bots, ignored.",
            self.bot_events.load(Relaxed),
        );
        counter(
            &mut s,
            "splitmark_exposures_lost_total",
            "Beacons answered whose commit then failed.",
            store.dropped_exposures,
        );
        let _ = write!(
            s,
            "# HELP splitmark_exposures_queued Beacons answered and not yet committed.\n# TYPE splitmark_exposures_queued gauge\nsplitmark_exposures_queued {}\n",
            store.queued_exposures
        );
        s.push_str("# HELP splitmark_rejections_total Refused requests by error code.\n# TYPE splitmark_rejections_total counter\n");
        for (code, n) in self.rejections.lock().expect("metrics").iter() {
            let _ = writeln!(s, "splitmark_rejections_total{{code=\"{code}\"}} {n}");
        }
        let mut cum = 0;
        let buckets: Vec<(f64, u64)> = LATENCY_BOUNDS
            .iter()
            .zip(&self.latency)
            .map(|(b, c)| {
                cum += c.load(Relaxed);
                (*b, cum)
            })
            .collect();
        histogram(
            &mut s,
            "splitmark_request_duration_seconds",
            "Request latency.",
            &buckets,
            self.latency_micros.load(Relaxed) as f64 / 1e6,
            self.latency_count.load(Relaxed),
        );
        histogram(
            &mut s,
            "splitmark_store_commit_duration_seconds",
            "Store transaction commit latency.",
            &store.commit_seconds_buckets,
            store.commit_seconds_sum,
            store.commits,
        );
        histogram(
            &mut s,
            "splitmark_store_batch_size",
            "Writes per committed transaction.",
            &store.batch_size_buckets,
            store.batch_size_sum as f64,
            store.commits,
        );
        s
    }
}

fn histogram(s: &mut String, name: &str, help: &str, buckets: &[(f64, u64)], sum: f64, count: u64) {
    let _ = write!(s, "# HELP {name} {help}\n# TYPE {name} histogram\n");
    for (le, n) in buckets {
        let _ = writeln!(s, "{name}_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = write!(
        s,
        "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}\n"
    );
}
