//! Beacons are answered once queued, not once committed: the queue is bounded (503 with
//! `Retry-After` past it), its beacons are committed in the next group, and shutdown commits
//! what is still queued. The writer is held back by a real lock on the database, taken by a
//! second connection, so the queue fills deterministically.

mod common;

use common::capture::{Harness, DEMO_FORM, LANDING};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const CONFIG: &str = "base_url = \"https://example.com\"\ntitle = \"T\"\n[capture]\nrate_limit_burst = 40\nbeacon_queue = 2\n";

fn beacon(visitor: &str, variant: &str) -> String {
    format!(
        r#"{{"type":"exposure","experiment":"hero","variant":"{variant}","visitor":"{visitor}","page":"/landing/"}}"#
    )
}

/// Total exposed visitors in the report, polled until it equals `want` or 10 s pass.
async fn visitors_reach(h: &Harness, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = h.admin("/api/v1/experiments/hero").await;
        let total: u64 = r["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["visitors"].as_u64().unwrap())
            .sum();
        if total == want || Instant::now() > deadline {
            return total;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beacons_are_answered_before_commit_bounded_and_then_stored() {
    let files = [
        ("splitmark.toml", format!("{CONFIG}{DEMO_FORM}")),
        ("content/landing.md", LANDING.to_owned()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let h = Harness::start(&files, None).await;
    let m = h.manifest();
    let e = m.experiment("hero").unwrap();

    // Another connection holds the write lock: nothing can commit until it lets go.
    let lock = rusqlite::Connection::open(h.site.root().join("data/leads.db")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();

    for v in ["q1", "q2"] {
        let r = h
            .post(
                "/api/v1/events",
                "text/plain",
                beacon(v, e.assign(v)),
                false,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "answered while queued");
    }
    let full = h
        .post(
            "/api/v1/events",
            "text/plain",
            beacon("q3", e.assign("q3")),
            false,
        )
        .await;
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(full.headers()["retry-after"], "1");
    let body: serde_json::Value = full.json().await.unwrap();
    assert_eq!(body["error"], "busy");
    let metrics = h
        .http
        .get(format!("{}/metrics", h.base))
        .bearer_auth(common::capture::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("splitmark_exposures_queued 2"),
        "{metrics}"
    );

    lock.execute_batch("COMMIT").unwrap();
    assert_eq!(visitors_reach(&h, 2).await, 2, "the queued beacons commit");
    let again = h
        .post(
            "/api/v1/events",
            "text/plain",
            beacon("q3", e.assign("q3")),
            false,
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::NO_CONTENT,
        "room again once committed"
    );
    assert_eq!(visitors_reach(&h, 3).await, 3);
    h.server.stop().await;
}
