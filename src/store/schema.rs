//! Versioned SQLite schema: each migration runs once, in its own transaction, tracked by
//! `PRAGMA user_version`.

use rusqlite::Connection;

/// Migrations in order; index + 1 is the schema version after it.
const MIGRATIONS: &[&str] = &[
    // 1: leads, exposures, and the webhook outbox.
    r#"
    CREATE TABLE leads (
        id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        form TEXT NOT NULL,
        answers TEXT NOT NULL,
        email TEXT,
        experiment TEXT,
        variant TEXT,
        attribution_flag TEXT,
        visitor TEXT,
        page TEXT,
        referrer TEXT,
        utm_source TEXT,
        utm_medium TEXT,
        utm_campaign TEXT,
        utm_term TEXT,
        utm_content TEXT,
        user_agent TEXT,
        ip_hash TEXT,
        score INTEGER NOT NULL,
        qualified INTEGER NOT NULL,
        spam_reason TEXT,
        consent TEXT,
        dedupe_key TEXT NOT NULL
    );
    CREATE INDEX leads_dedupe ON leads (dedupe_key, received_ms);
    CREATE INDEX leads_received ON leads (received_ms);
    CREATE INDEX leads_visitor ON leads (visitor, form);
    CREATE INDEX leads_email ON leads (email);
    CREATE TABLE exposures (
        experiment TEXT NOT NULL,
        visitor TEXT NOT NULL,
        variant TEXT NOT NULL,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        views INTEGER NOT NULL,
        page TEXT,
        PRIMARY KEY (experiment, visitor)
    ) WITHOUT ROWID;
    CREATE INDEX exposures_variant ON exposures (experiment, variant);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        delivered_ms INTEGER,
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (delivered_ms, next_attempt_ms);
    "#,
    // 2: deduplicate through the visitor index. Identical submissions share the visitor and
    // the form, so (visitor, form, received_ms) finds them as well as an index on the random
    // dedupe key did, and every lead writes one random index page fewer to the WAL.
    r#"
    DROP INDEX leads_dedupe;
    DROP INDEX leads_visitor;
    CREATE INDEX leads_visitor ON leads (visitor, form, received_ms);
    "#,
    // 3: every exposure query selects one experiment, which the primary key (experiment,
    // visitor) already finds; the variant index only cost a random page write per exposure.
    r#"
    DROP INDEX exposures_variant;
    "#,
    // 4: the writer deduplicates from memory (store/sqlite/recent.rs), and experiment counts
    // go from the goal form's leads to the exposures' primary key, so no index on the random
    // visitor is needed. Leads by form, newest first, serve the counts and the dashboard.
    r#"
    DROP INDEX leads_visitor;
    CREATE INDEX leads_form ON leads (form, received_ms);
    "#,
    // 5: erasure by email finds the rows on a reader (store/sqlite/mod.rs), so the email index,
    // a random key costing a page write per lead, goes.
    r#"
    DROP INDEX leads_email;
    "#,
    // 6: leads lose the index behind `id TEXT PRIMARY KEY`. SQLite reads leads by row id
    // (dedupe memory, erasure), never by id; ids are time-ordered UUIDs made by the writer's
    // caller, so the index only enforced what cannot happen, and it cost every commit a
    // b-tree insert and its pages in the WAL. SQLite cannot drop a primary key, so the table
    // is rebuilt, row ids kept. The unused outbox goes first: its foreign key needed that
    // index, and it will name its lead by id without one.
    r#"
    CREATE TABLE outbox_v6 (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        delivered_ms INTEGER,
        last_error TEXT
    );
    INSERT INTO outbox_v6 SELECT id, lead_id, target, payload, attempts, next_attempt_ms, delivered_ms, last_error FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v6 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (delivered_ms, next_attempt_ms);
    CREATE TABLE leads_v6 (
        id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        form TEXT NOT NULL,
        answers TEXT NOT NULL,
        email TEXT,
        experiment TEXT,
        variant TEXT,
        attribution_flag TEXT,
        visitor TEXT,
        page TEXT,
        referrer TEXT,
        utm_source TEXT,
        utm_medium TEXT,
        utm_campaign TEXT,
        utm_term TEXT,
        utm_content TEXT,
        user_agent TEXT,
        ip_hash TEXT,
        score INTEGER NOT NULL,
        qualified INTEGER NOT NULL,
        spam_reason TEXT,
        consent TEXT,
        dedupe_key TEXT NOT NULL
    );
    INSERT INTO leads_v6 (rowid, id, received_at, received_ms, form, answers, email, experiment, variant,
        attribution_flag, visitor, page, referrer, utm_source, utm_medium, utm_campaign, utm_term,
        utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key)
    SELECT rowid, id, received_at, received_ms, form, answers, email, experiment, variant,
        attribution_flag, visitor, page, referrer, utm_source, utm_medium, utm_campaign, utm_term,
        utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key
    FROM leads;
    DROP TABLE leads;
    ALTER TABLE leads_v6 RENAME TO leads;
    CREATE INDEX leads_received ON leads (received_ms);
    CREATE INDEX leads_form ON leads (form, received_ms);
    "#,
    // 7: the outbox becomes deliveries (one row per lead, event and target, written in the
    // lead's transaction) and their attempt log. Erasing or deleting a lead deletes its
    // deliveries, whose bodies hold the lead's answers, by trigger: leads have no index on id
    // for a foreign key (schema 6), and every way a lead goes takes its deliveries along.
    // Due rows are found through a partial index over pending rows only.
    r#"
    DROP TABLE outbox;
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        target TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER,
        last_status INTEGER,
        last_error TEXT,
        first_attempt_ms INTEGER,
        delivered_ms INTEGER,
        created_ms INTEGER NOT NULL,
        lease_until_ms INTEGER,
        claimed_by TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_ms) WHERE status = 'pending';
    CREATE INDEX deliveries_lead ON deliveries (lead_id);
    CREATE TABLE delivery_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        at_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        http_status INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
    CREATE TRIGGER leads_delete_deliveries AFTER DELETE ON leads
    BEGIN
        DELETE FROM deliveries WHERE lead_id = OLD.id;
    END;
    "#,
    // 8: the sales funnel behind each lead, double opt-in and named users.
    // - Stage changes are events (`lead_events`, the history, idempotent by `event_id`). The
    //   lead carries what derives from them, kept in the event's transaction, so the sales
    //   queue and the reports read one row per lead: the current stage and its time, the
    //   first time each step was reached (once reached, always counted), and the values of
    //   the opportunity and the deal in the minor units of `currency`.
    // - `confirmation` is NULL where the form does not ask for it, else 'unconfirmed' or
    //   'confirmed' (at `confirmed_ms`); `form_version` hashes the form's spec as shown, for
    //   the consent proof.
    // - The sales queue (uncontacted leads, oldest first) reads a partial index that holds
    //   only the uncontacted: new leads append at its end, contacted ones leave it.
    // - Users sign in to the dashboard with a secret of which only the hash is kept;
    //   `created_ms` is in every session, so removing (or re-adding) a user ends its sessions.
    r#"
    ALTER TABLE leads ADD COLUMN stage TEXT NOT NULL DEFAULT 'new';
    ALTER TABLE leads ADD COLUMN stage_ms INTEGER;
    ALTER TABLE leads ADD COLUMN contacted_ms INTEGER;
    ALTER TABLE leads ADD COLUMN sales_qualified_ms INTEGER;
    ALTER TABLE leads ADD COLUMN opportunity_ms INTEGER;
    ALTER TABLE leads ADD COLUMN customer_ms INTEGER;
    ALTER TABLE leads ADD COLUMN disqualified_ms INTEGER;
    ALTER TABLE leads ADD COLUMN pipeline_minor INTEGER;
    ALTER TABLE leads ADD COLUMN revenue_minor INTEGER;
    ALTER TABLE leads ADD COLUMN currency TEXT;
    ALTER TABLE leads ADD COLUMN confirmation TEXT;
    ALTER TABLE leads ADD COLUMN confirmed_ms INTEGER;
    ALTER TABLE leads ADD COLUMN form_version TEXT;
    CREATE INDEX leads_uncontacted ON leads (received_ms) WHERE contacted_ms IS NULL;
    CREATE TABLE lead_events (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        stage TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        recorded_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        actor TEXT NOT NULL,
        value_minor INTEGER,
        currency TEXT,
        reason TEXT,
        note TEXT
    );
    CREATE INDEX lead_events_lead ON lead_events (lead_id, at_ms);
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    DROP TRIGGER leads_delete_deliveries;
    CREATE TRIGGER leads_delete_dependents AFTER DELETE ON leads
    BEGIN
        DELETE FROM deliveries WHERE lead_id = OLD.id;
        DELETE FROM lead_events WHERE lead_id = OLD.id;
    END;
    "#,
];

/// The schema version this build expects.
pub const CURRENT: usize = MIGRATIONS.len();

/// The first column of every row `sql` returns, as text: for tests that look at a database.
#[cfg(test)]
pub(crate) fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Brings the database to [`CURRENT`]; refuses a database from a newer splitmark.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(|e| e.to_string())? as usize;
    if version > CURRENT {
        return Err(format!("the database has schema version {version}, newer than this splitmark ({CURRENT}); upgrade splitmark"));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .map_err(|e| format!("migration {}: {e}", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(c: &Connection) -> i64 {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_version_1_database_upgrades_and_keeps_its_leads() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO leads (id, received_at, received_ms, form, answers, score, qualified, dedupe_key, visitor)
             VALUES ('l1', '2026-01-01T00:00:00Z', 1, 'demo', '{}', 0, 0, 'k', 'v')",
            [],
        )
        .unwrap();
        migrate(&mut c).unwrap();
        assert_eq!(version(&c), CURRENT as i64);
        let cols = texts(&c, "SELECT name FROM pragma_index_info('leads_form')");
        assert_eq!(cols, ["form", "received_ms"]);
        assert_eq!(
            texts(
                &c,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads' ORDER BY name"
            ),
            ["leads_form", "leads_received", "leads_uncontacted"],
            "no index on a random key (visitor, email, dedupe key, id) is left"
        );
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        // Running again is a no-op.
        migrate(&mut c).unwrap();
        assert_eq!(version(&c), CURRENT as i64);
    }

    #[test]
    fn rebuilding_leads_keeps_every_column_row_id_and_outbox_row() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        for sql in &MIGRATIONS[..5] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 5).unwrap();
        c.execute_batch(
            "INSERT INTO leads VALUES ('l1', 'at', 1, 'f', '{\"a\":1}', 'e@x', 'x', 'a', 'unknown_variant', 'v', '/p', 'r',
                 's', 'm', 'c', 't', 'n', 'ua', 'ip', 7, 1, NULL, 'yes', 'k');
             INSERT INTO leads (id, received_at, received_ms, form, answers, score, qualified, dedupe_key)
                 VALUES ('l2', 'at', 2, 'f', '{}', 0, 0, 'k2');
             DELETE FROM leads WHERE id = 'l2';
             INSERT INTO leads (id, received_at, received_ms, form, answers, score, qualified, dedupe_key)
                 VALUES ('l3', 'at', 3, 'f', '{}', 0, 0, 'k3');
             INSERT INTO outbox (lead_id, target, payload, next_attempt_ms) VALUES ('l1', 'hook', '{}', 5);",
        )
        .unwrap();
        let dump = |c: &Connection| {
            texts(c, "SELECT rowid || '|' || id || '|' || received_at || '|' || received_ms || '|' || form || '|' || answers || '|' || email || '|' || experiment || '|' || variant || '|' || attribution_flag || '|' || visitor || '|' || page || '|' || referrer || '|' || utm_source || '|' || utm_medium || '|' || utm_campaign || '|' || utm_term || '|' || utm_content || '|' || user_agent || '|' || ip_hash || '|' || score || '|' || qualified || '|' || coalesce(spam_reason, '-') || '|' || consent || '|' || dedupe_key FROM leads WHERE id = 'l1'")
        };
        let before = dump(&c);
        let rowids = texts(&c, "SELECT rowid || id FROM leads ORDER BY rowid");
        migrate(&mut c).unwrap();
        assert_eq!(dump(&c), before, "every column of a lead survives");
        assert_eq!(before.len(), 1);
        assert_eq!(
            texts(&c, "SELECT rowid || id FROM leads ORDER BY rowid"),
            rowids,
            "row ids are kept"
        );
        assert_eq!(
            texts(&c, "SELECT CAST(count(*) AS TEXT) FROM deliveries"),
            ["0"],
            "the unused outbox became the empty deliveries table"
        );
        // Deleting a lead is no longer tied to the outbox by a foreign key.
        c.execute("DELETE FROM leads WHERE id = 'l1'", []).unwrap();
        assert_eq!(texts(&c, "PRAGMA foreign_key_check"), Vec::<String>::new());
    }

    #[test]
    fn deleting_a_lead_takes_its_stage_history_and_deliveries() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.execute_batch(
            "INSERT INTO leads (id, received_at, received_ms, form, answers, score, qualified, dedupe_key)
                 VALUES ('l1', 'at', 1, 'f', '{}', 0, 0, 'k'), ('l2', 'at', 2, 'f', '{}', 0, 0, 'k2');
             INSERT INTO lead_events (lead_id, event_id, stage, at_ms, recorded_ms, source, actor)
                 VALUES ('l1', 'e1', 'contacted', 5, 5, 'api', 'admin'), ('l2', 'e2', 'contacted', 5, 5, 'api', 'admin');
             INSERT INTO deliveries (lead_id, event_id, event_type, target, body, created_ms)
                 VALUES ('l1', 'd1', 'lead.created', 'hook', '{}', 1);
             DELETE FROM leads WHERE id = 'l1';",
        )
        .unwrap();
        assert_eq!(texts(&c, "SELECT lead_id FROM lead_events"), ["l2"]);
        assert_eq!(
            texts(&c, "SELECT CAST(count(*) AS TEXT) FROM deliveries"),
            ["0"]
        );
        assert_eq!(
            texts(&c, "SELECT stage FROM leads"),
            ["new"],
            "a lead starts as new"
        );
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", CURRENT as i64 + 1)
            .unwrap();
        let e = migrate(&mut c).unwrap_err();
        assert!(e.contains("newer than this splitmark"), "{e}");
    }
}
