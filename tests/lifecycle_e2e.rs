//! The way out of the sales funnel end to end, with the real binary: `lead.stage_changed`
//! delivered to a loopback webhook receiver, and the `lead.sla_breached` notification, which
//! fires exactly once for a lead left uncontacted, also across kill -9 before and after its
//! deadline, and never for a lead contacted in time.
//!
//! The deadline is `[capture] contact_within_minutes = 0.05` (three seconds): fractional
//! minutes are a supported setting, so the test needs no test-only clock.

mod common;
#[path = "common/outbox_receiver.rs"]
#[allow(dead_code)]
mod receiver;

use common::*;
use receiver::{verify, Hit, Plan, Receiver};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "t0ken";

const FORMS: &str = "[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Work email\"\nrequired = true\n[[forms.demo.fields]]\nname = \"name\"\ntype = \"text\"\nlabel = \"Your name\"\n[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\nallow_private_targets = true\nretry_schedule = [\"50ms\", \"3s\", \"18s\", \"72s\", \"180s\", \"360s\", \"504s\", \"720s\", \"864s\"]\n";

fn site(extra: &str, url: &str, events: &str) -> Site {
    let hook = format!("[[capture.webhooks]]\nurl = \"{url}\"\nsecret_env = \"SALES_HOOK_SECRET\"\nevents = [{events}]\n");
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}{extra}{hook}")),
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

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

impl Capture {
    fn start(site: &Site) -> Capture {
        let db = format!("sqlite:{}", site.root().join("data/leads.db").display());
        Capture::start_on(site, &db)
    }

    fn start_on(site: &Site, db: &str) -> Capture {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
        cmd.args(["capture", "--root"])
            .arg(site.root())
            .args(["--bind", "127.0.0.1:0", "--db", db])
            .env("SPLITMARK_ADMIN_TOKEN", TOKEN)
            .env("SALES_HOOK_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let (child, base) = common::process::spawn_listening(&mut cmd);
        Capture { child, base }
    }

    /// `kill -9`.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn submit(&self, email: &str) -> String {
        let res = client()
            .post(format!("{}/api/v1/forms/demo", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(format!("email={}&name=Ada", email.replace('@', "%40")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    async fn change(&self, id: &str, body: Value) -> u16 {
        client()
            .post(format!("{}/api/v1/leads/{id}/events", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn deliveries(&self) -> Vec<Value> {
        let v: Value = client()
            .get(format!("{}/api/v1/deliveries", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["deliveries"].as_array().unwrap().clone()
    }
}

fn of_type<'a>(hits: &'a [Hit], kind: &str) -> Vec<&'a Hit> {
    hits.iter().filter(|h| h.json()["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_change_is_delivered_once_signed_with_the_lead_and_the_change() {
    let rx = Receiver::start(Plan::FailFirst(503)).await;
    let site = site("", &rx.url(), "\"lead.stage_changed\"");
    let cap = Capture::start(&site);
    // A second lead, still waiting when the report runs.
    cap.submit("bob@example.com").await;
    let id = cap.submit("ada@example.com").await;
    let change = json!({"stage": "customer", "value": "250", "currency": "EUR", "event_id": "deal.42", "note": "signed"});
    assert_eq!(cap.change(&id, change.clone()).await, 201);
    assert_eq!(cap.change(&id, change).await, 200, "a replay");
    let hits = rx
        .wait_for("the stage change, retried after a 503", |h| {
            h.iter().any(|h| h.status == 200)
        })
        .await;
    let ok: Vec<&Hit> = hits.iter().filter(|h| h.status == 200).collect();
    assert_eq!(ok.len(), 1);
    let h = ok[0];
    assert!(verify(SECRET, h));
    assert!(!h.id.contains('.'));
    assert!(
        hits.iter().all(|x| x.id == h.id),
        "one event id on every attempt"
    );
    let v = h.json();
    assert_eq!(v["type"], "lead.stage_changed");
    assert_eq!(v["data"]["id"], id.as_str());
    assert_eq!(v["data"]["email"], "ada@example.com");
    assert_eq!(v["data"]["change"]["stage"], "customer");
    assert_eq!(v["data"]["change"]["value"], "250.00");
    assert_eq!(v["data"]["change"]["actor"], "admin");
    assert_eq!(v["data"]["change"]["event_id"], "deal.42");
    // The replay wrote no second delivery; the first lead.created went nowhere (not subscribed).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = cap.deliveries().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["event_type"], "lead.stage_changed");

    // `splitmark report` shows time to first contact: one lead contacted, one still waiting
    // (and waiting longer than the other took to be contacted: it stays at risk).
    drop(cap);
    let out = Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "--root"])
        .arg(site.root())
        .args([
            "--db",
            &format!("sqlite:{}", site.root().join("data/leads.db").display()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Time to first contact"), "{text}");
    let demo = text
        .lines()
        .find(|l| l.trim_start().starts_with("form") && l.contains("demo"))
        .unwrap_or_else(|| panic!("no row for the form: {text}"));
    let cells: Vec<&str> = demo.split_whitespace().collect();
    // by, group, leads, contacted, p50 (the contacted one is the first half), p90 (not reached).
    assert_eq!(&cells[..4], ["form", "demo", "2", "1"], "{demo}");
    assert_eq!(cells.last(), Some(&"50.0%"), "{demo}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_deadline_fires_once_across_kill_9_and_never_when_met() {
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(
        "contact_within_minutes = 0.05\n",
        &rx.url(),
        "\"lead.sla_breached\"",
    );
    let db = format!("sqlite:{}", site.root().join("data/leads.db").display());
    deadline_across_restarts(&rx, &site, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_deadline_fires_once_across_kill_9_on_postgres() {
    let Some(db) = common::postgres::schema_url("the contact deadline on PostgreSQL").await else {
        return;
    };
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(
        "contact_within_minutes = 0.05\n",
        &rx.url(),
        "\"lead.sla_breached\"",
    );
    deadline_across_restarts(&rx, &site, &db).await;
}

/// One lead left waiting, one contacted at once; kill -9 before the deadline and after it.
async fn deadline_across_restarts(rx: &Receiver, site: &Site, db: &str) {
    let cap = Capture::start_on(site, db);
    let late = cap.submit("late@example.com").await;
    let called = cap.submit("called@example.com").await;
    assert_eq!(
        cap.change(&called, json!({"stage": "contacted"})).await,
        201
    );
    // Killed before the deadline: the row must survive and fire after the restart.
    cap.kill();
    let cap = Capture::start_on(site, db);
    let hits = rx.wait_for("the missed deadline", |h| !h.is_empty()).await;
    let sla = of_type(&hits, "lead.sla_breached");
    assert_eq!(sla.len(), 1);
    assert!(verify(SECRET, sla[0]));
    let v = sla[0].json();
    assert_eq!(v["data"]["id"], late.as_str());
    assert_eq!(v["data"]["sla"]["contact_within_minutes"], 0.05);
    // Killed after it fired and was recorded: nothing is repeated. (A kill between the
    // receiver's answer and the record is the outbox's at-least-once window: the repeat
    // carries the same webhook-id, for the receiver to drop.)
    for _ in 0..200 {
        let rows = cap.deliveries().await;
        if rows
            .iter()
            .any(|r| r["lead"] == late.as_str() && r["status"] == "delivered")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cap.kill();
    let cap = Capture::start_on(site, db);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        rx.hits().len(),
        1,
        "one notification in all: {:?}",
        rx.hits()
    );
    let rows = cap.deliveries().await;
    let status = |lead: &str| {
        rows.iter()
            .find(|r| r["lead"] == lead)
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status(&late).as_deref(), Some("delivered"));
    assert_eq!(status(&called).as_deref(), Some("cancelled"), "{rows:?}");
    // Contacting the late lead now changes nothing that was sent.
    assert_eq!(cap.change(&late, json!({"stage": "contacted"})).await, 201);
    // A cancelled deadline sent again by hand is checked once more when it comes due: the
    // lead was contacted, so it is cancelled again, not sent.
    let row = rows.iter().find(|r| r["lead"] == called.as_str()).unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = client()
        .post(format!("{}/api/v1/deliveries/{row}/redeliver", cap.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mut again = String::new();
    for _ in 0..200 {
        let rows = cap.deliveries().await;
        again = rows.iter().find(|r| r["id"] == row).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if again != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(again, "cancelled");
    assert_eq!(rx.hits().len(), 1);
}
