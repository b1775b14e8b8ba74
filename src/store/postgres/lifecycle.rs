//! Stage changes on PostgreSQL: each in its own transaction, with the lead's row locked so
//! concurrent changes of one lead (from several instances) derive its columns in turn, and
//! the event id's unique index deciding between two instances recording the same event.

use super::super::lifecycle::{
    answer_known, cancel_sla_sql, event_from_parts, recorded, state_from_parts, EVENT_COLUMNS,
};
use super::super::*;
use crate::lifecycle::{derive, HistoryItem, Stage, StageEvent, StageState};
use std::collections::HashMap;

/// The stage state of a lead row.
pub(super) fn state_from_row(r: &tokio_postgres::Row) -> StageState {
    let stage: String = r.get("stage");
    let ms = [
        r.get("stage_ms"),
        r.get("contacted_ms"),
        r.get("sales_qualified_ms"),
        r.get("opportunity_ms"),
        r.get("customer_ms"),
        r.get("disqualified_ms"),
    ];
    state_from_parts(
        &stage,
        ms,
        r.get("pipeline_minor"),
        r.get("revenue_minor"),
        r.get("currency"),
    )
}

fn event_from_row(r: &tokio_postgres::Row) -> StageEvent {
    event_from_parts(
        r.get(0),
        r.get(1),
        r.get::<_, &str>(2),
        r.get(3),
        r.get(4),
        r.get::<_, &str>(5),
        r.get(6),
        r.get(7),
        r.get(8),
        r.get(9),
        r.get(10),
    )
}

async fn known(
    tx: &deadpool_postgres::Transaction<'_>,
    event_id: &str,
) -> StoreResult<Option<StageEvent>> {
    let row = tx
        .query_opt(
            &format!("SELECT {EVENT_COLUMNS} FROM lead_events WHERE event_id = $1"),
            &[&event_id],
        )
        .await
        .map_err(db_err)?;
    Ok(row.as_ref().map(event_from_row))
}

/// Records one change in its own transaction.
pub(super) async fn record(
    client: &mut deadpool_postgres::Client,
    w: &StageWrite,
) -> StoreResult<StageOutcome> {
    let now_ms = Utc::now().timestamp_millis();
    let tx = client.transaction().await.map_err(db_err)?;
    if let Some(e) = known(&tx, &w.event.event_id).await? {
        tx.commit().await.map_err(db_err)?;
        return Ok(answer_known(w, e));
    }
    let lead = tx
        .query_opt(
            "SELECT 1 FROM leads WHERE id = $1 FOR UPDATE",
            &[&w.lead_id],
        )
        .await
        .map_err(db_err)?;
    if lead.is_none() {
        tx.commit().await.map_err(db_err)?;
        return Ok(StageOutcome::UnknownLead);
    }
    let e = &w.event;
    let inserted = tx
        .query_opt(
            "INSERT INTO lead_events (lead_id, event_id, stage, at_ms, recorded_ms, source, actor, value_minor, currency, reason, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (event_id) DO NOTHING RETURNING id",
            &[
                &w.lead_id,
                &e.event_id,
                &e.stage.as_str(),
                &e.at.timestamp_millis(),
                &now_ms,
                &e.source.as_str(),
                &e.actor,
                &e.value_minor,
                &e.currency,
                &e.reason,
                &e.note,
            ],
        )
        .await
        .map_err(db_err)?;
    if inserted.is_none() {
        // Another instance recorded the same event id meanwhile: answer from its row.
        let e = known(&tx, &w.event.event_id).await?;
        tx.commit().await.map_err(db_err)?;
        return Ok(e.map_or(StageOutcome::UnknownLead, |e| answer_known(w, e)));
    }
    let history: Vec<HistoryItem> = tx
        .query(
            "SELECT stage, at_ms, value_minor, currency FROM lead_events WHERE lead_id = $1 ORDER BY at_ms, id",
            &[&w.lead_id],
        )
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| HistoryItem {
            stage: Stage::parse(r.get::<_, &str>(0)).unwrap_or_default(),
            at_ms: r.get(1),
            value_minor: r.get(2),
            currency: r.get(3),
        })
        .collect();
    let d = derive(&history);
    tx.execute(
        "UPDATE leads SET stage = $2, stage_ms = $3, contacted_ms = $4, sales_qualified_ms = $5, opportunity_ms = $6,
            customer_ms = $7, disqualified_ms = $8, pipeline_minor = $9, revenue_minor = $10, currency = $11
         WHERE id = $1",
        &[
            &w.lead_id,
            &d.stage.as_str(),
            &d.stage_ms,
            &d.reached_ms[0],
            &d.reached_ms[1],
            &d.reached_ms[2],
            &d.reached_ms[3],
            &d.disqualified_ms,
            &d.pipeline_minor,
            &d.revenue_minor,
            &d.currency,
        ],
    )
    .await
    .map_err(db_err)?;
    if d.reached_ms[0].is_some() || d.disqualified_ms.is_some() {
        tx.execute(&cancel_sla_sql("$1"), &[&w.lead_id])
            .await
            .map_err(db_err)?;
    }
    super::deliveries::insert(&tx, &w.lead_id, now_ms, &w.deliveries).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(StageOutcome::Recorded(recorded(w, now_ms)))
}

pub(super) async fn history(
    client: &tokio_postgres::Client,
    lead_id: &str,
) -> StoreResult<Vec<StageEvent>> {
    let rows = client
        .query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM lead_events WHERE lead_id = $1 ORDER BY at_ms, id"
            ),
            &[&lead_id],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(event_from_row).collect())
}

/// The most recent lead of each address, in one query for the whole list.
pub(super) async fn latest_by_email(
    client: &tokio_postgres::Client,
    emails: &[String],
) -> StoreResult<HashMap<String, Lead>> {
    if emails.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client
        .query(
            "SELECT DISTINCT ON (email) * FROM leads WHERE email = ANY($1)
             ORDER BY email, received_ms DESC, id DESC",
            &[&emails],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(super::leads::lead_from_row)
        .filter_map(|l| l.lead.email.clone().map(|e| (e, l)))
        .collect())
}

pub(super) async fn uncontacted(
    client: &tokio_postgres::Client,
    limit: u32,
) -> StoreResult<Vec<Lead>> {
    let rows = client
        .query(
            "SELECT * FROM leads WHERE contacted_ms IS NULL AND stage = 'new' AND spam_reason IS NULL
             ORDER BY qualified DESC, received_ms, id LIMIT $1",
            &[&i64::from(limit)],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(super::leads::lead_from_row).collect())
}

pub(super) async fn contact_samples(
    client: &tokio_postgres::Client,
) -> StoreResult<Vec<ContactSample>> {
    let rows = client
        .query(
            "SELECT form, utm_source, CASE WHEN attribution_flag IS NULL THEN experiment END,
                CASE WHEN attribution_flag IS NULL THEN variant END, received_ms, contacted_ms, disqualified_ms
             FROM leads WHERE spam_reason IS NULL",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| ContactSample {
            form: r.get(0),
            utm_source: r.get(1),
            experiment: r.get(2),
            variant: r.get(3),
            received_ms: r.get(4),
            contacted_ms: r.get(5),
            disqualified_ms: r.get(6),
        })
        .collect())
}
