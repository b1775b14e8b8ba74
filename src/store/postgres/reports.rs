//! The reports' reads on PostgreSQL: per-variant counts, daily counts, the funnel, and when
//! an experiment started.

use super::super::*;
use super::unavailable;
use deadpool_postgres::Pool;

const COUNTS_SQL: &str = "
    SELECT e.variant, COUNT(*)::BIGINT, SUM(e.views)::BIGINT,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = $2 AND l.spam_reason IS NULL
                  AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)))::BIGINT,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = $2 AND l.spam_reason IS NULL AND l.qualified
                  AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)))::BIGINT
    FROM exposures e WHERE e.experiment = $1 GROUP BY e.variant ORDER BY e.variant";

pub(super) async fn experiment_counts(
    pool: &Pool,
    experiment: &str,
    goal_form: &str,
) -> StoreResult<Vec<VariantCounts>> {
    let client = pool.get().await.map_err(unavailable)?;
    let rows = client
        .query(COUNTS_SQL, &[&experiment, &goal_form])
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| VariantCounts {
            variant: r.get(0),
            visitors: r.get::<_, i64>(1) as u64,
            views: r.get::<_, Option<i64>>(2).unwrap_or(0) as u64,
            conversions: r.get::<_, i64>(3) as u64,
            qualified: r.get::<_, i64>(4) as u64,
        })
        .collect())
}

pub(super) async fn daily_counts(
    pool: &Pool,
    experiment: &str,
    goal_form: &str,
) -> StoreResult<Vec<DailyVariantCounts>> {
    let client = pool.get().await.map_err(unavailable)?;
    let rows = client
        .query(
            "SELECT day, variant, SUM(v)::BIGINT, SUM(cv)::BIGINT FROM (
               SELECT to_char(to_timestamp(first_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, variant, 1 AS v, 0 AS cv FROM exposures WHERE experiment = $1
               UNION ALL
               SELECT to_char(to_timestamp(MIN(l.received_ms) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), e.variant, 0, 1 FROM exposures e JOIN leads l
                 ON l.visitor = e.visitor AND l.form = $2 AND l.spam_reason IS NULL
                AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)
               WHERE e.experiment = $1 GROUP BY e.visitor, e.variant) t
             GROUP BY day, variant ORDER BY day, variant",
            &[&experiment, &goal_form],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| DailyVariantCounts {
            day: report_day(r.get(0)),
            variant: r.get(1),
            visitors: r.get::<_, i64>(2) as u64,
            conversions: r.get::<_, i64>(3) as u64,
        })
        .collect())
}

pub(super) async fn funnel(pool: &Pool) -> StoreResult<Vec<FunnelRow>> {
    let client = pool.get().await.map_err(unavailable)?;
    let rows = client
        .query(
            "SELECT to_char(to_timestamp(received_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                    utm_source, utm_campaign, COUNT(*)::BIGINT, SUM(CASE WHEN qualified THEN 1 ELSE 0 END)::BIGINT
             FROM leads WHERE spam_reason IS NULL
             GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS LAST, 3 NULLS LAST",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| FunnelRow {
            day: report_day(r.get(0)),
            utm_source: r.get(1),
            utm_campaign: r.get(2),
            leads: r.get::<_, i64>(3) as u64,
            qualified: r.get::<_, i64>(4) as u64,
        })
        .collect())
}

pub(super) async fn experiment_started_at(
    pool: &Pool,
    experiment: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let client = pool.get().await.map_err(unavailable)?;
    let row = client
        .query_one(
            "SELECT MIN(first_ms) FROM exposures WHERE experiment = $1",
            &[&experiment],
        )
        .await
        .map_err(db_err)?;
    Ok(row
        .get::<_, Option<i64>>(0)
        .and_then(DateTime::from_timestamp_millis))
}
