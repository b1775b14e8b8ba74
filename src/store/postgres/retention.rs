//! Retention purge and export pages on PostgreSQL.
//!
//! Each chunk is its own transaction: the leads are locked with `FOR UPDATE SKIP LOCKED`, so two
//! instances purging at the same hour share the work instead of counting the same rows twice;
//! their deliveries go first (a delivery holds a copy of the lead), then the leads.

use super::super::retention::{LeadScope, PageValue};
use super::super::*;
use super::leads::lead_from_row;
use super::unavailable;
use tokio_postgres::types::ToSql;

/// Rows deleted per transaction.
const CHUNK: i64 = 1000;

/// The purge of `policy` at `now`.
pub(super) async fn purge(
    pool: &deadpool_postgres::Pool,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> StoreResult<PurgeCounts> {
    let mut client = pool.get().await.map_err(unavailable)?;
    let mut counts = PurgeCounts::default();
    for rule in policy.lead_rules(now) {
        let (scope, forms): (&str, Vec<String>) = match &rule.scope {
            LeadScope::Form(f) => ("form = ANY($2)", vec![f.clone()]),
            LeadScope::AllExcept(fs) => ("form <> ALL($2)", fs.clone()),
        };
        let select = format!(
            "SELECT id FROM leads WHERE received_ms < $1 AND {scope} LIMIT $3 FOR UPDATE SKIP LOCKED"
        );
        loop {
            let tx = client.transaction().await.map_err(db_err)?;
            let ids: Vec<String> = tx
                .query(&select, &[&rule.cutoff_ms, &forms, &CHUNK])
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if ids.is_empty() {
                tx.commit().await.map_err(db_err)?;
                break;
            }
            let deliveries = tx
                .execute("DELETE FROM deliveries WHERE lead_id = ANY($1)", &[&ids])
                .await
                .map_err(db_err)?;
            let leads = tx
                .execute("DELETE FROM leads WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            counts.leads += leads;
            counts.deliveries += deliveries;
        }
    }
    if let Some(cutoff) = policy.exposure_cutoff_ms(now) {
        loop {
            let n = client
                .execute(
                    "DELETE FROM exposures WHERE (experiment, visitor) IN
                       (SELECT experiment, visitor FROM exposures WHERE last_ms < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                    &[&cutoff, &CHUNK],
                )
                .await
                .map_err(db_err)?;
            if n == 0 {
                break;
            }
            counts.exposures += n;
        }
    }
    Ok(counts)
}

/// One page of leads, oldest first.
pub(super) async fn page(
    pool: &deadpool_postgres::Pool,
    q: &PageQuery,
    after: Option<&PageCursor>,
    limit: u32,
) -> StoreResult<Vec<Lead>> {
    let client = pool.get().await.map_err(unavailable)?;
    let (w, params) = q.where_clause('$', after);
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                PageValue::Filter(FilterValue::Text(t)) | PageValue::Text(t) => Box::new(t),
                PageValue::Filter(FilterValue::Flag(f)) => Box::new(f),
                PageValue::Int(n) => Box::new(n),
            }
        })
        .collect();
    values.push(Box::new(i64::from(limit)));
    let sql = format!(
        "SELECT * FROM leads {w} ORDER BY received_ms, id LIMIT ${}",
        values.len()
    );
    let refs: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = client.query(&sql, &refs).await.map_err(db_err)?;
    Ok(rows.iter().map(lead_from_row).collect())
}
