//! Lead delivery end to end: the real binary, real HTTP to a receiver on loopback, a real SMTP
//! server, kill -9 and restarts, and two instances on one PostgreSQL.
//!
//! Retry delays are shrunk with `[capture] retry_schedule` (a hundredth of the default), so "retried
//! after 5 s" happens after 50 ms here.

mod common;
#[path = "common/outbox_receiver.rs"]
mod receiver;
#[path = "common/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

use common::*;
use receiver::{verify, Plan, Receiver};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "t0ken";

const FORMS: &str = "[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Work email\"\nrequired = true\n[[forms.demo.fields]]\nname = \"name\"\ntype = \"text\"\nlabel = \"Your name\"\n[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\nallow_private_targets = true\nretry_schedule = [\"50ms\", \"3s\", \"18s\", \"72s\", \"180s\", \"360s\", \"504s\", \"720s\", \"864s\"]\n";

fn webhook(url: &str) -> String {
    format!("[[capture.webhooks]]\nurl = \"{url}\"\nsecret_env = \"SALES_HOOK_SECRET\"\nevents = [\"lead.created\"]\n")
}

/// A built fixture site with the demo form and these delivery targets.
fn site(targets: &str) -> Site {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}{targets}")),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
    ]);
    site.build_ok();
    site
}

/// The capture binary; killed (SIGKILL) when dropped.
struct Capture {
    child: Child,
    base: String,
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Capture {
    fn start(site: &Site, db: &str, env: &[(&str, &str)]) -> Capture {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
        cmd.args(["capture", "--root"])
            .arg(site.root())
            .args(["--bind", "127.0.0.1:0", "--db", db])
            .env("SPLITMARK_ADMIN_TOKEN", TOKEN)
            .env("SALES_HOOK_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (child, base) = common::process::spawn_listening(&mut cmd);
        Capture { child, base }
    }

    /// `kill -9`.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Posts a lead as a script would; returns its id.
    async fn submit(&self, body: &str) -> String {
        let res = client()
            .post(format!("{}/api/v1/forms/demo", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// Every delivery, once none is pending any more (the worker records an attempt just
    /// after the receiver answered it).
    async fn settled(&self) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let rows = self.deliveries("").await;
            if rows.iter().all(|r| r["status"] != "pending") {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("deliveries still pending: {:?}", self.deliveries("").await);
    }

    async fn deliveries(&self, query: &str) -> Vec<serde_json::Value> {
        let res = client()
            .get(format!("{}/api/v1/deliveries{query}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: serde_json::Value = res.json().await.unwrap();
        v["deliveries"].as_array().unwrap().clone()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn sqlite(site: &Site) -> String {
    format!("sqlite:{}", site.root().join("data/leads.db").display())
}

/// The ids of the leads the accepted webhooks name.
fn delivered_leads(hits: &[receiver::Hit]) -> Vec<String> {
    hits.iter()
        .filter(|h| h.status == 200)
        .map(|h| h.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_is_signed_as_the_readme_shows() {
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            cap.submit(&format!(
                "email=p{i}%40example.com&name=P{i}&_visitor=v{i}&utm_source=ads"
            ))
            .await,
        );
    }
    let hits = rx.wait_for("5 webhooks", |h| h.len() >= 5).await;
    for h in &hits {
        assert!(verify(SECRET, h), "signature verifies: {h:?}");
        let ts: i64 = h.timestamp.parse().unwrap();
        assert!(
            (chrono::Utc::now().timestamp() - ts).abs() < 300,
            "a fresh timestamp"
        );
        assert_eq!(h.content_type, "application/json");
        assert!(h.user_agent.starts_with("splitmark/"), "{}", h.user_agent);
        let v = h.json();
        assert_eq!(v["type"], "lead.created");
        assert_eq!(v["data"]["form"], "demo");
        assert_eq!(v["data"]["answers"]["name"].as_str().unwrap().len(), 2);
        // A tampered body does not verify.
        let mut forged = h.clone();
        forged.body = forged.body.replace("example.com", "evil.com");
        assert!(!verify(SECRET, &forged));
    }
    let mut got = delivered_leads(&hits);
    got.sort();
    ids.sort();
    assert_eq!(got, ids, "each lead once");
    let rows = cap.settled().await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["attempts"] == 1
        && r["last_status"] == 200
        && r["first_attempt_ms"].as_i64().is_some()));
    let metrics = client()
        .get(format!("{}/metrics", cap.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("splitmark_delivery_attempts_total{outcome=\"delivered\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("splitmark_deliveries_pending 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("splitmark_delivery_first_attempt_seconds_count 5"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_and_every_event_arrives_exactly_once() {
    let rx = Receiver::start(Plan::FailFirst(503)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let mut ids = HashSet::new();
    for i in 0..10 {
        ids.insert(
            cap.submit(&format!("email=r{i}%40example.com&_visitor=r{i}"))
                .await,
        );
    }
    let hits = rx
        .wait_for("10 accepted webhooks", |h| {
            h.iter().filter(|x| x.status == 200).count() >= 10
        })
        .await;
    let mut per_id: HashMap<&str, Vec<u16>> = HashMap::new();
    for h in &hits {
        assert!(verify(SECRET, h));
        per_id.entry(&h.id).or_default().push(h.status);
    }
    assert_eq!(per_id.len(), 10);
    for (id, statuses) in &per_id {
        assert_eq!(
            statuses,
            &[503, 200],
            "{id}: refused once, then accepted once"
        );
    }
    let got: HashSet<String> = delivered_leads(&hits).into_iter().collect();
    assert_eq!(got, ids);
    let rows = cap.settled().await;
    assert!(rows
        .iter()
        .all(|r| r["status"] == "delivered" && r["attempts"] == 2 && r["last_status"] == 200));
    // Nothing more arrives: the rows are done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_arrive_after_kill_9_and_restart() {
    let rx = Receiver::start(Plan::Always(503)).await;
    let site = site(&webhook(&rx.url()));
    let db = sqlite(&site);
    let cap = Capture::start(&site, &db, &[]);
    let mut ids = HashSet::new();
    for i in 0..20 {
        ids.insert(
            cap.submit(&format!("email=k{i}%40example.com&_visitor=k{i}"))
                .await,
        );
    }
    // Every delivery has been tried and refused at least once; then the server dies.
    rx.wait_for("a first attempt of each", |h| {
        h.iter().map(|x| &x.id).collect::<HashSet<_>>().len() >= 20
    })
    .await;
    let pending = cap.deliveries("?status=pending").await;
    assert_eq!(pending.len(), 20, "all still pending");
    cap.kill();
    rx.set_plan(Plan::Always(200));
    let cap = Capture::start(&site, &db, &[]);
    let hits = rx
        .wait_for("all 20 after the restart", |h| {
            delivered_leads(h).into_iter().collect::<HashSet<_>>().len() >= 20
        })
        .await;
    let got: HashSet<String> = delivered_leads(&hits).into_iter().collect();
    assert_eq!(got, ids, "every pending delivery arrived");
    // Let the restarted worker record the last attempts, then nothing is pending.
    for _ in 0..100 {
        if cap.deliveries("?status=pending").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cap.deliveries("?status=pending").await.is_empty());
    assert_eq!(
        delivered_leads(&rx.hits()).len(),
        20,
        "and each exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_honeypot_lead_is_delivered_to_nobody() {
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let spam = cap
        .submit("email=bot%40example.com&_visitor=bot&_gotcha=buy+now")
        .await;
    let real = cap.submit("email=human%40example.com&_visitor=human").await;
    let hits = rx
        .wait_for("the real lead", |h| !delivered_leads(h).is_empty())
        .await;
    assert_eq!(delivered_leads(&hits), std::slice::from_ref(&real));
    assert!(
        cap.deliveries(&format!("?lead={spam}")).await.is_empty(),
        "no row for spam"
    );
    assert_eq!(cap.deliveries(&format!("?lead={real}")).await.len(), 1);
}

/// The threads of process `pid` as (name, nice value), read from `/proc`.
#[cfg(target_os = "linux")]
fn threads_of(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = task.unwrap().path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap();
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
        // Fields after the parenthesised name: state is field 3, nice is field 19.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let nice: i64 = rest.split(' ').nth(16).unwrap().parse().unwrap();
        out.push((name.trim().to_owned(), nice));
    }
    out
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_run_on_a_lower_priority_thread_and_requests_do_not() {
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let lead = cap.submit("email=prio%40example.com&_visitor=prio").await;
    let hits = rx
        .wait_for("the lead's webhook", |h| !delivered_leads(h).is_empty())
        .await;
    assert_eq!(delivered_leads(&hits), [lead]);
    use splitmark::delivery::worker::{BLOCKING_THREAD_NAME, THREAD_NAME};
    // Linux keeps the first 15 bytes of a thread's name.
    let (delivery_name, blocking_name) = (&THREAD_NAME[..15], &BLOCKING_THREAD_NAME[..15]);
    let threads = threads_of(cap.child.id());
    let delivery: Vec<i64> = threads
        .iter()
        .filter(|(name, _)| name == delivery_name)
        .map(|(_, nice)| *nice)
        .collect();
    assert_eq!(
        delivery,
        [i64::from(splitmark::delivery::worker::BACKGROUND_NICE)],
        "one delivery thread, lowered: {threads:?}"
    );
    // The delivery runtime's blocking threads (name resolution) inherit its priority.
    let others: Vec<&(String, i64)> = threads
        .iter()
        .filter(|(n, _)| n != delivery_name && n != blocking_name)
        .collect();
    assert!(
        others.iter().any(|(n, _)| n.starts_with("tokio-")),
        "the request threads are there: {threads:?}"
    );
    assert!(
        others.iter().all(|(_, nice)| *nice == 0),
        "request and writer threads keep their priority: {threads:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_needs_the_token_and_resends_the_same_webhook_id() {
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let lead = cap.submit("email=again%40example.com&_visitor=again").await;
    let first = rx.wait_for("the first delivery", |h| !h.is_empty()).await;
    let rows = cap.deliveries(&format!("?lead={lead}")).await;
    let id = rows[0]["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/deliveries/{id}/redeliver", cap.base);
    let res = client().post(&url).send().await.unwrap();
    assert_eq!(res.status(), 401, "no token");
    let res = client()
        .post(&url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a wrong token");
    let res = client()
        .get(format!("{}/api/v1/deliveries", cap.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the log needs the token too");
    let res = client().post(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let hits = rx.wait_for("the redelivery", |h| h.len() >= 2).await;
    assert_eq!(hits[1].id, first[0].id, "the same webhook-id");
    assert_eq!(hits[1].body, first[0].body, "the same body");
    assert!(verify(SECRET, &hits[1]));
    let res = client()
        .post(format!("{}/api/v1/deliveries/999999/redeliver", cap.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = client()
        .get(format!("{}/api/v1/deliveries?status=lost", cap.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_stops_retrying() {
    let rx = Receiver::start(Plan::Always(410)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let lead = cap.submit("email=gone%40example.com&_visitor=gone").await;
    rx.wait_for("the attempt", |h| !h.is_empty()).await;
    let mut row = serde_json::Value::Null;
    for _ in 0..100 {
        row = cap.deliveries(&format!("?lead={lead}")).await[0].clone();
        if row["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["status"], "failed");
    assert_eq!(row["last_status"], 410);
    assert_eq!(row["attempts"], 1);
    assert_eq!(rx.hits().len(), 1, "not tried again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_reaches_a_real_smtp_server_with_the_leads_reply_to() {
    let Some(python) = common::smtp::python_with_aiosmtpd("the e-mail delivery test") else {
        return;
    };
    let smtp = smtp_sink::SmtpSink::start(python).await;
    let email = "[capture.email]\nsmtp_url_env = \"TEST_SMTP_URL\"\nfrom = \"Leads <leads@example.com>\"\nto = [\"sales@example.com\"]\nevents = [\"lead.created\"]\n";
    let site = site(email);
    let cap = Capture::start(&site, &sqlite(&site), &[("TEST_SMTP_URL", &smtp.url())]);
    let lead = cap
        .submit("email=Ada%40Example.com&name=Ada+Lovelace&_visitor=ada&utm_source=newsletter")
        .await;
    let m = smtp.wait_for(1).await.remove(0);
    let h = &m["headers"];
    assert_eq!(
        h["reply-to"], "Ada Lovelace <ada@example.com>",
        "the lead's own address: {m}"
    );
    assert_eq!(m["rcpt_tos"], serde_json::json!(["sales@example.com"]));
    assert!(
        m["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["text"].as_str().unwrap_or("").contains("Ada Lovelace")),
        "the lead's name: {m}"
    );
    let rows = cap.deliveries(&format!("?lead={lead}")).await;
    assert_eq!(rows[0]["target"], "email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_deliver_100_events_once_each() {
    let Some(db) = common::postgres::schema_url("two capture instances").await else {
        return;
    };
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let a = Capture::start(&site, &db, &[]);
    let b = Capture::start(&site, &db, &[]);
    let mut ids = HashSet::new();
    for i in 0..100 {
        let cap = if i % 2 == 0 { &a } else { &b };
        ids.insert(
            cap.submit(&format!("email=pg{i}%40example.com&_visitor=pg{i}"))
                .await,
        );
    }
    let hits = rx
        .wait_for("100 events", |h| {
            delivered_leads(h).into_iter().collect::<HashSet<_>>().len() >= 100
        })
        .await;
    let got: HashSet<String> = delivered_leads(&hits).into_iter().collect();
    assert_eq!(got, ids);
    for _ in 0..100 {
        if a.deliveries("?status=pending").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.deliveries("?status=pending").await.is_empty());
    let hits = rx.hits();
    assert_eq!(
        hits.len(),
        100,
        "each event exactly once, by either instance"
    );
    let distinct: HashSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(distinct.len(), 100);
}

/// Logs in to the dashboard; returns the session cookie.
async fn login(base: &str) -> String {
    let res = no_redirects()
        .post(format!("{base}/admin/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_deliveries_and_redelivers_from_its_own_origin_only() {
    let rx = Receiver::start(Plan::Always(410)).await;
    let site = site(&webhook(&rx.url()));
    let cap = Capture::start(&site, &sqlite(&site), &[]);
    let lead = cap
        .submit("email=dash%40example.com&name=%3Cb%3EMallory%3C%2Fb%3E&_visitor=dash")
        .await;
    rx.wait_for("the attempt", |h| !h.is_empty()).await;
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = cap.deliveries("?status=failed").await;
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = rows[0]["id"].as_i64().unwrap();
    let cookie = login(&cap.base).await;
    let get = |path: String| {
        let cookie = cookie.clone();
        async move {
            let res = no_redirects()
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, page) = get(format!("{}/admin/deliveries", cap.base)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("action=\"/admin/deliveries/{id}/redeliver\"")),
        "{page}"
    );
    assert!(page.contains("failed") && page.contains("410"), "{page}");
    let (status, page) = get(format!("{}/admin/leads/{lead}", cap.base)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("id=\"delivery-{id}\"")),
        "the lead shows its delivery"
    );
    assert!(
        page.contains("&lt;b&gt;Mallory"),
        "answers are escaped: {page}"
    );
    assert!(!page.contains("<b>Mallory"));
    let (status, _) = get(format!("{}/admin/leads/not-a-lead", cap.base)).await;
    assert_eq!(status, 404);
    let redeliver = format!("{}/admin/deliveries/{id}/redeliver", cap.base);
    // A cross-site form post is refused, with or without the session.
    let res = no_redirects()
        .post(&redeliver)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Without a session: to the login page.
    let res = no_redirects().post(&redeliver).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/login");
    assert_eq!(rx.hits().len(), 1, "neither refused post redelivered");
    rx.set_plan(Plan::Always(200));
    let res = no_redirects()
        .post(&redeliver)
        .header("cookie", &cookie)
        .header("origin", &cap.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/deliveries");
    let hits = rx.wait_for("the redelivery", |h| h.len() >= 2).await;
    assert_eq!(hits[1].id, hits[0].id);
    assert_eq!(hits[1].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_webhook_does_not_delay_the_email() {
    let Some(python) = common::smtp::python_with_aiosmtpd("the e-mail delivery test") else {
        return;
    };
    let smtp = smtp_sink::SmtpSink::start(python).await;
    let rx = Receiver::start(Plan::Slow(8_000)).await;
    let email = "[capture.email]\nsmtp_url_env = \"TEST_SMTP_URL\"\nfrom = \"Leads <leads@example.com>\"\nto = [\"sales@example.com\"]\n";
    let site = site(&format!("{}{email}", webhook(&rx.url())));
    let cap = Capture::start(&site, &sqlite(&site), &[("TEST_SMTP_URL", &smtp.url())]);
    let lead = cap.submit("email=fast%40example.com&_visitor=fast").await;
    rx.wait_for("the webhook request", |h| !h.is_empty()).await;
    smtp.wait_for(1).await;
    // The webhook is still being held (8 s) while the e-mail has already gone out.
    assert_eq!(
        status_of(&cap, &lead, "webhook:").await,
        Some(("pending".into(), 0))
    );
    let mut email_row = None;
    for _ in 0..100 {
        email_row = status_of(&cap, &lead, "email").await;
        if email_row.as_ref().is_some_and(|(s, _)| s == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(email_row, Some(("delivered".into(), 1)));
}

async fn status_of(cap: &Capture, lead: &str, target: &str) -> Option<(String, i64)> {
    cap.deliveries(&format!("?lead={lead}"))
        .await
        .iter()
        .find(|r| r["target"].as_str().unwrap().starts_with(target))
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["attempts"].as_i64().unwrap(),
            )
        })
}

/// A kill -9 mid-stream, also between a webhook's 2xx and its record, loses the record,
/// never the delivery. The row is attempted again after the restart with the
/// same `webhook-id` (at least once per attempt), and every acknowledged lead arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_loses_no_webhook_and_keeps_each_webhook_id() {
    const LEADS: usize = 300;
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&webhook(&rx.url()));
    let db = sqlite(&site);
    let cap = Capture::start(&site, &db, &[]);
    let acked = std::sync::Arc::new(std::sync::Mutex::new(HashSet::new()));
    let submitter = {
        let (base, acked) = (cap.base.clone(), acked.clone());
        tokio::spawn(async move {
            let client = client();
            for i in 0..LEADS {
                let res = client
                    .post(format!("{base}/api/v1/forms/demo"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(format!("email=s{i}%40example.com&_visitor=s{i}"))
                    .send()
                    .await;
                // The server is killed mid-stream: what it acknowledged must arrive.
                let Ok(res) = res else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(v) = res.json::<serde_json::Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap()
                    .insert(v["id"].as_str().unwrap().to_owned());
            }
        })
    };
    rx.wait_for("a third of the webhooks", |h| h.len() >= LEADS / 3)
        .await;
    cap.kill();
    submitter.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= LEADS / 3 && acked.len() < LEADS,
        "killed mid-stream: {} of {LEADS} acknowledged",
        acked.len()
    );
    let cap = Capture::start(&site, &db, &[]);
    let hits = rx
        .wait_for("every acknowledged lead after the restart", |h| {
            let got: HashSet<String> = delivered_leads(h).into_iter().collect();
            acked.iter().all(|id| got.contains(id))
        })
        .await;
    let mut ids_by_lead: HashMap<String, HashSet<String>> = HashMap::new();
    for h in hits.iter().filter(|h| h.status == 200) {
        let lead = h.json()["data"]["id"].as_str().unwrap().to_owned();
        ids_by_lead.entry(lead).or_default().insert(h.id.clone());
    }
    for lead in &acked {
        assert_eq!(
            ids_by_lead[lead].len(),
            1,
            "lead {lead}: one webhook-id on every attempt"
        );
    }
    // A lead can commit with its answer lost to the kill: stored, so delivered too.
    let rows = cap.settled().await;
    let stored: HashSet<String> = rows
        .iter()
        .map(|r| r["lead"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), stored.len(), "one delivery per lead");
    assert!(
        acked.is_subset(&stored),
        "every acknowledged lead was stored"
    );
    assert!(
        rows.iter().all(|r| r["status"] == "delivered"),
        "every row ends delivered"
    );
    let hits = rx.hits();
    let arrived: HashSet<String> = delivered_leads(&hits).into_iter().collect();
    assert_eq!(arrived, stored, "every stored lead arrived, and no other");
    eprintln!(
        "{} leads, {} webhooks accepted: {} sent again after the kill",
        stored.len(),
        delivered_leads(&hits).len(),
        delivered_leads(&hits).len() - stored.len()
    );
    assert!(hits.iter().all(|h| verify(SECRET, h)), "every one signed");
}
