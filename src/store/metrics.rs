//! Lock-free commit histograms for `/metrics`.

use super::CommitStats;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const LATENCY_BOUNDS: [f64; 10] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
];
const BATCH_BOUNDS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// Counters the writer updates after every commit.
#[derive(Default)]
pub struct CommitMetrics {
    commits: AtomicU64,
    micros_sum: AtomicU64,
    batch_sum: AtomicU64,
    latency: [AtomicU64; 10],
    batch: [AtomicU64; 11],
}

impl CommitMetrics {
    /// Records one commit of `batch` writes that took `seconds`.
    pub fn observe(&self, seconds: f64, batch: usize) {
        self.commits.fetch_add(1, Relaxed);
        self.micros_sum.fetch_add((seconds * 1e6) as u64, Relaxed);
        self.batch_sum.fetch_add(batch as u64, Relaxed);
        if let Some(i) = LATENCY_BOUNDS.iter().position(|b| seconds <= *b) {
            self.latency[i].fetch_add(1, Relaxed);
        }
        if let Some(i) = BATCH_BOUNDS.iter().position(|b| batch as f64 <= *b) {
            self.batch[i].fetch_add(1, Relaxed);
        }
    }

    /// Cumulative snapshot.
    pub fn snapshot(&self) -> CommitStats {
        let cumulative = |bounds: &[f64], counts: &[AtomicU64]| {
            let mut total = 0;
            bounds
                .iter()
                .zip(counts)
                .map(|(b, c)| {
                    total += c.load(Relaxed);
                    (*b, total)
                })
                .collect()
        };
        CommitStats {
            commits: self.commits.load(Relaxed),
            commit_seconds_sum: self.micros_sum.load(Relaxed) as f64 / 1e6,
            commit_seconds_buckets: cumulative(&LATENCY_BOUNDS, &self.latency),
            batch_size_sum: self.batch_sum.load(Relaxed),
            batch_size_buckets: cumulative(&BATCH_BOUNDS, &self.batch),
            queued_exposures: 0,
            dropped_exposures: 0,
        }
    }
}
