//! The outcome queries on SQLite (see [`crate::store::outcomes`]).

use super::super::outcomes::{OutcomeRow, SourceOutcomeRow};
use super::super::StoreResult;
use super::{count_column, opt_str, SqliteStore};
use rusqlite::params;

/// Goal leads of exposed visitors, from the goal form's leads to the exposures' primary key
/// (the same join order as the counts).
const OUTCOMES_SQL: &str = "
    SELECT e.variant, e.visitor, e.first_ms, l.received_ms, l.qualified,
      CASE WHEN l.confirmation = 'confirmed' THEN l.confirmed_ms END,
      l.sales_qualified_ms, l.opportunity_ms, l.customer_ms, l.disqualified_ms,
      l.revenue_minor, l.currency
    FROM leads l CROSS JOIN exposures e ON e.experiment = ?1 AND e.visitor = l.visitor
    WHERE l.form = ?2 AND l.spam_reason IS NULL
      AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL)
    ORDER BY e.variant, e.visitor, l.received_ms";

const SOURCES_SQL: &str = "
    SELECT utm_source, utm_campaign, CASE WHEN customer_ms IS NOT NULL THEN currency END AS cur,
      COUNT(*), SUM(qualified), COUNT(opportunity_ms), COUNT(customer_ms),
      COALESCE(SUM(CASE WHEN customer_ms IS NOT NULL THEN revenue_minor END), 0)
    FROM leads WHERE spam_reason IS NULL
    GROUP BY utm_source, utm_campaign, cur
    ORDER BY utm_source NULLS LAST, utm_campaign NULLS LAST, cur NULLS FIRST";

pub(super) async fn experiment_outcomes(
    store: &SqliteStore,
    experiment: &str,
    goal_form: &str,
) -> StoreResult<Vec<OutcomeRow>> {
    let (e, g) = (experiment.to_owned(), goal_form.to_owned());
    store
        .read(move |c| {
            let mut st = c.prepare_cached(OUTCOMES_SQL)?;
            let rows = st.query_map(params![e, g], |r| {
                Ok(OutcomeRow {
                    variant: r.get(0)?,
                    visitor: r.get(1)?,
                    exposed_ms: r.get(2)?,
                    lead_ms: r.get(3)?,
                    qualified: r.get::<_, i64>(4)? != 0,
                    confirmed_ms: r.get(5)?,
                    sales_qualified_ms: r.get(6)?,
                    opportunity_ms: r.get(7)?,
                    customer_ms: r.get(8)?,
                    disqualified_ms: r.get(9)?,
                    revenue_minor: r.get(10)?,
                    currency: opt_str(r, 11)?,
                })
            })?;
            rows.collect()
        })
        .await
}

pub(super) async fn source_outcomes(store: &SqliteStore) -> StoreResult<Vec<SourceOutcomeRow>> {
    store
        .read(|c| {
            let mut st = c.prepare_cached(SOURCES_SQL)?;
            let rows = st.query_map([], |r| {
                Ok(SourceOutcomeRow {
                    utm_source: opt_str(r, 0)?,
                    utm_campaign: opt_str(r, 1)?,
                    currency: opt_str(r, 2)?,
                    leads: count_column(r, 3)?,
                    qualified: count_column(r, 4)?,
                    opportunities: count_column(r, 5)?,
                    customers: count_column(r, 6)?,
                    revenue_minor: r.get(7)?,
                })
            })?;
            rows.collect()
        })
        .await
}
