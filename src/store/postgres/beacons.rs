//! Queued beacons on PostgreSQL: answered before they commit (see `store::queue`), then
//! written in groups by one task, so a burst of beacons costs a few transactions, not one each.
//! A group waits [`BEACON_WINDOW`] for more before it is written: nobody waits for its commit.

use super::super::metrics::CommitMetrics;
use super::super::queue::{Slot, BEACON_WINDOW};
use super::super::{db_err, Exposure, StoreError, StoreResult};
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
        // Asleep, the task is not woken by each beacon that arrives meanwhile.
        tokio::time::sleep(BEACON_WINDOW).await;
        while batch.len() < BEACON_BATCH {
            match rx.try_recv() {
                Ok(b) => batch.push(b),
                Err(_) => break,
            }
        }
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

/// How often a group that lost a deadlock or a serialization conflict is tried again.
const RETRIES: usize = 5;

/// Writes a group, in key order: every instance's groups then take the rows' locks in the
/// same order, so two instances upserting the same visitors wait for each other instead of
/// deadlocking. A group that still loses a conflict (PostgreSQL aborts one side) is tried
/// again, since its beacons were answered already and have no other way into the store.
async fn write_beacons(pool: &Pool, batch: &[(Exposure, Slot)]) -> StoreResult<()> {
    let mut rows: Vec<_> = batch
        .iter()
        .map(|(e, _)| (e, e.at.timestamp_millis()))
        .collect();
    rows.sort_by(|(a, _), (b, _)| (&a.experiment, &a.visitor).cmp(&(&b.experiment, &b.visitor)));
    let mut attempt = 0;
    loop {
        match write_sorted(pool, &rows).await {
            Err(Failure::Db(e)) if attempt < RETRIES && retryable(&e) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
            }
            Ok(()) => return Ok(()),
            Err(Failure::Db(e)) => return Err(db_err(e)),
            Err(Failure::Pool(e)) => return Err(e),
        }
    }
}

/// Deadlock detected or serialization failure: the transaction can simply run again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// Why a group was not written: no connection, or the database's answer.
enum Failure {
    Pool(StoreError),
    Db(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Db(e)
    }
}

async fn write_sorted(pool: &Pool, rows: &[(&Exposure, i64)]) -> Result<(), Failure> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| Failure::Pool(unavailable(e)))?;
    let tx = client.transaction().await?;
    let stmt = tx.prepare_cached(EXPOSURE_SQL).await?;
    let (t, st) = (&tx, &stmt);
    futures_util::future::try_join_all(rows.iter().map(|(e, ms)| async move {
        t.query_one(st, &[&e.experiment, &e.visitor, &e.variant, ms, &e.page])
            .await
    }))
    .await?;
    Ok(tx.commit().await?)
}
