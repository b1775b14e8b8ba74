//! Nothing acknowledged is lost: many concurrent submissions against the real binary,
//! `kill -9` mid-stream, restart, and every submission that got a 2xx is in the database.
//! On SQLite and on PostgreSQL.

mod common;
use common::process::{CaptureProcess, TOKEN};
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FORMS: &str = "[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\nrequired = true\n[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    survive_kill_9(format!("sqlite:{}", dir.path().join("leads.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_kill_9_on_postgres() {
    if let Some(url) = common::postgres::schema_url("the kill -9 durability test").await {
        survive_kill_9(url).await;
    }
}

async fn survive_kill_9(db: String) {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}")),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
    ]);
    site.build_ok();
    let mut server = CaptureProcess::start(&site, &db);
    let url = format!("{}/api/v1/forms/demo", server.base());
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let (client, url, acked, stop) = (client.clone(), url.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) && i < 5_000 {
                i += 1;
                let body = format!("email=w{worker}-{i}%40example.com&_visitor=w{worker}-{i}");
                let res = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break,
                        };
                        acked
                            .lock()
                            .unwrap()
                            .push(v["id"].as_str().unwrap().to_owned());
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let the load run, then kill the server without warning.
    while acked.lock().unwrap().len() < 500 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill(); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 500);

    let server = CaptureProcess::start(&site, &db);
    let leads: serde_json::Value = client
        .get(format!("{}/api/v1/leads?format=json", server.base()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    drop(server);
    let stored: std::collections::HashSet<String> = leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged leads lost",
        lost.len(),
        acked.len()
    );
    eprintln!(
        "{} acknowledged, {} stored, none lost",
        acked.len(),
        stored.len()
    );
}
