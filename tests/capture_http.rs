//! The capture server over real HTTP: every status code, spam, dedupe, attribution, CORS,
//! rate limits, admin auth, exposures, bots, server-side assignment, export.

mod common;
use common::capture::{Harness, DEMO_FORM, FORM, LANDING};
use common::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, ORIGIN, USER_AGENT};
use reqwest::StatusCode;

const CAPTURE: &str = "\n[capture]\nrate_limit_burst = 40\n";

async fn harness(extra_config: &str) -> Harness {
    Harness::start(
        &[
            (
                "splitmark.toml",
                &format!("{CONFIG}{extra_config}{CAPTURE}{DEMO_FORM}"),
            ),
            ("content/landing.md", LANDING),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn submissions_answer_with_the_right_status() {
    let h = harness("").await;
    let ok = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=a%40example.com&size=big&_visitor=v1",
            false,
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/thanks/");
    let json_ok = h
        .post(
            "/api/v1/forms/demo",
            "application/json",
            r#"{"email":"b@example.com","size":"big","_visitor":"v2"}"#,
            false,
        )
        .await;
    assert_eq!(json_ok.status(), StatusCode::CREATED);
    let body: serde_json::Value = json_ok.json().await.unwrap();
    assert_eq!(body["qualified"], true);
    assert_eq!(body["id"].as_str().unwrap().len(), 36);
    assert!(
        body.get("confirmation").is_none(),
        "no opt-in, no confirmation state: {body}"
    );
    let multipart = reqwest::multipart::Form::new()
        .text("email", "c@example.com")
        .text("size", "small");
    let r = h
        .http
        .post(format!("{}/api/v1/forms/demo", h.base))
        .header(ACCEPT, "application/json")
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["qualified"], false);

    let unknown = h
        .post("/api/v1/forms/nope", FORM, "email=a%40b.co", true)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let e: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(e["error"], "unknown_form");
    assert!(e["message"].is_string());
    assert_eq!(
        h.post("/api/v1/forms/demo", "application/xml", "<a/>", true)
            .await
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        h.post("/api/v1/forms/demo", FORM, vec![b'x'; 70 * 1024], true)
            .await
            .status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        h.post("/api/v1/forms/demo", "application/json", "{not json", true)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.post(
            "/api/v1/forms/demo",
            FORM,
            vec![b'e', b'=', 0xff, 0xfe],
            true
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    let invalid = h
        .post("/api/v1/forms/demo", FORM, "email=nope&size=huge", true)
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = invalid.json().await.unwrap();
    assert_eq!(e["error"], "validation_failed");
    assert!(
        e["fields"]["email"].is_string() && e["fields"]["size"].is_string(),
        "{e}"
    );
    let plain_invalid = h
        .post("/api/v1/forms/demo", FORM, "email=<script>", false)
        .await;
    assert_eq!(plain_invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!plain_invalid.text().await.unwrap().contains("<script>"));
    assert_eq!(
        h.http
            .get(format!("{}/api/v1/forms/demo", h.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    h.server.stop().await;
}

#[tokio::test]
async fn honeypot_dedupe_and_attribution_flags() {
    let h = harness("").await;
    let spam = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=bot%40example.com&_gotcha=http%3A%2F%2Fspam",
            true,
        )
        .await;
    assert_eq!(
        spam.status(),
        StatusCode::CREATED,
        "a bot gets the same answer"
    );
    let first: serde_json::Value = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=a%40example.com&_visitor=v1",
            true,
        )
        .await
        .json()
        .await
        .unwrap();
    let again: serde_json::Value = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=a%40example.com&_visitor=v1",
            true,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        first["id"], again["id"],
        "same visitor, same answers: one lead"
    );
    let unknown = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=z%40example.com&_visitor=v9&_experiment=hero&_variant=zzz",
            true,
        )
        .await;
    assert_eq!(
        unknown.status(),
        StatusCode::CREATED,
        "bad attribution never refuses a lead"
    );
    let leads = h.admin("/api/v1/leads?format=json").await;
    let leads = leads["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 3);
    assert_eq!(
        leads
            .iter()
            .filter(|l| l["spam_reason"] == "honeypot")
            .count(),
        1
    );
    let flagged = leads.iter().find(|l| l["variant"] == "zzz").unwrap();
    assert_eq!(flagged["attribution_flag"], "unknown_variant");
    assert!(
        flagged["ip_hash"].as_str().unwrap().len() == 32
            && !flagged.to_string().contains("127.0.0.1"),
        "no raw IP stored"
    );
    let counts = h.admin("/api/v1/experiments/hero").await;
    assert!(
        counts["variants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["conversions"] == 0),
        "{counts}"
    );
    h.server.stop().await;
}

#[tokio::test]
async fn exposures_are_unique_bots_ignored_and_conversions_counted() {
    let h = harness("").await;
    let m = h.manifest();
    let e = m.experiment("hero").unwrap();
    let beacon = |visitor: &str, variant: &str| {
        format!(
            r#"{{"type":"exposure","experiment":"hero","variant":"{variant}","visitor":"{visitor}","page":"/landing/"}}"#
        )
    };
    for _ in 0..3 {
        let r = h
            .post(
                "/api/v1/events",
                "text/plain;charset=UTF-8",
                beacon("v1", e.assign("v1")),
                false,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let bot = h
        .http
        .post(format!("{}/api/v1/events", h.base))
        .header(
            USER_AGENT,
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
        )
        .header(CONTENT_TYPE, "text/plain")
        .body(beacon("bot1", "a"))
        .send()
        .await
        .unwrap();
    assert_eq!(bot.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        h.post(
            "/api/v1/events",
            "application/json",
            beacon("v2", "nope"),
            false
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let variant = e.assign("v1");
    let body =
        format!("email=a%40example.com&size=big&_visitor=v1&_experiment=hero&_variant={variant}");
    assert_eq!(
        h.post("/api/v1/forms/demo", FORM, body, true)
            .await
            .status(),
        StatusCode::CREATED
    );
    let report = h.admin("/api/v1/experiments/hero").await;
    let vs = report["variants"].as_array().unwrap();
    assert_eq!(vs[0]["id"], "a", "control first");
    let mine = vs.iter().find(|v| v["id"] == variant).unwrap();
    assert_eq!(
        (
            mine["visitors"].as_u64(),
            mine["views"].as_u64(),
            mine["conversions"].as_u64(),
            mine["qualified"].as_u64()
        ),
        (Some(1), Some(3), Some(1), Some(1))
    );
    let total: u64 = vs.iter().map(|v| v["visitors"].as_u64().unwrap()).sum();
    assert_eq!(total, 1, "the bot was not counted");
    let metrics = h
        .http
        .get(format!("{}/metrics", h.base))
        .bearer_auth(common::capture::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("splitmark_bot_events_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("splitmark_exposures_total 3"));
    assert!(metrics.contains("splitmark_rejections_total{code=\"unknown_variant\"} 1"));
    assert!(metrics.contains("splitmark_store_batch_size_count"));
    assert!(metrics.contains("splitmark_request_duration_seconds_bucket{le=\"+Inf\"}"));
    h.server.stop().await;
}

#[tokio::test]
async fn server_side_assignment_marks_the_page_and_records_the_exposure() {
    let h = harness("").await;
    let m = h.manifest();
    let expected = m
        .experiment("hero")
        .unwrap()
        .assign("visitor-42")
        .to_owned();
    let r = h
        .http
        .get(format!("{}/landing/", h.base))
        .header(COOKIE, "sm_vid=visitor-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-cache");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("<html data-sm-hero=\"{expected}\"")),
        "{}",
        &html[..200]
    );
    let fresh = h
        .http
        .get(format!("{}/landing/", h.base))
        .send()
        .await
        .unwrap();
    let cookie = fresh.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("sm_vid=")
            && cookie.contains("Max-Age=34560000")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let bot = h
        .http
        .get(format!("{}/landing/", h.base))
        .header(USER_AGENT, "Googlebot/2.1")
        .send()
        .await
        .unwrap();
    assert!(
        !bot.text().await.unwrap().contains("<html data-sm-hero"),
        "crawlers get the control"
    );
    let report = h.admin("/api/v1/experiments/hero").await;
    let total: u64 = report["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["visitors"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
    let other = h.http.get(format!("{}/", h.base)).send().await.unwrap();
    assert!(
        other.headers().get("set-cookie").is_none(),
        "no cookie on pages without a test"
    );
    assert_eq!(
        h.http
            .get(format!("{}/missing/", h.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    h.server.stop().await;
}

#[tokio::test]
async fn cors_for_allowed_origins_only_and_never_on_admin() {
    let h = harness("").await;
    let pre = h
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/forms/demo", h.base),
        )
        .header(ORIGIN, "https://example.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://example.test"
    );
    assert!(pre.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let evil = h
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/forms/demo", h.base),
        )
        .header(ORIGIN, "https://evil.test")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let post = h
        .http
        .post(format!("{}/api/v1/forms/demo", h.base))
        .header(ORIGIN, "https://example.test")
        .header(CONTENT_TYPE, FORM)
        .header(ACCEPT, "application/json")
        .body("email=x%40example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        post.headers()["access-control-allow-origin"],
        "https://example.test"
    );
    let admin = h
        .http
        .get(format!("{}/api/v1/experiments", h.base))
        .header(ORIGIN, "https://example.test")
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    assert!(admin.headers().get("access-control-allow-origin").is_none());
    h.server.stop().await;
}

#[tokio::test]
async fn admin_needs_the_token() {
    let h = harness("").await;
    let none = h
        .http
        .get(format!("{}/api/v1/leads", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let wrong = h
        .http
        .get(format!("{}/api/v1/leads", h.base))
        .bearer_auth("s3cret-tokeX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let e: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(e["error"], "unauthorized");
    assert_eq!(
        h.http
            .delete(format!("{}/api/v1/leads?email=a@b.co", h.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.http
            .get(format!("{}/healthz", h.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.server.stop().await;
}

#[tokio::test]
async fn csv_export_neutralises_formulas_and_erasure_works() {
    let h = harness("").await;
    h.post(
        "/api/v1/forms/demo",
        FORM,
        "email=x%40example.com&_page=%3DHYPERLINK(%22http%3A%2F%2Fevil%22)",
        true,
    )
    .await;
    let csv = h
        .http
        .get(format!("{}/api/v1/leads?format=csv", h.base))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK"));
    let erased = h
        .http
        .delete(format!("{}/api/v1/leads?email=X@example.com", h.base))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = erased.json().await.unwrap();
    assert_eq!(body["erased"], 1);
    h.server.stop().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let h = harness("").await;
    let mut limited = None;
    for i in 0..60 {
        let r = h
            .post(
                "/api/v1/forms/demo",
                FORM,
                format!("email=u{i}%40example.com"),
                true,
            )
            .await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = limited.expect("the burst of 40 runs out");
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "rate_limited");
    h.server.stop().await;
}

#[tokio::test]
async fn report_over_the_api_and_the_cli_after_seeding_through_public_endpoints() {
    let h = harness("").await;
    let m = h.manifest();
    let e = m.experiment("hero").unwrap();
    // 24 beacons and 6 submissions stay inside the fixture's rate-limit burst of 40.
    for i in 0..24 {
        let visitor = format!("r{i}");
        let variant = e.assign(&visitor).to_owned();
        let beacon = format!(
            r#"{{"type":"exposure","experiment":"hero","variant":"{variant}","visitor":"{visitor}"}}"#
        );
        assert_eq!(
            h.post("/api/v1/events", "text/plain", beacon, false)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        if i % 4 == 0 {
            let body = format!("email={visitor}%40example.com&size=big&_visitor={visitor}&_experiment=hero&_variant={variant}");
            assert_eq!(
                h.post("/api/v1/forms/demo", FORM, body, true)
                    .await
                    .status(),
                StatusCode::CREATED
            );
        }
    }
    // Beacons are answered before they commit: wait (bounded) until all 24 visitors count.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let r = loop {
        let r = h.admin("/api/v1/experiments/hero").await;
        let visitors: u64 = r["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["visitors"].as_u64().unwrap())
            .sum();
        if visitors == 24 || std::time::Instant::now() > deadline {
            assert_eq!(visitors, 24, "every beacon committed");
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(
        r["srm_p_value"].is_number() && r["srm_warning"].is_boolean(),
        "{r}"
    );
    assert!(r["verdict"].is_string());
    let b = &r["variants"][1];
    for k in [
        "rate",
        "ci_low",
        "ci_high",
        "p_value",
        "p_value_sequential",
        "chance_to_beat_control",
        "expected_loss",
        "qualified_rate",
    ] {
        assert!(b.get(k).is_some(), "{k} in {b}");
    }
    let total: u64 = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["conversions"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 6);
    assert_eq!(r["qualified_stats"][0]["id"], "a");
    h.server.stop().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "hero", "--json", "--root"])
        .arg(h.site.root())
        .arg("--db")
        .arg(format!(
            "sqlite:{}",
            h.site.root().join("data/leads.db").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cli["variants"], r["variants"],
        "the CLI prints the API's numbers"
    );
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["report", "--root"])
        .arg(h.site.root())
        .arg("--db")
        .arg(format!(
            "sqlite:{}",
            h.site.root().join("data/leads.db").display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Experiment hero") && text.contains("verdict: "),
        "{text}"
    );
}

#[tokio::test]
async fn the_capture_server_runs_on_postgresql_too() {
    let Some(url) = common::postgres::schema_url("the capture server").await else {
        return;
    };
    let h = Harness::start(
        &[
            ("splitmark.toml", &format!("{CONFIG}{CAPTURE}{DEMO_FORM}")),
            ("content/landing.md", LANDING),
        ],
        Some(url),
    )
    .await;
    let a: serde_json::Value = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=p%40example.com&size=big&_visitor=pg1",
            true,
        )
        .await
        .json()
        .await
        .unwrap();
    let b: serde_json::Value = h
        .post(
            "/api/v1/forms/demo",
            FORM,
            "email=p%40example.com&size=big&_visitor=pg1",
            true,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["id"], b["id"], "dedupe on PostgreSQL");
    assert_eq!(a["qualified"], true);
    let leads = h.admin("/api/v1/leads?format=json").await;
    assert_eq!(leads["leads"].as_array().unwrap().len(), 1);
    assert_eq!(
        h.http
            .get(format!("{}/healthz", h.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.server.stop().await;
}
