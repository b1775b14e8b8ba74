//! Both stores (SQLite, PostgreSQL) against one set of behaviours: dedupe, exposures,
//! conversion counting, filters, erasure, migrations.
//!
//! PostgreSQL runs when `SPLITMARK_TEST_POSTGRES_URL` is set (each test gets its own schema);
//! without it those tests print a loud skip notice, unless `SPLITMARK_REQUIRE_POSTGRES=1`
//! (set by CI) makes them fail. `scripts/ci-postgres.sh` starts a local server and prints a URL.

#[path = "common/postgres.rs"]
#[allow(dead_code)]
mod pg;
use chrono::{Duration, Utc};
use splitmark::store::{self, AttributionFlag, Exposure, LeadQuery, NewLead, Utm};

fn lead(form: &str, visitor: &str, key: &str) -> NewLead {
    NewLead {
        received_at: Utc::now(),
        form: form.into(),
        answers: serde_json::json!({"email": format!("{visitor}@example.com")})
            .as_object()
            .unwrap()
            .clone(),
        email: Some(format!("{visitor}@example.com")),
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: Some(visitor.into()),
        page: Some("/demo/".into()),
        referrer: None,
        utm: Utm::default(),
        user_agent: None,
        ip_hash: Some("h".into()),
        score: 0,
        qualified: false,
        spam_reason: None,
        consent: None,
        dedupe_key: key.into(),
        confirmation: None,
        form_version: None,
    }
}

fn attributed(visitor: &str, variant: &str, qualified: bool) -> NewLead {
    let mut l = lead(
        "demo",
        visitor,
        &format!("k-{visitor}-{variant}-{qualified}"),
    );
    l.experiment = Some("hero".into());
    l.variant = Some(variant.into());
    l.qualified = qualified;
    l
}

fn exposure(visitor: &str, variant: &str) -> Exposure {
    Exposure {
        experiment: "hero".into(),
        variant: variant.into(),
        visitor: visitor.into(),
        page: None,
        at: Utc::now(),
    }
}

/// Keeps a test's database alive.
enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg,
}

fn sqlite_url() -> Option<(Guard, String)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("x/leads.db").display());
    Some((Guard::Dir(dir), url))
}

async fn postgres_url() -> Option<(Guard, String)> {
    Some((Guard::Pg, pg::schema_url("the store tests").await?))
}

async fn dedupe_within_the_window_returns_the_first_id(url: String) {
    let s = store::open(&url).await.unwrap();
    let a = s.insert_lead(lead("demo", "v1", "same")).await.unwrap();
    let b = s.insert_lead(lead("demo", "v1", "same")).await.unwrap();
    assert!(!a.duplicate && b.duplicate);
    assert_eq!(a.id, b.id);
    let mut old = lead("demo", "v1", "old");
    old.received_at = Utc::now() - Duration::minutes(10);
    s.insert_lead(old).await.unwrap();
    assert!(
        !s.insert_lead(lead("demo", "v1", "old"))
            .await
            .unwrap()
            .duplicate,
        "outside the 5-minute window"
    );
    // Concurrent duplicates collapse too (they meet in one writer).
    let futs: Vec<_> = (0..20)
        .map(|_| s.insert_lead(lead("demo", "v2", "burst")))
        .collect();
    let ids: std::collections::HashSet<String> = futures_util::future::join_all(futs)
        .await
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(s.count_leads(&LeadQuery::default()).await.unwrap(), 4);
}

async fn exposures_are_unique_and_the_first_variant_sticks(url: String) {
    let s = store::open(&url).await.unwrap();
    let first = s.record_exposure(exposure("v1", "a")).await.unwrap();
    let again = s.record_exposure(exposure("v1", "b")).await.unwrap();
    assert!(first.first && !again.first);
    assert_eq!(again.variant, "a");
    let c = s.experiment_counts("hero", "demo").await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].variant.as_str(), c[0].visitors, c[0].views),
        ("a", 1, 2)
    );
    // A submission implies an exposure without a view: the visitor's first beacon is still
    // their first view, in the variant the submission named.
    s.insert_lead(attributed("v2", "b", false)).await.unwrap();
    let beacon = s.record_exposure(exposure("v2", "a")).await.unwrap();
    assert!(beacon.first);
    assert_eq!(beacon.variant, "b");
    assert!(!s.record_exposure(exposure("v2", "a")).await.unwrap().first);
}

async fn conversions_count_exposed_visitors_by_their_first_variant(url: String) {
    let s = store::open(&url).await.unwrap();
    for v in ["a1", "a2", "a3"] {
        s.record_exposure(exposure(v, "a")).await.unwrap();
    }
    s.record_exposure(exposure("b1", "b")).await.unwrap();
    s.insert_lead(attributed("a1", "a", true)).await.unwrap();
    s.insert_lead(attributed("a1", "a", false)).await.unwrap(); // second lead: still one converting visitor
    s.insert_lead(attributed("b1", "a", false)).await.unwrap(); // first variant was b: counts for b
    s.insert_lead(attributed("c1", "b", true)).await.unwrap(); // never beaconed: implied exposure
    let mut spam = attributed("a2", "a", true);
    spam.spam_reason = Some("honeypot".into());
    s.insert_lead(spam).await.unwrap();
    let mut flagged = attributed("a3", "zzz", true);
    flagged.attribution_flag = Some(AttributionFlag::UnknownVariant);
    s.insert_lead(flagged).await.unwrap();
    s.insert_lead(lead("newsletter", "a2", "nl")).await.unwrap(); // not the goal form
    let c = s.experiment_counts("hero", "demo").await.unwrap();
    let get = |v: &str| c.iter().find(|x| x.variant == v).unwrap().clone();
    let (a, b) = (get("a"), get("b"));
    assert_eq!((a.visitors, a.conversions, a.qualified), (3, 1, 1));
    assert_eq!((b.visitors, b.conversions, b.qualified), (2, 2, 1));
    let daily = s.daily_counts("hero", "demo").await.unwrap();
    assert_eq!(daily.iter().map(|d| d.visitors).sum::<u64>(), 5);
    assert_eq!(daily.iter().map(|d| d.conversions).sum::<u64>(), 3);
    assert!(s.experiment_started_at("hero").await.unwrap().is_some());
}

async fn listing_filters_paginates_and_erases(url: String) {
    let s = store::open(&url).await.unwrap();
    for i in 0..5 {
        let mut l = attributed(&format!("v{i}"), if i % 2 == 0 { "a" } else { "b" }, i < 2);
        l.received_at = Utc::now() + Duration::seconds(i);
        s.insert_lead(l).await.unwrap();
    }
    let all = s.leads(&LeadQuery::default()).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].lead.visitor.as_deref(), Some("v4"), "newest first");
    let page = s
        .leads(&LeadQuery {
            limit: 2,
            offset: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|l| l.lead.visitor.clone().unwrap())
            .collect::<Vec<_>>(),
        ["v2", "v1"]
    );
    let q = LeadQuery {
        variant: Some("a".into()),
        qualified: Some(true),
        ..Default::default()
    };
    assert_eq!(s.count_leads(&q).await.unwrap(), 1);
    assert_eq!(s.erase_leads("V3@example.com").await.unwrap(), 1);
    assert_eq!(s.count_leads(&LeadQuery::default()).await.unwrap(), 4);
    let again = s.insert_lead(attributed("v3", "b", false)).await.unwrap();
    assert!(!again.duplicate, "an erased lead is not found again");
    assert_eq!(s.count_leads(&LeadQuery::default()).await.unwrap(), 5);
}

async fn funnel_groups_leads_by_day_source_and_campaign(url: String) {
    let s = store::open(&url).await.unwrap();
    let day1 = "2026-03-01T10:00:00Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let day2 = "2026-03-02T23:59:00Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let cases = [
        (day1, Some("google"), Some("spring"), true, None),
        (day1, Some("google"), Some("spring"), false, None),
        (day2, Some("google"), Some("spring"), true, None),
        (day2, None, None, false, None),
        (day2, Some("google"), Some("spring"), true, Some("honeypot")),
    ];
    for (i, (at, source, campaign, qualified, spam)) in cases.into_iter().enumerate() {
        let mut l = lead("demo", &format!("f{i}"), &format!("fk{i}"));
        l.received_at = at;
        l.utm.source = source.map(Into::into);
        l.utm.campaign = campaign.map(Into::into);
        l.qualified = qualified;
        l.spam_reason = spam.map(Into::into);
        s.insert_lead(l).await.unwrap();
    }
    let rows = s.funnel().await.unwrap();
    let got: Vec<(String, Option<String>, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.day.to_string(),
                r.utm_campaign.clone(),
                r.leads,
                r.qualified,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2026-03-01".into(), Some("spring".into()), 2, 1),
            ("2026-03-02".into(), Some("spring".into()), 1, 1),
            ("2026-03-02".into(), None, 1, 0),
        ],
        "spam is left out; days are UTC"
    );
}

async fn reopening_keeps_data_and_close_flushes(url: String) {
    let s = store::open(&url).await.unwrap();
    let futs: Vec<_> = (0..50)
        .map(|i| s.insert_lead(lead("demo", &format!("v{i}"), &format!("k{i}"))))
        .collect();
    let first = futures_util::future::join_all(futs).await;
    s.close().await.unwrap();
    assert!(
        s.insert_lead(lead("demo", "late", "late")).await.is_err(),
        "closed store refuses writes"
    );
    let again = store::open(&url).await.unwrap();
    assert_eq!(again.count_leads(&LeadQuery::default()).await.unwrap(), 50);
    assert_eq!(
        again.commit_stats().commits,
        0,
        "fresh handle, fresh metrics"
    );
    let repeat = again.insert_lead(lead("demo", "v7", "k7")).await.unwrap();
    assert!(repeat.duplicate, "deduplication remembers across a restart");
    assert_eq!(repeat.id, first[7].as_ref().unwrap().id);
    assert_eq!(again.count_leads(&LeadQuery::default()).await.unwrap(), 50);
    assert!(s.commit_stats().batch_size_sum >= 50);
}

/// Holds the database's write lock from another connection, so the store's writes wait.
enum WriteLock {
    Sqlite(rusqlite::Connection),
    Pg(tokio_postgres::Client),
}

impl WriteLock {
    async fn take(url: &str) -> WriteLock {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute_batch("BEGIN IMMEDIATE").unwrap();
            return WriteLock::Sqlite(c);
        }
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute("BEGIN; LOCK TABLE exposures, leads IN EXCLUSIVE MODE")
            .await
            .unwrap();
        WriteLock::Pg(client)
    }

    async fn release(self) {
        match self {
            WriteLock::Sqlite(c) => c.execute_batch("COMMIT").unwrap(),
            WriteLock::Pg(c) => c.batch_execute("COMMIT").await.unwrap(),
        }
    }
}

async fn queued_beacons_are_bounded_and_committed_on_close(url: String) {
    let s = store::open(&url).await.unwrap();
    let lock = WriteLock::take(&url).await;
    for v in ["q1", "q2", "q3"] {
        s.queue_exposure(exposure(v, "a"), 3).unwrap();
    }
    assert!(
        matches!(
            s.queue_exposure(exposure("q4", "a"), 3),
            Err(store::StoreError::QueueFull)
        ),
        "the fourth beacon finds the queue full"
    );
    assert_eq!(s.commit_stats().queued_exposures, 3);
    let closing = tokio::spawn({
        let s = s.clone();
        async move { s.close().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!closing.is_finished(), "close waits for the queued beacons");
    lock.release().await;
    closing.await.unwrap().unwrap();
    assert_eq!(s.commit_stats().queued_exposures, 0);
    assert_eq!(s.commit_stats().dropped_exposures, 0);
    let again = store::open(&url).await.unwrap();
    let counts = again.experiment_counts("hero", "demo").await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].variant.as_str(), counts[0].visitors),
        ("a", 3),
        "every queued beacon was committed by close"
    );
}

async fn queued_repeats_count_as_views_and_keep_the_first_variant(url: String) {
    let s = store::open(&url).await.unwrap();
    // An exposure implied by a lead (0 views) and beacons queued behind a held write lock, so
    // they are written as one group: repeats of a visitor inside the group and across groups.
    let mut implied = attributed("q0", "b", false);
    implied.page = Some("/lp/".into());
    s.insert_lead(implied).await.unwrap();
    let lock = WriteLock::take(&url).await;
    for (v, variant) in [
        ("q1", "a"),
        ("q2", "b"),
        ("q1", "b"),
        ("q0", "a"),
        ("q1", "a"),
    ] {
        s.queue_exposure(exposure(v, variant), 100).unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    lock.release().await;
    s.queue_exposure(exposure("q2", "a"), 100).unwrap();
    s.close().await.unwrap();
    let again = store::open(&url).await.unwrap();
    let counts = again.experiment_counts("hero", "demo").await.unwrap();
    let seen: Vec<_> = counts
        .iter()
        .map(|c| (c.variant.as_str(), c.visitors, c.views))
        .collect();
    // q1: first a, 3 views. q2: first b, 2 views. q0: first b (from the lead), 1 view.
    assert_eq!(seen, [("a", 1, 3), ("b", 2, 3)]);
}

/// Makes the database refuse every lead of the form `bad`, as a broken row would be refused.
async fn refuse_form_bad(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON leads WHEN NEW.form = 'bad'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        return;
    }
    pg::client(url)
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.form = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION refuse_bad();",
        )
        .await
        .unwrap();
}

/// Submits `leads` at once while another connection holds the write lock, so they queue up
/// and are written in groups once it is released.
async fn submit_while_locked(
    s: &std::sync::Arc<dyn store::Store>,
    url: &str,
    leads: Vec<NewLead>,
) -> Vec<store::StoreResult<store::LeadReceipt>> {
    let lock = WriteLock::take(url).await;
    let all = tokio::spawn({
        let s = s.clone();
        async move { futures_util::future::join_all(leads.into_iter().map(|l| s.insert_lead(l))).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!all.is_finished(), "the leads wait for the write lock");
    lock.release().await;
    all.await.unwrap()
}

async fn leads_commit_in_groups_and_a_failing_lead_fails_alone(url: String) {
    let s = store::open(&url).await.unwrap();
    refuse_form_bad(&url).await;
    // Twenty leads, two of them the same submission: fewer commits than leads, and the repeat
    // inside a group is still a duplicate of the first.
    let mut burst: Vec<NewLead> = (0..19)
        .map(|i| lead("demo", &format!("g{i}"), &format!("g{i}")))
        .collect();
    burst.push(lead("demo", "g3", "g3"));
    // And one that repeats a lead stored before the group.
    let before = s.insert_lead(lead("demo", "pre", "pre")).await.unwrap();
    burst.push(lead("demo", "pre", "pre"));
    let commits_before = s.commit_stats().commits;
    let receipts: Vec<_> = submit_while_locked(&s, &url, burst)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(receipts[..19].iter().all(|r| !r.duplicate));
    assert!(
        receipts[19].duplicate,
        "the repeat in the group is a duplicate"
    );
    assert_eq!(receipts[19].id, receipts[3].id);
    assert!(receipts[20].duplicate && receipts[20].id == before.id);
    let commits = s.commit_stats().commits - commits_before;
    assert!(
        commits < 19,
        "19 new leads took {commits} commits: not grouped"
    );
    // One lead the database refuses, among healthy ones written in the same group.
    let mut mixed: Vec<NewLead> = (0..9)
        .map(|i| lead("demo", &format!("m{i}"), &format!("m{i}")))
        .collect();
    mixed.insert(4, lead("bad", "mb", "mb"));
    let answers = submit_while_locked(&s, &url, mixed).await;
    for (i, a) in answers.iter().enumerate() {
        match (i, a) {
            (4, Err(e)) => assert!(e.to_string().contains("refused"), "{e}"),
            (4, Ok(r)) => panic!("the refused lead was acknowledged: {r:?}"),
            (_, a) => assert!(matches!(a, Ok(r) if !r.duplicate), "lead {i}: {a:?}"),
        }
    }
    assert_eq!(
        s.count_leads(&LeadQuery::default()).await.unwrap(),
        1 + 19 + 9,
        "every healthy lead is stored once, the refused one not at all"
    );
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    let e = store::open("mysql://x").await.err().unwrap().to_string();
    assert!(e.contains("mysql://x"), "{e}");
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
    dedupe_within_the_window_returns_the_first_id,
    exposures_are_unique_and_the_first_variant_sticks,
    conversions_count_exposed_visitors_by_their_first_variant,
    listing_filters_paginates_and_erases,
    funnel_groups_leads_by_day_source_and_campaign,
    reopening_keeps_data_and_close_flushes,
    queued_beacons_are_bounded_and_committed_on_close,
    leads_commit_in_groups_and_a_failing_lead_fails_alone,
    queued_repeats_count_as_views_and_keep_the_first_variant,
);
