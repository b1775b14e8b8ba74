//! The single writer thread: group commit of whatever is queued.
//!
//! The writer takes every queued write (up to [`MAX_BATCH`]) and applies them in one
//! transaction, commits — one fsync of the WAL for the lot — and only then answers each
//! request. The batch first runs straight through; only if one write fails is it rolled back
//! and replayed with a savepoint around each write, so a bad write fails alone without every
//! healthy batch paying two extra statements per write.

use super::super::metrics::CommitMetrics;
use super::super::*;
use super::recent::RecentLeads;
use rusqlite::{params, Connection, TransactionBehavior};
use std::sync::mpsc;
use std::time::Instant;
use tokio::sync::oneshot;

/// Most writes committed in one transaction.
pub const MAX_BATCH: usize = 1024;

/// A write for the writer thread, with where its answer goes.
pub(super) enum Op {
    Lead(Box<NewLead>, Reply<LeadReceipt>),
    Exposure(Exposure, Reply<ExposureReceipt>),
    Erase(Erasure, Reply<u64>),
    Close(oneshot::Sender<()>),
}

/// An erasure by email, prepared on a reader connection so the writer never scans the table.
pub(super) struct Erasure {
    /// The email, lower-cased as stored.
    pub email: String,
    /// Row ids of the leads with that email in the reader's snapshot.
    pub rowids: Vec<i64>,
    /// The highest row id in that snapshot (0 for an empty table): later leads are above it.
    pub snapshot_max: i64,
    /// The lead id at `snapshot_max`, to tell that row from a later one given the same id.
    pub snapshot_lead: String,
}

/// Where a write's answer goes, and the answer once the write ran.
pub(super) struct Reply<T> {
    tx: oneshot::Sender<StoreResult<T>>,
    result: Option<StoreResult<T>>,
}

impl<T> Reply<T> {
    /// A reply to `tx`, not yet answered.
    pub(super) fn new(tx: oneshot::Sender<StoreResult<T>>) -> Reply<T> {
        Reply { tx, result: None }
    }

    /// Sends the write's answer, or `failed` when its transaction did not commit: nothing is
    /// acknowledged unless it committed.
    fn send(self, failed: Option<&str>) {
        let answer = match (failed, self.result) {
            (Some(e), _) => Err(StoreError::Database(format!("commit failed: {e}"))),
            (None, Some(r)) => r,
            (None, None) => Err(StoreError::Database("the write did not run".into())),
        };
        let _ = self.tx.send(answer);
    }
}

fn now_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn insert_lead(
    tx: &Connection,
    recent: &mut RecentLeads,
    lead: &NewLead,
) -> rusqlite::Result<LeadReceipt> {
    let at = now_ms(lead.received_at);
    if let Some(earlier) = recent.find(tx, &lead.dedupe_key, at - DEDUPE_WINDOW_SECS * 1000)? {
        return Ok(LeadReceipt {
            id: earlier.id,
            duplicate: true,
            qualified: earlier.qualified,
        });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let flag = lead.attribution_flag.map(AttributionFlag::as_str);
    let answers = serde_json::to_string(&lead.answers)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached(
        "INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
            utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    )?
    .execute(params![
            id,
            lead.received_at.to_rfc3339(),
            at,
            lead.form,
            answers,
            lead.email,
            lead.experiment,
            lead.variant,
            flag,
            lead.visitor,
            lead.page,
            lead.referrer,
            lead.utm.source,
            lead.utm.medium,
            lead.utm.campaign,
            lead.utm.term,
            lead.utm.content,
            lead.user_agent,
            lead.ip_hash,
            lead.score,
            lead.qualified,
            lead.spam_reason,
            lead.consent,
            lead.dedupe_key,
    ])?;
    recent.remember(&lead.dedupe_key, tx.last_insert_rowid(), at);
    // A submission implies the exposure (beacons get blocked); it is not a page view.
    if let Some((exp, var, vis)) = lead.implied_exposure() {
        tx.prepare_cached(
            "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 0, ?5)
             ON CONFLICT (experiment, visitor) DO NOTHING",
        )?
        .execute(params![exp, vis, var, at, lead.page])?;
    }
    Ok(LeadReceipt {
        id,
        duplicate: false,
        qualified: lead.qualified,
    })
}

fn record_exposure(tx: &Connection, e: &Exposure) -> rusqlite::Result<ExposureReceipt> {
    let at = now_ms(e.at);
    // Most beacons come from new visitors: one plain insert, no RETURNING (which makes SQLite
    // buffer the row in a temporary b-tree, a cost the profile showed on every exposure).
    let inserted = tx
        .prepare_cached(
            "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 1, ?5)
             ON CONFLICT (experiment, visitor) DO NOTHING",
        )?
        .execute(params![e.experiment, e.visitor, e.variant, at, e.page])?;
    if inserted == 1 {
        return Ok(ExposureReceipt {
            first: true,
            variant: e.variant.clone(),
        });
    }
    // A known visitor: count the view. `views` comes back as 1 exactly when this is the first
    // view (an exposure implied by a submission has 0 views, so its first beacon still counts).
    let (variant, views): (String, i64) = tx
        .prepare_cached(
            "UPDATE exposures SET views = views + 1, last_ms = ?3 WHERE experiment = ?1 AND visitor = ?2
             RETURNING variant, views",
        )?
        .query_row(params![e.experiment, e.visitor, at], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(ExposureReceipt {
        first: views == 1,
        variant,
    })
}

/// Deletes the leads with an email: the rows the reader found, then any stored since its
/// snapshot. SQLite gives a new row the highest row id plus one, so rows stored since are above
/// `snapshot_max` — unless that row was deleted meanwhile, when its row id could be given to a
/// new lead; then (rarely) the writer scans the whole table itself.
fn erase(conn: &Connection, e: &Erasure) -> rusqlite::Result<u64> {
    let intact = e.snapshot_max == 0
        || conn
            .prepare_cached("SELECT 1 FROM leads WHERE rowid = ?1 AND id = ?2")?
            .exists(params![e.snapshot_max, e.snapshot_lead])?;
    if !intact {
        let n = conn
            .prepare_cached("DELETE FROM leads WHERE email = ?1")?
            .execute(params![e.email])?;
        return Ok(n as u64);
    }
    let mut n = 0;
    let mut by_id = conn.prepare_cached("DELETE FROM leads WHERE rowid = ?1 AND email = ?2")?;
    for id in &e.rowids {
        n += by_id.execute(params![id, e.email])?;
    }
    n += conn
        .prepare_cached("DELETE FROM leads WHERE rowid > ?1 AND email = ?2")?
        .execute(params![e.snapshot_max, e.email])?;
    Ok(n as u64)
}

/// Runs one write and records its answer; on an error the answer is left as it was.
fn run(conn: &Connection, recent: &mut RecentLeads, op: &mut Op) -> rusqlite::Result<()> {
    match op {
        Op::Lead(lead, reply) => reply.result = Some(Ok(insert_lead(conn, recent, lead)?)),
        Op::Exposure(e, reply) => reply.result = Some(Ok(record_exposure(conn, e)?)),
        Op::Erase(erasure, reply) => reply.result = Some(Ok(erase(conn, erasure)?)),
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
            Op::Erase(_, r) => r.result = Some(Err(db_err(&e))),
            Op::Close(_) => {}
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
            Op::Lead(_, r) => r.send(failed.as_deref()),
            Op::Exposure(_, r) => r.send(failed.as_deref()),
            Op::Erase(_, r) => r.send(failed.as_deref()),
            Op::Close(tx) => closing = Some(tx),
        }
    }
    closing
}

/// The writer loop: runs until the store closes or every sender is gone.
pub(super) fn writer(
    mut conn: Connection,
    mut recent: RecentLeads,
    rx: mpsc::Receiver<Op>,
    metrics: &CommitMetrics,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let size = batch.len();
        let started = Instant::now();
        let result = apply_batch(&mut conn, &mut recent, &mut batch);
        metrics.observe(started.elapsed().as_secs_f64(), size);
        if let Some(tx) = answer(batch, result) {
            let _ = tx.send(());
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(form: &str, key: &str) -> Op {
        let (tx, _rx) = oneshot::channel();
        let tx = Reply::new(tx);
        Op::Lead(
            Box::new(NewLead {
                received_at: Utc::now(),
                form: form.into(),
                answers: serde_json::Map::new(),
                email: None,
                experiment: None,
                variant: None,
                attribution_flag: None,
                visitor: Some(key.into()),
                page: None,
                referrer: None,
                utm: Utm::default(),
                user_agent: None,
                ip_hash: None,
                score: 0,
                qualified: false,
                spam_reason: None,
                consent: None,
                dedupe_key: key.into(),
            }),
            tx,
        )
    }

    fn recent(conn: &Connection) -> RecentLeads {
        RecentLeads::load(conn, DEDUPE_WINDOW_SECS * 1000, now_ms(Utc::now())).unwrap()
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
        let stored: Vec<String> = conn
            .prepare("SELECT dedupe_key FROM leads ORDER BY dedupe_key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            stored,
            ["k1", "k3"],
            "the healthy writes committed, once each"
        );
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

    fn with_email(form: &str, key: &str, email: &str) -> Op {
        let mut op = lead(form, key);
        if let Op::Lead(l, _) = &mut op {
            l.email = Some(email.into());
        }
        op
    }

    fn lead_id(conn: &Connection, rowid: i64) -> String {
        conn.query_row("SELECT id FROM leads WHERE rowid = ?1", [rowid], |r| {
            r.get(0)
        })
        .unwrap()
    }

    fn emails(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT email FROM leads ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn erasure_deletes_the_rows_found_and_those_stored_since() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let mut memory = recent(&conn);
        let mut batch = vec![
            with_email("f", "1", "a@x"),
            with_email("f", "2", "b@x"),
            with_email("f", "3", "a@x"),
        ];
        apply_batch(&mut conn, &mut memory, &mut batch).unwrap();
        // The reader saw rows 1 and 2; row 3 came after its snapshot.
        let e = Erasure {
            email: "a@x".into(),
            rowids: vec![1],
            snapshot_max: 2,
            snapshot_lead: lead_id(&conn, 2),
        };
        assert_eq!(erase(&conn, &e).unwrap(), 2);
        assert_eq!(emails(&conn), ["b@x"]);
    }

    #[test]
    fn erasure_scans_everything_when_the_snapshot_edge_was_deleted() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let mut memory = recent(&conn);
        let mut batch = vec![with_email("f", "1", "a@x"), with_email("f", "2", "b@x")];
        apply_batch(&mut conn, &mut memory, &mut batch).unwrap();
        let edge = lead_id(&conn, 2);
        // Row 2 (the snapshot's edge) goes, and a new lead is given its id again.
        conn.execute("DELETE FROM leads WHERE rowid = 2", [])
            .unwrap();
        let mut batch = vec![with_email("f", "3", "a@x")];
        apply_batch(&mut conn, &mut memory, &mut batch).unwrap();
        assert_eq!(emails(&conn), ["a@x", "a@x"]);
        let e = Erasure {
            email: "a@x".into(),
            rowids: vec![1],
            snapshot_max: 2,
            snapshot_lead: edge,
        };
        assert_eq!(
            erase(&conn, &e).unwrap(),
            2,
            "the reused row id is not missed"
        );
        assert!(emails(&conn).is_empty());
    }
}
