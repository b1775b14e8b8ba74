//! Versioned PostgreSQL schema, tracked in `splitmark_schema`.

use crate::store::{db_err, StoreError, StoreResult};

const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE leads (
        id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        received_ms BIGINT NOT NULL,
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
        score BIGINT NOT NULL,
        qualified BOOLEAN NOT NULL,
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
        first_ms BIGINT NOT NULL,
        last_ms BIGINT NOT NULL,
        views BIGINT NOT NULL,
        page TEXT,
        PRIMARY KEY (experiment, visitor)
    );
    CREATE INDEX exposures_variant ON exposures (experiment, variant);
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT NOT NULL,
        delivered_ms BIGINT,
        last_error TEXT
    );
"#,
    // 2: the unused outbox becomes deliveries (one row per lead, event and target, written in
    // the lead's transaction) and their attempt log; a lead's deletion takes its deliveries.
    r#"
    DROP TABLE outbox;
    CREATE TABLE deliveries (
        id BIGSERIAL PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        target TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT,
        last_status INTEGER,
        last_error TEXT,
        first_attempt_ms BIGINT,
        delivered_ms BIGINT,
        created_ms BIGINT NOT NULL,
        lease_until_ms BIGINT,
        claimed_by TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_ms) WHERE status = 'pending';
    CREATE INDEX deliveries_lead ON deliveries (lead_id);
    CREATE TABLE delivery_attempts (
        id BIGSERIAL PRIMARY KEY,
        delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        at_ms BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        http_status INTEGER,
        error TEXT,
        duration_ms BIGINT NOT NULL
    );
    CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
"#,
    // 3: the sales funnel behind each lead, double opt-in and named users; the same shape
    // as SQLite's schema 8 (see store/schema.rs for what each column means).
    r#"
    ALTER TABLE leads ADD COLUMN stage TEXT NOT NULL DEFAULT 'new';
    ALTER TABLE leads ADD COLUMN stage_ms BIGINT;
    ALTER TABLE leads ADD COLUMN contacted_ms BIGINT;
    ALTER TABLE leads ADD COLUMN sales_qualified_ms BIGINT;
    ALTER TABLE leads ADD COLUMN opportunity_ms BIGINT;
    ALTER TABLE leads ADD COLUMN customer_ms BIGINT;
    ALTER TABLE leads ADD COLUMN disqualified_ms BIGINT;
    ALTER TABLE leads ADD COLUMN pipeline_minor BIGINT;
    ALTER TABLE leads ADD COLUMN revenue_minor BIGINT;
    ALTER TABLE leads ADD COLUMN currency TEXT;
    ALTER TABLE leads ADD COLUMN confirmation TEXT;
    ALTER TABLE leads ADD COLUMN confirmed_ms BIGINT;
    ALTER TABLE leads ADD COLUMN form_version TEXT;
    CREATE INDEX leads_uncontacted ON leads (received_ms) WHERE contacted_ms IS NULL;
    CREATE TABLE lead_events (
        id BIGSERIAL PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL UNIQUE,
        stage TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        recorded_ms BIGINT NOT NULL,
        source TEXT NOT NULL,
        actor TEXT NOT NULL,
        value_minor BIGINT,
        currency TEXT,
        reason TEXT,
        note TEXT
    );
    CREATE INDEX lead_events_lead ON lead_events (lead_id, at_ms);
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
"#,
];

/// Brings the schema to the newest version, one migrator at a time across instances.
pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> StoreResult<()> {
    let tx = client.transaction().await.map_err(db_err)?;
    // One migrator at a time across instances.
    tx.execute("SELECT pg_advisory_xact_lock(7405618)", &[])
        .await
        .map_err(db_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS splitmark_schema (version INTEGER NOT NULL)")
        .await
        .map_err(db_err)?;
    let version: i32 = tx
        .query_opt("SELECT version FROM splitmark_schema", &[])
        .await
        .map_err(db_err)?
        .map_or(0, |r| r.get(0));
    if version as usize > MIGRATIONS.len() {
        return Err(StoreError::Migration(format!(
            "the database has schema version {version}, newer than this splitmark"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql)
            .await
            .map_err(|e| StoreError::Migration(format!("migration {}: {e}", i + 1)))?;
    }
    tx.execute("DELETE FROM splitmark_schema", &[])
        .await
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO splitmark_schema (version) VALUES ($1)",
        &[&(MIGRATIONS.len() as i32)],
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}
