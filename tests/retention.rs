//! Retention against the real binary on both stores: backdated leads, exposures and delivery
//! rows are in the database before `splitmark capture` starts; at start it purges what the
//! policy no longer keeps, logs the counts, and the retained period's report is unchanged.

mod common;
use chrono::{Duration, Utc};
use common::capture::LANDING;
use common::process::{CaptureProcess, TOKEN};
use common::*;
use splitmark::store::{self, Exposure, NewLead, Utm};

/// `demo` keeps 7 days (its own window); every other form 30 (`[capture] retention_days`).
const CONFIG_TAIL: &str = "[capture]\nretention_days = 30\n\
[forms.demo]\nretain_days = 7\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\n\
[forms.other]\n[[forms.other.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\n";

fn lead(form: &str, visitor: &str, days_old: i64) -> NewLead {
    NewLead {
        received_at: Utc::now() - Duration::days(days_old),
        form: form.into(),
        answers: serde_json::Map::new(),
        email: Some(format!("{visitor}@example.com")),
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: Some(visitor.into()),
        page: Some("/".into()),
        referrer: None,
        utm: Utm::default(),
        user_agent: None,
        ip_hash: None,
        score: 0,
        qualified: false,
        spam_reason: None,
        consent: None,
        dedupe_key: format!("{form}-{visitor}"),
        confirmation: None,
        form_version: None,
    }
}

fn exposure(visitor: &str, days_old: i64) -> Exposure {
    Exposure {
        experiment: "hero".into(),
        variant: "a".into(),
        visitor: visitor.into(),
        page: Some("/".into()),
        at: Utc::now() - Duration::days(days_old),
    }
}

/// Stores the fixture: returns the ids of (purged lead with a delivery, kept lead with one).
async fn fill(url: &str) -> (String, String) {
    let s = store::open(url).await.unwrap();
    let old_demo = s.insert_lead(lead("demo", "d10", 10)).await.unwrap().id;
    let kept_demo = s.insert_lead(lead("demo", "d3", 3)).await.unwrap().id;
    s.insert_lead(lead("other", "o40", 40)).await.unwrap();
    s.insert_lead(lead("other", "o10", 10)).await.unwrap();
    s.record_exposure(exposure("gone", 40)).await.unwrap();
    s.record_exposure(exposure("recent", 3)).await.unwrap();
    // Seen first long ago, but active inside the window: kept, with both views.
    s.record_exposure(exposure("returning", 60)).await.unwrap();
    s.record_exposure(exposure("returning", 1)).await.unwrap();
    s.close().await.unwrap();
    (old_demo, kept_demo)
}

async fn check(site: &Site, url: &str, outbox: impl AsyncFn() -> Vec<String>) {
    let server = CaptureProcess::start(site, url);
    let line = server.wait_for_log("Retention:");
    assert!(
        line.contains("purged 2 leads, 1 exposures and 1 deliveries"),
        "{line}"
    );
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", server.base()))
            .bearer_auth(TOKEN)
            .send()
    };
    let leads: serde_json::Value = get("/api/v1/leads?format=json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut visitors: Vec<&str> = leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["visitor"].as_str().unwrap())
        .collect();
    visitors.sort();
    assert_eq!(visitors, ["d3", "o10"], "demo keeps 7 days, other 30");
    let report: serde_json::Value = get("/api/v1/experiments/hero")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a = &report["variants"][0];
    assert_eq!(
        (
            a["id"].as_str(),
            a["visitors"].as_u64(),
            a["views"].as_u64()
        ),
        (Some("a"), Some(2), Some(3)),
        "visitors active in the window keep their exposure rows: {report}"
    );
    assert_eq!(outbox().await.len(), 1, "the purged lead's delivery went");
}

fn site() -> Site {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{CONFIG_TAIL}")),
        ("content/landing.md", LANDING),
    ]);
    site.build_ok();
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_at_start_on_sqlite() {
    let site = site();
    let path = site.root().join("data/leads.db");
    let url = format!("sqlite:{}", path.display());
    let (old, kept) = fill(&url).await;
    let db = rusqlite::Connection::open(&path).unwrap();
    for id in [&old, &kept] {
        db.execute(
            "INSERT INTO deliveries (lead_id, event_id, event_type, target, body, status, created_ms) VALUES (?1, 'msg', 'lead.created', 'email', '{}', 'delivered', 0)",
            [id],
        )
        .unwrap();
    }
    let outbox = async || {
        let mut st = db.prepare("SELECT lead_id FROM deliveries").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<String>, _>>()
            .unwrap()
    };
    check(&site, &url, outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_at_start_on_postgres() {
    let Some(url) = common::postgres::schema_url("the retention test").await else {
        return;
    };
    let site = site();
    let (old, kept) = fill(&url).await;
    let db = common::postgres::client(&url).await;
    for id in [&old, &kept] {
        db.execute(
            "INSERT INTO deliveries (lead_id, event_id, event_type, target, body, status, created_ms) VALUES ($1, 'msg', 'lead.created', 'email', '{}', 'delivered', 0)",
            &[id],
        )
        .await
        .unwrap();
    }
    let outbox = async || {
        db.query("SELECT lead_id FROM deliveries", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    check(&site, &url, outbox).await;
}

#[test]
fn a_bad_retention_value_stops_the_server_with_a_clear_error() {
    for (bad, msg) in [
        (
            "[capture]\nretention_days = 0\n",
            "retention_days must be a positive",
        ),
        (
            "[capture]\nretention_days = \"30\"\n",
            "retention_days must be a positive",
        ),
        (
            "[forms.demo]\nretain_days = 0\nfields = []\n",
            "retain_days must be a positive",
        ),
    ] {
        let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}{bad}"))]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
            .args(["capture", "--bind", "127.0.0.1:0", "--root"])
            .arg(site.root())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}");
        assert!(err.contains(msg), "{bad}: {err}");
    }
}

async fn count(s: &store::SharedStore) -> u64 {
    s.count_leads(&Default::default()).await.unwrap()
}

/// The task purges again on every period, not only at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_repeats_on_its_period() {
    let dir = tempfile::tempdir().unwrap();
    let s = store::open(&format!("sqlite:{}", dir.path().join("l.db").display()))
        .await
        .unwrap();
    let policy = store::RetentionPolicy {
        default_days: Some(30),
        ..Default::default()
    };
    let task = splitmark::capture::retention::spawn_every(
        s.clone(),
        policy,
        std::time::Duration::from_millis(100),
    )
    .unwrap();
    s.insert_lead(lead("demo", "kept", 1)).await.unwrap();
    for round in 0..2 {
        s.insert_lead(lead("demo", &format!("old{round}"), 40))
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while count(&s).await != 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: not purged"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    task.abort();
    s.close().await.unwrap();
}

/// Two instances purging at the same moment share the work: every row is counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_purges_at_once_on_postgres_count_each_lead_once() {
    let Some(url) = common::postgres::schema_url("the concurrent purge test").await else {
        return;
    };
    let (a, b) = (
        store::open(&url).await.unwrap(),
        store::open(&url).await.unwrap(),
    );
    const OLD: usize = 3_000;
    for chunk in (0..OLD).collect::<Vec<_>>().chunks(200) {
        let futs = chunk
            .iter()
            .map(|i| a.insert_lead(lead("demo", &format!("v{i}"), 40)));
        for r in futures_util::future::join_all(futs).await {
            r.unwrap();
        }
    }
    a.insert_lead(lead("demo", "kept", 1)).await.unwrap();
    let policy = store::RetentionPolicy {
        default_days: Some(30),
        ..Default::default()
    };
    let now = Utc::now();
    let (x, y) = tokio::join!(a.purge_expired(&policy, now), b.purge_expired(&policy, now));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.leads + y.leads, OLD as u64, "{x:?} {y:?}");
    assert_eq!(count(&a).await, 1);
}
