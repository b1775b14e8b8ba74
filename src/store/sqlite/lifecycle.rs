//! Stage changes on SQLite: written by the writer thread (one savepoint-safe op per request,
//! every change of a batch in the writer's transaction), read on reader connections.

use super::super::lifecycle::{
    answer_known, cancel_sla_sql, event_from_parts, recorded, state_from_parts, EVENT_COLUMNS,
};
use super::super::*;
use crate::lifecycle::{derive, HistoryItem, StageEvent, StageState};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// The stage state from a lead row whose derived columns start at `at`.
pub(super) fn state_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<StageState> {
    let stage: String = r.get(at)?;
    let mut ms = [None; 6];
    for (i, m) in ms.iter_mut().enumerate() {
        *m = r.get(at + 1 + i)?;
    }
    Ok(state_from_parts(
        &stage,
        ms,
        r.get(at + 7)?,
        r.get(at + 8)?,
        r.get(at + 9)?,
    ))
}

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StageEvent> {
    let stage: String = r.get(2)?;
    let source: String = r.get(5)?;
    Ok(event_from_parts(
        r.get(0)?,
        r.get(1)?,
        &stage,
        r.get(3)?,
        r.get(4)?,
        &source,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

/// Runs every write of a request in order (in the writer's transaction).
pub(super) fn record_all(
    tx: &Connection,
    writes: &[StageWrite],
) -> rusqlite::Result<Vec<StageOutcome>> {
    let now_ms = Utc::now().timestamp_millis();
    writes.iter().map(|w| record(tx, w, now_ms)).collect()
}

fn record(tx: &Connection, w: &StageWrite, now_ms: i64) -> rusqlite::Result<StageOutcome> {
    let known = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM lead_events WHERE event_id = ?1"
        ))?
        .query_row(params![w.event.event_id], event_from_row)
        .optional()?;
    if let Some(e) = known {
        return Ok(answer_known(w, e));
    }
    // Leads have no index on id: a UUIDv7 names the window of `received_ms` it is in.
    let Some((from, to)) = super::deliveries::lead_window(&w.lead_id) else {
        return Ok(StageOutcome::UnknownLead);
    };
    let rowid: Option<i64> = tx
        .prepare_cached("SELECT rowid FROM leads WHERE received_ms BETWEEN ?1 AND ?2 AND id = ?3")?
        .query_row(params![from, to, w.lead_id], |r| r.get(0))
        .optional()?;
    let Some(rowid) = rowid else {
        return Ok(StageOutcome::UnknownLead);
    };
    let e = &w.event;
    tx.prepare_cached(
        "INSERT INTO lead_events (lead_id, event_id, stage, at_ms, recorded_ms, source, actor, value_minor, currency, reason, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        w.lead_id,
        e.event_id,
        e.stage.as_str(),
        e.at.timestamp_millis(),
        now_ms,
        e.source.as_str(),
        e.actor,
        e.value_minor,
        e.currency,
        e.reason,
        e.note
    ])?;
    let history = tx
        .prepare_cached(
            "SELECT stage, at_ms, value_minor, currency FROM lead_events WHERE lead_id = ?1 ORDER BY at_ms, id",
        )?
        .query_map(params![w.lead_id], |r| {
            let stage: String = r.get(0)?;
            Ok(HistoryItem {
                stage: crate::lifecycle::Stage::parse(&stage).unwrap_or_default(),
                at_ms: r.get(1)?,
                value_minor: r.get(2)?,
                currency: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let d = derive(&history);
    tx.prepare_cached(
        "UPDATE leads SET stage = ?2, stage_ms = ?3, contacted_ms = ?4, sales_qualified_ms = ?5, opportunity_ms = ?6,
            customer_ms = ?7, disqualified_ms = ?8, pipeline_minor = ?9, revenue_minor = ?10, currency = ?11
         WHERE rowid = ?1",
    )?
    .execute(params![
        rowid,
        d.stage.as_str(),
        d.stage_ms,
        d.reached_ms[0],
        d.reached_ms[1],
        d.reached_ms[2],
        d.reached_ms[3],
        d.disqualified_ms,
        d.pipeline_minor,
        d.revenue_minor,
        d.currency
    ])?;
    if d.reached_ms[0].is_some() || d.disqualified_ms.is_some() {
        tx.prepare_cached(&cancel_sla_sql("?1"))?
            .execute(params![w.lead_id])?;
    }
    super::deliveries::insert(tx, &w.lead_id, now_ms, &w.deliveries)?;
    Ok(StageOutcome::Recorded(recorded(w, now_ms)))
}

/// A lead's history (on a reader).
pub(super) fn history(c: &Connection, lead_id: &str) -> rusqlite::Result<Vec<StageEvent>> {
    c.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM lead_events WHERE lead_id = ?1 ORDER BY at_ms, id"
    ))?
    .query_map(params![lead_id], event_from_row)?
    .collect()
}

/// The most recent lead of each address: one pass over the leads for the whole list (there
/// is no index on email, see `writes.rs`).
pub(super) fn latest_by_email(
    c: &Connection,
    emails: &[String],
) -> rusqlite::Result<HashMap<String, Lead>> {
    let mut out = HashMap::new();
    if emails.is_empty() {
        return Ok(out);
    }
    let marks = (1..=emails.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM leads WHERE email IN ({marks}) ORDER BY received_ms, rowid",
        super::leads::LEAD_COLUMNS
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(
        rusqlite::params_from_iter(emails),
        super::leads::lead_from_row,
    )?;
    for lead in rows {
        let lead = lead?;
        if let Some(email) = lead.lead.email.clone() {
            out.insert(email, lead);
        }
    }
    Ok(out)
}

/// The sales queue (on a reader), through the partial index of uncontacted leads.
pub(super) fn uncontacted(c: &Connection, limit: u32) -> rusqlite::Result<Vec<Lead>> {
    let sql = format!(
        "SELECT {} FROM leads WHERE contacted_ms IS NULL AND stage = 'new' AND spam_reason IS NULL
         ORDER BY qualified DESC, received_ms, rowid LIMIT ?1",
        super::leads::LEAD_COLUMNS
    );
    c.prepare_cached(&sql)?
        .query_map(params![limit], super::leads::lead_from_row)?
        .collect()
}

/// Contact timing of every non-spam lead (on a reader); the variant only where the
/// attribution counts.
pub(super) fn contact_samples(c: &Connection) -> rusqlite::Result<Vec<ContactSample>> {
    c.prepare_cached(
        "SELECT form, utm_source, CASE WHEN attribution_flag IS NULL THEN experiment END,
            CASE WHEN attribution_flag IS NULL THEN variant END, received_ms, contacted_ms, disqualified_ms
         FROM leads WHERE spam_reason IS NULL",
    )?
    .query_map([], |r| {
        Ok(ContactSample {
            form: r.get(0)?,
            utm_source: r.get(1)?,
            experiment: r.get(2)?,
            variant: r.get(3)?,
            received_ms: r.get(4)?,
            contacted_ms: r.get(5)?,
            disqualified_ms: r.get(6)?,
        })
    })?
    .collect()
}
