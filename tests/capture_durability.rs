//! Nothing acknowledged is lost: many concurrent submissions against the real binary,
//! `kill -9` mid-stream, restart, and every submission that got a 2xx is in the database.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FORMS: &str = "[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\nrequired = true\n[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\n";

fn spawn(site: &Site, db: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["capture", "--root"])
        .arg(site.root())
        .args(["--bind", "127.0.0.1:0", "--db", db])
        .env("SPLITMARK_ADMIN_TOKEN", "t")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_kill_9() {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}")),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
    ]);
    site.build_ok();
    let db = format!("sqlite:{}", site.root().join("data/leads.db").display());
    let (mut child, addr) = spawn(&site, &db);
    let url = format!("http://{addr}/api/v1/forms/demo");
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
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 500);

    let (mut child, addr) = spawn(&site, &db);
    let leads: serde_json::Value = client
        .get(format!("http://{addr}/api/v1/leads?format=json"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
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
