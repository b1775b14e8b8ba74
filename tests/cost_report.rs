//! Cost per outcome and return on ad spend, end to end on both stores: leads written through
//! the real store, their stages set as the stage API leaves them (tests/common/outcomes.rs),
//! spend from `[report] spend = "data/spend.csv"`; read on the real dashboard over HTTP and
//! from the `splitmark report` binary. Also: the spend file's errors name `file:line`.

mod common;

use common::capture::{Harness, ADMIN_TOKEN, DEMO_FORM, FORM, LANDING};
use common::outcomes::{lead, set_stages, Stages};
use common::{postgres as pg, texts, Site, CONFIG};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use scraper::Html;
use splitmark::store::{self, Utm};

const SPEND: &str = "date,source,campaign,amount,currency
2026-03-01,google,spring,500.00,EUR
2026-03-02,google,spring,300.00,EUR
2026-03-01,linkedin,spring,200,EUR
2026-03-01,,autumn,60,EUR
";

fn config() -> String {
    format!("{CONFIG}[report]\nspend = \"data/spend.csv\"\n{DEMO_FORM}")
}

/// google/spring: 40 leads, 20 qualified, 8 opportunities, 4 customers at EUR 1,000.00;
/// linkedin/spring: 10, 5, 2, 1 at EUR 500.00; linkedin/autumn: 6 leads, nothing else.
async fn seed(db: &str) {
    let s = store::open(db).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let mut stages = Vec::new();
    for (source, campaign, n, q, opps, customers, cents) in [
        ("google", "spring", 40, 20, 8, 4, 100_000),
        ("linkedin", "spring", 10, 5, 2, 1, 50_000),
        ("linkedin", "autumn", 6, 0, 0, 0, 0),
        ("<img src=x>", "<script>alert(1)</script>", 1, 0, 0, 0, 0),
    ] {
        for i in 0..n {
            let visitor = format!("{source}-{campaign}-{i}");
            let utm = Utm {
                source: Some(source.into()),
                campaign: Some(campaign.into()),
                ..Utm::default()
            };
            let variant = if i % 2 == 0 { "a" } else { "b" };
            let id = s
                .insert_lead(lead(&visitor, variant, now - 3_600_000, i < q, utm))
                .await
                .unwrap()
                .id;
            let mut st = Stages::default();
            if i < opps {
                st.sales_qualified_ms = Some(now - 1_000);
                st.opportunity_ms = Some(now - 1_000);
            }
            if i < customers {
                st.customer_ms = Some(now - 500);
                st.revenue_minor = Some(cents);
                st.currency = Some("EUR".into());
            }
            stages.push((id, st));
        }
    }
    s.close().await.unwrap();
    set_stages(db, &stages).await;
}

async fn login(h: &Harness) -> String {
    let r = h
        .http
        .post(format!("{}/admin/login", h.base))
        .header(CONTENT_TYPE, FORM)
        .body(serde_urlencoded::to_string([("token", ADMIN_TOKEN)]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

/// The cells of the row named `name` in the cost table whose first header is `title`.
fn cost_row(doc: &Html, title: &str, name: &str) -> Vec<String> {
    let tables = scraper::Selector::parse("table.cost").unwrap();
    let table = doc
        .select(&tables)
        .find(|t| t.text().map(str::trim).find(|x| !x.is_empty()) == Some(title))
        .unwrap_or_else(|| panic!("no cost table {title}"));
    let trs = scraper::Selector::parse("tbody tr").unwrap();
    let tds = scraper::Selector::parse("td").unwrap();
    table
        .select(&trs)
        .map(|tr| {
            tr.select(&tds)
                .map(|td| td.text().collect::<String>())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[0] == name)
        .unwrap_or_else(|| panic!("no row {name} in {title}"))
}

async fn costs_on_the_dashboard_and_in_the_report(db: String) {
    seed(&db).await;
    let h = Harness::start(
        &[
            ("splitmark.toml", &config()),
            ("content/landing.md", LANDING),
            ("data/spend.csv", SPEND),
        ],
        Some(db.clone()),
    )
    .await;
    let cookie = login(&h).await;
    let r = h
        .http
        .get(format!("{}/admin/", h.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("<img src=x>") && !body.contains("<script>alert"),
        "UTM values are escaped"
    );
    let doc = Html::parse_document(&body);
    assert_eq!(cost_row(&doc, "utm_source", "<img src=x>")[1], "1");
    // spring: EUR 1,000 for 50 leads, 25 qualified, 10 opportunities, 5 customers worth
    // EUR 4,500: ROAS 4.5.
    assert_eq!(
        cost_row(&doc, "utm_campaign", "spring"),
        [
            "spring",
            "50",
            "25",
            "10",
            "5",
            "EUR 1,000.00",
            "EUR 20.00",
            "EUR 40.00",
            "EUR 100.00",
            "EUR 200.00",
            "EUR 4,500.00",
            "4.50x"
        ]
    );
    // autumn's spend names no source: it counts for the campaign only.
    assert_eq!(
        cost_row(&doc, "utm_campaign", "autumn")[5..8],
        ["EUR 60.00", "EUR 10.00", "—"]
    );
    // google: EUR 800 for 40 leads, 20 qualified, 8 opportunities, 4 customers.
    assert_eq!(
        cost_row(&doc, "utm_source", "google")[5..10],
        [
            "EUR 800.00",
            "EUR 20.00",
            "EUR 40.00",
            "EUR 100.00",
            "EUR 200.00"
        ]
    );
    assert_eq!(
        cost_row(&doc, "utm_source", "linkedin")[6],
        "EUR 12.50",
        "EUR 200 over 16 leads"
    );
    // The experiment card carries the funnel per variant, the verdict's metric marked.
    let funnel = texts(&doc, "table.funnel tbody tr");
    assert!(funnel[0].starts_with("leads verdict"), "{funnel:?}");
    assert!(
        funnel[5].starts_with("customers") && funnel[5].contains("3 ("),
        "{funnel:?}"
    );
    h.server.stop().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "--db", &db, "--root"])
        .arg(h.site.root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Cost by source and campaign"), "{stdout}");
    let spring = stdout
        .lines()
        .find(|l| l.starts_with("spring "))
        .unwrap_or_else(|| panic!("{stdout}"));
    for figure in [
        "EUR 1,000.00",
        "EUR 20.00",
        "EUR 200.00",
        "EUR 4,500.00",
        "4.50x",
    ] {
        assert!(spring.contains(figure), "{figure} in {spring}");
    }
    assert!(
        stdout.contains("funnel "),
        "the funnel per variant: {stdout}"
    );
}

#[tokio::test]
async fn sqlite_costs_on_the_dashboard_and_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("leads.db").display());
    costs_on_the_dashboard_and_in_the_report(db).await;
}

#[tokio::test]
async fn postgres_costs_on_the_dashboard_and_in_the_report() {
    if let Some(db) = pg::schema_url("cost per outcome").await {
        costs_on_the_dashboard_and_in_the_report(db).await;
    }
}

#[tokio::test]
async fn a_bad_spend_file_stops_the_server_and_the_report_at_its_line() {
    let site = Site::new(&[
        ("splitmark.toml", &config()),
        ("content/landing.md", LANDING),
        (
            "data/spend.csv",
            "date,source,campaign,amount,currency\n2026-03-01,google,spring,5,EUR\n2026-03-02,google,spring,lots,EUR\n",
        ),
    ]);
    site.build_ok();
    let db = format!("sqlite:{}", site.root().join("leads.db").display());
    let err = splitmark::capture::start(splitmark::capture::CaptureOptions {
        root: site.root().to_path_buf(),
        bind: "127.0.0.1:0".into(),
        db: Some(db.clone()),
        site: Some(site.root().join("public")),
        admin_token: Some(ADMIN_TOKEN.into()),
        manifest: None,
    })
    .await
    .err()
    .expect("the server refuses a bad spend file");
    let err = format!("{err:#}");
    assert!(
        err.contains("data/spend.csv:3: amount \"lots\" is not a number"),
        "{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "--db", &db, "--root"])
        .arg(site.root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data/spend.csv:3: amount"), "{stderr}");
}

#[test]
fn the_spend_setting_is_checked_with_the_config() {
    for (setting, want) in [
        (
            "spend = \"/tmp/spend.csv\"",
            "relative path to a .csv file inside the site",
        ),
        ("spend = \"spend.xlsx\"", "relative path to a .csv file"),
        ("spent = \"data/spend.csv\"", "unknown field `spent`"),
    ] {
        let site = Site::new(&[
            (
                "splitmark.toml",
                &format!("{CONFIG}[report]\n{setting}\n{DEMO_FORM}"),
            ),
            ("content/landing.md", LANDING),
        ]);
        let err = site.build().unwrap_err();
        assert!(
            err.contains(want) && err.contains("splitmark.toml:"),
            "{err}"
        );
    }
}
