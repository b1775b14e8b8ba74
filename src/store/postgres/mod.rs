//! The networked store: PostgreSQL, for many stateless capture instances behind a load
//! balancer.
//!
//! Leads are written in groups (`leads.rs`): whatever leads are waiting go into one
//! transaction (one statement for all of them, pipelined behind their locks), and each is
//! answered after that transaction committed, as on SQLite; two group writers keep one
//! group committing while the next forms. Beacons likewise, one statement per group
//! (`beacons.rs`); other writes are one transaction each on a pooled connection.
//! Deduplication must hold across instances, so a group first takes a transaction-scoped
//! advisory lock on a hash of each dedupe key before looking for earlier leads: two instances
//! receiving the same submission serialise on that lock, and the second sees the first's row.
//! (A unique index on the key cannot express "within 5 minutes".)

use super::metrics::CommitMetrics;
use super::queue::{BeaconQueue, Slot};
use super::*;
use deadpool_postgres::{Manager, Pool};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_postgres::NoTls;

mod beacons;
mod confirm;
mod deliveries;
mod leads;
mod lifecycle;
mod outcomes;
mod reports;
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
    /// Leads go to the [`leads::lead_writer`]s; taken (closed) by [`Store::close`].
    lead_tx: std::sync::Mutex<Option<mpsc::UnboundedSender<leads::Job>>>,
    lead_tasks: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    config: tokio_postgres::Config,
    signal: Arc<tokio::sync::Notify>,
    listening: std::sync::Once,
}

/// One exposure: the first variant sticks; an exposure implied by a submission has 0 views,
/// so the first beacon after it is still the first view. Atomic across instances.
const EXPOSURE_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES ($1, $2, $3, $4, $4, 1, $5)
     ON CONFLICT (experiment, visitor) DO UPDATE SET views = exposures.views + 1, last_ms = EXCLUDED.last_ms
     RETURNING variant, views";

/// Sends `item` to a writer task's queue (`what`: its kind, for the error), unless
/// [`Store::close`] has taken the queue.
fn queue<T>(
    slot: &std::sync::Mutex<Option<mpsc::UnboundedSender<T>>>,
    item: T,
    what: &str,
) -> StoreResult<()> {
    let guard = slot.lock().expect("writer queue");
    let tx = guard
        .as_ref()
        .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
    tx.send(item)
        .map_err(|_| StoreError::Unavailable(format!("the {what} writer has stopped")))
}

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
        let (lead_tx, rx) = mpsc::unbounded_channel();
        let queue: leads::Queue = Arc::new(tokio::sync::Mutex::new(rx));
        let lead_tasks = (0..leads::WRITERS)
            .map(|_| {
                tokio::spawn(leads::lead_writer(
                    pool.clone(),
                    metrics.clone(),
                    queue.clone(),
                ))
            })
            .collect();
        let store = PgStore {
            pool,
            metrics,
            beacons: Arc::default(),
            beacon_tx: std::sync::Mutex::new(Some(beacon_tx)),
            beacon_task: tokio::sync::Mutex::new(Some(task)),
            lead_tx: std::sync::Mutex::new(Some(lead_tx)),
            lead_tasks: tokio::sync::Mutex::new(lead_tasks),
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

#[async_trait::async_trait]
impl Store for PgStore {
    async fn insert_lead_with(
        &self,
        lead: NewLead,
        outbox: Option<Outbox>,
    ) -> StoreResult<LeadReceipt> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = leads::Job {
            lead,
            outbox,
            reply,
        };
        queue(&self.lead_tx, job, "lead")?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the lead writer has stopped".into()))?
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
        queue(&self.beacon_tx, (exposure, slot), "beacon")
    }

    async fn experiment_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<VariantCounts>> {
        reports::experiment_counts(&self.pool, experiment, goal_form).await
    }

    async fn daily_counts(
        &self,
        experiment: &str,
        goal_form: &str,
    ) -> StoreResult<Vec<DailyVariantCounts>> {
        reports::daily_counts(&self.pool, experiment, goal_form).await
    }

    async fn funnel(&self) -> StoreResult<Vec<FunnelRow>> {
        reports::funnel(&self.pool).await
    }

    async fn experiment_started_at(&self, experiment: &str) -> StoreResult<Option<DateTime<Utc>>> {
        reports::experiment_started_at(&self.pool, experiment).await
    }

    async fn leads(&self, query: &LeadQuery) -> StoreResult<Vec<Lead>> {
        let client = self.pool.get().await.map_err(unavailable)?;
        leads::list(&client, query).await
    }

    async fn count_leads(&self, query: &LeadQuery) -> StoreResult<u64> {
        let client = self.pool.get().await.map_err(unavailable)?;
        leads::count(&client, query).await
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
        Ok(row.as_ref().map(leads::lead_from_row))
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
        // Erasures committed before they were answered; queued beacons and the leads still
        // waiting for their group are written now, then the connections are dropped.
        drop(self.beacon_tx.lock().expect("beacon queue").take());
        drop(self.lead_tx.lock().expect("lead queue").take());
        if let Some(task) = self.beacon_task.lock().await.take() {
            let _ = task.await;
        }
        for task in self.lead_tasks.lock().await.drain(..) {
            let _ = task.await;
        }
        self.pool.close();
        Ok(())
    }
}
