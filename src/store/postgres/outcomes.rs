//! The outcome queries on PostgreSQL, row for row the same as SQLite's
//! (see [`crate::store::outcomes`]).

use super::super::outcomes::{OutcomeRow, SourceOutcomeRow};
use super::super::{db_err, StoreResult};
use super::{unavailable, PgStore};

const OUTCOMES_SQL: &str = "
    SELECT e.variant, e.visitor, e.first_ms, l.received_ms, l.qualified,
      CASE WHEN l.confirmation = 'confirmed' THEN l.confirmed_ms END,
      l.sales_qualified_ms, l.opportunity_ms, l.customer_ms, l.disqualified_ms,
      l.revenue_minor, l.currency
    FROM exposures e JOIN leads l ON l.visitor = e.visitor
    WHERE e.experiment = $1 AND l.form = $2 AND l.spam_reason IS NULL
      AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)
    ORDER BY e.variant, e.visitor, l.received_ms";

const SOURCES_SQL: &str = "
    SELECT utm_source, utm_campaign, CASE WHEN customer_ms IS NOT NULL THEN currency END AS cur,
      COUNT(*)::BIGINT, COUNT(*) FILTER (WHERE qualified)::BIGINT,
      COUNT(opportunity_ms)::BIGINT, COUNT(customer_ms)::BIGINT,
      COALESCE(SUM(revenue_minor) FILTER (WHERE customer_ms IS NOT NULL), 0)::BIGINT
    FROM leads WHERE spam_reason IS NULL
    GROUP BY utm_source, utm_campaign, cur
    ORDER BY utm_source NULLS LAST, utm_campaign NULLS LAST, cur NULLS FIRST";

pub(super) async fn experiment_outcomes(
    store: &PgStore,
    experiment: &str,
    goal_form: &str,
) -> StoreResult<Vec<OutcomeRow>> {
    let client = store.pool.get().await.map_err(unavailable)?;
    let rows = client
        .query(OUTCOMES_SQL, &[&experiment, &goal_form])
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| OutcomeRow {
            variant: r.get(0),
            visitor: r.get(1),
            exposed_ms: r.get(2),
            lead_ms: r.get(3),
            qualified: r.get(4),
            confirmed_ms: r.get(5),
            sales_qualified_ms: r.get(6),
            opportunity_ms: r.get(7),
            customer_ms: r.get(8),
            disqualified_ms: r.get(9),
            revenue_minor: r.get(10),
            currency: r.get(11),
        })
        .collect())
}

pub(super) async fn source_outcomes(store: &PgStore) -> StoreResult<Vec<SourceOutcomeRow>> {
    let client = store.pool.get().await.map_err(unavailable)?;
    let rows = client.query(SOURCES_SQL, &[]).await.map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| SourceOutcomeRow {
            utm_source: r.get(0),
            utm_campaign: r.get(1),
            currency: r.get(2),
            leads: r.get::<_, i64>(3) as u64,
            qualified: r.get::<_, i64>(4) as u64,
            opportunities: r.get::<_, i64>(5) as u64,
            customers: r.get::<_, i64>(6) as u64,
            revenue_minor: r.get(7),
        })
        .collect())
}
