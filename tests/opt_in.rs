//! Double opt-in end to end: the real binary, a real SMTP server (aiosmtpd) receiving the
//! confirmation e-mail, a real webhook receiver on loopback that must get nothing until the
//! link is clicked and then exactly one delivery; tampered, expired and erased links; kill -9
//! between submission and click; the start-up refusals.
//!
//! Skips loudly without python3-aiosmtpd unless `SPLITMARK_REQUIRE_SMTP` is set (CI).

mod common;
#[path = "common/outbox_receiver.rs"]
#[allow(dead_code)]
mod receiver;
#[path = "common/smtp_sink.rs"]
mod smtp_sink;

use common::*;
use receiver::{verify, Plan, Receiver};
use smtp_sink::SmtpSink;
use splitmark::delivery::opt_in::ConfirmKey;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TOKEN: &str = "t0ken";
const KEY: &str = "a confirmation key of at least 32 bytes";
const CONSENT: &str = "Send me the monthly newsletter.";
const LINK_PREFIX: &str = "https://example.test/api/v1/confirm/";

const FORM: &str = "[forms.news]\ndouble_opt_in = true\nconfirm_within_hours = 48\n\
[[forms.news.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Your email\"\nrequired = true\n\
[[forms.news.fields]]\nname = \"consent\"\ntype = \"consent\"\nlabel = \"Send me the monthly newsletter.\"\n";

const CAPTURE: &str = "[capture]\nrate_limit_per_minute = 1000000\nrate_limit_burst = 1000000\nallow_private_targets = true\nretry_schedule = [\"50ms\", \"3s\", \"18s\", \"72s\", \"180s\", \"360s\", \"504s\", \"720s\", \"864s\"]\n";

fn targets(hook: &str) -> String {
    format!(
        "[[capture.webhooks]]\nurl = \"{hook}\"\nsecret_env = \"SALES_HOOK_SECRET\"\n\
         [capture.email]\nsmtp_url_env = \"SMTP_URL\"\nfrom = \"Test site <hello@example.test>\"\nto = [\"sales@example.test\"]\n"
    )
}

fn site(extra: &str) -> Site {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORM}{CAPTURE}{extra}")),
        ("content/a.md", "+++\ntitle = \"A\"\n+++\n"),
    ]);
    site.build_ok();
    site
}

fn sqlite(site: &Site) -> String {
    format!("sqlite:{}", site.root().join("data/leads.db").display())
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

fn command(site: &Site, db: &str, smtp: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
    cmd.args(["capture", "--root"])
        .arg(site.root())
        .args(["--bind", "127.0.0.1:0", "--db", db])
        .env("SPLITMARK_ADMIN_TOKEN", TOKEN)
        .env("SALES_HOOK_SECRET", SECRET)
        .env("SMTP_URL", smtp)
        .env_remove("SPLITMARK_CONFIRM_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Capture {
    fn start(site: &Site, db: &str, smtp: &SmtpSink) -> Capture {
        let mut cmd = command(site, db, &smtp.url(), &[("SPLITMARK_CONFIRM_KEY", KEY)]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let (child, base) = common::process::spawn_listening(&mut cmd);
        Capture { child, base }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn submit(&self, email: &str) -> String {
        let body = serde_urlencoded::to_string([
            ("email", email),
            ("consent", "on"),
            ("_page", "/news/"),
            ("_visitor", email),
        ])
        .unwrap();
        let res = client()
            .post(format!("{}/api/v1/forms/news", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["confirmation"], "unconfirmed", "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// Opens a confirmation link (its path on this server): status and page.
    async fn open(&self, token: &str) -> (u16, String) {
        let res = client()
            .get(format!("{}/api/v1/confirm/{token}", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert_eq!(
            res.headers()["referrer-policy"],
            "no-referrer",
            "the token never leaks to a linked page"
        );
        (status, res.text().await.unwrap())
    }

    async fn admin(&self, path: &str) -> reqwest::Response {
        client()
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// A dashboard page, after logging in with the admin token.
    async fn dashboard(&self, path: &str) -> String {
        let login = client()
            .post(format!("{}/admin/login", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303);
        let cookie = login.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let res = client()
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    async fn deliveries(&self, lead: &str) -> Vec<serde_json::Value> {
        let v: serde_json::Value = self
            .admin(&format!("/api/v1/deliveries?lead={lead}"))
            .await
            .json()
            .await
            .unwrap();
        v["deliveries"].as_array().unwrap().clone()
    }

    /// The lead as the JSON export has it.
    async fn exported(&self, id: &str) -> serde_json::Value {
        let v: serde_json::Value = self
            .admin("/api/v1/leads?format=json")
            .await
            .json()
            .await
            .unwrap();
        v["leads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    }

    /// Waits until the lead's confirmation e-mail row is delivered.
    async fn confirmation_sent(&self, lead: &str) {
        for _ in 0..500 {
            let rows = self.deliveries(lead).await;
            if rows.iter().any(|r| {
                r["event_type"] == "lead.confirmation_requested" && r["status"] == "delivered"
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the confirmation e-mail was not delivered: {:?}",
            self.deliveries(lead).await
        );
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The confirmation token in a received mail's plain-text part.
fn token_in(mail: &serde_json::Value) -> String {
    let text = mail["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "text/plain")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = text.find(LINK_PREFIX).expect("the link is in the text") + LINK_PREFIX.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn setup() -> Option<(SmtpSink, Receiver, Site)> {
    let python = smtp::python_with_aiosmtpd("the double opt-in tests")?;
    let smtp = SmtpSink::start(python).await;
    let rx = Receiver::start(Plan::Always(200)).await;
    let site = site(&targets(&rx.url()));
    Some((smtp, rx, site))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_confirms_by_link_and_only_then_sales_hears_of_it_once() {
    let Some((smtp, rx, site)) = setup().await else {
        return;
    };
    let cap = Capture::start(&site, &sqlite(&site), &smtp);
    let id = cap.submit("ada@example.com").await;

    // The lead gets the confirmation e-mail at its own address.
    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert_eq!(mail["headers"]["to"], "ada@example.com");
    assert!(mail["headers"]["from"]
        .as_str()
        .unwrap()
        .contains("hello@example.test"));
    assert_eq!(
        mail["headers"]["subject"],
        "Please confirm your e-mail address for Test site"
    );
    let types: Vec<&str> = mail["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    let html = mail["parts"][1]["text"].as_str().unwrap();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    let token = token_in(mail);
    assert!(
        html.contains(&format!("href=\"{LINK_PREFIX}{token}\"")),
        "{html}"
    );

    // Sales hears nothing yet: the lead's deliveries are held.
    cap.confirmation_sent(&id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.hits().is_empty(), "no webhook before the click");
    assert_eq!(smtp.messages().len(), 1, "no sales e-mail before the click");
    let rows = cap.deliveries(&id).await;
    let held: Vec<&serde_json::Value> = rows.iter().filter(|r| r["status"] == "held").collect();
    assert_eq!(
        held.len(),
        2,
        "the webhook and the sales e-mail wait: {rows:?}"
    );
    assert!(held.iter().all(|r| r["next_attempt_at"].is_null()));
    let lead = cap.exported(&id).await;
    assert_eq!(lead["confirmation"], "unconfirmed");
    assert!(lead["confirmed_at"].is_null());
    assert_eq!(lead["consent"], CONSENT);
    assert_eq!(lead["page"], "/news/");
    let version = lead["form_version"].as_str().unwrap().to_owned();
    assert_eq!(version.len(), 32);
    let manifest = splitmark::manifest::Manifest::load(&site.manifest_file()).unwrap();
    assert_eq!(
        version,
        splitmark::forms::form_version(&manifest.forms["news"]),
        "the version is the built form's"
    );

    // The dashboard shows the proof, the held rows (no redeliver button) and the count.
    let page = cap.dashboard(&format!("/admin/leads/{id}")).await;
    let doc = scraper::Html::parse_document(&page);
    let proof = texts(&doc, "dl.proof dd");
    assert_eq!(proof[0], CONSENT, "{proof:?}");
    assert_eq!(proof[1], "/news/");
    assert_eq!(proof[2], version);
    assert!(proof[4].starts_with("unconfirmed"), "{proof:?}");
    assert_eq!(
        texts(&doc, "td .tag")
            .iter()
            .filter(|t| t.contains("held"))
            .count(),
        2
    );
    assert_eq!(
        attrs(&doc, "form[action$='/redeliver']", "action").len(),
        1,
        "only the sent confirmation e-mail can be redelivered"
    );
    let overview = cap.dashboard("/admin/").await;
    let doc = scraper::Html::parse_document(&overview);
    let counts = texts(&doc, "#double-opt-in + div td");
    assert_eq!(counts, ["news", "1", "0"], "{overview}");

    // The click: a page in the site's layout, and the held webhook goes out once.
    let clicked = std::time::Instant::now();
    let (status, page) = cap.open(&token).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your e-mail address is confirmed."), "{page}");
    assert!(page.contains("data-state=\"confirmed\""), "{page}");
    assert!(page.contains("<title>"), "the site's layout: {page}");
    let hits = rx.wait_for("the released webhook", |h| !h.is_empty()).await;
    eprintln!("click to released webhook: {:?}", clicked.elapsed());
    assert!(verify(SECRET, &hits[0]));
    assert_eq!(hits[0].json()["type"], "lead.created");
    assert_eq!(hits[0].json()["data"]["id"], id.as_str());
    let mails = smtp.wait_for(2).await;
    assert_eq!(
        mails[1]["rcpt_tos"],
        serde_json::json!(["sales@example.test"])
    );

    // A second click is fine, says so, and sends nothing again.
    let (status, page) = cap.open(&token).await;
    assert_eq!(status, 200);
    assert!(page.contains("already confirmed"), "{page}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), 1, "exactly one webhook");
    assert_eq!(smtp.messages().len(), 2, "exactly one sales e-mail");

    let page = cap.dashboard(&format!("/admin/leads/{id}")).await;
    let proof = texts(&scraper::Html::parse_document(&page), "dl.proof dd");
    assert!(proof[4].starts_with("confirmed 20"), "{proof:?}");
    let lead = cap.exported(&id).await;
    assert_eq!(lead["confirmation"], "confirmed");
    let confirmed_at: chrono::DateTime<chrono::Utc> =
        lead["confirmed_at"].as_str().unwrap().parse().unwrap();
    let received_at: chrono::DateTime<chrono::Utc> =
        lead["received_at"].as_str().unwrap().parse().unwrap();
    assert!(confirmed_at >= received_at);

    // The CSV export carries the proof.
    let csv = cap
        .admin("/api/v1/leads?format=csv")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| header.iter().position(|c| c == name).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[col("confirmation")], "confirmed");
    assert_eq!(&row[col("form_version")], version);
    assert_eq!(&row[col("consent")], CONSENT);
    assert!(row[col("confirmed_at")]
        .parse::<chrono::DateTime<chrono::Utc>>()
        .is_ok());

    // `splitmark report` counts the confirmation.
    let out = Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "--root"])
        .arg(site.root())
        .args(["--db", &sqlite(&site)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("news"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[..3], ["news", "0", "1"], "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_expired_and_erased_links_confirm_nothing() {
    let Some((smtp, rx, site)) = setup().await else {
        return;
    };
    let cap = Capture::start(&site, &sqlite(&site), &smtp);
    let id = cap.submit("bob@example.com").await;
    let token = token_in(&smtp.wait_for(1).await[0]);

    // One changed character: 400, nothing confirmed.
    let mut chars: Vec<char> = token.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let (status, page) = cap.open(&tampered).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("This link is not valid"), "{page}");
    for junk in ["x", "%00", &"A".repeat(400)] {
        assert_eq!(cap.open(junk).await.0, 400, "{junk}");
    }

    // A genuine token past its expiry (signed with the server's key, expired an hour ago).
    let key = ConfirmKey::parse(KEY).unwrap();
    let expired = key
        .sign(&id, chrono::Utc::now() - chrono::Duration::hours(1))
        .unwrap();
    let (status, page) = cap.open(&expired).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("This link has expired"), "{page}");
    // Signed for a lead that does not exist.
    let stranger = key
        .sign(
            &uuid::Uuid::now_v7().to_string(),
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .unwrap();
    assert_eq!(cap.open(&stranger).await.0, 404);
    assert_eq!(cap.exported(&id).await["confirmation"], "unconfirmed");
    let res = client()
        .post(format!("{}/api/v1/confirm/{token}", cap.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);

    // The erased lead's link shows "not found", and its held deliveries are gone.
    cap.confirmation_sent(&id).await;
    let res = client()
        .delete(format!("{}/api/v1/leads?email=bob%40example.com", cap.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{:?}", res.text().await);
    assert!(cap.deliveries(&id).await.is_empty());
    let (status, page) = cap.open(&token).await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("Sign-up not found"), "{page}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.hits().is_empty(), "nothing went to sales");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_delivery_survives_kill_9_and_goes_out_after_the_click() {
    let Some((smtp, rx, site)) = setup().await else {
        return;
    };
    let db = sqlite(&site);
    let cap = Capture::start(&site, &db, &smtp);
    let id = cap.submit("cy@example.com").await;
    let token = token_in(&smtp.wait_for(1).await[0]);
    cap.confirmation_sent(&id).await;
    cap.kill();

    let cap = Capture::start(&site, &db, &smtp);
    let rows = cap.deliveries(&id).await;
    assert_eq!(
        rows.iter().filter(|r| r["status"] == "held").count(),
        2,
        "{rows:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.hits().is_empty(), "a restart does not release it");
    assert_eq!(smtp.messages().len(), 1, "nor resend the confirmation");
    assert_eq!(cap.open(&token).await.0, 200);
    let hits = rx.wait_for("the released webhook", |h| !h.is_empty()).await;
    assert_eq!(hits[0].json()["data"]["id"], id.as_str());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 1);
}

/// Runs `splitmark capture` expecting it to refuse to start; returns its error output.
fn refused(site: &Site, env: &[(&str, &str)]) -> String {
    let out = command(site, &sqlite(site), "smtp://127.0.0.1:9", env)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn double_opt_in_without_smtp_or_key_refuses_to_start() {
    let no_email = site(
        "[[capture.webhooks]]\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"SALES_HOOK_SECRET\"\n",
    );
    let e = refused(&no_email, &[("SPLITMARK_CONFIRM_KEY", KEY)]);
    assert!(
        e.contains("splitmark.toml")
            && e.contains("[forms.news] double_opt_in")
            && e.contains("[capture.email]"),
        "{e}"
    );
    let with_email = site(&targets("http://127.0.0.1:9/hook"));
    let e = refused(&with_email, &[]);
    assert!(
        e.contains("[forms.news] double_opt_in") && e.contains("SPLITMARK_CONFIRM_KEY is not set"),
        "{e}"
    );
    let e = refused(&with_email, &[("SPLITMARK_CONFIRM_KEY", "short")]);
    assert!(e.contains("at least 32"), "{e}");
}

#[test]
fn double_opt_in_without_an_email_field_fails_the_build() {
    let site = Site::new(&[(
        "splitmark.toml",
        &format!(
            "{CONFIG}[forms.news]\ndouble_opt_in = true\n[[forms.news.fields]]\nname = \"name\"\nlabel = \"Name\"\n"
        ),
    )]);
    let e = site.build().unwrap_err();
    assert!(
        e.contains("[forms.news]") && e.contains("double_opt_in"),
        "{e}"
    );
}
