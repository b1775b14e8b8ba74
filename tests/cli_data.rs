//! `splitmark export`, `erase` and `backup` against the real binary, on both stores, while
//! `splitmark capture` runs on the same database.

mod common;
use chrono::{DateTime, Duration, Utc};
use common::process::{CaptureProcess, TOKEN};
use common::*;
use splitmark::store::export::CSV_COLUMNS;
use splitmark::store::{self, NewLead, Utm};
use std::path::Path;
use std::process::{Command, Output};

const FORMS: &str = "[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\n\
[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\nrequired = true\n\
[[forms.demo.fields]]\nname = \"name\"\nlabel = \"Name\"\n";

/// Leads of `bulk` stored before the server starts: more than two export pages.
const BULK: usize = 1_100;

fn lead(form: &str, visitor: &str, at: DateTime<Utc>) -> NewLead {
    NewLead {
        received_at: at,
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

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn fill(url: &str) {
    let s = store::open(url).await.unwrap();
    for (visitor, t) in [
        ("jan10", "2026-01-10T12:00:00Z"),
        ("jan31", "2026-01-31T23:59:00Z"),
        ("feb1", "2026-02-01T00:00:00Z"),
    ] {
        s.insert_lead(lead("demo", visitor, at(t))).await.unwrap();
    }
    let day_ago = Utc::now() - Duration::days(1);
    for chunk in (0..BULK).collect::<Vec<_>>().chunks(100) {
        let futs = chunk
            .iter()
            .map(|i| s.insert_lead(lead("bulk", &format!("b{i}"), day_ago)));
        for r in futures_util::future::join_all(futs).await {
            r.unwrap();
        }
    }
    s.close().await.unwrap();
}

fn splitmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn submit(http: &reqwest::Client, base: &str, body: &str) -> u16 {
    http.post(format!("{base}/api/v1/forms/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    (header, r.records().map(Result::unwrap).collect())
}

async fn export_and_erase(url: String) {
    let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}{FORMS}"))]);
    site.build_ok();
    fill(&url).await;
    let server = CaptureProcess::start(&site, &url);
    let http = reqwest::Client::new();
    let hostile =
        "utm_source=%3D1%2B1&utm_medium=-2&utm_campaign=%40SUM(A1)&utm_term=%2B3&_page=%09tab";
    for (name, visitor) in [("Alice", "va"), ("Alice again", "vb")] {
        let body = format!("email=alice%40example.com&name={name}&_visitor={visitor}&{hostile}");
        assert_eq!(submit(&http, &server.base(), &body).await, 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("leads.csv");
    let out_s = out.to_str().unwrap();
    std::fs::write(&out, "old export").unwrap();

    // CSV of one form: stable columns, every hostile cell neutralised.
    ok(splitmark(&[
        "export", "--db", &url, "--form", "demo", "--output", out_s,
    ]));
    let (header, rows) = csv_rows(&out);
    assert_eq!(header, CSV_COLUMNS);
    assert_eq!(rows.len(), 5, "three stored before, two submitted");
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let alice = rows.iter().find(|r| &r[col("visitor")] == "va").unwrap();
    assert_eq!(&alice[col("utm_source")], "'=1+1");
    assert_eq!(&alice[col("utm_medium")], "'-2");
    assert_eq!(&alice[col("utm_campaign")], "'@SUM(A1)");
    assert_eq!(&alice[col("utm_term")], "'+3");
    assert_eq!(&alice[col("email")], "alice@example.com");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary file left beside the output"
    );

    // The same bytes as the API's CSV export of that form.
    let api = http
        .get(format!(
            "{}/api/v1/leads?format=csv&form=demo",
            server.base()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut api_rows: Vec<String> = api.lines().skip(1).map(str::to_owned).collect();
    let mut cli_rows: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    api_rows.sort();
    cli_rows.sort();
    assert_eq!(
        api_rows, cli_rows,
        "the CLI and the API write the same rows"
    );

    // Date filters: a day is a whole UTC day.
    ok(splitmark(&[
        "export",
        "--db",
        &url,
        "--form",
        "demo",
        "--since",
        "2026-01-31",
        "--until",
        "2026-01-31",
        "--output",
        out_s,
    ]));
    let (_, rows) = csv_rows(&out);
    let visitors: Vec<&str> = rows.iter().map(|r| &r[col("visitor")]).collect();
    assert_eq!(visitors, ["jan31"]);
    ok(splitmark(&[
        "export",
        "--db",
        &url,
        "--form",
        "demo",
        "--since",
        "2026-01-11",
        "--until",
        "2026-02-01T00:00:00Z",
        "--output",
        out_s,
    ]));
    assert_eq!(
        csv_rows(&out).1.len(),
        1,
        "an RFC 3339 --until is exclusive"
    );

    // A failed export leaves the previous file alone.
    let before = std::fs::read(&out).unwrap();
    let bad = splitmark(&[
        "export",
        "--db",
        &url,
        "--since",
        "yesterday",
        "--output",
        out_s,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a date"));
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // NDJSON on standard output: every lead once, across pages, oldest first.
    let ndjson = ok(splitmark(&["export", "--db", &url, "--format", "ndjson"]));
    let leads: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(leads.len(), BULK + 5);
    let ids: std::collections::HashSet<&str> =
        leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), leads.len(), "no lead twice");
    let times: Vec<&str> = leads
        .iter()
        .map(|l| l["received_at"].as_str().unwrap())
        .collect();
    assert_eq!(at(times[0]), at("2026-01-10T12:00:00Z"));
    assert!(
        times.windows(2).all(|w| at(w[0]) <= at(w[1])),
        "oldest first"
    );
    // JSON: the API's document shape.
    let json: serde_json::Value = serde_json::from_str(&ok(splitmark(&[
        "export", "--db", &url, "--format", "json", "--form", "bulk",
    ])))
    .unwrap();
    assert_eq!(json["leads"].as_array().unwrap().len(), BULK);
    assert!(!splitmark(&["export", "--db", &url, "--format", "xml"])
        .status
        .success());

    // Erase while the server runs; the server keeps accepting leads afterwards.
    let erased = ok(splitmark(&["erase", "Alice@Example.com", "--db", &url]));
    assert!(erased.contains("Erased 2 leads"), "{erased}");
    let remaining = ok(splitmark(&[
        "export", "--db", &url, "--format", "ndjson", "--form", "demo",
    ]));
    assert!(!remaining.contains("alice@example.com"), "{remaining}");
    assert_eq!(remaining.lines().count(), 3);
    let body = "email=bob%40example.com&name=Bob&_visitor=vc";
    assert_eq!(submit(&http, &server.base(), body).await, 201);
    assert!(
        ok(splitmark(&["erase", "nobody@example.com", "--db", &url])).contains("Erased 0 leads")
    );
    assert!(!splitmark(&["erase", "not-an-email", "--db", &url])
        .status
        .success());
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erase_while_capture_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    export_and_erase(format!("sqlite:{}", dir.path().join("leads.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erase_while_capture_runs_on_postgres() {
    if let Some(url) = common::postgres::schema_url("the export test").await {
        export_and_erase(url).await;
    }
}

#[test]
fn a_missing_database_is_an_error_not_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let url = format!("sqlite:{}", db.display());
    for args in [
        vec!["export", "--db", &url],
        vec!["erase", "a@example.com", "--db", &url],
        vec!["backup", "--db", &url, "copy.db"],
    ] {
        let out = splitmark(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no database"),
            "{args:?}"
        );
    }
    assert!(!db.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_is_consistent_while_the_server_writes() {
    let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}{FORMS}"))]);
    site.build_ok();
    let db = site.root().join("data/leads.db");
    let url = format!("sqlite:{}", db.display());
    let server = CaptureProcess::start(&site, &url);
    let base = server.base();
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..8 {
        let (acked, stop, base) = (acked.clone(), stop.clone(), base.clone());
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..2_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let body = format!("email=w{w}-{i}%40example.com&_visitor=w{w}-{i}");
                if submit(&http, &base, &body).await == 201 {
                    acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    while acked.load(std::sync::atomic::Ordering::Relaxed) < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = acked.load(std::sync::atomic::Ordering::Relaxed);
    let copy = site.root().join("backups/copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let printed = ok(splitmark(&["backup", "--db", &url, copy.to_str().unwrap()]));
    assert!(printed.contains("Backed up to"), "{printed}");
    // The load is still running: the backup did not stop the writer.
    let during = acked.load(std::sync::atomic::Ordering::Relaxed);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let c = rusqlite::Connection::open(&copy).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the copy is one self-contained file");
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0))
        .unwrap();
    assert!(
        n as usize >= before,
        "{n} leads in the copy, {before} acknowledged before it"
    );
    assert!(
        n as usize <= during + 8,
        "{n} leads in the copy, {during} acknowledged after it"
    );
    drop(c);
    let files: Vec<_> = std::fs::read_dir(copy.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["copy.db"], "one file, no temporary left");
    // The copy opens as a store and is a usable database (restore = put it in place).
    let restored = store::open(&format!("sqlite:{}", copy.display()))
        .await
        .unwrap();
    assert_eq!(
        restored.count_leads(&Default::default()).await.unwrap(),
        n as u64
    );
    restored.close().await.unwrap();
    drop(server);
}

#[test]
fn backup_of_postgres_points_to_pg_dump() {
    let out = splitmark(&["backup", "--db", "postgres://u:p@127.0.0.1/db", "x.dump"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pg_dump") && err.contains("pg_restore"),
        "{err}"
    );
}
