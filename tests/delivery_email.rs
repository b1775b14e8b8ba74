//! E-mail delivery to a real SMTP server (Debian's `python3-aiosmtpd` on loopback, with the
//! handler in tests/py/smtp_sink.py writing each message to a file). Skips loudly without
//! aiosmtpd unless `SPLITMARK_REQUIRE_SMTP` is set (CI installs it).

#[path = "common/smtp.rs"]
mod smtp;
#[path = "common/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

use smtp_sink::SmtpSink;
use splitmark::config::Config;
use splitmark::delivery::{Deliverer, Labels, Outcome, Targets, Timeouts};
use splitmark::forms::FormSpec;
use splitmark::store::{NewLead, Utm};
use std::collections::BTreeMap;
use std::time::Duration;

fn lead() -> NewLead {
    let mut answers = serde_json::Map::new();
    answers.insert("email".into(), "ada@example.com".into());
    answers.insert("name".into(), "Ada Lovelace".into());
    answers.insert("size".into(), "m".into());
    answers.insert("note".into(), "<b>call me</b> & soon".into());
    NewLead {
        received_at: "2026-03-01T10:00:00Z".parse().unwrap(),
        form: "demo".into(),
        answers,
        email: Some("ada@example.com".into()),
        experiment: Some("hero".into()),
        variant: Some("speed".into()),
        attribution_flag: None,
        visitor: Some("v".into()),
        page: Some("/".into()),
        referrer: None,
        utm: Utm {
            source: Some("newsletter".into()),
            campaign: Some("spring".into()),
            ..Utm::default()
        },
        user_agent: None,
        ip_hash: None,
        score: 70,
        qualified: true,
        spam_reason: None,
        consent: None,
        dedupe_key: "k".into(),
        confirmation: None,
        form_version: None,
    }
}

fn labels() -> Labels {
    let spec: FormSpec = toml::from_str(
        r#"
        [[fields]]
        name = "email"
        type = "email"
        label = "Work email"
        [[fields]]
        name = "name"
        label = "Your name"
        [[fields]]
        name = "size"
        type = "select"
        label = "Company size"
        options = [{ value = "m", label = "51-200 people" }]
        [[fields]]
        name = "note"
        type = "textarea"
        label = "Anything else?"
        "#,
    )
    .unwrap();
    Labels::from_forms(&BTreeMap::from([("demo".to_owned(), spec)]))
}

fn targets(smtp_url: String, to: &str) -> Targets {
    let config = Config::parse(&format!(
        "base_url = \"https://x.test\"\n[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\n\
         [capture.email]\nsmtp_url_env = \"SMTP_URL\"\nfrom = \"Leads <leads@example.com>\"\nto = [\"{to}\"]\n\
         events = [\"lead.created\"]\n"
    ))
    .unwrap();
    Targets::from_config(&config, &move |k| {
        (k == "SMTP_URL").then(|| smtp_url.clone())
    })
    .unwrap()
}

const LEAD_ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

#[tokio::test]
async fn the_sales_inbox_gets_both_parts_with_labels_and_reply_to_the_lead() {
    let Some(python) = smtp::python_with_aiosmtpd("e-mail delivery tests") else {
        return;
    };
    let smtp = SmtpSink::start(python).await;
    let t = targets(smtp.url(), "sales@example.com");
    let rows = t.deliveries_for(LEAD_ID, &lead());
    assert_eq!(rows.len(), 1, "the e-mail wants lead.created only");
    let d = Deliverer::new(t, "https://crm.x.test", labels());
    let (target, message) = &rows[0];
    assert_eq!(
        d.attempt(target, message).await,
        Outcome::Delivered { status: 250 }
    );
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["mail_from"], "leads@example.com");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["sales@example.com"]));
    let h = &m["headers"];
    assert_eq!(
        h["subject"],
        "New lead (qualified): Ada Lovelace (demo, score 70)"
    );
    assert_eq!(h["reply-to"], "Ada Lovelace <ada@example.com>");
    assert_eq!(h["to"], "sales@example.com");
    assert_eq!(
        h["message-id"],
        format!("<msg_{LEAD_ID}_created@example.com>")
    );
    assert_eq!(m["content_type"], "multipart/alternative");
    let part = |ty: &str| {
        m["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == ty)
            .unwrap_or_else(|| panic!("no {ty} part in {m}"))["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let text = part("text/plain");
    let link = format!("https://crm.x.test/admin/leads/{LEAD_ID}");
    for want in [
        "Work email: ada@example.com",
        "Your name: Ada Lovelace",
        "Company size: 51-200 people",
        "Anything else?: <b>call me</b> & soon",
        "Score: 70",
        "Source: newsletter",
        "Campaign: spring",
        "Variant: speed (hero)",
        link.as_str(),
    ] {
        assert!(text.contains(want), "{want:?} missing from\n{text}");
    }
    let html = part("text/html");
    assert!(
        html.contains("<th align=\"left\" valign=\"top\">Company size</th><td>51-200 people</td>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;b&gt;call me&lt;/b&gt; &amp; soon"),
        "{html}"
    );
    assert!(!html.contains("<b>call me"), "{html}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
}

#[tokio::test]
async fn a_refused_recipient_and_a_server_that_is_down_are_retried() {
    let Some(python) = smtp::python_with_aiosmtpd("e-mail delivery tests") else {
        return;
    };
    let smtp = SmtpSink::start(python).await;
    let t = targets(smtp.url(), "reject@example.com");
    let rows = t.deliveries_for(LEAD_ID, &lead());
    let d = Deliverer::new(t, "https://x.test", labels());
    match d.attempt(&rows[0].0, &rows[0].1).await {
        Outcome::Retry { status, error } => {
            assert_eq!(status, Some(550), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(smtp.messages().is_empty());
    drop(smtp);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = targets(format!("smtp://127.0.0.1:{port}"), "sales@example.com");
    let rows = t.deliveries_for(LEAD_ID, &lead());
    let d = Deliverer::new(t, "https://x.test", labels()).with_timeouts(Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(3),
    });
    assert!(matches!(
        d.attempt(&rows[0].0, &rows[0].1).await,
        Outcome::Retry { status: None, .. }
    ));
}

#[test]
fn plain_smtp_to_a_remote_host_is_not_possible() {
    // smtp:// to a remote host always means STARTTLS required; plain text only to loopback.
    let t = targets("smtp://mail.example.com:25".into(), "s@example.com");
    assert!(t.describe()[0].contains("STARTTLS"), "{:?}", t.describe());
    let t = targets("smtp://127.0.0.1:2525".into(), "s@example.com");
    assert!(
        t.describe()[0].contains("plain, loopback"),
        "{:?}",
        t.describe()
    );
}

#[tokio::test]
async fn starttls_and_implicit_tls_are_required_not_hoped_for() {
    use splitmark::delivery::smtp::{Security, SmtpUrl};
    let Some(python) = smtp::python_with_aiosmtpd("e-mail delivery tests") else {
        return;
    };
    // aiosmtpd here offers no STARTTLS: a required upgrade must fail rather than send in clear.
    let smtp = SmtpSink::start(python).await;
    for security in [Security::StartTls, Security::Implicit] {
        let mut url = SmtpUrl::parse(&format!("smtp://127.0.0.1:{}", smtp.port)).unwrap();
        url.security = security;
        let mail = lettre::Message::builder()
            .from("leads@example.com".parse().unwrap())
            .to("sales@example.com".parse().unwrap())
            .subject("x")
            .body("secret lead".to_owned())
            .unwrap();
        let sent = tokio::time::timeout(
            Duration::from_secs(10),
            splitmark::delivery::smtp_send::send(&url, &mail, Duration::from_secs(3)),
        )
        .await
        .expect("the attempt ends");
        assert!(sent.is_err(), "{security:?} sent without TLS");
    }
    assert!(
        smtp.messages().is_empty(),
        "a message went out in clear text"
    );
}
