//! Named users against the real binary, on both stores: `splitmark user add|list|remove`,
//! signing in to the dashboard and the admin API with the printed secret, the sales role
//! refused what only admins may do (403), and removal or `--replace` ending access at once.

mod common;
use common::capture::DEMO_FORM;
use common::process::{CaptureProcess, TOKEN};
use common::users::{stored_hash, Api, Cli, DbArg};
use common::*;
use reqwest::header::{CONTENT_TYPE, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::Value;

/// A Slack-format target on a closed local port: every lead gets a delivery row (pending,
/// retried), which the redeliver checks need; no secret is involved.
const SETUP: &str = "[capture]\nrate_limit_per_minute = 100000\nrate_limit_burst = 100000\n\
allow_private_targets = true\n[[capture.webhooks]]\nurl = \"http://127.0.0.1:9/x\"\nformat = \"slack\"\n";

async fn users_end_to_end(db: String, how: DbArg) {
    let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}{SETUP}{DEMO_FORM}"))]);
    site.build_ok();
    let cli = Cli {
        root: site.root().to_path_buf(),
        db: db.clone(),
        how,
    };
    if let DbArg::Flag = how {
        assert!(
            cli.fails(&["list"]).contains("there is no database"),
            "the CLI never creates an empty database"
        );
    }
    // The server runs throughout: users are added and removed beside it.
    let server = CaptureProcess::start(&site, &db);
    let api = Api {
        http: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: server.base(),
    };

    // add, with its checks; list shows name, role and time, never a hash or a secret.
    let out = cli.run(&["add", "alice", "--role", "sales"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Added sales user alice"));
    let alice = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(alice.len(), 43);
    let root = cli.add("ops.lead", "admin", &[]);
    assert_ne!(alice, root);
    assert!(cli
        .fails(&["add", "alice", "--role", "sales"])
        .contains("--replace"));
    assert!(cli
        .fails(&["add", "Alice!", "--role", "sales"])
        .contains("not a user name"));
    assert!(cli
        .fails(&["add", "admin", "--role", "admin"])
        .contains("shared admin token"));
    assert!(cli
        .fails(&["add", "bob", "--role", "boss"])
        .contains("not a role"));
    let list = cli.ok(&["list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("ROLE") && lines[0].contains("CREATED")
    );
    assert!(
        lines[1].starts_with("alice ") && lines[1].contains(" sales "),
        "{list}"
    );
    assert!(
        lines[2].starts_with("ops.lead ") && lines[2].contains(" admin "),
        "{list}"
    );
    assert!(!list.contains("argon2") && !list.contains(&alice), "{list}");
    let hash = stored_hash(&db, "alice").await;
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(&alice));

    // A lead, with one delivery row.
    let r = api
        .http
        .post(format!("{}/api/v1/forms/demo", api.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("email=lead%40example.com&size=big")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let lead_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deliveries: Value = api
        .get("/api/v1/deliveries", TOKEN)
        .await
        .json()
        .await
        .unwrap();
    let delivery = deliveries["deliveries"][0]["id"].as_i64().unwrap();

    // The admin API as a salesperson: leads a page at a time and experiments, nothing more.
    let sales = format!("alice:{alice}");
    let r = api.get("/api/v1/leads?limit=20", &sales).await;
    assert_eq!(r.status(), StatusCode::OK);
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["leads"][0]["id"], lead_id.as_str());
    assert_eq!(
        api.get("/api/v1/experiments", &sales).await.status(),
        StatusCode::OK
    );
    api.forbidden(
        api.get("/api/v1/leads?format=csv", &sales).await,
        "csv export",
    )
    .await;
    api.forbidden(api.get("/api/v1/leads", &sales).await, "the whole list")
        .await;
    api.forbidden(
        api.send(
            reqwest::Method::DELETE,
            "/api/v1/leads?email=lead%40example.com",
            &sales,
        )
        .await,
        "erase",
    )
    .await;
    let redeliver = format!("/api/v1/deliveries/{delivery}/redeliver");
    api.forbidden(
        api.send(reqwest::Method::POST, &redeliver, &sales).await,
        "redeliver",
    )
    .await;
    api.forbidden(api.get("/api/v1/deliveries", &sales).await, "delivery log")
        .await;
    api.forbidden(api.get("/metrics", &sales).await, "metrics")
        .await;
    // A salesperson works the lead, and the history names who did.
    let events = format!("/api/v1/leads/{lead_id}/events");
    let r = api
        .post_json(
            &events,
            &sales,
            &serde_json::json!({"stage": "contacted", "note": "called"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let history: Value = api.get(&events, &sales).await.json().await.unwrap();
    let last = history["events"]
        .as_array()
        .and_then(|e| e.last())
        .unwrap_or_else(|| panic!("no history: {history}"));
    assert_eq!(last["actor"], "alice", "{history}");
    assert_eq!(last["stage"], "contacted");
    // Wrong secrets and unknown users are 401, whatever their shape.
    for wrong in [
        format!("alice:{root}"),
        "alice:".to_owned(),
        format!("nobody:{alice}"),
        alice.clone(),
        "t-but-longer".to_owned(),
    ] {
        let r = api.get("/api/v1/leads?limit=1", &wrong).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized");
    }

    // An admin user may do all of it, and so may the shared token.
    let admin = format!("ops.lead:{root}");
    for bearer in [admin.as_str(), TOKEN] {
        let r = api.get("/api/v1/leads?format=csv", bearer).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("lead@example.com"));
        let r = api.send(reqwest::Method::POST, &redeliver, bearer).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(api.get("/metrics", bearer).await.status(), StatusCode::OK);
        let r = api
            .send(
                reqwest::Method::DELETE,
                "/api/v1/leads?email=nobody%40example.com",
                bearer,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    // The dashboard as a salesperson: the leads, who is signed in, no admin controls.
    let r = api.login("alice", &root).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "another user's secret"
    );
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert_eq!(
        api.login("nobody", &alice).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let cookie = api.session("alice", &alice).await;
    let (status, leads) = api
        .page(reqwest::Method::GET, "/admin/leads", &cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(leads.contains("lead@example.com"));
    assert!(
        leads.contains("Signed in as <b>alice</b> (sales)"),
        "{leads}"
    );
    assert!(leads.contains("action=\"/admin/logout\""));
    assert!(!leads.contains("leads.csv"), "no export link for sales");
    assert!(
        !leads.contains("href=\"/admin/deliveries\""),
        "no delivery log for sales"
    );
    let (status, lead) = api
        .page(
            reqwest::Method::GET,
            &format!("/admin/leads/{lead_id}"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        lead.contains("slack") || lead.contains("webhook"),
        "the lead's deliveries show"
    );
    assert!(
        !lead.contains("/redeliver"),
        "no redeliver button for sales"
    );
    for (method, path) in [
        (reqwest::Method::GET, "/admin/leads.csv".to_owned()),
        (reqwest::Method::GET, "/admin/deliveries".to_owned()),
        (
            reqwest::Method::POST,
            format!("/admin/deliveries/{delivery}/redeliver"),
        ),
    ] {
        let (status, page) = api.page(method, &path, &cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("sales role, which may not"), "{path}: {page}");
    }

    // The dashboard as an admin user.
    let admin_cookie = api.session("ops.lead", &root).await;
    let (_, leads) = api
        .page(reqwest::Method::GET, "/admin/leads", &admin_cookie)
        .await;
    assert!(leads.contains("Signed in as <b>ops.lead</b> (admin)") && leads.contains("leads.csv"));
    let (_, lead) = api
        .page(
            reqwest::Method::GET,
            &format!("/admin/leads/{lead_id}"),
            &admin_cookie,
        )
        .await;
    assert!(lead.contains(&format!("/admin/deliveries/{delivery}/redeliver")));
    let (status, csv) = api
        .page(reqwest::Method::GET, "/admin/leads.csv", &admin_cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("lead@example.com"));
    let (status, to) = api
        .page(
            reqwest::Method::POST,
            &format!("/admin/deliveries/{delivery}/redeliver"),
            &admin_cookie,
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/admin/deliveries")
    );
    // The shared token still signs in, as before.
    let token_cookie = api.session("", TOKEN).await;
    let (status, page) = api
        .page(reqwest::Method::GET, "/admin/deliveries", &token_cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("(admin token)"));

    // Removing a user ends its live session and its (remembered) API access at once.
    assert!(cli.ok(&["remove", "alice"]).contains("Removed user alice"));
    let (status, to) = api
        .page(reqwest::Method::GET, "/admin/leads", &cookie)
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/admin/login")
    );
    let r = api.get("/api/v1/leads?limit=20", &sales).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(cli.fails(&["remove", "alice"]).contains("no user"));
    assert!(!cli.ok(&["list"]).contains("alice"));

    // --replace rotates: the old secret and its sessions end, the new one works.
    let out = cli.run(&["add", "ops.lead", "--role", "admin", "--replace"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Replaced admin user ops.lead"));
    let rotated = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(rotated.len(), 43);
    assert_ne!(rotated, root);
    assert_eq!(
        api.get("/metrics", &admin).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = api
        .page(reqwest::Method::GET, "/admin/leads", &admin_cookie)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.login("ops.lead", &root).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = api.get("/metrics", &format!("ops.lead:{rotated}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(stored_hash(&db, "ops.lead").await, hash);
    // The shared token's session is untouched by any of it.
    let (status, _) = api
        .page(reqwest::Method::GET, "/admin/leads", &token_cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    drop(server);
}

#[tokio::test]
async fn users_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("leads.db").display());
    users_end_to_end(db, DbArg::Flag).await;
}

#[tokio::test]
async fn users_on_postgres_with_the_url_from_the_environment() {
    if let Some(url) = common::postgres::schema_url("the users test").await {
        users_end_to_end(url, DbArg::Env).await;
    }
}

/// Guessing a user's secret is throttled by the per-client rate limit, on the dashboard's
/// sign-in and on the API (where each guess would cost an argon2 check).
#[tokio::test]
async fn guessing_secrets_is_rate_limited() {
    let setup = "[capture]\nrate_limit_per_minute = 1\nrate_limit_burst = 3\n";
    let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}{setup}{DEMO_FORM}"))]);
    site.build_ok();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("leads.db").display());
    let server = CaptureProcess::start(&site, &db);
    let cli = Cli {
        root: site.root().to_path_buf(),
        db,
        how: DbArg::Flag,
    };
    let secret = cli.add("carol", "sales", &[]);
    let api = Api {
        http: Client::new(),
        base: server.base(),
    };
    let statuses = async |bearer: bool| {
        let mut seen = Vec::new();
        for guess in 0..4 {
            let wrong = format!("{secret}{guess}");
            let r = if bearer {
                api.get("/api/v1/leads?limit=1", &format!("carol:{wrong}"))
                    .await
            } else {
                api.login("carol", &wrong).await
            };
            seen.push(r.status().as_u16());
        }
        seen
    };
    assert_eq!(statuses(true).await, [401, 401, 401, 429]);
    // The burst is spent: the sign-in form refuses the guess before checking it.
    assert_eq!(statuses(false).await, [429, 429, 429, 429]);
    // The shared token is a constant-time compare, not a guess at a user: not throttled.
    assert_eq!(api.get("/api/v1/leads?limit=1", TOKEN).await.status(), 200);
}
