//! The reports' reads on SQLite: per-variant counts, daily counts, the funnel, and when an
//! experiment started. Each runs on a reader connection (`SqliteStore::read`).

use super::super::*;
use super::opt_str;
use rusqlite::{params, Connection};

/// Counts per variant. Conversions go from the goal form's leads (`leads_form`) to the
/// exposures' primary key: there is no index on the leads' visitor (see `recent.rs`), and an
/// experiment has far fewer leads than exposed visitors. `CROSS JOIN` keeps that join order.
const COUNTS_SQL: &str = "
    WITH conv AS (
      SELECT e.variant, COUNT(DISTINCT l.visitor) AS conversions,
        COUNT(DISTINCT CASE WHEN l.qualified = 1 THEN l.visitor END) AS qualified
      FROM leads l CROSS JOIN exposures e ON e.experiment = ?1 AND e.visitor = l.visitor
      WHERE l.form = ?2 AND l.spam_reason IS NULL
        AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL)
      GROUP BY e.variant),
    seen AS (
      SELECT variant, COUNT(*) AS visitors, SUM(views) AS views FROM exposures
      WHERE experiment = ?1 GROUP BY variant)
    SELECT s.variant, s.visitors, s.views, COALESCE(c.conversions, 0), COALESCE(c.qualified, 0)
    FROM seen s LEFT JOIN conv c ON c.variant = s.variant ORDER BY s.variant";

/// Visitors and conversions per UTC day and variant; a conversion counts on the day of the
/// visitor's first goal lead. Same join order as [`COUNTS_SQL`].
const DAILY_SQL: &str = "
    SELECT day, variant, SUM(v), SUM(cv) FROM (
      SELECT date(first_ms / 1000, 'unixepoch') AS day, variant, 1 AS v, 0 AS cv FROM exposures WHERE experiment = ?1
      UNION ALL
      SELECT date(MIN(l.received_ms) / 1000, 'unixepoch'), e.variant, 0, 1
      FROM leads l CROSS JOIN exposures e ON e.experiment = ?1 AND e.visitor = l.visitor
      WHERE l.form = ?2 AND l.spam_reason IS NULL
        AND NOT (l.experiment = e.experiment AND l.attribution_flag IS NOT NULL)
      GROUP BY e.visitor, e.variant)
    GROUP BY day, variant ORDER BY day, variant";

/// Visitors, views, conversions and qualified conversions per variant of `experiment`.
pub(super) fn experiment_counts(
    c: &Connection,
    experiment: &str,
    goal_form: &str,
) -> rusqlite::Result<Vec<VariantCounts>> {
    let mut st = c.prepare_cached(COUNTS_SQL)?;
    let rows = st.query_map(params![experiment, goal_form], |r| {
        Ok(VariantCounts {
            variant: r.get(0)?,
            visitors: r.get::<_, i64>(1)? as u64,
            views: r.get::<_, i64>(2)? as u64,
            conversions: r.get::<_, i64>(3)? as u64,
            qualified: r.get::<_, i64>(4)? as u64,
        })
    })?;
    rows.collect()
}

/// [`DAILY_SQL`]'s rows.
pub(super) fn daily_counts(
    c: &Connection,
    experiment: &str,
    goal_form: &str,
) -> rusqlite::Result<Vec<DailyVariantCounts>> {
    let mut st = c.prepare_cached(DAILY_SQL)?;
    let rows = st.query_map(params![experiment, goal_form], |r| {
        let day: String = r.get(0)?;
        Ok(DailyVariantCounts {
            day: report_day(&day),
            variant: r.get(1)?,
            visitors: r.get::<_, i64>(2)? as u64,
            conversions: r.get::<_, i64>(3)? as u64,
        })
    })?;
    rows.collect()
}

/// Leads and qualified leads (spam left out) per UTC day, UTM source and campaign.
pub(super) fn funnel(c: &Connection) -> rusqlite::Result<Vec<FunnelRow>> {
    let mut st = c.prepare_cached(
        "SELECT date(received_ms / 1000, 'unixepoch') AS day, utm_source, utm_campaign, COUNT(*), SUM(qualified)
         FROM leads WHERE spam_reason IS NULL
         GROUP BY day, utm_source, utm_campaign ORDER BY day, utm_source NULLS LAST, utm_campaign NULLS LAST",
    )?;
    let rows = st.query_map([], |r| {
        let day: String = r.get(0)?;
        Ok(FunnelRow {
            day: report_day(&day),
            utm_source: opt_str(r, 1)?,
            utm_campaign: opt_str(r, 2)?,
            leads: r.get::<_, i64>(3)? as u64,
            qualified: r.get::<_, i64>(4)? as u64,
        })
    })?;
    rows.collect()
}

/// The first exposure of `experiment`, in milliseconds since the epoch.
pub(super) fn experiment_started_ms(
    c: &Connection,
    experiment: &str,
) -> rusqlite::Result<Option<i64>> {
    c.query_row(
        "SELECT MIN(first_ms) FROM exposures WHERE experiment = ?1",
        params![experiment],
        |r| r.get(0),
    )
}
