//! The `/admin/` dashboard over real HTTP: login and session cookie, CSRF refusals, escaping
//! of hostile lead data, experiment statistics, funnel costs, lead filters and pages.

mod common;
use common::capture::{Harness, ADMIN_TOKEN, DEMO_FORM, FORM, LANDING};
use common::*;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use scraper::{Html, Selector};

const SETUP: &str = r#"
[capture]
rate_limit_burst = 100000
rate_limit_per_minute = 100000

[campaigns.spring]
cost = 300
currency = "EUR"
"#;

/// A free-text field on top of the shared demo form, for hostile answers.
const COMPANY: &str = r#"
[[forms.demo.fields]]
name = "company"
type = "text"
label = "Company"
"#;

async fn harness() -> Harness {
    Harness::start(
        &[
            (
                "splitmark.toml",
                &format!("{CONFIG}{SETUP}{DEMO_FORM}{COMPANY}"),
            ),
            ("content/landing.md", LANDING),
        ],
        None,
    )
    .await
}

impl Harness {
    async fn login(&self) -> String {
        let r = self.login_with(ADMIN_TOKEN, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/admin/queue");
        let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn login_with(&self, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/admin/login", self.base))
            .header(CONTENT_TYPE, FORM)
            .body(serde_urlencoded::to_string([("token", token)]).unwrap());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let r = self.get(path, cookie).await;
        (r.status(), r.text().await.unwrap())
    }

    async fn lead(&self, fields: &[(&str, &str)]) {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let r = self.post("/api/v1/forms/demo", FORM, body, true).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{fields:?}");
    }

    async fn exposure(&self, visitor: &str, variant: &str) {
        let body = format!(
            r#"{{"type":"exposure","experiment":"hero","variant":"{variant}","visitor":"{visitor}","page":"/landing/"}}"#
        );
        let r = self.post("/api/v1/events", "text/plain", body, false).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
}

fn count(html: &str, css: &str) -> usize {
    Html::parse_document(html)
        .select(&Selector::parse(css).unwrap())
        .count()
}

#[tokio::test]
async fn the_dashboard_requires_login() {
    let h = harness().await;
    for path in ["/admin/", "/admin/leads", "/admin/leads.csv?form=demo"] {
        let r = h.get(path, "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()[LOCATION], "/admin/login", "{path}");
    }
    let (status, login) = h.page("/admin/login", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        count(
            &login,
            "form[method=post][action='/admin/login'] input[name=token][type=password]"
        ),
        1
    );

    // A wrong or empty token gets the form again with a message, and no session.
    for wrong in ["nope", "", "s3cret-token-but-longer"] {
        let r = h.login_with(wrong, &[]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(r.headers().get(SET_COOKIE).is_none());
        assert!(r.text().await.unwrap().contains("not the admin token"));
    }
    // A forged or stale cookie is not a session.
    for forged in [
        "sm_admin=1",
        "sm_admin=99999999999.00",
        "sm_admin=4102444800.deadbeef",
    ] {
        assert_eq!(
            h.page("/admin/", forged).await.0,
            StatusCode::SEE_OTHER,
            "{forged}"
        );
    }

    let r = h.login_with(ADMIN_TOKEN, &[]).await;
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain http cannot keep a Secure cookie: {set}"
    );
    // No proxy is trusted here, so a claim of https is not believed (tests/capture_client.rs
    // covers a trusted proxy's claim).
    let https = h
        .login_with(ADMIN_TOKEN, &[("x-forwarded-proto", "https")])
        .await;
    assert!(!https.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Secure"));

    let cookie = h.login().await;
    let (status, overview) = h.page("/admin/", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("hero"));
    let r = h.get("/admin/", &cookie).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Logged in, the login page sends you on; unknown pages are 404 pages.
    assert_eq!(
        h.page("/admin/login", &cookie).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        h.page("/admin/nothing", &cookie).await.0,
        StatusCode::NOT_FOUND
    );
    // The session cookie is not an API credential.
    assert_eq!(
        h.page("/api/v1/leads", &cookie).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Cross-site posts are refused, whatever they carry.
    let evil = h
        .login_with(ADMIN_TOKEN, &[("origin", "https://evil.test")])
        .await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let evil = h
        .login_with(ADMIN_TOKEN, &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let same = h
        .login_with(ADMIN_TOKEN, &[("origin", &h.base.clone())])
        .await;
    assert_eq!(same.status(), StatusCode::SEE_OTHER);

    let out = h
        .http
        .post(format!("{}/admin/logout", h.base))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &h.base)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    h.server.stop().await;
}

#[tokio::test]
async fn hostile_lead_data_is_escaped_everywhere() {
    let h = harness().await;
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    h.lead(&[
        ("email", "x@example.com"),
        ("company", script),
        ("size", "big"),
        ("utm_source", img),
        ("utm_campaign", script),
        ("_page", img),
        ("_visitor", "hostile"),
    ])
    .await;
    h.lead(&[
        ("email", "y@example.com"),
        ("company", img),
        ("_visitor", "hostile2"),
    ])
    .await;
    let cookie = h.login().await;
    for path in ["/admin/", "/admin/leads", "/admin/leads?spam=all"] {
        let (status, body) = h.page(path, &cookie).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !body.contains("<script>alert"),
            "{path} has a live script tag"
        );
        assert!(!body.contains("<img src=x"), "{path} has a live img tag");
        assert_eq!(count(&body, "script"), 0, "{path}");
        assert_eq!(count(&body, "img"), 0, "{path}");
        assert_eq!(count(&body, "[onerror]"), 0, "{path}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
                || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    let (_, leads) = h.page("/admin/leads", &cookie).await;
    let doc = Html::parse_document(&leads);
    let answers = texts(&doc, ".answers li");
    assert!(
        answers.contains(&format!("company: {script}")),
        "{answers:?}"
    );
    assert!(answers.contains(&format!("company: {img}")), "{answers:?}");
    h.server.stop().await;
}

#[tokio::test]
async fn the_overview_shows_the_reports_numbers_charts_and_costs() {
    let h = harness().await;
    let m = h.manifest();
    let e = m.experiment("hero").unwrap();
    // 40 visitors; every third of them converts, the converters of b qualify.
    for i in 0..40 {
        let visitor = format!("v{i}");
        let variant = e.assign(&visitor).to_owned();
        h.exposure(&visitor, &variant).await;
        if i % 3 == 0 {
            let size = if variant == "b" { "big" } else { "small" };
            let email = format!("{visitor}@example.com");
            h.lead(&[
                ("email", email.as_str()),
                ("size", size),
                ("_experiment", "hero"),
                ("_variant", variant.as_str()),
                ("_visitor", visitor.as_str()),
                ("utm_source", "newsletter"),
                ("utm_campaign", "spring"),
            ])
            .await;
        }
    }
    let api = h.admin("/api/v1/experiments/hero").await;
    let cookie = h.login().await;
    let (status, body) = h.page("/admin/", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&body);
    // The verdict and per-variant figures are the API's.
    assert_eq!(
        texts(&doc, ".verdict"),
        vec![api["verdict"].as_str().unwrap().to_owned()]
    );
    let rows = texts(&doc, "section.card table:not(.funnel) tbody tr");
    assert_eq!(rows.len(), 2);
    for (row, v) in rows.iter().zip(api["variants"].as_array().unwrap()) {
        let rate = format!("{:.1}%", v["rate"].as_f64().unwrap() * 100.0);
        assert!(row.starts_with(v["id"].as_str().unwrap()), "{row}");
        assert!(row.contains(&rate), "{row} lacks {rate}");
        assert!(row.contains(&v["visitors"].to_string()), "{row}");
    }
    // Interval bars and one cumulative line per variant.
    assert_eq!(count(&body, "svg rect.ci"), 2);
    assert_eq!(count(&body, "svg polyline"), 2);
    // Funnel: 14 leads of the spring campaign at EUR 300.
    let leads: u64 = api["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["conversions"].as_u64().unwrap())
        .sum();
    assert_eq!(leads, 14);
    let qualified: u64 = api["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["qualified"].as_u64().unwrap())
        .sum();
    let campaign = texts(&doc, "tr")
        .into_iter()
        .find(|t| t.starts_with("spring"))
        .expect("a spring campaign row");
    assert!(
        campaign.contains(&format!("EUR {:.2}", 300.0 / 14.0)),
        "{campaign}"
    );
    assert!(
        campaign.contains(&format!("EUR {:.2}", 300.0 / qualified as f64)),
        "{campaign}"
    );
    assert_eq!(count(&body, "svg rect.bar.q"), 1, "one day of leads");
    h.server.stop().await;
}

#[tokio::test]
async fn the_leads_table_filters_and_pages_newest_first() {
    let h = harness().await;
    for i in 0..55 {
        let email = format!("p{i:02}@example.com");
        let size = if i % 5 == 0 { "big" } else { "small" };
        h.lead(&[
            ("email", email.as_str()),
            ("size", size),
            ("_visitor", &format!("p{i}")),
        ])
        .await;
    }
    h.lead(&[
        ("email", "bot@example.com"),
        ("_gotcha", "http://spam.test"),
        ("_visitor", "bot"),
    ])
    .await;
    let cookie = h.login().await;
    let (_, first) = h.page("/admin/leads", &cookie).await;
    let doc = Html::parse_document(&first);
    assert_eq!(count(&first, "tbody tr"), 50);
    assert!(
        texts(&doc, "tbody tr td:nth-child(3)")[0].contains("p54@"),
        "newest first"
    );
    assert!(
        !first.contains("bot@example.com"),
        "spam is hidden by default"
    );
    assert!(first.contains("55 leads"));
    let next = attr(&doc, "a[rel=next]", "href");
    assert_eq!(next, "/admin/leads?page=2");
    let (_, second) = h.page(&next, &cookie).await;
    assert_eq!(count(&second, "tbody tr"), 5);
    assert!(second.contains("p00@example.com"));
    assert_eq!(count(&second, "a[rel=next]"), 0);
    assert_eq!(count(&second, "a[rel=prev]"), 1);

    let (_, qualified) = h.page("/admin/leads?qualified=yes", &cookie).await;
    assert_eq!(count(&qualified, "tbody tr"), 11);
    assert_eq!(count(&qualified, "tbody .tag.yes"), 11);
    let (_, spam) = h.page("/admin/leads?spam=yes", &cookie).await;
    assert_eq!(count(&spam, "tbody tr"), 1);
    assert!(spam.contains("bot@example.com") && spam.contains("spam: honeypot"));
    let (_, other) = h.page("/admin/leads?form=newsletter", &cookie).await;
    assert_eq!(count(&other, "tbody tr"), 0);

    let (status, csv) = h.page("/admin/leads.csv?qualified=yes", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 12, "header and 11 qualified leads");
    h.server.stop().await;
}
