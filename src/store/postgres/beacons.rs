//! Queued beacons on PostgreSQL: answered before they commit (see `store::queue`), then
//! written in groups by one task, so a burst of beacons costs a few transactions, not one each.

use super::super::metrics::CommitMetrics;
use super::super::queue::Slot;
use super::super::{db_err, Exposure, StoreResult};
use super::{unavailable, EXPOSURE_SQL};
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Most queued beacons written in one transaction.
const BEACON_BATCH: usize = 512;

/// Commits queued beacons in groups: whatever is waiting goes into one transaction, its
/// statements pipelined on one connection. Ends when the store closes the queue, after
/// writing everything sent before.
pub(super) async fn beacon_writer(
    pool: Pool,
    metrics: Arc<CommitMetrics>,
    mut rx: mpsc::UnboundedReceiver<(Exposure, Slot)>,
) {
    let mut batch = Vec::with_capacity(BEACON_BATCH);
    while rx.recv_many(&mut batch, BEACON_BATCH).await > 0 {
        let started = Instant::now();
        match write_beacons(&pool, &batch).await {
            Ok(()) => metrics.observe(started.elapsed().as_secs_f64(), batch.len()),
            Err(e) => {
                eprintln!(
                    "storage error: {} queued exposures were not stored: {e}",
                    batch.len()
                );
                batch.drain(..).for_each(|(_, slot)| slot.lost());
            }
        }
        batch.clear();
    }
}

async fn write_beacons(pool: &Pool, batch: &[(Exposure, Slot)]) -> StoreResult<()> {
    let mut client = pool.get().await.map_err(unavailable)?;
    let tx = client.transaction().await.map_err(db_err)?;
    let stmt = tx.prepare_cached(EXPOSURE_SQL).await.map_err(db_err)?;
    let rows: Vec<_> = batch
        .iter()
        .map(|(e, _)| (e, e.at.timestamp_millis()))
        .collect();
    let (t, st) = (&tx, &stmt);
    futures_util::future::try_join_all(rows.iter().map(|(e, ms)| async move {
        t.query_one(st, &[&e.experiment, &e.visitor, &e.variant, ms, &e.page])
            .await
    }))
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}
