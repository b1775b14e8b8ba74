//! The outbox in both stores (SQLite, PostgreSQL): deliveries commit with their lead, claims
//! lease rows to one worker, expired leases go to another, attempts move rows on, redelivery
//! keeps the event id, erasure takes a person's deliveries.
//!
//! PostgreSQL runs when `SPLITMARK_TEST_POSTGRES_URL` is set (each test gets its own schema);
//! without it those tests print a loud skip notice, unless `SPLITMARK_REQUIRE_POSTGRES=1`.

#[path = "common/postgres.rs"]
#[allow(dead_code)]
mod pg;
use chrono::{DateTime, Duration, Utc};
use splitmark::store::{
    self, AfterAttempt, AttemptRecord, Claim, DeliveryQuery, DeliveryStatus, NewDelivery, NewLead,
    Outbox, SharedStore, Utm,
};
use std::collections::HashSet;

fn lead(email: &str, key: &str) -> NewLead {
    NewLead {
        received_at: Utc::now(),
        form: "demo".into(),
        answers: serde_json::json!({ "email": email })
            .as_object()
            .unwrap()
            .clone(),
        email: Some(email.into()),
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: Some(key.into()),
        page: Some("/demo/".into()),
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

/// An outbox of one `lead.created` event for each target.
fn outbox(targets: &[&str]) -> Outbox {
    let lead_id = uuid::Uuid::now_v7().to_string();
    Outbox {
        deliveries: targets
            .iter()
            .map(|t| NewDelivery {
                event_id: format!("msg_{lead_id}_created"),
                event_type: "lead.created".into(),
                target: (*t).into(),
                body: format!("{{\"type\":\"lead.created\",\"data\":{{\"id\":\"{lead_id}\"}}}}"),
                held: false,
                due_ms: None,
            })
            .collect(),
        lead_id,
    }
}

fn claim(worker: &str, now: DateTime<Utc>, limit: u32) -> Claim {
    Claim {
        worker: worker.into(),
        now,
        lease: std::time::Duration::from_secs(60),
        limit,
    }
}

fn attempt(delivery: i64, worker: &str, at: DateTime<Utc>, next: AfterAttempt) -> AttemptRecord {
    AttemptRecord {
        delivery,
        worker: worker.into(),
        at,
        duration: std::time::Duration::from_millis(3),
        outcome: match next {
            AfterAttempt::Delivered => "delivered".into(),
            _ => "retry".into(),
        },
        http_status: Some(match next {
            AfterAttempt::Delivered => 200,
            _ => 503,
        }),
        error: None,
        next,
    }
}

async fn all(s: &SharedStore) -> Vec<store::DeliveryRow> {
    s.deliveries(&DeliveryQuery::default()).await.unwrap()
}

/// Keeps a test's database alive.
enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg,
}

fn sqlite_url() -> Option<(Guard, String)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("leads.db").display());
    Some((Guard::Dir(dir), url))
}

async fn postgres_url() -> Option<(Guard, String)> {
    Some((Guard::Pg, pg::schema_url("the outbox tests").await?))
}

async fn deliveries_commit_with_their_lead_and_a_duplicate_adds_none(url: String) {
    let s = store::open(&url).await.unwrap();
    let ob = outbox(&["webhook:a", "email"]);
    let r = s
        .insert_lead_with(lead("a@x.com", "k1"), Some(ob.clone()))
        .await
        .unwrap();
    assert_eq!(r.id, ob.lead_id, "the lead is stored under the outbox's id");
    let again = s
        .insert_lead_with(lead("a@x.com", "k1"), Some(outbox(&["webhook:a"])))
        .await
        .unwrap();
    assert!(again.duplicate);
    s.insert_lead(lead("b@x.com", "k2")).await.unwrap();
    let rows = all(&s).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows
        .iter()
        .all(|d| d.lead == r.id && d.status == DeliveryStatus::Pending));
    assert_eq!(s.pending_deliveries().await.unwrap(), 2);
    s.close().await.unwrap();
}

async fn a_full_claim_says_more_may_be_due_now(url: String) {
    let s = store::open(&url).await.unwrap();
    let ob = outbox(&["webhook:a", "email"]);
    s.insert_lead_with(lead("a@x.com", "k1"), Some(ob))
        .await
        .unwrap();
    let now = Utc::now();
    let full = s.claim_deliveries(claim("w1", now, 1)).await.unwrap();
    assert_eq!(full.deliveries.len(), 1);
    assert_eq!(
        full.next_due.map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis()),
        "a full claim: claim again at once"
    );
    let rest = s.claim_deliveries(claim("w1", now, 5)).await.unwrap();
    assert_eq!(rest.deliveries.len(), 1, "the other row");
    assert_eq!(rest.next_due, None, "nothing else is pending");
    s.close().await.unwrap();
}

async fn a_claim_leases_rows_to_one_worker_and_retries_come_due(url: String) {
    let s = store::open(&url).await.unwrap();
    let ob = outbox(&["webhook:a", "email"]);
    s.insert_lead_with(lead("a@x.com", "k1"), Some(ob))
        .await
        .unwrap();
    let now = Utc::now();
    let first = s.claim_deliveries(claim("w1", now, 10)).await.unwrap();
    assert_eq!(first.deliveries.len(), 2);
    assert_eq!(first.next_due, None, "nothing else is pending");
    let second = s.claim_deliveries(claim("w2", now, 10)).await.unwrap();
    assert!(
        second.deliveries.is_empty(),
        "leased rows are not claimed twice"
    );
    assert!(
        second.next_due.unwrap() > now + Duration::seconds(59),
        "due when the lease ends"
    );
    let (a, b) = (&first.deliveries[0], &first.deliveries[1]);
    assert!(s
        .record_attempt(attempt(a.id, "w1", now, AfterAttempt::Delivered))
        .await
        .unwrap());
    let retry_at = now + Duration::seconds(5);
    assert!(s
        .record_attempt(attempt(b.id, "w1", now, AfterAttempt::RetryAt(retry_at)))
        .await
        .unwrap());
    let early = s
        .claim_deliveries(claim("w1", now + Duration::seconds(1), 10))
        .await
        .unwrap();
    assert!(early.deliveries.is_empty());
    assert_eq!(
        early.next_due.map(|t| t.timestamp_millis()),
        Some(retry_at.timestamp_millis())
    );
    let due = s
        .claim_deliveries(claim("w2", now + Duration::seconds(6), 10))
        .await
        .unwrap();
    assert_eq!(due.deliveries.len(), 1);
    assert_eq!(due.deliveries[0].id, b.id);
    assert_eq!(due.deliveries[0].attempts, 1);
    assert_eq!(due.deliveries[0].body, b.body, "the body is sent as stored");
    let rows = all(&s).await;
    let row = |id| rows.iter().find(|d| d.id == id).unwrap();
    assert_eq!(row(a.id).status, DeliveryStatus::Delivered);
    assert_eq!(row(a.id).last_status, Some(200));
    assert!(row(a.id).delivered_at.is_some() && row(a.id).first_attempt_at.is_some());
    assert_eq!(row(b.id).last_status, Some(503));
    assert_eq!(row(b.id).status, DeliveryStatus::Pending);
    s.close().await.unwrap();
}

async fn an_expired_lease_goes_to_another_worker(url: String) {
    let s = store::open(&url).await.unwrap();
    s.insert_lead_with(lead("a@x.com", "k1"), Some(outbox(&["webhook:a"])))
        .await
        .unwrap();
    let now = Utc::now();
    let w1 = s.claim_deliveries(claim("w1", now, 10)).await.unwrap();
    let id = w1.deliveries[0].id;
    // w1 is killed; a minute later its lease has run out.
    let w2 = s
        .claim_deliveries(claim("w2", now + Duration::seconds(61), 10))
        .await
        .unwrap();
    assert_eq!(w2.deliveries.iter().map(|d| d.id).collect::<Vec<_>>(), [id]);
    assert!(
        !s.record_attempt(attempt(id, "w1", now, AfterAttempt::Delivered))
            .await
            .unwrap(),
        "the old claimant records nothing"
    );
    assert!(s
        .record_attempt(attempt(id, "w2", now, AfterAttempt::Failed))
        .await
        .unwrap());
    let rows = all(&s).await;
    assert_eq!(rows[0].status, DeliveryStatus::Failed);
    assert_eq!(rows[0].attempts, 1, "one attempt was recorded");
    s.close().await.unwrap();
}

async fn concurrent_claims_never_share_a_row(url: String) {
    let s = store::open(&url).await.unwrap();
    for i in 0..60 {
        s.insert_lead_with(
            lead(&format!("{i}@x.com"), &format!("k{i}")),
            Some(outbox(&["webhook:a"])),
        )
        .await
        .unwrap();
    }
    let now = Utc::now();
    let claimers: Vec<_> = (0..6)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let c = s
                        .claim_deliveries(claim(&format!("w{w}"), now, 4))
                        .await
                        .unwrap();
                    if c.deliveries.is_empty() {
                        return got;
                    }
                    got.extend(c.deliveries.into_iter().map(|d| d.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for c in claimers {
        let ids = c.await.unwrap();
        total += ids.len();
        seen.extend(ids);
    }
    assert_eq!(total, 60, "every row claimed once");
    assert_eq!(seen.len(), 60);
    s.close().await.unwrap();
}

async fn redelivery_keeps_the_event_id_and_starts_over(url: String) {
    let s = store::open(&url).await.unwrap();
    s.insert_lead_with(lead("a@x.com", "k1"), Some(outbox(&["webhook:a"])))
        .await
        .unwrap();
    let now = Utc::now();
    let c = s.claim_deliveries(claim("w1", now, 10)).await.unwrap();
    let d = &c.deliveries[0];
    s.record_attempt(attempt(d.id, "w1", now, AfterAttempt::Failed))
        .await
        .unwrap();
    assert_eq!(s.pending_deliveries().await.unwrap(), 0);
    assert!(s.redeliver(d.id, Utc::now()).await.unwrap());
    assert!(
        !s.redeliver(d.id + 1000, Utc::now()).await.unwrap(),
        "no such row"
    );
    let again = s
        .claim_deliveries(claim("w2", Utc::now() + Duration::seconds(1), 10))
        .await
        .unwrap();
    assert_eq!(again.deliveries.len(), 1);
    assert_eq!(again.deliveries[0].event_id, d.event_id);
    assert_eq!(again.deliveries[0].body, d.body);
    assert_eq!(again.deliveries[0].attempts, 0, "the schedule starts over");
    assert!(
        again.deliveries[0].first_attempt_at.is_some(),
        "the first attempt stays on record"
    );
    s.close().await.unwrap();
}

async fn listing_puts_failed_first_and_filters(url: String) {
    let s = store::open(&url).await.unwrap();
    let a = outbox(&["webhook:a"]);
    let b = outbox(&["webhook:a"]);
    s.insert_lead_with(lead("a@x.com", "k1"), Some(a.clone()))
        .await
        .unwrap();
    s.insert_lead_with(lead("b@x.com", "k2"), Some(b.clone()))
        .await
        .unwrap();
    let now = Utc::now();
    let c = s.claim_deliveries(claim("w", now, 1)).await.unwrap();
    s.record_attempt(attempt(c.deliveries[0].id, "w", now, AfterAttempt::Failed))
        .await
        .unwrap();
    let rows = all(&s).await;
    assert_eq!(
        rows.iter().map(|d| d.status).collect::<Vec<_>>(),
        [DeliveryStatus::Failed, DeliveryStatus::Pending]
    );
    let failed = s
        .deliveries(&DeliveryQuery {
            status: Some(DeliveryStatus::Failed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    let of_b = s
        .deliveries(&DeliveryQuery {
            lead: Some(b.lead_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0].lead, b.lead_id);
    s.close().await.unwrap();
}

async fn erasure_takes_the_persons_deliveries(url: String) {
    let s = store::open(&url).await.unwrap();
    let a = outbox(&["webhook:a", "email"]);
    let b = outbox(&["webhook:a"]);
    s.insert_lead_with(lead("a@x.com", "k1"), Some(a))
        .await
        .unwrap();
    s.insert_lead_with(lead("b@x.com", "k2"), Some(b.clone()))
        .await
        .unwrap();
    let now = Utc::now();
    for d in s
        .claim_deliveries(claim("w", now, 10))
        .await
        .unwrap()
        .deliveries
    {
        s.record_attempt(attempt(d.id, "w", now, AfterAttempt::RetryAt(now)))
            .await
            .unwrap();
    }
    assert_eq!(s.erase_leads("A@x.com").await.unwrap(), 1);
    let rows = all(&s).await;
    assert_eq!(
        rows.iter().map(|d| d.lead.clone()).collect::<Vec<_>>(),
        [b.lead_id]
    );
    assert_eq!(s.pending_deliveries().await.unwrap(), 1);
    s.close().await.unwrap();
}

async fn a_commit_with_deliveries_wakes_the_worker(url: String) {
    let s = store::open(&url).await.unwrap();
    let signal = s.delivery_signal();
    let wait = |ms| tokio::time::timeout(std::time::Duration::from_millis(ms), signal.notified());
    // Drain whatever a (PostgreSQL) listener signals as it starts.
    while wait(500).await.is_ok() {}
    s.insert_lead_with(lead("a@x.com", "k1"), Some(outbox(&["webhook:a"])))
        .await
        .unwrap();
    assert!(wait(10_000).await.is_ok(), "the commit signals the worker");
    s.close().await.unwrap();
}

async fn pending_deliveries_survive_a_reopen(url: String) {
    let s = store::open(&url).await.unwrap();
    s.insert_lead_with(lead("a@x.com", "k1"), Some(outbox(&["webhook:a"])))
        .await
        .unwrap();
    // Claimed by a run that then dies.
    let c = s
        .claim_deliveries(claim("dead", Utc::now(), 10))
        .await
        .unwrap();
    assert_eq!(c.deliveries.len(), 1);
    drop(s);
    let s = store::open(&url).await.unwrap();
    s.start_delivering().await.unwrap();
    let later = if url.starts_with("sqlite:") {
        // One process owns a SQLite file: its worker frees the dead run's leases at start.
        Utc::now()
    } else {
        // On PostgreSQL another instance may hold them: they are due when the lease ends.
        Utc::now() + Duration::seconds(61)
    };
    let again = s.claim_deliveries(claim("new", later, 10)).await.unwrap();
    assert_eq!(again.deliveries.len(), 1);
    s.close().await.unwrap();
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_guard, url) = super::sqlite_url().unwrap();
                super::$name(url).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((_guard, url)) = super::postgres_url().await else { return };
                super::$name(url).await;
            })*
        }
    };
}

on_both_stores!(
    deliveries_commit_with_their_lead_and_a_duplicate_adds_none,
    a_full_claim_says_more_may_be_due_now,
    a_claim_leases_rows_to_one_worker_and_retries_come_due,
    an_expired_lease_goes_to_another_worker,
    concurrent_claims_never_share_a_row,
    redelivery_keeps_the_event_id_and_starts_over,
    listing_puts_failed_first_and_filters,
    erasure_takes_the_persons_deliveries,
    a_commit_with_deliveries_wakes_the_worker,
    pending_deliveries_survive_a_reopen,
);
