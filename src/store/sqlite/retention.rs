//! Retention purge and export pages on SQLite.
//!
//! The purge runs on a reader connection of its own, beside the single writer: each chunk is a
//! short `BEGIN IMMEDIATE` transaction (the writer waits for it through its busy timeout, as it
//! would for any other process writing the file), so a large first purge never holds the write
//! lock for long. Leads are found through `leads_received`/`leads_form`; exposures have no index
//! on their last activity, so they are scanned outside any write transaction, in primary-key
//! order, and deleted by key with their age checked again.

use super::super::retention::{LeadRule, LeadScope, PageValue};
use super::super::*;
use rusqlite::{params, Connection, Transaction, TransactionBehavior};

/// Rows deleted per transaction.
const CHUNK: usize = 500;

fn scope_sql(scope: &LeadScope) -> (&'static str, String) {
    let list = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    match scope {
        LeadScope::Form(f) => ("form = ?2", f.clone()),
        LeadScope::AllExcept(forms) => {
            ("form NOT IN (SELECT value FROM json_each(?2))", list(forms))
        }
    }
}

/// Deletes the leads of one rule, chunk by chunk, with their deliveries (which hold a copy
/// of the lead). The deliveries go first, by lead id, so they can be counted; the
/// `leads_delete_dependents` trigger would take them anyway.
fn purge_leads(
    conn: &Connection,
    rule: &LeadRule,
    counts: &mut PurgeCounts,
) -> rusqlite::Result<()> {
    let (scope, value) = scope_sql(&rule.scope);
    let select =
        format!("SELECT rowid, id FROM leads WHERE received_ms < ?1 AND {scope} LIMIT {CHUNK}");
    loop {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let rows = tx
            .prepare_cached(&select)?
            .query_map(params![rule.cutoff_ms, value], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
        if rows.is_empty() {
            return tx.commit();
        }
        let (rowids, ids): (Vec<i64>, Vec<String>) = rows.into_iter().unzip();
        let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        let rowids_json = serde_json::to_string(&rowids).unwrap_or_else(|_| "[]".into());
        let deliveries = tx
            .prepare_cached(
                "DELETE FROM deliveries WHERE lead_id IN (SELECT value FROM json_each(?1))",
            )?
            .execute(params![ids_json])?;
        tx.prepare_cached("DELETE FROM leads WHERE rowid IN (SELECT value FROM json_each(?1))")?
            .execute(params![rowids_json])?;
        tx.commit()?;
        counts.leads += ids.len() as u64;
        counts.deliveries += deliveries as u64;
    }
}

/// Deletes exposures last active before `cutoff_ms`.
fn purge_exposures(conn: &Connection, cutoff_ms: i64) -> rusqlite::Result<u64> {
    let mut deleted = 0;
    let mut after = (String::new(), String::new());
    loop {
        // The scan reads a snapshot; no write lock is held.
        let keys = conn
            .prepare_cached(
                "SELECT experiment, visitor FROM exposures WHERE (experiment, visitor) > (?1, ?2) AND last_ms < ?3
                 ORDER BY experiment, visitor LIMIT ?4",
            )?
            .query_map(params![after.0, after.1, cutoff_ms, CHUNK as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        let Some(last) = keys.last().cloned() else {
            return Ok(deleted);
        };
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        {
            // A visitor seen again since the scan keeps its row.
            let mut del = tx.prepare_cached(
                "DELETE FROM exposures WHERE experiment = ?1 AND visitor = ?2 AND last_ms < ?3",
            )?;
            for (e, v) in &keys {
                deleted += del.execute(params![e, v, cutoff_ms])? as u64;
            }
        }
        tx.commit()?;
        after = last;
    }
}

/// The purge of `policy` at `now` on `conn`.
pub(super) fn purge(
    conn: &Connection,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> rusqlite::Result<PurgeCounts> {
    let mut counts = PurgeCounts::default();
    for rule in policy.lead_rules(now) {
        purge_leads(conn, &rule, &mut counts)?;
    }
    if let Some(cutoff) = policy.exposure_cutoff_ms(now) {
        counts.exposures = purge_exposures(conn, cutoff)?;
    }
    Ok(counts)
}

/// One page of leads, oldest first.
pub(super) fn page(
    conn: &Connection,
    q: &PageQuery,
    after: Option<&PageCursor>,
    limit: u32,
) -> rusqlite::Result<Vec<Lead>> {
    let (w, params) = q.where_clause('?', after);
    let mut values: Vec<rusqlite::types::Value> = params
        .into_iter()
        .map(|p| match p {
            PageValue::Filter(FilterValue::Text(t)) | PageValue::Text(t) => t.into(),
            PageValue::Filter(FilterValue::Flag(f)) => i64::from(f).into(),
            PageValue::Int(n) => n.into(),
        })
        .collect();
    values.push(i64::from(limit).into());
    let sql = format!(
        "SELECT {} FROM leads {w} ORDER BY received_ms, id LIMIT ?{}",
        super::leads::LEAD_COLUMNS,
        values.len()
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        rusqlite::params_from_iter(values),
        super::leads::lead_from_row,
    )?;
    rows.collect()
}
