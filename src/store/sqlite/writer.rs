//! The single writer thread: group commit of whatever is queued.
//!
//! The writer takes every queued write (up to [`MAX_BATCH`]) and applies them in one
//! transaction, commits — one fsync of the WAL for the lot — and only then answers each
//! request. The batch first runs straight through; only if one write fails is it rolled back
//! and replayed with a savepoint around each write, so a bad write fails alone without every
//! healthy batch paying two extra statements per write.
//!
//! Answered beacons do not go through the channel one by one: they wait in [`Beacons`], and
//! only the first of a group sends [`Op::Beacons`] to wake the writer. A wake-up of the writer
//! costs the sender a futex call and the writer a context switch, which per beacon cost more
//! than the commit saved; so the writer is woken once per group, waits [`BEACON_WINDOW`] for
//! more (or for a write somebody waits for, which commits at once), and commits the lot.

use super::super::metrics::CommitMetrics;
use super::super::queue::{Slot, BEACON_WINDOW};
use super::super::*;
use super::deliveries::{DeliveryAnswer, DeliveryOp};
use super::recent::RecentLeads;
use super::writes::{erase, insert_lead, record_exposure, Erasure, PreparedLead};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::{mpsc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

/// Most writes committed in one transaction.
pub const MAX_BATCH: usize = 1024;

/// A write for the writer thread, with where its answer goes.
pub(super) enum Op {
    Lead(Box<PreparedLead>, Reply<LeadReceipt, Box<PreparedLead>>),
    Exposure(Exposure, Reply<ExposureReceipt, Exposure>),
    /// A beacon already answered: nobody waits for its commit, only its queue slot does.
    Queued(Exposure, Slot),
    /// The first of a group of answered beacons is waiting in [`Beacons`].
    Beacons,
    Erase(Erasure, Reply<u64, Erasure>),
    Delivery(Box<DeliveryOp>, Reply<DeliveryAnswer, Box<DeliveryOp>>),
    /// Stage changes with their deliveries (`lifecycle.rs`).
    Stages(Vec<StageWrite>, Reply<Vec<StageOutcome>, Vec<StageWrite>>),
    Close(oneshot::Sender<()>),
}

impl Op {
    /// Whether committing this write gives the delivery worker something to do at once.
    fn wakes_worker(&self) -> bool {
        match self {
            Op::Lead(l, r) => {
                !l.deliveries.is_empty() && matches!(&r.result, Some(Ok(x)) if !x.duplicate)
            }
            Op::Delivery(d, _) => d.wakes_worker(),
            Op::Stages(w, _) => w.iter().any(|w| !w.deliveries.is_empty()),
            _ => false,
        }
    }
}

/// A write's answer, with the write itself handed back: the request's thread allocated it,
/// and freeing it there is cheaper than a cross-thread free in the writer, which every
/// request waits for.
pub(super) type Answer<T, P> = (StoreResult<T>, P);

/// Where a write's answer goes, and the answer once the write ran.
pub(super) struct Reply<T, P> {
    tx: oneshot::Sender<Answer<T, P>>,
    result: Option<StoreResult<T>>,
}

impl<T, P> Reply<T, P> {
    /// A reply to `tx`, not yet answered.
    pub(super) fn new(tx: oneshot::Sender<Answer<T, P>>) -> Reply<T, P> {
        Reply { tx, result: None }
    }

    /// Sends the write's answer, or `failed` when its transaction did not commit: nothing is
    /// acknowledged unless it committed.
    fn send(self, failed: Option<&str>, write: P) {
        let answer = match (failed, self.result) {
            (Some(e), _) => Err(StoreError::Database(format!("commit failed: {e}"))),
            (None, Some(r)) => r,
            (None, None) => Err(StoreError::Database("the write did not run".into())),
        };
        let _ = self.tx.send((answer, write));
    }
}

/// Runs one write and records its answer; on an error the answer is left as it was.
fn run(conn: &Connection, recent: &mut RecentLeads, op: &mut Op) -> rusqlite::Result<()> {
    match op {
        Op::Lead(lead, reply) => reply.result = Some(Ok(insert_lead(conn, recent, lead)?)),
        Op::Exposure(e, reply) => reply.result = Some(Ok(record_exposure(conn, e)?)),
        Op::Queued(e, _) => {
            record_exposure(conn, e)?;
        }
        Op::Beacons => {}
        Op::Erase(erasure, reply) => reply.result = Some(Ok(erase(conn, erasure)?)),
        Op::Delivery(d, reply) => reply.result = Some(Ok(super::deliveries::run(conn, d)?)),
        Op::Stages(w, reply) => reply.result = Some(Ok(super::lifecycle::record_all(conn, w)?)),
        Op::Close(_) => {}
    }
    Ok(())
}

/// Runs one write in a savepoint: if it fails, only it is undone and its answer is the error.
fn in_savepoint(tx: &mut rusqlite::Transaction<'_>, recent: &mut RecentLeads, op: &mut Op) {
    let done = tx.savepoint().and_then(|sp| {
        run(&sp, recent, op)?;
        sp.commit()
    });
    if let Err(e) = done {
        match op {
            Op::Lead(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Exposure(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Queued(_, slot) => slot.failed = true,
            Op::Erase(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Delivery(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Stages(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Beacons | Op::Close(_) => {}
        }
    }
}

/// Applies a batch in one transaction; an error means nothing of it was committed.
fn apply_batch(
    conn: &mut Connection,
    recent: &mut RecentLeads,
    batch: &mut [Op],
) -> rusqlite::Result<()> {
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if batch
            .iter_mut()
            .try_for_each(|op| run(&tx, recent, op))
            .is_ok()
        {
            return tx.commit();
        }
        // Dropping the transaction rolls the partial batch back.
    }
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for op in batch.iter_mut() {
        in_savepoint(&mut tx, recent, op);
    }
    tx.commit()
}

/// Sends each write its answer; returns the close request, if the batch had one.
fn answer(batch: Vec<Op>, committed: rusqlite::Result<()>) -> Option<oneshot::Sender<()>> {
    let failed = committed.err().map(|e| e.to_string());
    let mut closing = None;
    for op in batch {
        match op {
            Op::Lead(w, r) => r.send(failed.as_deref(), w),
            Op::Exposure(w, r) => r.send(failed.as_deref(), w),
            Op::Queued(_, slot) if failed.is_some() || slot.failed => slot.lost(),
            Op::Queued(..) => {}
            Op::Erase(w, r) => r.send(failed.as_deref(), w),
            Op::Delivery(w, r) => r.send(failed.as_deref(), w),
            Op::Stages(w, r) => r.send(failed.as_deref(), w),
            Op::Beacons => {}
            Op::Close(tx) => closing = Some(tx),
        }
    }
    closing
}

/// Answered beacons waiting for the writer, in arrival order.
#[derive(Default)]
pub(super) struct Beacons(Mutex<Vec<(Exposure, Slot)>>);

impl Beacons {
    /// Adds a beacon; true when it is the first of a group, whose sender must wake the writer
    /// with [`Op::Beacons`].
    pub(super) fn push(&self, exposure: Exposure, slot: Slot) -> bool {
        let mut waiting = self.0.lock().expect("beacons");
        waiting.push((exposure, slot));
        waiting.len() == 1
    }

    fn take(&self) -> Vec<(Exposure, Slot)> {
        std::mem::take(&mut *self.0.lock().expect("beacons"))
    }
}

/// Adds whatever is already in the channel to the batch, up to [`MAX_BATCH`].
fn take_waiting(rx: &mpsc::Receiver<Op>, batch: &mut Vec<Op>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
}

/// The next batch: the writes in the channel, after the waiting beacons. When only beacons
/// woke the writer, they first wait up to [`BEACON_WINDOW`] for more, or for a write somebody
/// waits for.
fn next_batch(
    rx: &mpsc::Receiver<Op>,
    first: Op,
    beacons: &Beacons,
    window: std::time::Duration,
) -> Vec<Op> {
    let mut batch = vec![first];
    take_waiting(rx, &mut batch);
    if batch.iter().all(|op| matches!(op, Op::Beacons)) {
        if let Ok(op) = rx.recv_timeout(window) {
            batch.push(op);
            take_waiting(rx, &mut batch);
        }
    }
    batch.retain(|op| !matches!(op, Op::Beacons));
    // Taken after the wait, so that every beacon pushed so far is in: one that comes later
    // finds the list empty and wakes the writer again.
    let waiting = beacons.take();
    if !waiting.is_empty() {
        batch.splice(0..0, waiting.into_iter().map(|(e, s)| Op::Queued(e, s)));
    }
    batch
}

/// The writer loop: runs until the store closes or every sender is gone.
pub(super) fn writer(
    mut conn: Connection,
    mut recent: RecentLeads,
    rx: mpsc::Receiver<Op>,
    beacons: &Beacons,
    metrics: &CommitMetrics,
    deliveries: &tokio::sync::Notify,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = next_batch(&rx, first, beacons, BEACON_WINDOW);
        if batch.is_empty() {
            // The beacons that woke the writer went with an earlier batch.
            continue;
        }
        let size = batch.len();
        let started = Instant::now();
        let result = apply_batch(&mut conn, &mut recent, &mut batch);
        metrics.observe(started.elapsed().as_secs_f64(), size);
        // After the commit: the worker must find the rows when it wakes.
        if result.is_ok() && batch.iter().any(Op::wakes_worker) {
            deliveries.notify_one();
        }
        if let Some(tx) = answer(batch, result) {
            let _ = tx.send(());
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::writes::test_lead;
    use super::*;
    use crate::store::schema::texts;

    fn lead(form: &str, key: &str) -> Op {
        let (tx, _rx) = oneshot::channel();
        let lead = PreparedLead::new(test_lead(form, key)).unwrap();
        Op::Lead(Box::new(lead), Reply::new(tx))
    }

    fn recent(conn: &Connection) -> RecentLeads {
        RecentLeads::load(
            conn,
            DEDUPE_WINDOW_SECS * 1000,
            Utc::now().timestamp_millis(),
        )
        .unwrap()
    }

    fn receipt(op: &Op) -> &StoreResult<LeadReceipt> {
        match op {
            Op::Lead(_, r) => r.result.as_ref().expect("the write ran"),
            _ => panic!("not a lead"),
        }
    }

    #[test]
    fn one_failing_write_fails_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON leads WHEN NEW.form = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
        let mut batch = vec![lead("ok", "k1"), lead("bad", "k2"), lead("ok", "k3")];
        let mut memory = recent(&conn);
        apply_batch(&mut conn, &mut memory, &mut batch).unwrap();
        assert!(receipt(&batch[0]).is_ok());
        assert!(matches!(receipt(&batch[1]), Err(e) if e.to_string().contains("refused")));
        assert!(receipt(&batch[2]).is_ok());
        assert_eq!(
            texts(&conn, "SELECT dedupe_key FROM leads ORDER BY dedupe_key"),
            ["k1", "k3"],
            "the healthy writes committed, once each"
        );
    }

    fn beacon(visitor: &str) -> Exposure {
        Exposure {
            experiment: "hero".into(),
            variant: "a".into(),
            visitor: visitor.into(),
            page: None,
            at: Utc::now(),
        }
    }

    /// Pushes a beacon as the store does: the first of a group wakes the writer.
    fn queue(tx: &mpsc::Sender<Op>, beacons: &Beacons, visitor: &str) {
        let slot = std::sync::Arc::new(crate::store::queue::BeaconQueue::default())
            .reserve(10)
            .unwrap();
        if beacons.push(beacon(visitor), slot) {
            tx.send(Op::Beacons).unwrap();
        }
    }

    fn visitors(batch: &[Op]) -> Vec<String> {
        batch
            .iter()
            .map(|op| match op {
                Op::Queued(e, _) => e.visitor.clone(),
                Op::Lead(l, _) => format!("lead {}", l.lead.dedupe_key),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn beacons_wake_the_writer_once_per_group_and_go_in_arrival_order() {
        let (tx, rx) = mpsc::channel();
        let beacons = Beacons::default();
        for v in ["v1", "v2", "v3"] {
            queue(&tx, &beacons, v);
        }
        let first = rx.try_recv().expect("the first beacon woke the writer");
        assert!(rx.try_recv().is_err(), "the others did not");
        let batch = next_batch(&rx, first, &beacons, std::time::Duration::ZERO);
        assert_eq!(visitors(&batch), ["v1", "v2", "v3"]);
        // The next beacon starts a new group and wakes the writer again.
        queue(&tx, &beacons, "v4");
        let first = rx.try_recv().expect("a new group wakes the writer");
        let batch = next_batch(&rx, first, &beacons, std::time::Duration::ZERO);
        assert_eq!(visitors(&batch), ["v4"]);
    }

    #[test]
    fn a_lead_ends_the_beacons_wait_and_commits_with_them() {
        let (tx, rx) = mpsc::channel();
        let beacons = std::sync::Arc::new(Beacons::default());
        queue(&tx, &beacons, "v1");
        let first = rx.try_recv().unwrap();
        let theirs = beacons.clone();
        let sender = std::thread::spawn(move || {
            queue(&tx, &theirs, "v2");
            tx.send(lead("demo", "k1")).unwrap();
            tx
        });
        // A window longer than any test run: only the lead can end the wait.
        let window = std::time::Duration::from_secs(3600);
        let started = Instant::now();
        let batch = next_batch(&rx, first, &beacons, window);
        assert!(started.elapsed() < window, "the lead did not wait");
        assert_eq!(visitors(&batch), ["v1", "v2", "lead k1"]);
        drop(sender.join());
    }

    #[test]
    fn a_wake_up_whose_beacons_went_earlier_is_an_empty_batch() {
        let (tx, rx) = mpsc::channel();
        let beacons = Beacons::default();
        queue(&tx, &beacons, "v1");
        tx.send(lead("demo", "k1")).unwrap();
        // The lead's batch takes the beacon; its wake-up comes after.
        let wake_up = rx.try_recv().unwrap();
        let lead = rx.try_recv().unwrap();
        let batch = next_batch(&rx, lead, &beacons, std::time::Duration::ZERO);
        assert_eq!(visitors(&batch), ["v1", "lead k1"]);
        let batch = next_batch(&rx, wake_up, &beacons, std::time::Duration::ZERO);
        assert!(batch.is_empty(), "{:?}", visitors(&batch));
    }

    #[test]
    fn a_healthy_batch_commits_in_one_go() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let mut batch = vec![lead("ok", "a"), lead("ok", "a"), lead("ok", "b")];
        let mut memory = recent(&conn);
        apply_batch(&mut conn, &mut memory, &mut batch).unwrap();
        let dup: Vec<bool> = batch
            .iter()
            .map(|op| matches!(receipt(op), Ok(r) if r.duplicate))
            .collect();
        assert_eq!(
            dup,
            [false, true, false],
            "dedupe sees earlier writes of the same batch"
        );
    }
}
