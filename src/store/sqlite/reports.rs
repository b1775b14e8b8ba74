//! The reports' reads on SQLite: per-variant counts, daily counts, the funnel, and when an
//! experiment started. Each runs on a reader connection (`SqliteStore::read`).

use super::super::*;
use super::{count_column, opt_str};
use rusqlite::{params, Connection, Params, Row};

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

/// Leads and qualified leads per UTC day, UTM source and campaign, spam left out.
const FUNNEL_SQL: &str = "
    SELECT date(received_ms / 1000, 'unixepoch') AS day, utm_source, utm_campaign, COUNT(*), SUM(qualified)
    FROM leads WHERE spam_reason IS NULL
    GROUP BY day, utm_source, utm_campaign ORDER BY day, utm_source NULLS LAST, utm_campaign NULLS LAST";

/// Every row of a report query, through the statement cache (reports run the same SQL again
/// and again).
fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    c.prepare_cached(sql)?.query_map(params, row)?.collect()
}

/// A report row's `YYYY-MM-DD` day column.
fn day(r: &Row<'_>, i: usize) -> rusqlite::Result<chrono::NaiveDate> {
    r.get::<_, String>(i).map(|d| report_day(&d))
}

/// Visitors, views, conversions and qualified conversions per variant of `experiment`.
pub(super) fn experiment_counts(
    c: &Connection,
    experiment: &str,
    goal_form: &str,
) -> rusqlite::Result<Vec<VariantCounts>> {
    all(c, COUNTS_SQL, params![experiment, goal_form], |r| {
        Ok(VariantCounts {
            variant: r.get(0)?,
            visitors: count_column(r, 1)?,
            views: count_column(r, 2)?,
            conversions: count_column(r, 3)?,
            qualified: count_column(r, 4)?,
        })
    })
}

/// [`DAILY_SQL`]'s rows.
pub(super) fn daily_counts(
    c: &Connection,
    experiment: &str,
    goal_form: &str,
) -> rusqlite::Result<Vec<DailyVariantCounts>> {
    all(c, DAILY_SQL, params![experiment, goal_form], |r| {
        Ok(DailyVariantCounts {
            day: day(r, 0)?,
            variant: r.get(1)?,
            visitors: count_column(r, 2)?,
            conversions: count_column(r, 3)?,
        })
    })
}

/// [`FUNNEL_SQL`]'s rows.
pub(super) fn funnel(c: &Connection) -> rusqlite::Result<Vec<FunnelRow>> {
    all(c, FUNNEL_SQL, [], |r| {
        Ok(FunnelRow {
            day: day(r, 0)?,
            utm_source: opt_str(r, 1)?,
            utm_campaign: opt_str(r, 2)?,
            leads: count_column(r, 3)?,
            qualified: count_column(r, 4)?,
        })
    })
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
