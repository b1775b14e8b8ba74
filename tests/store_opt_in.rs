//! Double opt-in in both stores (SQLite, PostgreSQL): a lead stored unconfirmed with held
//! deliveries, which the worker never claims; confirming marks the lead and releases them in
//! one write, once; erasure takes the held rows and the confirmation e-mail along.
//!
//! PostgreSQL runs when `SPLITMARK_TEST_POSTGRES_URL` is set (each test gets its own schema);
//! without it those tests print a loud skip notice, unless `SPLITMARK_REQUIRE_POSTGRES=1`.

#[path = "common/postgres.rs"]
#[allow(dead_code)]
mod pg;
use chrono::{DateTime, Duration, Utc};
use splitmark::store::{
    self, Claim, ConfirmOutcome, Confirmation, DeliveryQuery, DeliveryStatus, NewDelivery, NewLead,
    Outbox, SharedStore, Utm,
};

fn lead(email: &str, key: &str, confirmation: Option<Confirmation>) -> NewLead {
    NewLead {
        received_at: Utc::now(),
        form: "news".into(),
        answers: serde_json::json!({ "email": email })
            .as_object()
            .unwrap()
            .clone(),
        email: Some(email.into()),
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: Some(key.into()),
        page: Some("/news/".into()),
        referrer: None,
        utm: Utm::default(),
        user_agent: None,
        ip_hash: None,
        score: 0,
        qualified: false,
        spam_reason: None,
        consent: Some("Send me the newsletter.".into()),
        dedupe_key: key.into(),
        confirmation,
        form_version: Some("0123456789abcdef0123456789abcdef".into()),
    }
}

/// A held webhook delivery and a pending confirmation e-mail, as a double opt-in lead has.
fn outbox() -> Outbox {
    let lead_id = uuid::Uuid::now_v7().to_string();
    let row = |event_type: &str, target: &str, held: bool| NewDelivery {
        event_id: format!("msg_{lead_id}_{}", if held { "created" } else { "confirm" }),
        event_type: event_type.into(),
        target: target.into(),
        body: "{}".into(),
        held,
        due_ms: None,
    };
    Outbox {
        deliveries: vec![
            row("lead.created", "webhook:a", true),
            row("lead.confirmation_requested", "lead-confirmation", false),
        ],
        lead_id,
    }
}

fn claim(now: DateTime<Utc>) -> Claim {
    Claim {
        worker: "w".into(),
        now,
        lease: std::time::Duration::from_secs(60),
        limit: 100,
    }
}

async fn rows(s: &SharedStore, lead: &str) -> Vec<store::DeliveryRow> {
    s.deliveries(&DeliveryQuery {
        lead: Some(lead.into()),
        ..DeliveryQuery::default()
    })
    .await
    .unwrap()
}

async fn confirming_releases_held_deliveries_once(url: String) {
    let s = store::open(&url).await.unwrap();
    let ob = outbox();
    let r = s
        .insert_lead_with(
            lead("a@x.com", "k1", Some(Confirmation::Unconfirmed)),
            Some(ob.clone()),
        )
        .await
        .unwrap();
    let stored = s.lead_by_id(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.lead.confirmation, Some(Confirmation::Unconfirmed));
    assert_eq!(stored.confirmed_at, None);
    assert_eq!(
        stored.lead.form_version.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    let listed = rows(&s, &r.id).await;
    let held = listed
        .iter()
        .find(|d| d.event_type == "lead.created")
        .unwrap();
    assert_eq!(held.status, DeliveryStatus::Held);
    assert_eq!(held.next_attempt_at, None, "a held row is due never");
    let held_only = s
        .deliveries(&DeliveryQuery {
            status: Some(DeliveryStatus::Held),
            ..DeliveryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(held_only.len(), 1);
    assert!(
        !s.redeliver(held.id, Utc::now()).await.unwrap(),
        "redelivery does not bypass the confirmation"
    );

    // Far in the future: only the confirmation e-mail is ever claimed.
    let later = Utc::now() + Duration::days(30);
    let first = s.claim_deliveries(claim(later)).await.unwrap();
    let types: Vec<&str> = first
        .deliveries
        .iter()
        .map(|d| d.event_type.as_str())
        .collect();
    assert_eq!(types, ["lead.confirmation_requested"]);
    assert_eq!(
        s.confirmation_counts().await.unwrap(),
        [store::ConfirmationCounts {
            form: "news".into(),
            unconfirmed: 1,
            confirmed: 0
        }]
    );

    let at = Utc::now();
    assert_eq!(
        s.confirm_lead(&r.id, at).await.unwrap(),
        ConfirmOutcome::Confirmed { released: 1 }
    );
    let released = s.claim_deliveries(claim(later)).await.unwrap();
    assert_eq!(released.deliveries.len(), 1);
    assert_eq!(released.deliveries[0].event_type, "lead.created");
    let stored = s.lead_by_id(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.lead.confirmation, Some(Confirmation::Confirmed));
    assert_eq!(
        stored.confirmed_at.map(|t| t.timestamp_millis()),
        Some(at.timestamp_millis())
    );
    match s
        .confirm_lead(&r.id, at + Duration::hours(1))
        .await
        .unwrap()
    {
        ConfirmOutcome::AlreadyConfirmed { at: Some(t) } => {
            assert_eq!(
                t.timestamp_millis(),
                at.timestamp_millis(),
                "the first time stays"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        s.claim_deliveries(claim(later))
            .await
            .unwrap()
            .deliveries
            .is_empty(),
        "a second confirmation releases nothing again"
    );
    assert_eq!(
        s.confirmation_counts().await.unwrap()[0],
        store::ConfirmationCounts {
            form: "news".into(),
            unconfirmed: 0,
            confirmed: 1
        }
    );

    // A lead of a form without double opt-in, and ids that name no lead.
    let plain = s.insert_lead(lead("b@x.com", "k2", None)).await.unwrap();
    assert_eq!(
        s.confirm_lead(&plain.id, at).await.unwrap(),
        ConfirmOutcome::NotAsked
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        s.confirm_lead(&unknown, at).await.unwrap(),
        ConfirmOutcome::NotFound
    );
    assert_eq!(
        s.confirm_lead("not-a-uuid", at).await.unwrap(),
        ConfirmOutcome::NotFound
    );
    s.close().await.unwrap();
}

async fn erasure_takes_held_deliveries_and_the_confirmation_mail(url: String) {
    let s = store::open(&url).await.unwrap();
    let ob = outbox();
    let r = s
        .insert_lead_with(
            lead("gone@x.com", "k3", Some(Confirmation::Unconfirmed)),
            Some(ob),
        )
        .await
        .unwrap();
    let keep = s
        .insert_lead_with(
            lead("stays@x.com", "k4", Some(Confirmation::Unconfirmed)),
            Some(outbox()),
        )
        .await
        .unwrap();
    assert_eq!(rows(&s, &r.id).await.len(), 2);
    assert_eq!(s.erase_leads("gone@x.com").await.unwrap(), 1);
    assert!(
        rows(&s, &r.id).await.is_empty(),
        "held and confirmation rows go"
    );
    assert_eq!(rows(&s, &keep.id).await.len(), 2, "another lead's stay");
    assert_eq!(
        s.confirm_lead(&r.id, Utc::now()).await.unwrap(),
        ConfirmOutcome::NotFound
    );
    s.close().await.unwrap();
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_guard, url) = super::sqlite_url();
                super::$name(url).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(url) = super::pg::schema_url("the double opt-in store tests").await else {
                    return;
                };
                super::$name(url).await;
            })*
        }
    };
}

fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("leads.db").display());
    (dir, url)
}

both_stores!(
    confirming_releases_held_deliveries_once,
    erasure_takes_held_deliveries_and_the_confirmation_mail,
);
