//! The delivery worker: one small loop per process.
//!
//! It claims due rows (leased, so a killed instance's rows fall due again), attempts each in
//! its own task (targets are independent: a slow webhook never delays the e-mail), records
//! every attempt as a row and schedules the next one from [`super::schedule`]. It sleeps
//! until the store signals a commit with deliveries, the earliest scheduled retry, or a slow
//! poll, whichever comes first.
//!
//! The worker runs on a thread of its own at a lower scheduling priority (see
//! [`BACKGROUND_NICE`]): taking a lead, which is what keeps it safe, comes before sending it on.
//! On an idle machine the priority changes nothing (an attempt starts within a millisecond of
//! the commit); when the capture server has every CPU busy, deliveries wait for a free moment
//! instead of taking CPU from submissions, and catch up when the peak has passed. Its store
//! calls run on the server's runtime, so a pooled database connection the worker opens is
//! driven by the server's threads, never by this low-priority one.

use super::metrics::DeliveryMetrics;
use super::{Deliverer, EventKind, Message, Outcome, TargetRef};
use crate::store::{AfterAttempt, AttemptRecord, Claim, ClaimedDelivery, SharedStore};
use chrono::Utc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// How long a claim holds: longer than any attempt can take (15 s in all).
    pub lease: Duration,
    /// The slowest the worker looks for due rows when nothing wakes it.
    pub poll: Duration,
    /// How long shutdown waits for attempts in flight.
    pub grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 64,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(30),
            grace: Duration::from_secs(10),
        }
    }
}

/// The nice value of the delivery thread (Linux; elsewhere it runs at normal priority): under
/// CPU contention the scheduler gives it about a tenth of a normal thread's share.
pub const BACKGROUND_NICE: i32 = 10;

/// The delivery thread's name.
pub const THREAD_NAME: &str = "splitmark-deliver";
/// The name of the delivery runtime's blocking threads (name resolution), which inherit its
/// priority.
pub const BLOCKING_THREAD_NAME: &str = "deliver-blocking";

/// A running worker.
pub struct Worker {
    stop: watch::Sender<bool>,
    done: tokio::sync::oneshot::Receiver<()>,
    grace: Duration,
}

impl Worker {
    /// Starts the worker on a background thread of its own; its store calls run on the
    /// current runtime, which must outlive the worker.
    pub fn spawn(
        store: SharedStore,
        deliverer: Arc<Deliverer>,
        metrics: Arc<DeliveryMetrics>,
        options: WorkerOptions,
    ) -> std::io::Result<Worker> {
        let (stop, stopped) = watch::channel(false);
        let (finished, done) = tokio::sync::oneshot::channel();
        let grace = options.grace;
        let worker = Loop {
            id: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            store,
            server: tokio::runtime::Handle::current(),
            deliverer,
            metrics,
            options,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(BLOCKING_THREAD_NAME)
            .build()?;
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                lower_priority();
                runtime.block_on(worker.run(stopped));
                // Attempts cut short by the grace period are dropped here, keeping their leases.
                drop(runtime);
                let _ = finished.send(());
            })?;
        Ok(Worker { stop, done, grace })
    }

    /// Stops claiming, waits up to the grace period for attempts in flight, then returns; an
    /// attempt cut short keeps its lease and is tried again after it (SQLite: at the next
    /// start).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(self.grace + Duration::from_secs(1), self.done).await;
    }
}

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`]; failing to is harmless.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; on Linux a nice value is per thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE);
    }
}

struct Loop {
    id: String,
    store: SharedStore,
    /// The server's runtime, where every store call runs.
    server: tokio::runtime::Handle,
    deliverer: Arc<Deliverer>,
    metrics: Arc<DeliveryMetrics>,
    options: WorkerOptions,
}

impl Loop {
    /// Runs a store call on the server's runtime.
    async fn on_server<T, F, Fut>(&self, call: F) -> crate::store::StoreResult<T>
    where
        F: FnOnce(SharedStore) -> Fut,
        Fut: std::future::Future<Output = crate::store::StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.server
            .spawn(call(self.store.clone()))
            .await
            .unwrap_or_else(|e| {
                Err(crate::store::StoreError::Database(format!(
                    "store call did not finish: {e}"
                )))
            })
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        if let Err(e) = self
            .on_server(|s| async move { s.start_delivering().await })
            .await
        {
            eprintln!("delivery: {e}");
        }
        let signal = self
            .on_server(|s| async move { Ok(s.delivery_signal()) })
            .await;
        let signal = match signal {
            Ok(s) => s,
            // Only when the server's runtime is already gone: nothing left to deliver for.
            Err(e) => {
                eprintln!("delivery: not started: {e}");
                return;
            }
        };
        let slots = Arc::new(Semaphore::new(self.options.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let this = Arc::new(self);
        // Under a backlog, claiming one row each time one attempt ends makes every delivery
        // cost the writer a claim transaction of its own; waiting until a quarter of the slots
        // are free claims in batches, and costs a new lead nothing while attempts are quick.
        let batch = (this.options.concurrency / 4).max(1);
        while !*stopped.borrow() {
            let mut wait = this.options.poll;
            let free = slots.available_permits();
            if free > 0 && (tasks.is_empty() || free >= batch) {
                match this.claim(free).await {
                    Ok(claimed) => {
                        for d in claimed.deliveries {
                            let Ok(slot) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            let this = this.clone();
                            tasks.spawn(async move {
                                this.attempt(d).await;
                                drop(slot);
                            });
                        }
                        if let Some(next) = claimed.next_due {
                            let until = (next - Utc::now()).to_std().unwrap_or_default();
                            wait = wait.min(until);
                        }
                    }
                    Err(e) => {
                        eprintln!("delivery: cannot claim due deliveries: {e}");
                        wait = Duration::from_secs(1);
                    }
                }
            }
            tokio::select! {
                _ = signal.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = stopped.changed() => {}
            }
        }
        let drain = async { while tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(this.options.grace, drain).await;
    }

    async fn claim(&self, free: usize) -> crate::store::StoreResult<crate::store::Claimed> {
        let claim = Claim {
            worker: self.id.clone(),
            now: Utc::now(),
            lease: self.options.lease,
            limit: free as u32,
        };
        self.on_server(|s| async move { s.claim_deliveries(claim).await })
            .await
    }

    async fn record(&self, record: AttemptRecord) -> crate::store::StoreResult<bool> {
        self.on_server(|s| async move { s.record_attempt(record).await })
            .await
    }

    /// Whether a due `lead.sla_breached` row is still needed: its lead exists and is still
    /// uncontacted and not disqualified. The contacting event cancels the row in its own transaction; this covers
    /// a contact recorded while the row was already claimed. Unsure (store down) means send.
    async fn deadline_still_missed(&self, d: &ClaimedDelivery) -> bool {
        let id = d.lead_id.clone();
        match self
            .on_server(|s| async move { s.lead_by_id(&id).await })
            .await
        {
            Ok(Some(lead)) => {
                lead.stage.contacted_at.is_none() && lead.stage.disqualified_at.is_none()
            }
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// One attempt of one row, recorded.
    async fn attempt(&self, d: ClaimedDelivery) {
        if d.event_type == EventKind::LeadSlaBreached.as_str()
            && !self.deadline_still_missed(&d).await
        {
            let record = AttemptRecord {
                delivery: d.id,
                worker: self.id.clone(),
                at: Utc::now(),
                duration: Duration::ZERO,
                outcome: "cancelled".into(),
                http_status: None,
                error: None,
                next: AfterAttempt::Cancelled,
            };
            if let Err(e) = self.record(record).await {
                eprintln!("delivery {}: cannot cancel: {e}", d.id);
            }
            return;
        }
        let at = Utc::now();
        if d.first_attempt_at.is_none() {
            let since = (at - d.created_at).num_microseconds().unwrap_or(0);
            self.metrics.first_attempt(since as f64 / 1e6);
        }
        let started = Instant::now();
        let outcome = match EventKind::parse(&d.event_type) {
            None if d.event_type == super::opt_in::EVENT_TYPE => {
                self.deliverer
                    .attempt_confirmation(&d.event_id, &d.body)
                    .await
            }
            None => Outcome::Refused {
                reason: format!("unknown event type {:?}", d.event_type),
            },
            Some(kind) => {
                let message = Message {
                    id: d.event_id.clone(),
                    kind,
                    body: d.body,
                };
                self.deliverer
                    .attempt(&TargetRef(d.target.clone()), &message)
                    .await
            }
        };
        let duration = started.elapsed();
        self.metrics.attempt(outcome.label());
        let attempts = d.attempts + 1;
        let next = match &outcome {
            Outcome::Delivered { .. } => AfterAttempt::Delivered,
            Outcome::Retry { .. } => match self
                .deliverer
                .targets()
                .retry_schedule
                .next_delay(attempts, &mut rand::rng())
            {
                Some(delay) => AfterAttempt::RetryAt(
                    at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(30)),
                ),
                None => AfterAttempt::Failed,
            },
            Outcome::Gone | Outcome::Refused { .. } => AfterAttempt::Failed,
        };
        if let Some(error) = outcome.error() {
            let then = match next {
                AfterAttempt::RetryAt(t) => format!("next attempt at {}", t.to_rfc3339()),
                _ => "failed, no more attempts".into(),
            };
            eprintln!(
                "delivery {} ({} to {}), attempt {attempts}: {error}; {then}",
                d.id, d.event_type, d.target
            );
        }
        let record = AttemptRecord {
            delivery: d.id,
            worker: self.id.clone(),
            at,
            duration,
            outcome: outcome.label().to_owned(),
            http_status: outcome.status(),
            error: outcome.error(),
            next,
        };
        match self.record(record).await {
            Ok(true) => {}
            Ok(false) => eprintln!(
                "delivery {}: the lease ran out before the attempt was recorded",
                d.id
            ),
            // The lease runs out and the row is attempted again: at least once, never lost.
            Err(e) => eprintln!("delivery {}: cannot record the attempt: {e}", d.id),
        }
    }
}
