//! End-to-end tests in headless Chromium (WebDriver via chromedriver).
//!
//! Skipped with a loud message when chromedriver is missing, unless `SPLITMARK_REQUIRE_BROWSER=1`
//! (set by CI), which makes them required.

mod common;
use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use splitmark::devserver::{start, DevServer, ServeOptions};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FORMS: &str = r#"
[forms.demo]
headline = "Book a demo"
submit = "Send"
success_message = "Thanks, we got it."
[[forms.demo.fields]]
name = "email"
type = "email"
label = "Email"
required = true
"#;

const LANDING: &str = "+++\ntitle = \"Landing\"\ntemplate = \"landing.html\"\n[experiment]\nid = \"hero\"\ngoal = \"demo\"\nstatus = \"running\"\nvariants = [{ id = \"a\" }, { id = \"b\", extra = { hero = \"Hero B\" } }]\n+++\n{% variant(id=\"a\") %}\nBlock A\n{% end %}\n{% variant(id=\"b\") %}\nBlock B\n{% end %}\n\n{{ form(id=\"demo\") }}\n";

/// A page whose body starts with a probe: what the browser knows before any content parses.
const PROBE_TEMPLATE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">{{ page.experiment_head | safe }}<title>probe</title></head><body><script>window.__probe=(function(){var r=document.documentElement.getAttribute("data-sm-first");function d(v){var e=document.createElement("div");e.setAttribute("data-sm-e","first");e.setAttribute("data-sm-v",v);document.body.appendChild(e);var s=getComputedStyle(e).display;e.remove();return s}return{marker:r,a:d("a"),b:d("b")}})()</script>{{ page.content | safe }}</body></html>"#;

const PROBE: &str = "+++\ntitle = \"Probe\"\ntemplate = \"probe.html\"\n[experiment]\nid = \"first\"\ngoal = \"demo\"\nstatus = \"running\"\nvariants = [{ id = \"a\" }, { id = \"b\" }]\n+++\n{% variant(id=\"a\") %}\nBlock A\n{% end %}\n{% variant(id=\"b\") %}\nBlock B\n{% end %}\n";

struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let required = std::env::var("SPLITMARK_REQUIRE_BROWSER").is_ok();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }),
        Err(e) => {
            assert!(
                !required,
                "SPLITMARK_REQUIRE_BROWSER is set but chromedriver cannot start: {e}"
            );
            eprintln!("\n*** SKIPPED: browser tests need chromium and chromedriver (apt-get install chromium chromium-driver): {e} ***\n");
            None
        }
    }
}

async fn browser(d: &Driver, javascript: bool) -> Client {
    browser_with(d, javascript, false).await
}

/// A browser; `phone` emulates a 390 px wide viewport (a desktop window cannot be that narrow).
async fn browser_with(d: &Driver, javascript: bool, phone: bool) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let mut opts = json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 format!("--user-data-dir={}", profile.display()), "--window-size=390,844"],
    });
    if phone {
        opts["mobileEmulation"] =
            json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}});
    }
    if !javascript {
        opts["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&d.url)
            .await
        {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not accept a session");
}

async fn site_server() -> (Site, DevServer, String) {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}")),
        ("content/landing.md", LANDING),
        ("content/probe.md", PROBE),
        ("templates/probe.html", PROBE_TEMPLATE),
    ]);
    let server = start(ServeOptions {
        root: site.root().to_path_buf(),
        bind: "127.0.0.1".into(),
        port: 0,
        drafts: false,
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.addr());
    (site, server, base)
}

async fn visible(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

/// Types an email, submits the form and waits for an element matching `expect` (XPath).
async fn submit_email(
    c: &Client,
    email: &str,
    expect: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    type_and_submit(
        c,
        "#sm-demo-email",
        email,
        "form.sm-form button[type=submit]",
        Locator::XPath(expect),
    )
    .await
}

/// Types `text` into `input`, clicks `button`, and waits up to 10 s for `expect`.
async fn type_and_submit(
    c: &Client,
    input: &str,
    text: &str,
    button: &str,
    expect: Locator<'_>,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    c.find(Locator::Css(input))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
    click_and_wait(c, button, expect).await
}

/// Clicks `button` and waits up to 10 s for `expect`.
async fn click_and_wait(
    c: &Client,
    button: &str,
    expect: Locator<'_>,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    c.find(Locator::Css(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(expect)
        .await
}

async fn with_visitor(c: &Client, base: &str, visitor: &str) {
    c.goto(&format!("{base}/robots.txt")).await.unwrap();
    c.execute(
        &format!("document.cookie='sm_vid={visitor};path=/'"),
        vec![],
    )
    .await
    .unwrap();
}

fn expected_in(site: &Site, experiment: &str, visitor: &str) -> String {
    splitmark::manifest::Manifest::load(&site.manifest_file())
        .unwrap()
        .experiment(experiment)
        .unwrap()
        .assign(visitor)
        .to_owned()
}

fn expected(site: &Site, visitor: &str) -> String {
    expected_in(site, "hero", visitor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_show_from_first_paint_and_forms_post_attribution() {
    let Some(d) = driver() else { return };
    let (site, server, base) = site_server().await;
    let c = browser(&d, true).await;

    // A chosen visitor id: the hashed variant is visible, the other is not.
    for visitor in ["visitor-1", "visitor-2", "visitor-3", "visitor-7"] {
        with_visitor(&c, &base, visitor).await;
        c.goto(&format!("{base}/probe/")).await.unwrap();
        let first = expected_in(&site, "first", visitor);
        let first_other = if first == "a" { "b" } else { "a" };
        let probe = c.execute("return window.__probe", vec![]).await.unwrap();
        assert_eq!(
            probe["marker"],
            first.as_str(),
            "marker set before <body> parsed ({visitor})"
        );
        assert_eq!(
            probe[first_other], "none",
            "other variant hidden from the first paint ({visitor}): {probe}"
        );
        assert_ne!(probe[first.as_str()], "none", "{probe}");
        let want = expected(&site, visitor);
        let other = if want == "a" { "b" } else { "a" };
        c.goto(&format!("{base}/landing/")).await.unwrap();
        assert!(
            visible(&c, &format!("[data-sm-e=hero][data-sm-v={want}]")).await,
            "{visitor}"
        );
        assert!(
            !visible(&c, &format!("[data-sm-e=hero][data-sm-v={other}]")).await,
            "{visitor}"
        );
    }

    // ?sm_hero= forces a variant for QA.
    c.goto(&format!("{base}/landing/?sm_hero=b")).await.unwrap();
    assert!(visible(&c, "div[data-sm-v=b] h1").await);
    assert!(!visible(&c, "div[data-sm-v=a] h1").await);

    // The form posts with attribution filled in by the script, and shows success inline.
    with_visitor(&c, &base, "visitor-1").await;
    c.goto(&format!(
        "{base}/landing/?utm_source=newsletter&utm_campaign=launch"
    ))
    .await
    .unwrap();
    let status = submit_email(
        &c,
        "ann@example.com",
        "//p[@class='sm-status' and contains(., 'Thanks')]",
    )
    .await;
    assert!(status.is_ok(), "success message shown inline");
    let leads: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/leads?format=json"))
        .bearer_auth(server.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lead = &leads["leads"][0];
    assert_eq!(lead["email"], "ann@example.com");
    assert_eq!(lead["experiment"], "hero");
    assert_eq!(lead["variant"], expected(&site, "visitor-1").as_str());
    assert_eq!(lead["visitor"], "visitor-1");
    assert_eq!(lead["page"], "/landing/");
    assert_eq!(lead["utm"]["source"], "newsletter");
    assert_eq!(lead["utm"]["campaign"], "launch");

    // A 422 from the server shows next to the field (the browser accepts a@b, the server does not).
    c.goto(&format!("{base}/landing/")).await.unwrap();
    let err = submit_email(
        &c,
        "a@b",
        "//p[@id='sm-demo-email-err' and string-length(normalize-space(.)) > 0]",
    )
    .await;
    assert!(err.is_ok(), "field error shown");
    let invalid = c
        .find(Locator::Css("#sm-demo-email"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    c.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_only_the_control_shows() {
    let Some(d) = driver() else { return };
    let (_site, server, base) = site_server().await;
    let c = browser(&d, false).await;
    c.goto(&format!("{base}/landing/")).await.unwrap();
    assert!(visible(&c, "div[data-sm-v=a] h1").await);
    assert!(!visible(&c, "div[data-sm-v=b] h1").await);
    assert!(visible(&c, "[data-sm-e=hero][data-sm-v=a]").await);
    c.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_a_form_ends_on_pages_a_person_can_use() {
    let Some(d) = driver() else { return };
    let (_site, server, base) = site_server().await;
    let c = browser(&d, false).await;
    c.goto(&format!("{base}/landing/")).await.unwrap();
    // The browser accepts a@b, the server does not: the form comes back, in the site's layout,
    // with the label, the message and what was typed.
    let summary = submit_email(&c, "a@b", "//ul[@class='sm-errors']/li").await;
    let summary = summary.expect("the error page lists the problem");
    assert!(summary.text().await.unwrap().starts_with("Email: "));
    let email = c.find(Locator::Css("#sm-demo-email")).await.unwrap();
    assert_eq!(email.prop("value").await.unwrap().as_deref(), Some("a@b"));
    let back = c.find(Locator::Css("a.sm-back")).await.unwrap();
    assert_eq!(
        back.attr("href").await.unwrap().as_deref(),
        Some("/landing/")
    );
    c.find(Locator::Css(".site-header")).await.unwrap();
    // Fixed on that page, it is accepted, and the thank-you page says so without a script.
    email.clear().await.unwrap();
    let thanks = submit_email(
        &c,
        "ann@example.com",
        "//p[@role='status' and contains(., 'Thanks, we got it.')]",
    )
    .await;
    assert!(thanks.is_ok(), "success message shown without JavaScript");
    click_and_wait(&c, "a.sm-back", Locator::Css("form.sm-form"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/landing/");
    let leads: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/leads?format=json"))
        .bearer_auth(server.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(leads["leads"][0]["email"], "ann@example.com");
    assert_eq!(
        leads["leads"][0]["page"], "/landing/",
        "_page came from the build"
    );
    c.close().await.unwrap();
    server.stop().await;
}

/// What the page looks like to layout: overflow, hostile markup that came alive, charts.
async fn page_facts(c: &Client) -> serde_json::Value {
    c.execute(
        "return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, \
         imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script').length, \
         xss: window.__xss || 0, bars: document.querySelectorAll('svg rect.ci').length, \
         lines: document.querySelectorAll('svg polyline').length, rows: document.querySelectorAll('tbody tr').length}",
        vec![],
    )
    .await
    .unwrap()
}

/// Saves a screenshot under the test target dir and checks it is a real, non-blank picture.
async fn screenshot(c: &Client, name: &str) -> std::path::PathBuf {
    let png = c.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, &png).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert!(img.width() <= 390, "wider than the phone: {}", img.width());
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    assert!(differing > 1000, "the screenshot {name} is blank");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_logs_in_and_fits_a_phone() {
    let Some(d) = driver() else { return };
    let (site, server, base) = site_server().await;
    let http = reqwest::Client::new();
    let hostile_img = "\"><img src=x onerror=\"window.__xss=1\">";
    let hostile_script = "<script>window.__xss=2</script>";
    for i in 0..6 {
        let visitor = format!("phone-{i}");
        let r = http
            .post(format!("{base}/api/v1/forms/demo"))
            .header("accept", "application/json")
            .json(&json!({
                "email": format!("lead{i}@example.com"),
                "_experiment": "hero",
                "_variant": expected(&site, &visitor),
                "_visitor": visitor,
                "utm_source": hostile_img,
                "utm_campaign": hostile_script,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    let c = browser_with(&d, true, true).await;
    c.goto(&format!("{base}/admin/")).await.unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/admin/login"));
    type_and_submit(
        &c,
        "#token",
        server.admin_token(),
        "main form button[type=submit]",
        Locator::Css("ol.queue"),
    )
    .await
    .unwrap_or_else(|e| panic!("no sales queue after logging in: {e}"));

    // The queue a salesperson keeps open: every new lead with its age, fitting the phone.
    let queue = c
        .execute(
            "return {items: document.querySelectorAll('ol.queue li').length, \
             ages: Array.from(document.querySelectorAll('ol.queue .age')).map(e => e.textContent), \
             buttons: Array.from(document.querySelectorAll('ol.queue button')).map(b => b.getBoundingClientRect().right), \
             scroll: document.documentElement.scrollWidth, width: window.innerWidth, \
             imgs: document.querySelectorAll('img').length, xss: window.__xss || 0}",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queue["items"], 6, "{queue}");
    assert!(
        queue["ages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.as_str().unwrap().ends_with(" s")),
        "{queue}"
    );
    assert!(
        queue["scroll"].as_u64() <= queue["width"].as_u64(),
        "the queue scrolls sideways on a phone: {queue}"
    );
    assert!(
        queue["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.as_f64().unwrap() <= 390.0),
        "every Contacted button is on screen: {queue}"
    );
    assert_eq!(
        (queue["imgs"].as_u64(), queue["xss"].as_u64()),
        (Some(0), Some(0)),
        "{queue}"
    );
    screenshot(&c, "dashboard-queue-390.png").await;
    // One tap marks the first lead contacted; the queue comes back without it.
    c.find(Locator::Css("ol.queue li:first-child button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut left = 0;
    for _ in 0..100 {
        left = c
            .execute(
                "return document.querySelectorAll('ol.queue li').length",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
        if left == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 5, "the contacted lead left the queue");

    c.goto(&format!("{base}/admin/")).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("h2#experiments"))
        .await
        .unwrap_or_else(|e| panic!("no overview: {e}"));
    let facts = page_facts(&c).await;
    assert_eq!(facts["xss"], 0, "{facts}");
    assert_eq!(facts["imgs"], 0, "{facts}");
    assert_eq!(facts["scripts"], 0, "{facts}");
    assert!(
        facts["scroll"].as_u64() <= facts["width"].as_u64(),
        "the page scrolls sideways on a phone: {facts}"
    );
    assert!(facts["bars"].as_u64().unwrap() >= 1, "{facts}");
    assert!(facts["lines"].as_u64().unwrap() >= 1, "{facts}");
    assert_eq!(facts["width"], 390, "{facts}");
    let shot = screenshot(&c, "dashboard-overview-390.png").await;
    eprintln!("dashboard screenshot: {}", shot.display());
    c.execute(
        "document.querySelector('section.card:nth-of-type(2)').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "dashboard-hero-390.png").await;

    c.goto(&format!("{base}/admin/leads")).await.unwrap();
    let facts = page_facts(&c).await;
    assert_eq!(facts["rows"], 6, "{facts}");
    assert_eq!(
        (facts["xss"].as_u64(), facts["imgs"].as_u64()),
        (Some(0), Some(0)),
        "{facts}"
    );
    assert!(
        facts["scroll"].as_u64() <= facts["width"].as_u64(),
        "the leads page scrolls sideways on a phone: {facts}"
    );
    screenshot(&c, "dashboard-leads-390.png").await;

    click_and_wait(&c, "nav form button[type=submit]", Locator::Css("#token"))
        .await
        .expect("logging out shows the login form");
    c.goto(&format!("{base}/admin/")).await.unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/admin/login"),
        "logged out for real"
    );
    c.close().await.unwrap();
    server.stop().await;
}
