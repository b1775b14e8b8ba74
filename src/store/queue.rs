//! The bound on beacons answered before they commit.
//!
//! An exposure beacon is answered as soon as it is validated and queued: `sendBeacon` never
//! reads the answer and browsers never resend a beacon, so waiting for the commit bought
//! nothing but latency. What is queued goes into the next group commit; a graceful shutdown
//! commits it, and `kill -9` loses at most what was queued. The queue is bounded so that a
//! store that falls behind turns into 503s with `Retry-After`, never into unbounded memory.
//!
//! Since nobody waits for a beacon's commit, a group of beacons alone waits up to
//! [`BEACON_WINDOW`] for more before it commits: one fsync and one write of the table's last
//! pages for hundreds of beacons instead of a handful. A write somebody waits for (a lead, an
//! erasure) never waits: it commits at once, with whatever beacons are queued before it.

use super::{StoreError, StoreResult};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Longest a group of answered beacons waits for more before it commits. What `kill -9`
/// can lose grows by at most this much of the beacon stream.
pub const BEACON_WINDOW: Duration = Duration::from_millis(5);

/// Counts of queued and lost beacons, shared by a store and its queued writes.
#[derive(Debug, Default)]
pub struct BeaconQueue {
    queued: AtomicUsize,
    dropped: AtomicU64,
}

/// One queued beacon's place in the bound; freed when the write has been committed or failed.
#[derive(Debug)]
pub struct Slot {
    queue: Arc<BeaconQueue>,
    /// Set when this beacon's own write failed inside an otherwise committed batch.
    pub failed: bool,
}

impl BeaconQueue {
    /// Takes a place in the queue, or refuses with [`StoreError::QueueFull`] when `limit`
    /// beacons are already waiting for their commit.
    pub fn reserve(self: &Arc<Self>, limit: usize) -> StoreResult<Slot> {
        let before = self.queued.fetch_add(1, Relaxed);
        if before >= limit {
            self.queued.fetch_sub(1, Relaxed);
            return Err(StoreError::QueueFull);
        }
        Ok(Slot {
            queue: self.clone(),
            failed: false,
        })
    }

    /// Beacons accepted and not yet committed.
    pub fn queued(&self) -> usize {
        self.queued.load(Relaxed)
    }

    /// Queued beacons whose commit failed, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

impl Slot {
    /// Records that this beacon's write failed: it was answered 204 and is lost.
    pub fn lost(self) {
        self.queue.dropped.fetch_add(1, Relaxed);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.queue.queued.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_refuses_past_the_limit_and_frees_on_drop() {
        let q = Arc::new(BeaconQueue::default());
        let a = q.reserve(2).unwrap();
        let b = q.reserve(2).unwrap();
        assert!(matches!(q.reserve(2), Err(StoreError::QueueFull)));
        assert_eq!(q.queued(), 2);
        drop(a);
        let c = q.reserve(2).unwrap();
        b.lost();
        drop(c);
        assert_eq!((q.queued(), q.dropped()), (0, 1));
    }
}
