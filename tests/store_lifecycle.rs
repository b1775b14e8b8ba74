//! Both stores (SQLite, PostgreSQL) against the sales funnel: stage changes with idempotency
//! and conflicts, the derived columns (current stage by latest `at`, reached steps that never
//! go back), the history, the latest lead of an address, the uncontacted queue, contact
//! samples, and the deadline row a contact cancels.
//!
//! PostgreSQL runs when `SPLITMARK_TEST_POSTGRES_URL` is set; without it those tests print a
//! loud skip notice, unless `SPLITMARK_REQUIRE_POSTGRES=1` (CI) makes them fail.

#[path = "common/postgres.rs"]
#[allow(dead_code)]
mod pg;
use chrono::{DateTime, Duration, Utc};
use splitmark::lifecycle::{NewStageEvent, Source, Stage};
use splitmark::store::{
    self, DeliveryQuery, DeliveryStatus, NewDelivery, NewLead, Outbox, SharedStore, StageOutcome,
    StageWrite, Utm,
};

fn lead(email: &str, received_at: DateTime<Utc>, qualified: bool) -> NewLead {
    NewLead {
        received_at,
        form: "demo".into(),
        answers: serde_json::json!({ "email": email })
            .as_object()
            .unwrap()
            .clone(),
        email: Some(email.into()),
        experiment: Some("hero".into()),
        variant: Some("a".into()),
        attribution_flag: None,
        visitor: Some(format!("v-{email}-{}", received_at.timestamp_millis())),
        page: None,
        referrer: None,
        utm: Utm {
            source: Some("ads".into()),
            ..Utm::default()
        },
        user_agent: None,
        ip_hash: None,
        score: 0,
        qualified,
        spam_reason: None,
        consent: None,
        dedupe_key: format!("{email}-{}", received_at.timestamp_millis()),
        confirmation: None,
        form_version: None,
    }
}

fn change(event_id: &str, stage: Stage, at: DateTime<Utc>) -> NewStageEvent {
    NewStageEvent {
        event_id: event_id.into(),
        stage,
        at,
        at_given: true,
        source: Source::Api,
        actor: "admin".into(),
        value_minor: None,
        currency: None,
        reason: None,
        note: None,
    }
}

fn write(lead_id: &str, event: NewStageEvent) -> StageWrite {
    StageWrite {
        lead_id: lead_id.into(),
        event,
        deliveries: Vec::new(),
    }
}

async fn one(s: &SharedStore, w: StageWrite) -> StageOutcome {
    let mut out = s.record_stage_events(vec![w]).await.unwrap();
    assert_eq!(out.len(), 1);
    out.remove(0)
}

/// Stores a lead under an id made at its (possibly past) time, as the server makes them.
async fn insert(s: &SharedStore, l: NewLead) -> String {
    let ms = l.received_at.timestamp_millis() as u64;
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
    let lead_id = uuid::Uuid::new_v7(ts).to_string();
    let outbox = Outbox {
        lead_id: lead_id.clone(),
        deliveries: Vec::new(),
    };
    let r = s.insert_lead_with(l, Some(outbox)).await.unwrap();
    assert_eq!(r.id, lead_id);
    lead_id
}

/// Now, to the millisecond the stores keep.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

async fn changes_are_idempotent_and_derive_the_lead(url: String) {
    let s = store::open(&url).await.unwrap();
    let t0 = now_ms() - Duration::hours(3);
    let id = insert(&s, lead("ada@x.test", t0, false)).await;
    let at = |m: i64| t0 + Duration::minutes(m);

    let first = one(&s, write(&id, change("e1", Stage::Contacted, at(10)))).await;
    assert!(matches!(first, StageOutcome::Recorded(ref e) if e.stage == Stage::Contacted));
    // The same event again: the first answer, nothing new; without `at`, any time matches.
    let mut again = change("e1", Stage::Contacted, at(99));
    again.at_given = false;
    assert!(
        matches!(one(&s, write(&id, again)).await, StageOutcome::Replayed(ref e) if e.at == at(10))
    );
    // Same id, other content: a conflict, nothing written.
    let conflict = one(&s, write(&id, change("e1", Stage::Customer, at(10)))).await;
    assert!(matches!(conflict, StageOutcome::Conflict(ref e) if e.stage == Stage::Contacted));
    assert_eq!(s.stage_history(&id).await.unwrap().len(), 1);
    // An unknown lead (a well-formed id nobody has, and a malformed one).
    let ghost = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        one(&s, write(&ghost, change("e9", Stage::Contacted, at(1)))).await,
        StageOutcome::UnknownLead
    );
    assert_eq!(
        one(&s, write("nope", change("e8", Stage::Contacted, at(1)))).await,
        StageOutcome::UnknownLead
    );

    // Customer with its value, then moved back to new: reached steps stay.
    let mut won = change("e2", Stage::Customer, at(60));
    won.value_minor = Some(120_050);
    won.currency = Some("EUR".into());
    let mut opp = change("e3", Stage::Opportunity, at(30));
    opp.value_minor = Some(100_000);
    opp.currency = Some("EUR".into());
    // A batch: two changes in one call, the backdated opportunity recorded after the deal.
    let out = s
        .record_stage_events(vec![write(&id, won), write(&id, opp)])
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, StageOutcome::Recorded(_))));
    let l = s.lead_by_id(&id).await.unwrap().unwrap();
    assert_eq!(
        l.stage.stage,
        Stage::Customer,
        "the latest `at` decides, not the last recorded"
    );
    assert_eq!(l.stage.stage_at, Some(at(60)));
    assert_eq!(l.stage.contacted_at, Some(at(10)));
    assert_eq!(
        l.stage.sales_qualified_at,
        Some(at(30)),
        "implied by the opportunity"
    );
    assert_eq!(l.stage.opportunity_at, Some(at(30)));
    assert_eq!(l.stage.customer_at, Some(at(60)));
    assert_eq!(
        (l.stage.pipeline_minor, l.stage.revenue_minor),
        (Some(100_000), Some(120_050))
    );
    assert_eq!(l.stage.currency.as_deref(), Some("EUR"));

    one(&s, write(&id, change("e4", Stage::New, at(90)))).await;
    let l = s.lead_by_id(&id).await.unwrap().unwrap();
    assert_eq!(l.stage.stage, Stage::New);
    assert_eq!(
        l.stage.customer_at,
        Some(at(60)),
        "once reached, always counted"
    );
    // Ties in `at` go by the order recorded.
    one(&s, write(&id, change("e5", Stage::Contacted, at(90)))).await;
    assert_eq!(
        s.lead_by_id(&id).await.unwrap().unwrap().stage.stage,
        Stage::Contacted
    );

    let history: Vec<(String, Stage)> = s
        .stage_history(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_id, e.stage))
        .collect();
    assert_eq!(
        history,
        [
            ("e1".into(), Stage::Contacted),
            ("e3".into(), Stage::Opportunity),
            ("e2".into(), Stage::Customer),
            ("e4".into(), Stage::New),
            ("e5".into(), Stage::Contacted),
        ]
    );
    // Erasure takes the history along.
    assert_eq!(s.erase_leads("ada@x.test").await.unwrap(), 1);
    assert!(s.stage_history(&id).await.unwrap().is_empty());
    s.close().await.unwrap();
}

async fn queue_addresses_and_samples(url: String) {
    let s = store::open(&url).await.unwrap();
    let t0 = now_ms() - Duration::hours(5);
    let old = insert(&s, lead("b@x.test", t0, false)).await;
    let newer_q = insert(&s, lead("c@x.test", t0 + Duration::hours(1), true)).await;
    let older_q = insert(&s, lead("d@x.test", t0 + Duration::minutes(30), true)).await;
    let first_b = old.clone();
    let latest_b = insert(&s, lead("b@x.test", t0 + Duration::hours(2), false)).await;
    let mut spam = lead("e@x.test", t0, true);
    spam.spam_reason = Some("honeypot".into());
    insert(&s, spam).await;

    let queue: Vec<String> = s
        .uncontacted_leads(10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(
        queue,
        [
            older_q.clone(),
            newer_q.clone(),
            first_b.clone(),
            latest_b.clone()
        ],
        "qualified first, then oldest; no spam"
    );
    one(
        &s,
        write(
            &older_q,
            change("q1", Stage::Contacted, t0 + Duration::minutes(33)),
        ),
    )
    .await;
    one(
        &s,
        write(
            &first_b,
            change("q2", Stage::Disqualified, t0 + Duration::minutes(1)),
        ),
    )
    .await;
    let queue: Vec<String> = s
        .uncontacted_leads(10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(
        queue,
        [newer_q.clone(), latest_b.clone()],
        "contacted and disqualified leave the queue"
    );
    assert_eq!(s.uncontacted_leads(1).await.unwrap().len(), 1);

    let by_email = s
        .latest_leads_by_email(&["b@x.test".into(), "c@x.test".into(), "zz@x.test".into()])
        .await
        .unwrap();
    assert_eq!(by_email.len(), 2);
    assert_eq!(
        by_email["b@x.test"].id, latest_b,
        "the most recent lead of the address"
    );
    assert_eq!(by_email["c@x.test"].id, newer_q);

    let mut samples = s.contact_samples().await.unwrap();
    samples.sort_by_key(|x| x.received_ms);
    assert_eq!(samples.len(), 4, "spam is left out");
    let contacted: Vec<Option<i64>> = samples
        .iter()
        .map(|x| x.contacted_ms.map(|c| c - x.received_ms))
        .collect();
    assert_eq!(contacted, [None, Some(3 * 60_000), None, None]);
    assert_eq!(
        samples[0]
            .disqualified_ms
            .map(|d| d - samples[0].received_ms),
        Some(60_000)
    );
    assert_eq!(samples[1].variant.as_deref(), Some("a"));
    assert_eq!(samples[1].utm_source.as_deref(), Some("ads"));
    s.close().await.unwrap();
}

async fn a_contact_cancels_the_deadline_row(url: String) {
    let s = store::open(&url).await.unwrap();
    let now = now_ms();
    let lead_id = uuid::Uuid::now_v7().to_string();
    let sla = |id: &str| NewDelivery {
        event_id: format!("msg_{id}_sla"),
        event_type: "lead.sla_breached".into(),
        target: "email".into(),
        body: "{}".into(),
        due_ms: Some((now + Duration::hours(1)).timestamp_millis()),
        held: false,
    };
    s.insert_lead_with(
        lead("f@x.test", now, false),
        Some(Outbox {
            lead_id: lead_id.clone(),
            deliveries: vec![sla(&lead_id)],
        }),
    )
    .await
    .unwrap();
    let other = uuid::Uuid::now_v7().to_string();
    s.insert_lead_with(
        lead("g@x.test", now, false),
        Some(Outbox {
            lead_id: other.clone(),
            deliveries: vec![sla(&other)],
        }),
    )
    .await
    .unwrap();
    let rows = s.deliveries(&DeliveryQuery::default()).await.unwrap();
    assert!(
        rows.iter().all(|r| r.status == DeliveryStatus::Pending
            && r.next_attempt_at.unwrap() > now + Duration::minutes(59)),
        "due at the deadline, not at once"
    );
    // Not due yet: nothing to claim.
    let claim = splitmark::store::Claim {
        worker: "w".into(),
        now,
        lease: std::time::Duration::from_secs(60),
        limit: 10,
    };
    assert!(s
        .claim_deliveries(claim)
        .await
        .unwrap()
        .deliveries
        .is_empty());
    // Sales qualified implies contacted: the deadline is met.
    let mut w = write(&lead_id, change("c1", Stage::SalesQualified, now));
    w.deliveries.push(NewDelivery {
        event_id: "msg_x_stage".into(),
        event_type: "lead.stage_changed".into(),
        target: "email".into(),
        body: "{}".into(),
        due_ms: None,
        held: false,
    });
    one(&s, w).await;
    let status = |id: &str, rows: &[splitmark::store::DeliveryRow], kind: &str| {
        rows.iter()
            .find(|r| r.lead == id && r.event_type == kind)
            .map(|r| r.status)
    };
    let rows = s.deliveries(&DeliveryQuery::default()).await.unwrap();
    assert_eq!(
        status(&lead_id, &rows, "lead.sla_breached"),
        Some(DeliveryStatus::Cancelled)
    );
    assert_eq!(
        status(&lead_id, &rows, "lead.stage_changed"),
        Some(DeliveryStatus::Pending)
    );
    assert_eq!(
        status(&other, &rows, "lead.sla_breached"),
        Some(DeliveryStatus::Pending),
        "other leads keep theirs"
    );
    // A replay writes no second delivery.
    let mut replay = write(&lead_id, change("c1", Stage::SalesQualified, now));
    replay.deliveries = vec![NewDelivery {
        event_id: "msg_x_stage".into(),
        event_type: "lead.stage_changed".into(),
        target: "email".into(),
        body: "{}".into(),
        due_ms: None,
        held: false,
    }];
    assert!(matches!(one(&s, replay).await, StageOutcome::Replayed(_)));
    let rows = s
        .deliveries(&DeliveryQuery {
            lead: Some(lead_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    // A lead disqualified without a contact needs no call either.
    let mut dq = change("d1", Stage::Disqualified, now);
    dq.reason = Some("student".into());
    one(&s, write(&other, dq)).await;
    let rows = s.deliveries(&DeliveryQuery::default()).await.unwrap();
    assert_eq!(
        status(&other, &rows, "lead.sla_breached"),
        Some(DeliveryStatus::Cancelled)
    );
    s.close().await.unwrap();
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("leads.db").display());
                super::$name(url).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(url) = super::pg::schema_url("the lifecycle store tests").await {
                    super::$name(url).await;
                }
            })*
        }
    };
}

both!(
    changes_are_idempotent_and_derive_the_lead,
    queue_addresses_and_samples,
    a_contact_cancels_the_deadline_row,
);
