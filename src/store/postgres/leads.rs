//! Leads on PostgreSQL: the write with its cross-instance dedupe, the listing and the row
//! mapping the other modules read leads with.

use super::super::*;
use super::{deliveries, unavailable, PgStore};
use std::time::Instant;
use tokio_postgres::types::ToSql;

/// Serialises writers of one dedupe key across instances, until the transaction ends.
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtext($1))";

/// The lead, unless an earlier one with the same dedupe key is inside the window: one row back,
/// the earlier lead's (`duplicate` true) or the new one's. One statement, so the check and the
/// insert see one snapshot, taken after the lock of the statement before it was granted.
/// Parameters 1–26 are the lead's columns, 27 the window's start.
const STORE_LEAD_SQL: &str = "WITH earlier AS (
        SELECT id, qualified FROM leads WHERE dedupe_key = $24 AND received_ms >= $27::BIGINT ORDER BY received_ms LIMIT 1
    ), stored AS (
        INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
                utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key,
                confirmation, form_version)
        SELECT $1, $2, $3::BIGINT, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::BIGINT, $21::BOOLEAN, $22, $23, $24, $25, $26
        WHERE NOT EXISTS (SELECT 1 FROM earlier)
        RETURNING id, qualified
    )
    SELECT id, qualified, TRUE AS duplicate FROM earlier
    UNION ALL SELECT id, qualified, FALSE FROM stored";

/// The exposure a submission implies (0 views), unless the visitor already has one.
const IMPLIED_EXPOSURE_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES ($1, $2, $3, $4, $4, 0, $5)
     ON CONFLICT (experiment, visitor) DO NOTHING";

/// Stores a lead, or answers with the earlier one its dedupe key names.
pub(super) async fn insert(
    store: &PgStore,
    lead: NewLead,
    outbox: Option<Outbox>,
) -> StoreResult<LeadReceipt> {
    let started = Instant::now();
    let mut client = store.pool.get().await.map_err(unavailable)?;
    let tx = client.transaction().await.map_err(db_err)?;
    // Prepared once per pooled connection: a statement passed as text is parsed and
    // described in a round trip of its own before every execution.
    let lock = tx.prepare_cached(LOCK_SQL).await.map_err(db_err)?;
    let store_lead = tx.prepare_cached(STORE_LEAD_SQL).await.map_err(db_err)?;
    let ms = lead.received_at.timestamp_millis();
    let since = ms - DEDUPE_WINDOW_SECS * 1000;
    let (id, outbox) = match outbox {
        Some(o) => (o.lead_id, o.deliveries),
        None => (uuid::Uuid::now_v7().to_string(), Vec::new()),
    };
    // The map serialises as the object it is; no copy of it is needed.
    let answers =
        serde_json::to_string(&lead.answers).map_err(|e| StoreError::Database(e.to_string()))?;
    let flag = lead.attribution_flag.map(AttributionFlag::as_str);
    let received_at = lead.received_at.to_rfc3339();
    let confirmation = lead.confirmation.map(Confirmation::as_str);
    let params: [&(dyn ToSql + Sync); 27] = [
        &id,
        &received_at,
        &ms,
        &lead.form,
        &answers,
        &lead.email,
        &lead.experiment,
        &lead.variant,
        &flag,
        &lead.visitor,
        &lead.page,
        &lead.referrer,
        &lead.utm.source,
        &lead.utm.medium,
        &lead.utm.campaign,
        &lead.utm.term,
        &lead.utm.content,
        &lead.user_agent,
        &lead.ip_hash,
        &lead.score,
        &lead.qualified,
        &lead.spam_reason,
        &lead.consent,
        &lead.dedupe_key,
        &confirmation,
        &lead.form_version,
        &since,
    ];
    // The lock and the lead in one round trip: tokio-postgres sends pipelined requests in
    // the order they are first polled, and PostgreSQL runs them in that order, so the
    // dedupe check starts only once the lock is held. Over a network each round trip is
    // the larger part of a lead's time; this is two fewer than lock, look, insert.
    let key: [&(dyn ToSql + Sync); 1] = [&lead.dedupe_key];
    let (locked, stored) =
        tokio::join!(tx.execute(&lock, &key), tx.query_one(&store_lead, &params));
    locked.map_err(db_err)?;
    let stored = stored.map_err(db_err)?;
    if stored.get::<_, bool>(2) {
        tx.commit().await.map_err(db_err)?;
        return Ok(LeadReceipt {
            id: stored.get(0),
            duplicate: true,
            qualified: stored.get(1),
        });
    }
    if let Some((exp, var, vis)) = lead.implied_exposure() {
        let implied = tx
            .prepare_cached(IMPLIED_EXPOSURE_SQL)
            .await
            .map_err(db_err)?;
        tx.execute(&implied, &[&exp, &vis, &var, &ms, &lead.page])
            .await
            .map_err(db_err)?;
    }
    deliveries::insert(&tx, &id, ms, &outbox).await?;
    tx.commit().await.map_err(db_err)?;
    store.observe(started);
    Ok(LeadReceipt {
        id,
        duplicate: false,
        qualified: lead.qualified,
    })
}

fn lead_filter(q: &LeadQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let (w, params) = q.where_clause('$');
    let values = params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                FilterValue::Text(t) => Box::new(t),
                FilterValue::Flag(f) => Box::new(f),
            }
        })
        .collect();
    (w, values)
}

pub(super) fn lead_from_row(r: &tokio_postgres::Row) -> Lead {
    let received: String = r.get("received_at");
    let answers: String = r.get("answers");
    let flag: Option<String> = r.get("attribution_flag");
    Lead {
        id: r.get("id"),
        lead: NewLead {
            received_at: DateTime::parse_from_rfc3339(&received)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            form: r.get("form"),
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            email: r.get("email"),
            experiment: r.get("experiment"),
            variant: r.get("variant"),
            attribution_flag: flag.as_deref().and_then(AttributionFlag::parse),
            visitor: r.get("visitor"),
            page: r.get("page"),
            referrer: r.get("referrer"),
            utm: Utm {
                source: r.get("utm_source"),
                medium: r.get("utm_medium"),
                campaign: r.get("utm_campaign"),
                term: r.get("utm_term"),
                content: r.get("utm_content"),
            },
            user_agent: r.get("user_agent"),
            ip_hash: r.get("ip_hash"),
            score: r.get("score"),
            qualified: r.get("qualified"),
            spam_reason: r.get("spam_reason"),
            consent: r.get("consent"),
            dedupe_key: r.get("dedupe_key"),
            confirmation: r
                .get::<_, Option<String>>("confirmation")
                .as_deref()
                .and_then(Confirmation::parse),
            form_version: r.get("form_version"),
        },
        confirmed_at: crate::store::deliveries::from_ms(r.get("confirmed_ms")),
        stage: super::lifecycle::state_from_row(r),
    }
}

/// Parameters as the query functions take them.
fn refs(params: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A page of the leads `query` selects, newest first.
pub(super) async fn list(
    client: &tokio_postgres::Client,
    query: &LeadQuery,
) -> StoreResult<Vec<Lead>> {
    let (w, mut params) = lead_filter(query);
    let limit: Option<i64> = (query.limit > 0).then_some(i64::from(query.limit));
    params.push(Box::new(limit));
    params.push(Box::new(i64::from(query.offset)));
    let n = params.len();
    let sql = format!(
        "SELECT * FROM leads {w} ORDER BY received_ms DESC, id DESC LIMIT ${} OFFSET ${n}",
        n - 1
    );
    let rows = client.query(&sql, &refs(&params)).await.map_err(db_err)?;
    Ok(rows.iter().map(lead_from_row).collect())
}

/// How many leads `query` selects, all pages.
pub(super) async fn count(client: &tokio_postgres::Client, query: &LeadQuery) -> StoreResult<u64> {
    let (w, params) = lead_filter(query);
    let row = client
        .query_one(&format!("SELECT COUNT(*) FROM leads {w}"), &refs(&params))
        .await
        .map_err(db_err)?;
    Ok(row.get::<_, i64>(0) as u64)
}
