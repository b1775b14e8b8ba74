//! The networked store: PostgreSQL, for many stateless capture instances behind a load
//! balancer.
//!
//! Each write is one transaction on a pooled connection; PostgreSQL's own group commit makes a
//! writer thread unnecessary here. Deduplication must hold across instances, so the writer
//! takes a transaction-scoped advisory lock on a hash of the dedupe key before looking for an
//! earlier lead: two instances receiving the same submission serialise on that lock, and the
//! second sees the first's row. (A unique index on the key cannot express "within 5 minutes".)

use super::metrics::CommitMetrics;
use super::queue::{BeaconQueue, Slot};
use super::*;
use deadpool_postgres::{Manager, Pool};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

mod beacons;
mod confirm;
mod deliveries;
mod lifecycle;
mod outcomes;
mod retention;
mod schema;
mod users;

/// PostgreSQL-backed [`Store`].
pub struct PgStore {
    pool: Pool,
    metrics: Arc<CommitMetrics>,
    beacons: Arc<BeaconQueue>,
    /// Queued beacons go to [`beacons::beacon_writer`]; taken (closed) by [`Store::close`].
    beacon_tx: std::sync::Mutex<Option<mpsc::UnboundedSender<(Exposure, Slot)>>>,
    beacon_task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    config: tokio_postgres::Config,
    signal: Arc<tokio::sync::Notify>,
    listening: std::sync::Once,
}

/// One exposure: the first variant sticks; an exposure implied by a submission has 0 views,
/// so the first beacon after it is still the first view. Atomic across instances.
const EXPOSURE_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES ($1, $2, $3, $4, $4, 1, $5)
     ON CONFLICT (experiment, visitor) DO UPDATE SET views = exposures.views + 1, last_ms = EXCLUDED.last_ms
     RETURNING variant, views";

/// Serialises writers of one dedupe key across instances, until the transaction ends.
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtext($1))";

/// The lead, unless an earlier one with the same dedupe key is inside the window: one row back,
/// the earlier lead's (`duplicate` true) or the new one's. One statement, so the check and the
/// insert see one snapshot, taken after the lock of the statement before it was granted.
/// Parameters 1–26 are the lead's columns, 27 the window's start.
const STORE_LEAD_SQL: &str = "WITH earlier AS (
        SELECT id, qualified FROM leads WHERE dedupe_key = $24 AND received_ms >= $27::BIGINT ORDER BY received_ms LIMIT 1
    ), stored AS (
        INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
                utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key,
                confirmation, form_version)
        SELECT $1, $2, $3::BIGINT, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::BIGINT, $21::BOOLEAN, $22, $23, $24, $25, $26
        WHERE NOT EXISTS (SELECT 1 FROM earlier)
        RETURNING id, qualified
    )
    SELECT id, qualified, TRUE AS duplicate FROM earlier
    UNION ALL SELECT id, qualified, FALSE FROM stored";

/// The exposure a submission implies (0 views), unless the visitor already has one.
const IMPLIED_EXPOSURE_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES ($1, $2, $3, $4, $4, 0, $5)
     ON CONFLICT (experiment, visitor) DO NOTHING";

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host/db`) and migrates the schema.
    pub async fn open(url: &str) -> StoreResult<PgStore> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
        let pool = Pool::builder(Manager::new(config.clone(), NoTls))
            .max_size(16)
            .build()
            .map_err(unavailable)?;
        let metrics = Arc::new(CommitMetrics::default());
        let (beacon_tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(beacons::beacon_writer(pool.clone(), metrics.clone(), rx));
        let store = PgStore {
            pool,
            metrics,
            beacons: Arc::default(),
            beacon_tx: std::sync::Mutex::new(Some(beacon_tx)),
            beacon_task: tokio::sync::Mutex::new(Some(task)),
            config,
            signal: Arc::default(),
            listening: std::sync::Once::new(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await.map_err(unavailable)?;
        schema::migrate(&mut client).await
    }

    fn observe(&self, started: Instant) {
        self.metrics.observe(started.elapsed().as_secs_f64(), 1);
    }
}

fn lead_filter(q: &LeadQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let (w, params) = q.where_clause('$');
    let values = params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                FilterValue::Text(t) => Box::new(t),
                FilterValue::Flag(f) => Box::new(f),
            }
        })
        .collect();
    (w, values)
}

fn lead_from_row(r: &tokio_postgres::Row) -> Lead {
    let received: String = r.get("received_at");
    let answers: String = r.get("answers");
    let flag: Option<String> = r.get("attribution_flag");
    Lead {
        id: r.get("id"),
        lead: NewLead {
            received_at: DateTime::parse_from_rfc3339(&received)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            form: r.get("form"),
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            email: r.get("email"),
            experiment: r.get("experiment"),
            variant: r.get("variant"),
            attribution_flag: flag.as_deref().and_then(AttributionFlag::parse),
            visitor: r.get("visitor"),
            page: r.get("page"),
            referrer: r.get("referrer"),
            utm: Utm {
                source: r.get("utm_source"),
                medium: r.get("utm_medium"),
                campaign: r.get("utm_campaign"),
                term: r.get("utm_term"),
                content: r.get("utm_content"),
            },
            user_agent: r.get("user_agent"),
            ip_hash: r.get("ip_hash"),
            score: r.get("score"),
            qualified: r.get("qualified"),
            spam_reason: r.get("spam_reason"),
            consent: r.get("consent"),
            dedupe_key: r.get("dedupe_key"),
            confirmation: r
                .get::<_, Option<String>>("confirmation")
                .as_deref()
                .and_then(Confirmation::parse),
            form_version: r.get("form_version"),
        },
        confirmed_at: crate::store::deliveries::from_ms(r.get("confirmed_ms")),
        stage: lifecycle::state_from_row(r),
    }
}

const COUNTS_SQL: &str = "
    SELECT e.variant, COUNT(*)::BIGINT, SUM(e.views)::BIGINT,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = $2 AND l.spam_reason IS NULL
                  AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)))::BIGINT,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM leads l WHERE l.visitor = e.visitor AND l.form = $2 AND l.spam_reason IS NULL AND l.qualified
                  AND NOT (l.experiment IS NOT DISTINCT FROM e.experiment AND l.attribution_flag IS NOT NULL)))::BIGINT
    FROM exposures e WHERE e.experiment = $1 GROUP BY e.variant ORDER BY e.variant";

#[async_trait::async_trait]
impl Store for PgStore {
    async fn insert_lead_with(
        &self,
        lead: NewLead,
        outbox: Option<Outbox>,
    ) -> StoreResult<LeadReceipt> {
        let started = Instant::now();
        let mut client = self.pool.get().await.map_err(unavailable)?;
        let tx = client.transaction().await.map_err(db_err)?;
        // Prepared once per pooled connection: a statement passed as text is parsed and
        // described in a round trip of its own before every execution.
        let lock = tx.prepare_cached(LOCK_SQL).await.map_err(db_err)?;
        let store = tx.prepare_cached(STORE_LEAD_SQL).await.map_err(db_err)?;
        let ms = lead.received_at.timestamp_millis();
        let since = ms - DEDUPE_WINDOW_SECS * 1000;
        let (id, outbox) = match outbox {
            Some(o) => (o.lead_id, o.deliveries),
            None => (uuid::Uuid::now_v7().to_string(), Vec::new()),
        };
        let answers = serde_json::Value::Object(lead.answers.clone()).to_string();
        let flag = lead.attribution_flag.map(AttributionFlag::as_str);
        let received_at = lead.received_at.to_rfc3339();
        let confirmation = lead.confirmation.map(Confirmation::as_str);
        let params: [&(dyn ToSql + Sync); 27] = [
            &id,
            &received_at,
            &ms,
            &lead.form,
            &answers,
            &lead.email,
            &lead.experiment,
            &lead.variant,
            &flag,
            &lead.visitor,
            &lead.page,
            &lead.referrer,
            &lead.utm.source,
            &lead.utm.medium,
            &lead.utm.campaign,
            &lead.utm.term,
            &lead.utm.content,
            &lead.user_agent,
            &lead.ip_hash,
            &lead.score,
            &lead.qualified,
            &lead.spam_reason,
            &lead.consent,
            &lead.dedupe_key,
            &confirmation,
            &lead.form_version,
            &since,
        ];
        // The lock and the lead in one round trip: tokio-postgres sends pipelined requests in
        // the order they are first polled, and PostgreSQL runs them in that order, so the
        // dedupe check starts only once the lock is held. Over a network each round trip is
        // the larger part of a lead's time; this is two fewer than lock, look, insert.
        let key: [&(dyn ToSql + Sync); 1] = [&lead.dedupe_key];
        let (locked, stored) =
            tokio::join!(tx.execute(&lock, &key), tx.query_one(&store, &params),);
        locked.map_err(db_err)?;
        let stored = stored.map_err(db_err)?;
        if stored.get::<_, bool>(2) {
            tx.commit().await.map_err(db_err)?;
            return Ok(LeadReceipt {
                id: stored.get(0),
                duplicate: true,
                qualified: stored.get(1),
            });
        }
        if let Some((exp, var, vis)) = lead.implied_exposure() {
            let implied = tx
                .prepare_cached(IMPLIED_EXPOSURE_SQL)
                .await
                .map_err(db_err)?;
            tx.execute(&implied, &[&exp, &vis, &var, &ms, &lead.page])
                .await
                .map_err(db_err)?;
        }
        deliveries::insert(&tx, &id, ms, &outbox).await?;
        tx.commit().await.map_err(db_err)?;
        self.observe(started);
        Ok(LeadReceipt {
            id,
            duplicate: false,
            qualified: lead.qualified,
        })
    }

    async fn record_exposure(&self, e: Exposure) -> StoreResult<ExposureReceipt> {
        let started = Instant::now();
        let client = self.pool.get().await.map_err(unavailable)?;
        let ms = e.at.timestamp_millis();
        let row = client
            .query_one(
                EXPOSURE_SQL,
                &[&e.experiment, &e.visitor, &e.variant, &ms, &e.page],
            )
            .await
            .map_err(db_err)?;
        self.observe(started);
        let views: i64 = row.get(1);
        Ok(ExposureReceipt {
            first: views == 1,
            variant: row.get(0),
        })
    }

    fn queue_exposure(&self, exposure: Exposure, limit: usize) -> StoreResult<()> {
        let slot = self.beacons.reserve(limit)?;
        let guard = self.beacon_tx.lock().expect("beacon queue");
        let tx = guard
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
        tx.send((exposure, slot))
            .map_err(|_| StoreError::Unavailable("the beacon writer has stopped".into()))
    }

    async fn experiment_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<VariantCounts>> {
        let client = self.pool.get().await.map_err(unavailable)?;
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

    async fn daily_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<DailyVariantCounts>> {
        let client = self.pool.get().await.map_err(unavailable)?;
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
                day: NaiveDate::parse_from_str(r.get::<_, &str>(0), "%Y-%m-%d").unwrap_or_default(),
                variant: r.get(1),
                visitors: r.get::<_, i64>(2) as u64,
                conversions: r.get::<_, i64>(3) as u64,
            })
            .collect())
    }

    async fn funnel(&self) -> StoreResult<Vec<FunnelRow>> {
        let client = self.pool.get().await.map_err(unavailable)?;
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
                day: NaiveDate::parse_from_str(r.get::<_, &str>(0), "%Y-%m-%d").unwrap_or_default(),
                utm_source: r.get(1),
                utm_campaign: r.get(2),
                leads: r.get::<_, i64>(3) as u64,
                qualified: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }

    async fn experiment_started_at(&self, experiment: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let client = self.pool.get().await.map_err(unavailable)?;
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

    async fn leads(&self, query: &LeadQuery) -> StoreResult<Vec<Lead>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        let (w, mut params) = lead_filter(query);
        let limit: Option<i64> = (query.limit > 0).then_some(i64::from(query.limit));
        params.push(Box::new(limit));
        params.push(Box::new(i64::from(query.offset)));
        let n = params.len();
        let sql = format!(
            "SELECT * FROM leads {w} ORDER BY received_ms DESC, id DESC LIMIT ${} OFFSET ${n}",
            n - 1
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = client.query(&sql, &refs).await.map_err(db_err)?;
        Ok(rows.iter().map(lead_from_row).collect())
    }

    async fn count_leads(&self, query: &LeadQuery) -> StoreResult<u64> {
        let client = self.pool.get().await.map_err(unavailable)?;
        let (w, params) = lead_filter(query);
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let row = client
            .query_one(&format!("SELECT COUNT(*) FROM leads {w}"), &refs)
            .await
            .map_err(db_err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn erase_leads(&self, email: &str) -> StoreResult<u64> {
        let client = self.pool.get().await.map_err(unavailable)?;
        client
            .execute(
                "DELETE FROM leads WHERE email = $1",
                &[&email.to_lowercase()],
            )
            .await
            .map_err(db_err)
    }

    async fn lead_by_id(&self, id: &str) -> StoreResult<Option<Lead>> {
        if deliveries::lead_window(id).is_none() {
            return Ok(None);
        }
        let client = self.pool.get().await.map_err(unavailable)?;
        let row = client
            .query_opt("SELECT * FROM leads WHERE id = $1", &[&id])
            .await
            .map_err(db_err)?;
        Ok(row.as_ref().map(lead_from_row))
    }

    async fn claim_deliveries(&self, claim: Claim) -> StoreResult<Claimed> {
        let client = self.pool.get().await.map_err(unavailable)?;
        deliveries::claim(&client, &claim).await
    }

    async fn record_attempt(&self, attempt: AttemptRecord) -> StoreResult<bool> {
        let mut client = self.pool.get().await.map_err(unavailable)?;
        deliveries::record(&mut client, &attempt).await
    }

    async fn deliveries(&self, query: &DeliveryQuery) -> StoreResult<Vec<DeliveryRow>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        deliveries::list(&client, query).await
    }

    async fn redeliver(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.pool.get().await.map_err(unavailable)?;
        deliveries::redeliver(&client, id, now).await
    }

    async fn pending_deliveries(&self) -> StoreResult<u64> {
        let client = self.pool.get().await.map_err(unavailable)?;
        deliveries::pending(&client).await
    }

    async fn confirm_lead(&self, id: &str, now: DateTime<Utc>) -> StoreResult<ConfirmOutcome> {
        if deliveries::lead_window(id).is_none() {
            return Ok(ConfirmOutcome::NotFound);
        }
        let mut client = self.pool.get().await.map_err(unavailable)?;
        confirm::confirm(&mut client, id, now).await
    }

    async fn confirmation_counts(&self) -> StoreResult<Vec<ConfirmationCounts>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        confirm::counts(&client).await
    }

    fn delivery_signal(&self) -> Arc<tokio::sync::Notify> {
        // The LISTEN connection opens with the first worker that asks.
        self.listening.call_once(|| {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(deliveries::listen(self.config.clone(), self.signal.clone()));
            }
        });
        self.signal.clone()
    }

    async fn ping(&self) -> StoreResult<()> {
        let client = self.pool.get().await.map_err(unavailable)?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn purge_expired(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<PurgeCounts> {
        retention::purge(&self.pool, policy, now).await
    }

    async fn lead_page(
        &self,
        query: &PageQuery,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Lead>> {
        retention::page(&self.pool, query, after, limit).await
    }

    async fn add_user(&self, user: NewUser, replace: bool) -> StoreResult<UserAdded> {
        users::add(&self.pool, &user, replace).await
    }

    async fn user(&self, name: &str) -> StoreResult<Option<StoredUser>> {
        users::get(&self.pool, name).await
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        users::list(&self.pool).await
    }

    async fn remove_user(&self, name: &str) -> StoreResult<bool> {
        users::remove(&self.pool, name).await
    }

    // --- Outcomes (outcomes.rs) ---
    async fn experiment_outcomes(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<OutcomeRow>> {
        outcomes::experiment_outcomes(self, experiment, goal_form).await
    }

    async fn source_outcomes(&self) -> StoreResult<Vec<SourceOutcomeRow>> {
        outcomes::source_outcomes(self).await
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            queued_exposures: self.beacons.queued() as u64,
            dropped_exposures: self.beacons.dropped(),
            ..self.metrics.snapshot()
        }
    }

    async fn record_stage_events(&self, writes: Vec<StageWrite>) -> StoreResult<Vec<StageOutcome>> {
        let mut client = self.pool.get().await.map_err(unavailable)?;
        let mut out = Vec::with_capacity(writes.len());
        for w in &writes {
            let started = Instant::now();
            out.push(lifecycle::record(&mut client, w).await?);
            self.observe(started);
        }
        Ok(out)
    }

    async fn stage_history(&self, lead_id: &str) -> StoreResult<Vec<crate::lifecycle::StageEvent>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        lifecycle::history(&client, lead_id).await
    }

    async fn latest_leads_by_email(
        &self,
        emails: &[String],
    ) -> StoreResult<std::collections::HashMap<String, Lead>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        lifecycle::latest_by_email(&client, emails).await
    }

    async fn uncontacted_leads(&self, limit: u32) -> StoreResult<Vec<Lead>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        lifecycle::uncontacted(&client, limit).await
    }

    async fn contact_samples(&self) -> StoreResult<Vec<ContactSample>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        lifecycle::contact_samples(&client).await
    }

    async fn close(&self) -> StoreResult<()> {
        // Leads and erasures committed before they were answered; queued beacons are written
        // now, then the connections are dropped.
        drop(self.beacon_tx.lock().expect("beacon queue").take());
        if let Some(task) = self.beacon_task.lock().await.take() {
            let _ = task.await;
        }
        self.pool.close();
        Ok(())
    }
}
