//! Confirming a double opt-in lead on PostgreSQL: one transaction that locks the lead's row
//! (two clicks at once on two instances confirm once), marks it confirmed, makes its held
//! deliveries pending and due at once, and notifies every instance's worker at commit.

use super::super::deliveries::from_ms;
use super::super::*;
use super::deliveries::CHANNEL;

/// Confirms the lead `id` at `now` (see [`crate::store::Store::confirm_lead`]).
pub(super) async fn confirm(
    client: &mut deadpool_postgres::Client,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<ConfirmOutcome> {
    let now_ms = now.timestamp_millis();
    let tx = client.transaction().await.map_err(db_err)?;
    let row = tx
        .query_opt(
            "SELECT confirmation, confirmed_ms FROM leads WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(ConfirmOutcome::NotFound);
    };
    let state: Option<String> = row.get(0);
    match state.as_deref().and_then(Confirmation::parse) {
        None => return Ok(ConfirmOutcome::NotAsked),
        Some(Confirmation::Confirmed) => {
            return Ok(ConfirmOutcome::AlreadyConfirmed {
                at: from_ms(row.get(1)),
            })
        }
        Some(Confirmation::Unconfirmed) => {}
    }
    tx.execute(
        "UPDATE leads SET confirmation = 'confirmed', confirmed_ms = $2 WHERE id = $1",
        &[&id, &now_ms],
    )
    .await
    .map_err(db_err)?;
    let released = tx
        .execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_ms = $2
             WHERE lead_id = $1 AND status = 'held'",
            &[&id, &now_ms],
        )
        .await
        .map_err(db_err)?;
    if released > 0 {
        tx.execute(&format!("NOTIFY {CHANNEL}"), &[])
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(ConfirmOutcome::Confirmed { released })
}

/// Non-spam leads of double opt-in forms per form.
pub(super) async fn counts(
    client: &tokio_postgres::Client,
) -> StoreResult<Vec<ConfirmationCounts>> {
    let rows = client
        .query(
            "SELECT form, COUNT(*) FILTER (WHERE confirmation = 'unconfirmed'),
                COUNT(*) FILTER (WHERE confirmation = 'confirmed')
             FROM leads WHERE confirmation IS NOT NULL AND spam_reason IS NULL
             GROUP BY form ORDER BY form",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| ConfirmationCounts {
            form: r.get(0),
            unconfirmed: r.get::<_, i64>(1) as u64,
            confirmed: r.get::<_, i64>(2) as u64,
        })
        .collect())
}
