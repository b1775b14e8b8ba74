//! A visitor without JavaScript, over real HTTP against the capture server: the form again with
//! labels, messages and the values typed; "too many attempts"; the thank-you page; theme
//! overrides of those pages; and the manifest kept out of the published site.

mod common;
use common::capture::{Harness, FORM};
use common::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, REFERER};
use reqwest::StatusCode;
use scraper::Html;

const LEAD_FORM: &str = r#"
[forms.lead]
headline = "Book a demo"
success_message = "Thanks, we will call you within a day."
[[forms.lead.fields]]
name = "email"
type = "email"
label = "Work email"
required = true
[[forms.lead.fields]]
name = "company"
type = "text"
label = "Company name"
required = true
min_length = 2
[[forms.lead.fields]]
name = "size"
type = "select"
label = "Company size"
options = ["small", "big"]
[[forms.lead.fields]]
name = "notes"
type = "textarea"
label = "Anything else?"
[capture]
rate_limit_per_minute = 1
rate_limit_burst = 6
"#;

const LANDING: &str = "+++\ntitle = \"Landing\"\n+++\n{{ form(id=\"lead\") }}\n";

async fn harness(extra: &[(&str, &str)]) -> Harness {
    let config = format!("{CONFIG}{LEAD_FORM}");
    let mut files = vec![
        ("splitmark.toml", config.as_str()),
        ("content/landing.md", LANDING),
    ];
    files.extend_from_slice(extra);
    Harness::start(&files, None).await
}

/// A plain form post as a browser sends it, with a `Referer` when given.
async fn plain_post(h: &Harness, body: &str, referer: Option<&str>) -> reqwest::Response {
    let mut r = h
        .http
        .post(format!("{}/api/v1/forms/lead", h.base))
        .header(CONTENT_TYPE, FORM)
        .header(ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(body.to_owned());
    if let Some(from) = referer {
        r = r.header(REFERER, from);
    }
    r.send().await.unwrap()
}

fn enc(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

#[tokio::test]
async fn errors_show_the_form_again_with_labels_messages_and_the_values_typed() {
    let h = harness(&[]).await;
    let body = enc(&[
        ("email", "not-an-email"),
        ("company", HOSTILE),
        ("size", "huge"),
        ("notes", "</textarea><script>alert(3)</script>"),
        ("_page", "/landing/"),
        ("_visitor", "v-plain-1"),
        ("utm_source", "news\"letter"),
    ]);
    let referer = format!("{}/landing/?utm_source=news", h.base);
    let r = plain_post(&h, &body, Some(&referer)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "user data is escaped: {html}"
    );
    assert!(!html.contains("javascript:"), "{html}");
    let doc = Html::parse_document(&html);
    // The site's own layout, headed by the form's headline.
    assert_eq!(texts(&doc, ".site-header .brand"), ["Test site"]);
    assert_eq!(texts(&doc, "h1"), ["Book a demo"]);
    assert_eq!(attr(&doc, "meta[name=robots]", "content"), "noindex");
    // Each problem by its label, with the server's message, linked to its field.
    let items = texts(&doc, ".sm-errors li");
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].starts_with("Work email: "), "{items:?}");
    assert!(items[1].starts_with("Company size: "), "{items:?}");
    assert_eq!(
        attrs(&doc, ".sm-errors a", "href"),
        ["#sm-lead-email", "#sm-lead-size"]
    );
    assert!(!texts(&doc, "#sm-lead-email-err")[0].is_empty());
    assert_eq!(attr(&doc, "#sm-lead-email", "aria-invalid"), "true");
    assert!(attrs(&doc, "#sm-lead-company", "aria-invalid").is_empty());
    // The values typed, exactly (the hostile one as text, not markup).
    assert_eq!(attr(&doc, "#sm-lead-email", "value"), "not-an-email");
    assert_eq!(attr(&doc, "#sm-lead-company", "value"), HOSTILE);
    assert_eq!(
        texts(&doc, "#sm-lead-notes"),
        ["</textarea><script>alert(3)</script>"]
    );
    assert!(attrs(&doc, "#sm-lead-size option[selected]", "value").is_empty());
    // Attribution survives a second try; the form posts back here.
    assert_eq!(attr(&doc, "input[name=_page]", "value"), "/landing/");
    assert_eq!(attr(&doc, "input[name=_visitor]", "value"), "v-plain-1");
    assert_eq!(
        attr(&doc, "input[name=utm_source]", "value"),
        "news\"letter"
    );
    assert_eq!(attr(&doc, "form.sm-form", "action"), "/api/v1/forms/lead");
    // Back to where the visitor was: the same-origin Referer's path.
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/?utm_source=news");

    // A valid select keeps its choice; fixing the form from this page works.
    let body = enc(&[
        ("email", "a@example.com"),
        ("company", "x"),
        ("size", "big"),
        ("_page", "/landing/"),
    ]);
    let doc = Html::parse_document(&plain_post(&h, &body, None).await.text().await.unwrap());
    assert_eq!(
        attrs(&doc, "#sm-lead-size option[selected]", "value"),
        ["big"]
    );
    assert_eq!(texts(&doc, ".sm-errors li a"), ["Company name"]);
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    h.server.stop().await;
}

#[tokio::test]
async fn only_this_sites_referer_is_a_way_back() {
    let h = harness(&[]).await;
    let bad = enc(&[("email", "nope"), ("_page", "/landing/")]);
    let back = |html: String| attr(&Html::parse_document(&html), "a.sm-back", "href");
    // Another site's Referer is not used: `_page` is.
    let r = plain_post(&h, &bad, Some("https://evil.test/phish")).await;
    assert_eq!(back(r.text().await.unwrap()), "/landing/");
    // Nor a script URL, nor the capture API itself (the form shown again).
    let r = plain_post(&h, &bad, Some("javascript:alert(1)")).await;
    assert_eq!(back(r.text().await.unwrap()), "/landing/");
    let api = format!("{}/api/v1/forms/lead", h.base);
    let r = plain_post(&h, &bad, Some(&api)).await;
    assert_eq!(back(r.text().await.unwrap()), "/landing/");
    // The site's own origin (base_url, allowed by default) is, as a full URL.
    let r = plain_post(&h, &bad, Some("https://example.test/pricing/")).await;
    assert_eq!(
        back(r.text().await.unwrap()),
        "https://example.test/pricing/"
    );
    // No usable Referer and a `_page` that is not a local path: the home page.
    let odd = enc(&[("email", "nope"), ("_page", "//evil.test/")]);
    let r = plain_post(&h, &odd, Some("https://evil.test/")).await;
    let html = r.text().await.unwrap();
    assert_eq!(back(html.clone()), "/");
    let doc = Html::parse_document(&html);
    assert!(
        attrs(&doc, "a", "href").iter().all(|a| !a.contains("evil")),
        "{html}"
    );
    h.server.stop().await;
}

#[tokio::test]
async fn too_many_attempts_is_a_page_with_retry_after() {
    let h = harness(&[]).await;
    let referer = format!("{}/landing/", h.base);
    let mut limited = None;
    for i in 0..20 {
        let r = plain_post(&h, &enc(&[("email", &format!("x{i}"))]), Some(&referer)).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = limited.expect("the burst of 6 runs out");
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs >= 1);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let doc = Html::parse_document(&r.text().await.unwrap());
    assert_eq!(
        texts(&doc, "[role=alert]"),
        [format!("Too many attempts; try again in {secs} s.")]
    );
    assert_eq!(texts(&doc, ".site-header .brand"), ["Test site"]);
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    // A script still gets JSON.
    let r = h
        .post("/api/v1/forms/lead", FORM, "email=a%40b.co", true)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "rate_limited");
    h.server.stop().await;
}

/// The built page's form as a browser without JavaScript would send it: every input's value.
fn form_fields(page: &str, fill: &[(&str, &str)]) -> (String, String) {
    let doc = Html::parse_document(page);
    let action = attr(&doc, "form.sm-form", "action");
    let sel = scraper::Selector::parse("form.sm-form input[name]").unwrap();
    let mut pairs: Vec<(String, String)> = doc
        .select(&sel)
        .map(|e| {
            let name = e.value().attr("name").unwrap().to_owned();
            let value = fill
                .iter()
                .find(|(k, _)| *k == name)
                .map_or(e.value().attr("value").unwrap_or(""), |(_, v)| *v);
            (name, value.to_owned())
        })
        .collect();
    for (k, v) in fill {
        if !pairs.iter().any(|(n, _)| n == k) {
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    (action, body)
}

#[tokio::test]
async fn success_without_javascript_shows_the_message_and_the_way_back() {
    let h = harness(&[]).await;
    let page = h
        .http
        .get(format!("{}/landing/", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, body) = form_fields(
        &page,
        &[
            ("email", "plain@example.com"),
            ("company", "Acme"),
            ("size", "big"),
        ],
    );
    assert!(body.contains("_page=%2Flanding%2F"), "{body}");
    let r = h
        .http
        .post(format!("{}{action}", h.base))
        .header(CONTENT_TYPE, FORM)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/api/v1/forms/lead/thanks?page=%2Flanding%2F");
    let thanks = h
        .http
        .get(format!("{}{location}", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(thanks.status(), StatusCode::OK);
    let html = thanks.text().await.unwrap();
    let doc = Html::parse_document(&html);
    assert_eq!(
        texts(&doc, "[role=status]"),
        ["Thanks, we will call you within a day."]
    );
    assert_eq!(texts(&doc, ".site-header .brand"), ["Test site"]);
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    assert!(
        attrs(&doc, "script", "type")
            .iter()
            .all(|t| t == "application/ld+json")
            && texts(&doc, "script").len() == attrs(&doc, "script", "type").len(),
        "no script needed: {html}"
    );
    // The lead is stored, with the page it came from.
    let leads = h.admin("/api/v1/leads?format=json").await;
    let lead = leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["email"] == "plain@example.com")
        .expect("stored");
    assert_eq!(lead["page"], "/landing/");
    // A hand-made thank-you URL cannot point the link elsewhere; an unknown form is a 404.
    let odd = h
        .http
        .get(format!(
            "{}/api/v1/forms/lead/thanks?page=javascript:alert(1)",
            h.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&Html::parse_document(&odd), "a.sm-back", "href"), "/");
    let none = h
        .http
        .get(format!("{}/api/v1/forms/nope/thanks", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    h.server.stop().await;
}

#[tokio::test]
async fn a_site_overrides_the_pages_like_any_template() {
    let h = harness(&[
        (
            "templates/form_error.html",
            "{% extends \"base.html\" %}{% block main %}<p class=\"mine\">{% for e in errors %}[{{ e.label }}|{{ values[e.name][0] }}]{% endfor %}</p><a class=\"sm-back\" href=\"{{ back_url }}\">back</a>{% endblock main %}",
        ),
        (
            "templates/form_success.html",
            "<p class=\"mine\">{{ form.id }}: {{ message }}</p>",
        ),
    ])
    .await;
    let body = enc(&[
        ("email", "<b>x"),
        ("company", "Acme"),
        ("_page", "/landing/"),
    ]);
    let r = plain_post(&h, &body, None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let doc = Html::parse_document(&html);
    assert_eq!(texts(&doc, "p.mine"), ["[Work email|<b>x]"]);
    assert!(
        html.contains("&lt;b&gt;x"),
        "escaped in an override too: {html}"
    );
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    let ok = enc(&[("email", "o@example.com"), ("company", "Acme")]);
    let r = plain_post(&h, &ok, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let thanks = h
        .http
        .get(format!(
            "{}{}",
            h.base,
            r.headers()["location"].to_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&Html::parse_document(&thanks), "p.mine"),
        ["lead: Thanks, we will call you within a day."]
    );
    h.server.stop().await;
}

#[tokio::test]
async fn the_manifest_is_not_published_and_the_server_uses_the_private_one() {
    let h = harness(&[]).await;
    assert!(!h.site.out("_splitmark/manifest.json").exists());
    assert!(h.site.manifest_file().exists());
    let r = h
        .http
        .get(format!("{}/_splitmark/manifest.json", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The server validates against it.
    let r = h
        .post("/api/v1/forms/lead", FORM, "email=a%40example.com", true)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert!(e["fields"]["company"].is_string(), "{e}");
    h.server.stop().await;
}

#[test]
fn the_cli_finds_the_manifest_and_says_what_to_do_without_one() {
    let bin = env!("CARGO_BIN_EXE_splitmark");
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{LEAD_FORM}")),
        ("content/landing.md", LANDING),
    ]);
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(bin)
            .args(args)
            .arg("--root")
            .arg(site.root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A server that starts by mistake must not hang the test: it is killed by its PID.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    };
    // Before any build: a clear error naming the fix, for the server and the report.
    for args in [&["capture", "--bind", "127.0.0.1:0"][..], &["report"][..]] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("manifest") && err.contains("splitmark build"),
            "{args:?}: {err}"
        );
    }
    // Built elsewhere with --manifest, it is found there and only there.
    let elsewhere = site.root().join("private/manifest.json");
    let path = elsewhere.to_str().unwrap();
    assert!(run(&["build", "--manifest", path]).status.success());
    assert!(elsewhere.exists() && !site.manifest_file().exists());
    assert!(!site.out("_splitmark/manifest.json").exists());
    let out = run(&["report", "--manifest", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no experiments"));
    assert!(!run(&["report"]).status.success());
    // The default place after a plain build.
    assert!(run(&["build"]).status.success());
    assert!(site.manifest_file().exists());
    assert!(run(&["report"]).status.success());
}

#[tokio::test]
async fn the_form_comes_back_in_the_visitors_variant() {
    let page = "+++\ntitle = \"Exp\"\n[experiment]\nid = \"hero\"\ngoal = \"lead\"\nstatus = \"running\"\n[[experiment.variants]]\nid = \"a\"\nform = { fields = [\"phone\"] }\n[[experiment.variants]]\nid = \"b\"\nform = { headline = \"Variant headline\", submit = \"Go B\", fields = [] }\n+++\n{{ form(id=\"lead\") }}\n";
    let config = format!(
        "{CONFIG}{LEAD_FORM}[[forms.lead.fields]]\nname = \"phone\"\ntype = \"tel\"\nlabel = \"Phone\"\noptional_in_variants = true\n"
    );
    let h = Harness::start(
        &[("splitmark.toml", &config), ("content/exp.md", page)],
        None,
    )
    .await;
    let sent = |variant: &'static str| {
        enc(&[
            ("email", "nope"),
            ("_experiment", "hero"),
            ("_variant", variant),
            ("_page", "/exp/"),
        ])
    };
    let doc = Html::parse_document(&plain_post(&h, &sent("b"), None).await.text().await.unwrap());
    assert_eq!(texts(&doc, "h1"), ["Variant headline"]);
    assert_eq!(texts(&doc, "form button[type=submit]"), ["Go B"]);
    assert!(
        attrs(&doc, "#sm-lead-phone", "name").is_empty(),
        "b hides phone"
    );
    assert_eq!(attr(&doc, "input[name=_variant]", "value"), "b");
    let doc = Html::parse_document(&plain_post(&h, &sent("a"), None).await.text().await.unwrap());
    assert_eq!(texts(&doc, "h1"), ["Book a demo"]);
    assert_eq!(attrs(&doc, "#sm-lead-phone", "name"), ["phone"]);
    h.server.stop().await;
}

#[tokio::test]
async fn a_body_too_large_for_a_plain_post_is_a_page_too() {
    let h = harness(&[]).await;
    let referer = format!("{}/landing/", h.base);
    let big = format!("email=a%40example.com&notes={}", "x".repeat(70 * 1024));
    let r = plain_post(&h, &big, Some(&referer)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let doc = Html::parse_document(&r.text().await.unwrap());
    assert_eq!(
        texts(&doc, "[role=alert]"),
        ["The form was too large to send."]
    );
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    // A script keeps its JSON.
    let r = h.post("/api/v1/forms/lead", FORM, big.clone(), true).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "payload_too_large");
    h.server.stop().await;
}

#[tokio::test]
async fn answers_the_store_cannot_take_come_back_to_send_again() {
    // A real database failure: the leads table disappears under a running server.
    let Some(url) = common::postgres::schema_url("the store-failure page test").await else {
        return;
    };
    let client = common::postgres::client(&url).await;
    let config = format!("{CONFIG}{LEAD_FORM}");
    let h = Harness::start(
        &[
            ("splitmark.toml", config.as_str()),
            ("content/landing.md", LANDING),
        ],
        Some(url.clone()),
    )
    .await;
    client
        .batch_execute("ALTER TABLE leads RENAME TO leads_gone")
        .await
        .unwrap();
    let body = enc(&[
        ("email", "kept@example.com"),
        ("company", "Acme <&> Co"),
        ("size", "big"),
        ("_page", "/landing/"),
    ]);
    let r = plain_post(&h, &body, None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let doc = Html::parse_document(&r.text().await.unwrap());
    assert_eq!(
        texts(&doc, "[role=alert]"),
        ["Your answers could not be saved just now. Please send them again."]
    );
    assert_eq!(attr(&doc, "#sm-lead-email", "value"), "kept@example.com");
    assert_eq!(attr(&doc, "#sm-lead-company", "value"), "Acme <&> Co");
    assert_eq!(
        attrs(&doc, "#sm-lead-size option[selected]", "value"),
        ["big"]
    );
    assert_eq!(attr(&doc, "input[name=_page]", "value"), "/landing/");
    assert_eq!(attr(&doc, "a.sm-back", "href"), "/landing/");
    h.server.stop().await;
    client
        .batch_execute(
            "DO $$ BEGIN EXECUTE format('DROP SCHEMA %I CASCADE', current_schema()); END $$",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_broken_override_still_answers_the_visitor() {
    let h = harness(&[("templates/form_success.html", "{{ nope.deeper }}")]).await;
    let ok = enc(&[("email", "b@example.com"), ("company", "Acme")]);
    let r = plain_post(&h, &ok, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let thanks = h
        .http
        .get(format!(
            "{}{}",
            h.base,
            r.headers()["location"].to_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(thanks.status(), StatusCode::OK);
    let doc = Html::parse_document(&thanks.text().await.unwrap());
    assert_eq!(
        texts(&doc, "p"),
        [
            "Thanks, we will call you within a day.",
            "Back to the page you were on"
        ]
    );
    h.server.stop().await;
}

#[tokio::test]
async fn odd_thank_you_paths_are_clean_answers() {
    let h = harness(&[]).await;
    for path in [
        "/api/v1/forms/thanks",
        "/api/v1/forms//thanks",
        "/api/v1/forms/a/b/thanks",
        "/api/v1/forms/%3Cscript%3E/thanks",
    ] {
        let r = h
            .http
            .get(format!("{}{path}", h.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    h.server.stop().await;
}
