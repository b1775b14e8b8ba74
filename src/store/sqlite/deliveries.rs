//! The outbox on SQLite: deliveries inserted in the lead's transaction, and the worker's
//! writes (claim, record an attempt, redeliver), which go through the writer like every
//! other write so they never contend with it for the database lock.

pub(super) use super::super::deliveries::lead_id_window as lead_window;
use super::super::deliveries::{after_columns, from_ms, LIST_ORDER};
use super::super::*;
use rusqlite::{params, Connection};

/// A write of the delivery worker or the admin API, run by the writer thread.
pub(in crate::store) enum DeliveryOp {
    /// Lease due rows.
    Claim(Claim),
    /// Log an attempt and move the row on.
    Record(AttemptRecord),
    /// Make a row pending and due again: (row id, now in ms).
    Redeliver(i64, i64),
    /// Free every lease (the process that held them is gone).
    ReleaseLeases,
    /// Confirm a double opt-in lead and release its held deliveries (see `confirm.rs`).
    Confirm(super::confirm::Confirm),
}

/// The writer's answer to a [`DeliveryOp`].
pub(in crate::store) enum DeliveryAnswer {
    /// Rows claimed.
    Claimed(Claimed),
    /// Whether a row was changed.
    Changed(bool),
    /// What confirming a lead found.
    Confirmed(ConfirmOutcome),
}

impl DeliveryOp {
    /// Whether committing this makes work for the worker at once.
    pub(super) fn wakes_worker(&self) -> bool {
        match self {
            DeliveryOp::Redeliver(..) | DeliveryOp::ReleaseLeases => true,
            // Whether any row was released is known only after the write; a spare wake-up
            // costs one claim.
            DeliveryOp::Confirm(_) => true,
            DeliveryOp::Claim(_) | DeliveryOp::Record(_) => false,
        }
    }
}

/// The status a delivery is written with: held until its lead confirms, else pending.
fn initial_status(d: &NewDelivery) -> &'static str {
    if d.held {
        DeliveryStatus::Held.as_str()
    } else {
        DeliveryStatus::Pending.as_str()
    }
}

/// Inserts a lead's deliveries (in the lead's transaction), due at once unless a row names
/// its own time (held ones when released).
pub(super) fn insert(
    tx: &Connection,
    lead_id: &str,
    at_ms: i64,
    deliveries: &[NewDelivery],
) -> rusqlite::Result<()> {
    // Most leads have no delivery configured: no statement lookup for them (the cache hashes
    // the whole SQL text twice per use).
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO deliveries (lead_id, event_id, event_type, target, body, next_attempt_ms, created_ms, status)
         VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?7 = 'held' THEN NULL ELSE coalesce(?8, ?6) END, ?6, ?7)",
    )?;
    for d in deliveries {
        st.execute(params![
            lead_id,
            d.event_id,
            d.event_type,
            d.target,
            d.body,
            at_ms,
            initial_status(d),
            d.due_ms
        ])?;
    }
    Ok(())
}

/// Runs a delivery write.
pub(super) fn run(tx: &Connection, op: &DeliveryOp) -> rusqlite::Result<DeliveryAnswer> {
    match op {
        DeliveryOp::Claim(c) => claim(tx, c).map(DeliveryAnswer::Claimed),
        DeliveryOp::Record(a) => record(tx, a).map(DeliveryAnswer::Changed),
        DeliveryOp::Redeliver(id, now) => tx
            .prepare_cached(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?2,
                    lease_until_ms = NULL, claimed_by = NULL WHERE id = ?1 AND status <> 'held'",
            )?
            .execute(params![id, now])
            .map(|n| DeliveryAnswer::Changed(n == 1)),
        DeliveryOp::ReleaseLeases => tx
            .prepare_cached(
                "UPDATE deliveries SET lease_until_ms = NULL, claimed_by = NULL
                 WHERE status = 'pending' AND lease_until_ms IS NOT NULL",
            )?
            .execute([])
            .map(|n| DeliveryAnswer::Changed(n > 0)),
        DeliveryOp::Confirm(c) => c.run(tx).map(DeliveryAnswer::Confirmed),
    }
}

fn claim(tx: &Connection, c: &Claim) -> rusqlite::Result<Claimed> {
    let now = c.now.timestamp_millis();
    let until = now + c.lease.as_millis() as i64;
    let deliveries = tx
        .prepare_cached(
            "UPDATE deliveries SET lease_until_ms = ?1, claimed_by = ?2
             WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_ms <= ?3
                 AND (lease_until_ms IS NULL OR lease_until_ms <= ?3) ORDER BY next_attempt_ms LIMIT ?4)
             RETURNING id, lead_id, event_id, event_type, target, body, attempts, created_ms, first_attempt_ms",
        )?
        .query_map(params![until, c.worker, now, c.limit], |r| {
            Ok(ClaimedDelivery {
                id: r.get(0)?,
                lead_id: r.get(1)?,
                event_id: r.get(2)?,
                event_type: r.get(3)?,
                target: r.get(4)?,
                body: r.get(5)?,
                attempts: r.get(6)?,
                created_at: from_ms(r.get(7)?).unwrap_or_default(),
                first_attempt_at: from_ms(r.get(8)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if deliveries.len() as u32 >= c.limit {
        // A full claim: more rows may be due now. The look-up below reads every pending row,
        // which under a backlog would cost more than the claim itself.
        return Ok(Claimed {
            deliveries,
            next_due: Some(c.now),
        });
    }
    let next: Option<i64> = tx
        .prepare_cached(
            "SELECT MIN(max(next_attempt_ms, coalesce(lease_until_ms, 0))) FROM deliveries
             WHERE status = 'pending' AND claimed_by IS NOT ?1",
        )?
        .query_row(params![c.worker], |r| r.get(0))?;
    Ok(Claimed {
        deliveries,
        next_due: from_ms(next),
    })
}

fn record(tx: &Connection, a: &AttemptRecord) -> rusqlite::Result<bool> {
    let at = a.at.timestamp_millis();
    let (status, next, delivered) = after_columns(a.next, at);
    let changed = tx
        .prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, status = ?3, next_attempt_ms = ?4,
                delivered_ms = coalesce(?5, delivered_ms), last_status = ?6, last_error = ?7,
                first_attempt_ms = coalesce(first_attempt_ms, ?8), lease_until_ms = NULL, claimed_by = NULL
             WHERE id = ?1 AND claimed_by = ?2",
        )?
        .execute(params![
            a.delivery,
            a.worker,
            status,
            next,
            delivered,
            a.http_status,
            a.error,
            at
        ])?;
    if changed == 0 {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_id, at_ms, outcome, http_status, error, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        a.delivery,
        at,
        a.outcome,
        a.http_status,
        a.error,
        a.duration.as_millis() as i64
    ])?;
    Ok(true)
}

/// Lists deliveries (on a reader).
pub(super) fn list(conn: &Connection, q: &DeliveryQuery) -> rusqlite::Result<Vec<DeliveryRow>> {
    let limit = if q.limit == 0 { -1 } else { i64::from(q.limit) };
    let sql = format!(
        "SELECT id, lead_id, event_id, event_type, target, status, attempts, last_status, last_error,
            created_ms, first_attempt_ms, delivered_ms, next_attempt_ms
         FROM deliveries WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR lead_id = ?2)
         ORDER BY {LIST_ORDER} LIMIT ?3"
    );
    conn.prepare_cached(&sql)?
        .query_map(
            params![q.status.map(DeliveryStatus::as_str), q.lead, limit],
            |r| {
                let status: String = r.get(5)?;
                Ok(DeliveryRow {
                    id: r.get(0)?,
                    lead: r.get(1)?,
                    event_id: r.get(2)?,
                    event_type: r.get(3)?,
                    target: r.get(4)?,
                    status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
                    attempts: r.get(6)?,
                    last_status: r.get(7)?,
                    last_error: r.get(8)?,
                    created_at: from_ms(r.get(9)?).unwrap_or_default(),
                    first_attempt_at: from_ms(r.get(10)?),
                    delivered_at: from_ms(r.get(11)?),
                    next_attempt_at: from_ms(r.get(12)?),
                })
            },
        )?
        .collect()
}

/// Pending deliveries (on a reader).
pub(super) fn pending(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}
