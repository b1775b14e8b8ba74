//! The writes the writer thread runs inside its transactions: leads, exposures, erasures.
//! Each works on whatever connection or savepoint it is given; batching, commits and answers
//! are the writer's (`writer.rs`).

use super::super::*;
use super::recent::RecentLeads;
use rusqlite::{params, Connection, OptionalExtension};

/// An erasure by email, prepared on a reader connection so the writer never scans the table.
pub(super) struct Erasure {
    /// The email, lower-cased as stored.
    pub email: String,
    /// Row ids of the leads with that email in the reader's snapshot.
    pub rowids: Vec<i64>,
    /// The highest row id in that snapshot (0 for an empty table): later leads are above it.
    pub snapshot_max: i64,
    /// The lead id at `snapshot_max`, to tell that row from a later one given the same id.
    pub snapshot_lead: String,
}

impl Erasure {
    /// Finds the leads with `email` (lower-cased) in a reader's snapshot, and that snapshot's
    /// last row, so the writer can delete them and anything stored since.
    pub fn scan(conn: &Connection, email: String) -> rusqlite::Result<Erasure> {
        let (snapshot_max, snapshot_lead): (i64, String) = conn
            .query_row(
                "SELECT rowid, id FROM leads ORDER BY rowid DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or_default();
        let rowids = conn
            .prepare_cached("SELECT rowid FROM leads WHERE email = ?1 AND rowid <= ?2")?
            .query_map(params![email, snapshot_max], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(Erasure {
            email,
            rowids,
            snapshot_max,
            snapshot_lead,
        })
    }
}

fn now_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A lead with its stored text already formatted: the id, the timestamp and the answers'
/// JSON. [`PreparedLead::new`] runs on the request's thread, so the single writer — which
/// every lead waits for — only binds and inserts.
pub(super) struct PreparedLead {
    pub lead: NewLead,
    /// Time-ordered id; unused when the lead turns out to be a duplicate.
    pub id: String,
    pub received_at: String,
    pub answers: String,
    /// Deliveries written with the lead (none for a duplicate).
    pub deliveries: Vec<NewDelivery>,
}

impl PreparedLead {
    #[cfg(test)]
    pub fn new(lead: NewLead) -> serde_json::Result<PreparedLead> {
        PreparedLead::with_outbox(lead, None)
    }

    /// A lead stored under the outbox's lead id, with its deliveries.
    pub fn with_outbox(lead: NewLead, outbox: Option<Outbox>) -> serde_json::Result<PreparedLead> {
        let (id, deliveries) = match outbox {
            Some(o) => (o.lead_id, o.deliveries),
            None => (uuid::Uuid::now_v7().to_string(), Vec::new()),
        };
        Ok(PreparedLead {
            id,
            received_at: lead.received_at.to_rfc3339(),
            answers: serde_json::to_string(&lead.answers)?,
            deliveries,
            lead,
        })
    }
}

/// Stores a lead, or answers with the earlier one when `recent` knows it as a duplicate.
pub(super) fn insert_lead(
    tx: &Connection,
    recent: &mut RecentLeads,
    prepared: &PreparedLead,
) -> rusqlite::Result<LeadReceipt> {
    let lead = &prepared.lead;
    let at = now_ms(lead.received_at);
    if let Some(earlier) = recent.find(tx, &lead.dedupe_key, at - DEDUPE_WINDOW_SECS * 1000)? {
        return Ok(LeadReceipt {
            id: earlier.id,
            duplicate: true,
            qualified: earlier.qualified,
        });
    }
    let flag = lead.attribution_flag.map(AttributionFlag::as_str);
    tx.prepare_cached(
        "INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
            utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key,
            confirmation, form_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    )?
    .execute(params![
            prepared.id,
            prepared.received_at,
            at,
            lead.form,
            prepared.answers,
            lead.email,
            lead.experiment,
            lead.variant,
            flag,
            lead.visitor,
            lead.page,
            lead.referrer,
            lead.utm.source,
            lead.utm.medium,
            lead.utm.campaign,
            lead.utm.term,
            lead.utm.content,
            lead.user_agent,
            lead.ip_hash,
            lead.score,
            lead.qualified,
            lead.spam_reason,
            lead.consent,
            lead.dedupe_key,
            lead.confirmation.map(Confirmation::as_str),
            lead.form_version,
    ])?;
    recent.remember(&lead.dedupe_key, tx.last_insert_rowid(), at);
    super::deliveries::insert(tx, &prepared.id, at, &prepared.deliveries)?;
    // A submission implies the exposure (beacons get blocked); it is not a page view.
    if let Some((exp, var, vis)) = lead.implied_exposure() {
        tx.prepare_cached(
            "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 0, ?5)
             ON CONFLICT (experiment, visitor) DO NOTHING",
        )?
        .execute(params![exp, vis, var, at, lead.page])?;
    }
    Ok(LeadReceipt {
        id: prepared.id.clone(),
        duplicate: false,
        qualified: lead.qualified,
    })
}

/// Records an exposure: the visitor's first variant sticks, repeats count as views.
pub(super) fn record_exposure(tx: &Connection, e: &Exposure) -> rusqlite::Result<ExposureReceipt> {
    let at = now_ms(e.at);
    // Most beacons come from new visitors: one plain insert, no RETURNING (which makes SQLite
    // buffer the row in a temporary b-tree, a cost the profile showed on every exposure).
    let inserted = tx
        .prepare_cached(
            "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES (?1, ?2, ?3, ?4, ?4, 1, ?5)
             ON CONFLICT (experiment, visitor) DO NOTHING",
        )?
        .execute(params![e.experiment, e.visitor, e.variant, at, e.page])?;
    if inserted == 1 {
        return Ok(ExposureReceipt {
            first: true,
            variant: e.variant.clone(),
        });
    }
    // A known visitor: count the view. `views` comes back as 1 exactly when this is the first
    // view (an exposure implied by a submission has 0 views, so its first beacon still counts).
    let (variant, views): (String, i64) = tx
        .prepare_cached(
            "UPDATE exposures SET views = views + 1, last_ms = ?3 WHERE experiment = ?1 AND visitor = ?2
             RETURNING variant, views",
        )?
        .query_row(params![e.experiment, e.visitor, at], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(ExposureReceipt {
        first: views == 1,
        variant,
    })
}

/// Deletes the leads with an email: the rows the reader found, then any stored since its
/// snapshot. SQLite gives a new row the highest row id plus one, so rows stored since are above
/// `snapshot_max` — unless that row was deleted meanwhile, when its row id could be given to a
/// new lead; then (rarely) the writer scans the whole table itself.
pub(super) fn erase(conn: &Connection, e: &Erasure) -> rusqlite::Result<u64> {
    let intact = e.snapshot_max == 0
        || conn
            .prepare_cached("SELECT 1 FROM leads WHERE rowid = ?1 AND id = ?2")?
            .exists(params![e.snapshot_max, e.snapshot_lead])?;
    let mut ids: Vec<String> = Vec::new();
    let mut collect = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<()> {
        let mut st = conn.prepare_cached(sql)?;
        let found = st.query_map(p, |r| r.get::<_, String>(0))?;
        for id in found {
            ids.push(id?);
        }
        Ok(())
    };
    if intact {
        for id in &e.rowids {
            collect(
                "DELETE FROM leads WHERE rowid = ?1 AND email = ?2 RETURNING id",
                &[id, &e.email],
            )?;
        }
        collect(
            "DELETE FROM leads WHERE rowid > ?1 AND email = ?2 RETURNING id",
            &[&e.snapshot_max, &e.email],
        )?;
    } else {
        collect(
            "DELETE FROM leads WHERE email = ?1 RETURNING id",
            &[&e.email],
        )?;
    }
    // Their deliveries hold a copy of the lead: the `leads_delete_dependents` trigger takes
    // them with the leads.
    Ok(ids.len() as u64)
}

/// A lead with the given form and dedupe key (also its visitor), for tests.
#[cfg(test)]
pub(super) fn test_lead(form: &str, key: &str) -> NewLead {
    NewLead {
        received_at: Utc::now(),
        form: form.into(),
        answers: serde_json::Map::new(),
        email: None,
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: Some(key.into()),
        page: None,
        referrer: None,
        utm: Utm::default(),
        user_agent: None,
        ip_hash: None,
        score: 0,
        qualified: false,
        spam_reason: None,
        consent: None,
        dedupe_key: key.into(),
        confirmation: None,
        form_version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::texts;

    fn db() -> (Connection, RecentLeads) {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let recent = RecentLeads::load(&conn, DEDUPE_WINDOW_SECS * 1000, 0).unwrap();
        (conn, recent)
    }

    fn store(conn: &Connection, recent: &mut RecentLeads, key: &str, email: &str) {
        let mut lead = test_lead("f", key);
        lead.email = Some(email.into());
        insert_lead(conn, recent, &PreparedLead::new(lead).unwrap()).unwrap();
    }

    fn lead_id(conn: &Connection, rowid: i64) -> String {
        conn.query_row("SELECT id FROM leads WHERE rowid = ?1", [rowid], |r| {
            r.get(0)
        })
        .unwrap()
    }

    fn emails(conn: &Connection) -> Vec<String> {
        texts(conn, "SELECT email FROM leads ORDER BY rowid")
    }

    #[test]
    fn erasure_deletes_the_rows_found_and_those_stored_since() {
        let (conn, mut recent) = db();
        store(&conn, &mut recent, "1", "a@x");
        store(&conn, &mut recent, "2", "b@x");
        store(&conn, &mut recent, "3", "a@x");
        // The reader saw rows 1 and 2; row 3 came after its snapshot.
        let e = Erasure {
            email: "a@x".into(),
            rowids: vec![1],
            snapshot_max: 2,
            snapshot_lead: lead_id(&conn, 2),
        };
        assert_eq!(erase(&conn, &e).unwrap(), 2);
        assert_eq!(emails(&conn), ["b@x"]);
    }

    #[test]
    fn erasure_takes_the_leads_deliveries_with_it() {
        let (conn, mut recent) = db();
        store(&conn, &mut recent, "1", "a@x");
        store(&conn, &mut recent, "2", "b@x");
        for rowid in [1, 2] {
            conn.execute(
                "INSERT INTO deliveries (lead_id, event_id, event_type, target, body, created_ms) VALUES (?1, 'msg', 'lead.created', 'email', '{}', 0)",
                [lead_id(&conn, rowid)],
            )
            .unwrap();
        }
        let kept = lead_id(&conn, 2);
        let e = Erasure::scan(&conn, "a@x".into()).unwrap();
        assert_eq!(erase(&conn, &e).unwrap(), 1);
        assert_eq!(texts(&conn, "SELECT lead_id FROM deliveries"), [kept]);
    }

    #[test]
    fn erasure_scans_everything_when_the_snapshot_edge_was_deleted() {
        let (conn, mut recent) = db();
        store(&conn, &mut recent, "1", "a@x");
        store(&conn, &mut recent, "2", "b@x");
        let edge = lead_id(&conn, 2);
        // Row 2 (the snapshot's edge) goes, and a new lead is given its id again.
        conn.execute("DELETE FROM leads WHERE rowid = 2", [])
            .unwrap();
        store(&conn, &mut recent, "3", "a@x");
        assert_eq!(emails(&conn), ["a@x", "a@x"]);
        let e = Erasure {
            email: "a@x".into(),
            rowids: vec![1],
            snapshot_max: 2,
            snapshot_lead: edge,
        };
        assert_eq!(
            erase(&conn, &e).unwrap(),
            2,
            "the reused row id is not missed"
        );
        assert!(emails(&conn).is_empty());
    }
}
