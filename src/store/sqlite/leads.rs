//! Reading leads on SQLite: the filtered list and its count, and one lead by id.

use super::super::*;
use super::opt_str;
use rusqlite::{params, Connection, OptionalExtension};

/// The columns [`lead_from_row`] reads, in its order.
pub(super) const LEAD_COLUMNS: &str = "id, received_at, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key, stage, stage_ms, contacted_ms, sales_qualified_ms, opportunity_ms, customer_ms, disqualified_ms, pipeline_minor, revenue_minor, currency, confirmation, confirmed_ms, form_version";

/// A lead from a row of [`LEAD_COLUMNS`].
pub(super) fn lead_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Lead> {
    let received: String = r.get(1)?;
    let answers: String = r.get(3)?;
    let flag: Option<String> = r.get(7)?;
    Ok(Lead {
        id: r.get(0)?,
        lead: NewLead {
            received_at: DateTime::parse_from_rfc3339(&received)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            form: r.get(2)?,
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            email: opt_str(r, 4)?,
            experiment: opt_str(r, 5)?,
            variant: opt_str(r, 6)?,
            attribution_flag: flag.as_deref().and_then(AttributionFlag::parse),
            visitor: opt_str(r, 8)?,
            page: opt_str(r, 9)?,
            referrer: opt_str(r, 10)?,
            utm: Utm {
                source: opt_str(r, 11)?,
                medium: opt_str(r, 12)?,
                campaign: opt_str(r, 13)?,
                term: opt_str(r, 14)?,
                content: opt_str(r, 15)?,
            },
            user_agent: opt_str(r, 16)?,
            ip_hash: opt_str(r, 17)?,
            score: r.get(18)?,
            qualified: r.get(19)?,
            spam_reason: opt_str(r, 20)?,
            consent: opt_str(r, 21)?,
            dedupe_key: r.get(22)?,
            confirmation: opt_str(r, 33)?.as_deref().and_then(Confirmation::parse),
            form_version: opt_str(r, 35)?,
        },
        confirmed_at: crate::store::deliveries::from_ms(r.get(34)?),
        stage: super::lifecycle::state_from_row(r, 23)?,
    })
}

/// WHERE clause and parameters of a lead query.
fn lead_filter(q: &LeadQuery) -> (String, Vec<rusqlite::types::Value>) {
    let (w, params) = q.where_clause('?');
    let values = params
        .into_iter()
        .map(|p| match p {
            FilterValue::Text(t) => rusqlite::types::Value::Text(t),
            FilterValue::Flag(f) => rusqlite::types::Value::Integer(i64::from(f)),
        })
        .collect();
    (w, values)
}

/// The leads `q` selects, newest first, one page of them.
pub(super) fn list(c: &Connection, q: &LeadQuery) -> rusqlite::Result<Vec<Lead>> {
    let (w, mut p) = lead_filter(q);
    let limit = if q.limit == 0 { -1 } else { i64::from(q.limit) };
    p.push(limit.into());
    p.push(i64::from(q.offset).into());
    let n = p.len();
    let sql = format!("SELECT {LEAD_COLUMNS} FROM leads {w} ORDER BY received_ms DESC, id DESC LIMIT ?{} OFFSET ?{n}", n - 1);
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(p), lead_from_row)?;
    rows.collect()
}

/// How many leads `q` selects, all pages.
pub(super) fn count(c: &Connection, q: &LeadQuery) -> rusqlite::Result<u64> {
    let (w, p) = lead_filter(q);
    c.query_row(
        &format!("SELECT COUNT(*) FROM leads {w}"),
        rusqlite::params_from_iter(p),
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// The lead `id`, looked up within `window`, the range of `received_ms` its id allows (there
/// is no index on the id).
pub(super) fn by_id(
    c: &Connection,
    window: (i64, i64),
    id: &str,
) -> rusqlite::Result<Option<Lead>> {
    c.query_row(
        &format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE received_ms BETWEEN ?1 AND ?2 AND id = ?3"
        ),
        params![window.0, window.1, id],
        lead_from_row,
    )
    .optional()
}
