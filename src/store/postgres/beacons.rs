//! Queued beacons on PostgreSQL: answered before they commit (see `store::queue`), then
//! written in groups by one task, so a burst of beacons costs a few transactions, not one each.
//! A group waits [`BEACON_WINDOW`] for more before it is written: nobody waits for its commit.

use super::super::metrics::CommitMetrics;
use super::super::queue::{Slot, BEACON_WINDOW};
use super::super::{db_err, Exposure, StoreError, StoreResult};
use super::unavailable;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Most queued beacons written in one statement.
const BEACON_BATCH: usize = 512;

/// Commits queued beacons in groups: whatever is waiting goes into one statement (one row
/// per visitor, see [`fold`]). Ends when the store closes the queue, after writing
/// everything sent before.
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

/// A group's beacons, one row per visitor: what a run of one upsert per beacon, in arrival
/// order, would leave in the row. The first beacon's variant, time and page; the last one's
/// time; one view each.
#[derive(Debug, Default, PartialEq)]
struct Folded<'a> {
    experiment: Vec<&'a str>,
    visitor: Vec<&'a str>,
    variant: Vec<&'a str>,
    first_ms: Vec<i64>,
    last_ms: Vec<i64>,
    views: Vec<i64>,
    page: Vec<Option<&'a str>>,
}

/// Folds rows sorted by experiment and visitor (a stable sort, so each visitor's beacons are
/// in arrival order). One statement cannot upsert a row twice, so repeats are folded first.
fn fold<'a>(rows: &[(&'a Exposure, i64)]) -> Folded<'a> {
    let mut f = Folded::default();
    for (e, ms) in rows {
        let repeat = f.visitor.last() == Some(&e.visitor.as_str())
            && f.experiment.last() == Some(&e.experiment.as_str());
        if repeat {
            *f.last_ms.last_mut().expect("a row") = *ms;
            *f.views.last_mut().expect("a row") += 1;
            continue;
        }
        f.experiment.push(&e.experiment);
        f.visitor.push(&e.visitor);
        f.variant.push(&e.variant);
        f.first_ms.push(*ms);
        f.last_ms.push(*ms);
        f.views.push(1);
        f.page.push(e.page.as_deref());
    }
    f
}

/// A group's beacons in one statement: new visitors are inserted, known ones counted; the
/// rows are taken in the arrays' (key) order. The first variant sticks, as in
/// [`EXPOSURE_SQL`](super::EXPOSURE_SQL).
const GROUP_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page)
     SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[], $7::TEXT[])
     ON CONFLICT (experiment, visitor) DO UPDATE SET views = exposures.views + EXCLUDED.views, last_ms = EXCLUDED.last_ms";

async fn write_sorted(pool: &Pool, rows: &[(&Exposure, i64)]) -> Result<(), Failure> {
    let f = fold(rows);
    let client = pool
        .get()
        .await
        .map_err(|e| Failure::Pool(unavailable(e)))?;
    // One statement is one transaction: the whole group commits or none of it.
    let stmt = client.prepare_cached(GROUP_SQL).await?;
    client
        .execute(
            &stmt,
            &[
                &f.experiment,
                &f.visitor,
                &f.variant,
                &f.first_ms,
                &f.last_ms,
                &f.views,
                &f.page,
            ],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beacon(visitor: &str, variant: &str) -> Exposure {
        Exposure {
            experiment: "hero".into(),
            variant: variant.into(),
            visitor: visitor.into(),
            page: Some(format!("/{variant}/")),
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn repeats_fold_into_the_first_beacon_with_a_view_each() {
        let (a, b, c, d) = (
            beacon("v1", "a"),
            beacon("v1", "b"),
            beacon("v1", "a"),
            beacon("v2", "b"),
        );
        let rows = [(&a, 10), (&b, 20), (&c, 15), (&d, 30)];
        let f = fold(&rows);
        assert_eq!(f.visitor, ["v1", "v2"]);
        assert_eq!(f.variant, ["a", "b"], "the first variant sticks");
        assert_eq!(f.page, [Some("/a/"), Some("/b/")]);
        assert_eq!((f.first_ms, f.last_ms), (vec![10, 30], vec![15, 30]));
        assert_eq!(f.views, [3, 1]);
    }
}
