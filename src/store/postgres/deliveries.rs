//! The outbox on PostgreSQL: deliveries inserted in the lead's transaction with a `NOTIFY`,
//! claims with `FOR UPDATE SKIP LOCKED` and an expiring lease (many instances share the
//! rows; a killed instance's claims fall due again), and one `LISTEN` connection per process
//! that wakes the worker when any instance commits deliveries.

pub(super) use super::super::deliveries::lead_id_window as lead_window;
use super::super::deliveries::{after_columns, from_ms, LIST_ORDER};
use super::super::*;
use std::time::Duration;
use tokio_postgres::{AsyncMessage, NoTls};

/// The notification channel.
pub(super) const CHANNEL: &str = "splitmark_deliveries";

/// The status a delivery is written with: held until its lead confirms, else pending.
fn initial_status(d: &NewDelivery) -> &'static str {
    if d.held {
        DeliveryStatus::Held.as_str()
    } else {
        DeliveryStatus::Pending.as_str()
    }
}

/// Inserts a lead's deliveries in its transaction and notifies every instance at commit.
pub(super) async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    lead_id: &str,
    at_ms: i64,
    deliveries: &[NewDelivery],
) -> StoreResult<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let st = tx
        .prepare_cached(
            "INSERT INTO deliveries (lead_id, event_id, event_type, target, body, next_attempt_ms, created_ms, status)
             VALUES ($1, $2, $3, $4, $5, CASE WHEN $7 = 'held' THEN NULL ELSE coalesce($8::BIGINT, $6::BIGINT) END, $6, $7)",
        )
        .await
        .map_err(db_err)?;
    for d in deliveries {
        tx.execute(
            &st,
            &[
                &lead_id,
                &d.event_id,
                &d.event_type,
                &d.target,
                &d.body,
                &at_ms,
                &initial_status(d),
                &d.due_ms,
            ],
        )
        .await
        .map_err(db_err)?;
    }
    tx.execute(&format!("NOTIFY {CHANNEL}"), &[])
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn claim(client: &tokio_postgres::Client, c: &Claim) -> StoreResult<Claimed> {
    let now = c.now.timestamp_millis();
    let until = now + c.lease.as_millis() as i64;
    let limit = i64::from(c.limit);
    let rows = client
        .query(
            "UPDATE deliveries SET lease_until_ms = $1, claimed_by = $2
             WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_ms <= $3
                 AND (lease_until_ms IS NULL OR lease_until_ms <= $3) ORDER BY next_attempt_ms LIMIT $4
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, lead_id, event_id, event_type, target, body, attempts, created_ms, first_attempt_ms",
            &[&until, &c.worker, &now, &limit],
        )
        .await
        .map_err(db_err)?;
    let deliveries = rows
        .iter()
        .map(|r| ClaimedDelivery {
            id: r.get(0),
            lead_id: r.get(1),
            event_id: r.get(2),
            event_type: r.get(3),
            target: r.get(4),
            body: r.get(5),
            attempts: r.get::<_, i32>(6) as u32,
            created_at: from_ms(r.get(7)).unwrap_or_default(),
            first_attempt_at: from_ms(r.get(8)),
        })
        .collect::<Vec<_>>();
    if deliveries.len() as u32 >= c.limit {
        // A full claim: more rows may be due now (see the SQLite store's claim).
        return Ok(Claimed {
            deliveries,
            next_due: Some(c.now),
        });
    }
    let next: Option<i64> = client
        .query_one(
            "SELECT MIN(GREATEST(next_attempt_ms, coalesce(lease_until_ms, 0)))::BIGINT FROM deliveries
             WHERE status = 'pending' AND claimed_by IS DISTINCT FROM $1",
            &[&c.worker],
        )
        .await
        .map_err(db_err)?
        .get(0);
    Ok(Claimed {
        deliveries,
        next_due: from_ms(next),
    })
}

pub(super) async fn record(
    client: &mut deadpool_postgres::Client,
    a: &AttemptRecord,
) -> StoreResult<bool> {
    let at = a.at.timestamp_millis();
    let (status, next, delivered) = after_columns(a.next, at);
    let http_status = a.http_status.map(i32::from);
    let tx = client.transaction().await.map_err(db_err)?;
    let changed = tx
        .execute(
            "UPDATE deliveries SET attempts = attempts + 1, status = $3, next_attempt_ms = $4,
                delivered_ms = coalesce($5, delivered_ms), last_status = $6, last_error = $7,
                first_attempt_ms = coalesce(first_attempt_ms, $8), lease_until_ms = NULL, claimed_by = NULL
             WHERE id = $1 AND claimed_by = $2",
            &[
                &a.delivery,
                &a.worker,
                &status,
                &next,
                &delivered,
                &http_status,
                &a.error,
                &at,
            ],
        )
        .await
        .map_err(db_err)?;
    if changed == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO delivery_attempts (delivery_id, at_ms, outcome, http_status, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &a.delivery,
            &at,
            &a.outcome,
            &http_status,
            &a.error,
            &(a.duration.as_millis() as i64),
        ],
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(super) async fn redeliver(
    client: &tokio_postgres::Client,
    id: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = client
        .execute(
            "WITH r AS (UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_ms = $2,
                lease_until_ms = NULL, claimed_by = NULL WHERE id = $1 AND status <> 'held' RETURNING id)
             SELECT pg_notify($3, '') FROM r",
            &[&id, &now.timestamp_millis(), &CHANNEL],
        )
        .await
        .map_err(db_err)?;
    Ok(n == 1)
}

pub(super) async fn list(
    client: &tokio_postgres::Client,
    q: &DeliveryQuery,
) -> StoreResult<Vec<DeliveryRow>> {
    let limit: Option<i64> = (q.limit > 0).then_some(i64::from(q.limit));
    let status = q.status.map(DeliveryStatus::as_str);
    let rows = client
        .query(
            &format!(
                "SELECT id, lead_id, event_id, event_type, target, status, attempts, last_status, last_error,
                    created_ms, first_attempt_ms, delivered_ms, next_attempt_ms
                 FROM deliveries WHERE ($1::TEXT IS NULL OR status = $1) AND ($2::TEXT IS NULL OR lead_id = $2)
                 ORDER BY {LIST_ORDER} LIMIT $3"
            ),
            &[&status, &q.lead, &limit],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| DeliveryRow {
            id: r.get(0),
            lead: r.get(1),
            event_id: r.get(2),
            event_type: r.get(3),
            target: r.get(4),
            status: DeliveryStatus::parse(r.get(5)).unwrap_or(DeliveryStatus::Pending),
            attempts: r.get::<_, i32>(6) as u32,
            last_status: r.get::<_, Option<i32>>(7).map(|s| s as u16),
            last_error: r.get(8),
            created_at: from_ms(r.get(9)).unwrap_or_default(),
            first_attempt_at: from_ms(r.get(10)),
            delivered_at: from_ms(r.get(11)),
            next_attempt_at: from_ms(r.get(12)),
        })
        .collect())
}

pub(super) async fn pending(client: &tokio_postgres::Client) -> StoreResult<u64> {
    let row = client
        .query_one(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Holds a `LISTEN` connection for as long as the process runs, signalling `signal` on every
/// notification; reconnects after a pause when the connection drops (the worker's slow poll
/// covers the gap).
pub(super) async fn listen(config: tokio_postgres::Config, signal: Arc<tokio::sync::Notify>) {
    loop {
        if let Ok((client, mut conn)) = config.connect(NoTls).await {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            // The connection's messages, notifications among them, arrive only while it is
            // polled: drive it in its own task.
            let driver = tokio::spawn(async move {
                let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                while let Some(Ok(m)) = futures_util::StreamExt::next(&mut messages).await {
                    if let AsyncMessage::Notification(_) = m {
                        let _ = tx.send(());
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .is_ok()
            {
                // Rows committed before LISTEN took effect are found by this first wake.
                signal.notify_one();
                while rx.recv().await.is_some() {
                    signal.notify_one();
                }
            }
            driver.abort();
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
