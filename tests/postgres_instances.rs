//! Two `splitmark capture` processes on one PostgreSQL, as behind a load balancer: they start
//! at the same moment on an empty schema (migrations serialise on an advisory lock), the same
//! submission sent through both at once is stored once, beacons through both count each
//! visitor once, and both report the same counts.

mod common;
use common::capture::{DEMO_FORM, LANDING};
use common::process::{CaptureProcess, TOKEN};
use common::*;

const VISITORS: usize = 300;

async fn post(http: &reqwest::Client, url: String, ct: &str, body: String) -> reqwest::Response {
    http.post(url)
        .header("content-type", ct)
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_store_each_submission_once() {
    let Some(url) = common::postgres::schema_url("the two-instance test").await else {
        return;
    };
    let site = Site::new(&[
        (
            "splitmark.toml",
            &format!("{CONFIG}{DEMO_FORM}[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\n"),
        ),
        ("content/landing.md", LANDING),
    ]);
    site.build_ok();
    // Both start at once on the empty schema.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| CaptureProcess::start(&site, &url));
        let b = s.spawn(|| CaptureProcess::start(&site, &url));
        (a.join().unwrap(), b.join().unwrap())
    });
    let db = common::postgres::client(&url).await;
    let versions = db
        .query("SELECT version FROM splitmark_schema", &[])
        .await
        .unwrap();
    assert_eq!(
        versions.len(),
        1,
        "one schema version row after two migrators"
    );

    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..VISITORS {
        let (http, ba, bb) = (http.clone(), a.base(), b.base());
        tasks.push(tokio::spawn(async move {
            let variant = if i % 2 == 0 { "a" } else { "b" };
            let beacon = format!(
                r#"{{"type":"exposure","experiment":"hero","variant":"{variant}","visitor":"v{i}","page":"/landing/"}}"#
            );
            let ct = "application/json";
            let (x, y) = tokio::join!(
                post(&http, format!("{ba}/api/v1/events"), ct, beacon.clone()),
                post(&http, format!("{bb}/api/v1/events"), ct, beacon),
            );
            assert_eq!((x.status().as_u16(), y.status().as_u16()), (204, 204));
            // The same double submit, through both instances at the same moment.
            let size = if i % 3 == 0 { "big" } else { "small" };
            let body = format!(
                "email=v{i}%40example.com&size={size}&_visitor=v{i}&_experiment=hero&_variant={variant}&_page=%2Flanding%2F"
            );
            let ct = "application/x-www-form-urlencoded";
            let (x, y) = tokio::join!(
                post(&http, format!("{ba}/api/v1/forms/demo"), ct, body.clone()),
                post(&http, format!("{bb}/api/v1/forms/demo"), ct, body),
            );
            assert_eq!((x.status().as_u16(), y.status().as_u16()), (201, 201));
            let (x, y): (serde_json::Value, serde_json::Value) =
                (x.json().await.unwrap(), y.json().await.unwrap());
            assert_eq!(x["id"], y["id"], "both instances answer with the one lead");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    // Beacons are answered before they commit: wait (bounded) for the queued ones.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count("SELECT COALESCE(SUM(views), 0)::BIGINT FROM exposures").await < 2 * VISITORS as i64
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(count("SELECT COUNT(*) FROM leads").await, VISITORS as i64);
    assert_eq!(
        count("SELECT COUNT(DISTINCT visitor) FROM leads").await,
        VISITORS as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM exposures").await,
        VISITORS as i64
    );
    assert_eq!(
        count("SELECT SUM(views)::BIGINT FROM exposures").await,
        2 * VISITORS as i64,
        "both beacons of every visitor are views of one exposure"
    );

    let report = |base: String| {
        let http = http.clone();
        async move {
            let v: serde_json::Value = http
                .get(format!("{base}/api/v1/experiments/hero"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["variants"].clone()
        }
    };
    let (ra, rb) = (report(a.base()).await, report(b.base()).await);
    assert_eq!(ra, rb, "both instances report the same counts");
    let sum = |k: &str| {
        ra.as_array()
            .unwrap()
            .iter()
            .map(|v| v[k].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("visitors"), VISITORS as u64);
    assert_eq!(sum("conversions"), VISITORS as u64);
    assert_eq!(sum("qualified"), VISITORS.div_ceil(3) as u64);
}
