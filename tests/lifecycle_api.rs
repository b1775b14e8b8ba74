//! Stage changes over real HTTP against the capture server: the single and the batch API
//! (idempotency, conflicts, unknown leads, bad input), the history and reached-stage counting,
//! the dashboard's stage form and queue (CSRF rules as login), and the export's new columns.

mod common;
use common::capture::{Harness, ADMIN_TOKEN, DEMO_FORM, FORM, LANDING};
use common::*;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SETUP: &str = "[capture]\nrate_limit_burst = 100000\nrate_limit_per_minute = 100000\n";

async fn harness() -> Harness {
    Harness::start(
        &[
            ("splitmark.toml", &format!("{CONFIG}{SETUP}{DEMO_FORM}")),
            ("content/landing.md", LANDING),
        ],
        None,
    )
    .await
}

async fn submit(h: &Harness, email: &str, size: &str) -> String {
    let body = serde_urlencoded::to_string([("email", email), ("size", size)]).unwrap();
    let r = h.post("/api/v1/forms/demo", FORM, body, true).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn post_json(h: &Harness, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = h
        .http
        .post(format!("{}{path}", h.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn change(h: &Harness, id: &str, body: Value) -> (StatusCode, Value) {
    post_json(h, &format!("/api/v1/leads/{id}/events"), &body).await
}

#[tokio::test]
async fn the_single_api_records_once_and_refuses_bad_changes() {
    let h = harness().await;
    let id = submit(&h, "ada@x.test", "big").await;
    // No token, no change.
    let r = h
        .http
        .post(format!("{}/api/v1/leads/{id}/events", h.base))
        .json(&json!({"stage": "contacted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let (s, v) = change(
        &h,
        &id,
        json!({"stage": "contacted", "event_id": "call-1", "note": "left a voicemail"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["event"]["actor"], "admin");
    assert_eq!(v["event"]["source"], "api");
    assert_eq!(v["state"]["stage"], "contacted");
    assert!(v["state"]["contacted_at"].is_string());
    // The same event again answers the first result; no second event.
    let (s, again) = change(
        &h,
        &id,
        json!({"stage": "contacted", "event_id": "call-1", "note": "left a voicemail"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["event"]["recorded_at"], v["event"]["recorded_at"]);
    // The same id with other content is a conflict.
    let (s, c) = change(&h, &id, json!({"stage": "customer", "event_id": "call-1"})).await;
    assert_eq!(s, 409, "{c}");
    assert_eq!(c["error"], "event_id_conflict");

    let ghost = uuid::Uuid::now_v7();
    assert_eq!(
        change(&h, &ghost.to_string(), json!({"stage": "contacted"}))
            .await
            .0,
        404
    );
    assert_eq!(
        change(&h, "not-an-id", json!({"stage": "contacted"}))
            .await
            .0,
        404
    );
    let refused = [
        (json!({"stage": "won"}), "bad_stage"),
        (
            json!({"stage": "contacted", "at": "2099-01-01T00:00:00Z"}),
            "at_in_future",
        ),
        (
            json!({"stage": "contacted", "at": "2020-01-01T00:00:00Z"}),
            "at_before_lead",
        ),
        (
            json!({"stage": "customer", "value": 100}),
            "currency_required",
        ),
        (
            json!({"stage": "customer", "value": "1.234", "currency": "EUR"}),
            "bad_value",
        ),
        (
            json!({"stage": "customer", "value": "1", "currency": "XXQ"}),
            "bad_currency",
        ),
        (json!({"stage": "disqualified"}), "reason_required"),
    ];
    for (body, code) in refused {
        let (s, v) = change(&h, &id, body.clone()).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
    }
    let r = h
        .http
        .post(format!("{}/api/v1/leads/{id}/events", h.base))
        .bearer_auth(ADMIN_TOKEN)
        .header(CONTENT_TYPE, "text/plain")
        .body("stage=contacted")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // A deal, then moved back: reached stages stay counted.
    let (s, v) = change(
        &h,
        &id,
        json!({"stage": "customer", "value": 1200.5, "currency": "eur"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["event"]["value"], "1200.50");
    assert_eq!(v["state"]["revenue_minor"], 120050);
    assert_eq!(
        change(&h, &id, json!({"stage": "new", "note": "reopened"}))
            .await
            .0,
        201
    );
    let hist = h.admin(&format!("/api/v1/leads/{id}/events")).await;
    let stages: Vec<&str> = hist["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["contacted", "customer", "new"],
        "one event per change, none for replays or refusals"
    );
    assert_eq!(hist["state"]["stage"], "new");
    for reached in [
        "contacted_at",
        "sales_qualified_at",
        "opportunity_at",
        "customer_at",
    ] {
        assert!(
            hist["state"][reached].is_string(),
            "{reached} stays: {hist}"
        );
    }

    // The export carries stage, contact time and value.
    let leads = h.admin("/api/v1/leads?format=json").await;
    let l = &leads["leads"][0];
    assert_eq!(
        (l["stage"].as_str(), l["currency"].as_str()),
        (Some("new"), Some("EUR"))
    );
    let csv = h
        .http
        .get(format!("{}/api/v1/leads?format=csv", h.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let rec = rows.records().next().unwrap().unwrap();
    let col = |n: &str| {
        rec.get(header.iter().position(|c| c == n).unwrap())
            .unwrap()
            .to_owned()
    };
    assert_eq!(col("stage"), "new");
    assert_eq!(col("revenue_value"), "1200.50");
    assert_eq!(col("currency"), "EUR");
    assert!(!col("contacted_at").is_empty());
}

#[tokio::test]
async fn a_batch_finds_leads_by_id_or_latest_email_and_answers_each_item() {
    let h = harness().await;
    let older = submit(&h, "bob@x.test", "small").await;
    let newer = submit(&h, "bob@x.test", "big").await;
    let other = submit(&h, "cy@x.test", "small").await;
    let batch = json!({"events": [
        {"email": "Bob@X.test", "stage": "contacted", "event_id": "hs-1"},
        {"id": other, "stage": "opportunity", "value": "5000", "currency": "USD", "event_id": "hs-2"},
        {"email": "nobody@x.test", "stage": "contacted"},
        {"id": other, "stage": "stalled"},
        {"stage": "contacted"},
        {"email": "bob@x.test", "stage": "contacted", "event_id": "hs-1"},
        {"id": other, "stage": "contacted", "event_id": "hs-2"},
    ]});
    let (s, v) = post_json(&h, "/api/v1/lead-events", &batch).await;
    assert_eq!(s, 200, "{v}");
    let statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 404, 422, 422, 200, 409]);
    assert_eq!(v["recorded"], 2);
    assert_eq!(
        v["results"][0]["event"]["lead"],
        newer.as_str(),
        "the most recent lead of the address"
    );
    assert_eq!(v["results"][3]["error"], "bad_stage");
    assert_eq!(v["results"][4]["error"], "lead_required");
    let old = h.admin(&format!("/api/v1/leads/{older}/events")).await;
    assert!(old["events"].as_array().unwrap().is_empty());
    // Replaying the whole batch records nothing new.
    let (_, v) = post_json(&h, "/api/v1/lead-events", &batch).await;
    assert_eq!(v["recorded"], 0);

    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({"email": "bob@x.test", "stage": "contacted"}))
        .collect();
    let (s, v) = post_json(&h, "/api/v1/lead-events", &json!({"events": too_many})).await;
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["error"], "batch_too_large");
    let (s, _) = post_json(&h, "/api/v1/lead-events", &json!({"stage": "contacted"})).await;
    assert_eq!(s, 422);
}

impl Harness {
    async fn login(&self) -> String {
        let r = self
            .http
            .post(format!("{}/admin/login", self.base))
            .header(CONTENT_TYPE, FORM)
            .body(serde_urlencoded::to_string([("token", ADMIN_TOKEN)]).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[LOCATION],
            "/admin/queue",
            "the dashboard opens on the queue"
        );
        let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn form(
        &self,
        path: &str,
        cookie: &str,
        origin: Option<&str>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .header(CONTENT_TYPE, FORM)
            .body(serde_urlencoded::to_string(fields).unwrap());
        if let Some(o) = origin {
            r = r.header(ORIGIN, o);
        }
        r.send().await.unwrap()
    }
}

#[tokio::test]
async fn the_dashboard_changes_stages_and_keeps_the_queue() {
    let h = harness().await;
    let plain = submit(&h, "first@x.test", "small").await;
    let hot = submit(&h, "hot@x.test", "big").await;
    let hostile = submit(&h, "third@x.test", "small").await;
    let cookie = h.login().await;

    let (s, queue) = h.page("/admin/queue", &cookie).await;
    assert_eq!(s, 200);
    let doc = scraper::Html::parse_document(&queue);
    let order = attrs(&doc, "ol.queue li", "id");
    assert_eq!(
        order,
        [
            format!("queue-{hot}"),
            format!("queue-{plain}"),
            format!("queue-{hostile}")
        ],
        "qualified first, then oldest"
    );

    let origin = h.base.clone();
    let path = format!("/admin/leads/{plain}/stage");
    // A cross-site post is refused, as for login and redeliver; without a session it goes to login.
    let r = h
        .form(
            &path,
            &cookie,
            Some("https://evil.test"),
            &[("stage", "contacted")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = h
        .form(
            &path,
            "sm_admin=forged",
            Some(&origin),
            &[("stage", "contacted")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/admin/login");

    // The lead page's form, sent twice (a double tap): one change.
    let (_, page) = h.page(&format!("/admin/leads/{plain}"), &cookie).await;
    let doc = scraper::Html::parse_document(&page);
    let event_id = attr(&doc, "form[action$='/stage'] input[name=event_id]", "value");
    assert!(!event_id.is_empty());
    assert_eq!(attrs(&doc, ".stages button", "value").len(), 6);
    for _ in 0..2 {
        let r = h
            .form(
                &path,
                &cookie,
                Some(&origin),
                &[
                    ("stage", "opportunity"),
                    ("value", "900"),
                    ("currency", "EUR"),
                    ("note", "<script>alert(1)</script>"),
                    ("event_id", &event_id),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[LOCATION].to_str().unwrap(),
            format!("/admin/leads/{plain}#stage")
        );
    }
    let (_, page) = h.page(&format!("/admin/leads/{plain}"), &cookie).await;
    assert!(!page.contains("<script>alert"), "notes are escaped");
    let doc = scraper::Html::parse_document(&page);
    assert_eq!(texts(&doc, ".current-stage"), ["Opportunity"]);
    let history = texts(&doc, "#history tbody tr");
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].contains("900.00 EUR")
            && history[0].contains("admin")
            && history[0].contains("dashboard"),
        "{}",
        history[0]
    );
    let api = h.admin(&format!("/api/v1/leads/{plain}/events")).await;
    assert_eq!(api["events"][0]["source"], "dashboard");

    // A refused change shows the page again with the reason.
    let r = h
        .form(&path, &cookie, Some(&origin), &[("stage", "disqualified")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("needs a reason"));

    // "Contacted" from the queue goes back to the queue, and the lead leaves it.
    let r = h
        .form(
            &format!("/admin/leads/{hot}/stage"),
            &cookie,
            Some(&origin),
            &[
                ("stage", "contacted"),
                ("back", "queue"),
                ("event_id", "q-1"),
            ],
        )
        .await;
    assert_eq!(r.headers()[LOCATION], "/admin/queue");
    let (_, queue) = h.page("/admin/queue", &cookie).await;
    let doc = scraper::Html::parse_document(&queue);
    assert_eq!(
        attrs(&doc, "ol.queue li", "id"),
        [format!("queue-{hostile}")]
    );

    // The overview shows time to first contact per form, source and variant.
    let (_, overview) = h.page("/admin/", &cookie).await;
    let doc = scraper::Html::parse_document(&overview);
    let rows = texts(&doc, "#speed-table tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("form") && r.contains("demo")),
        "{rows:?}"
    );
}
