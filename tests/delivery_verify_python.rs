//! Webhooks as splitmark sends them verify with the independent Python `standardwebhooks`
//! package, the way a receiver would check them. Skips loudly without the package unless
//! `SPLITMARK_REQUIRE_PYTHON_WEBHOOKS` is set (CI installs it).

#[path = "common/receiver.rs"]
mod receiver;

use base64::Engine;
use receiver::{Received, Receiver};
use splitmark::config::Config;
use splitmark::delivery::{Deliverer, Event, Labels, Outcome, Targets};
use splitmark::store::{NewLead, Utm};
use std::io::Write;
use std::process::{Command, Stdio};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/py/verify_standard_webhook.py"
);

/// A Python that has `standardwebhooks`, or a loud skip.
fn python() -> Option<&'static str> {
    let found = ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import standardwebhooks"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("SPLITMARK_REQUIRE_PYTHON_WEBHOOKS").is_err(),
            "SPLITMARK_REQUIRE_PYTHON_WEBHOOKS is set but no python3 can import standardwebhooks"
        );
        eprintln!("\n*** SKIPPED: webhook verification with Python needs `pip install standardwebhooks` ***\n");
    }
    found
}

/// Runs the Python verifier on a received request; `Ok(event type)` or `Err(its error)`.
fn verify(python: &str, r: &Received, body: &[u8]) -> Result<String, String> {
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let input = serde_json::json!({
        "headers": headers,
        "body_b64": base64::engine::general_purpose::STANDARD.encode(body),
    });
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .arg(SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn lead(qualified: bool, name: &str) -> NewLead {
    let mut answers = serde_json::Map::new();
    answers.insert("email".into(), "zoe@example.com".into());
    answers.insert("name".into(), name.into());
    answers.insert("tools".into(), serde_json::json!(["a", "b \"quoted\""]));
    NewLead {
        received_at: chrono::Utc::now(),
        form: "demo".into(),
        answers,
        email: Some("zoe@example.com".into()),
        experiment: None,
        variant: None,
        attribution_flag: None,
        visitor: None,
        page: Some("/pricing/?a=1&b=2".into()),
        referrer: Some("https://search.example/?q=x".into()),
        utm: Utm::default(),
        user_agent: None,
        ip_hash: None,
        score: if qualified { 80 } else { 0 },
        qualified,
        spam_reason: None,
        consent: None,
        dedupe_key: "k".into(),
        confirmation: None,
        form_version: None,
    }
}

#[tokio::test]
async fn the_python_standardwebhooks_package_verifies_every_delivery() {
    let Some(python) = python() else { return };
    let rx = Receiver::always(200).await;
    let config = Config::parse(&format!(
        "base_url = \"https://x.test\"\n[capture]\nallow_private_targets = true\n\
         [[capture.webhooks]]\nurl = \"{}\"\nsecret_env = \"S\"\nevents = [\"lead.created\", \"lead.qualified\"]\n",
        rx.url("/hook")
    ))
    .unwrap();
    let targets = Targets::from_config(&config, &|_| Some(SECRET.to_owned())).unwrap();
    let mut rows = targets.deliveries_for(
        "0190a1b2-0000-7000-8000-000000000001",
        &lead(true, "Zoë Ünal ✓"),
    );
    rows.extend(
        targets.deliveries_for("0190a1b2-0000-7000-8000-000000000002", &lead(false, "Bob")),
    );
    assert_eq!(rows.len(), 3, "created + qualified, then created");
    let d = Deliverer::new(targets, "https://x.test", Labels::default());
    for (target, message) in &rows {
        assert_eq!(
            d.attempt(target, message).await,
            Outcome::Delivered { status: 200 }
        );
    }
    let got = rx.received();
    let types: Vec<String> = got
        .iter()
        .map(|r| verify(python, r, &r.body).expect("Python verifies the delivery"))
        .collect();
    assert_eq!(types, ["lead.created", "lead.qualified", "lead.created"]);
    // The verifier can fail: a changed byte is caught.
    let mut tampered = got[0].body.to_vec();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert!(verify(python, &got[0], &tampered).is_err());
    // Same event id for the same event, whatever the target (and on every retry).
    assert_eq!(
        got[0].header("webhook-id").unwrap(),
        Event::new(
            splitmark::delivery::EventKind::LeadCreated,
            "0190a1b2-0000-7000-8000-000000000001",
            &lead(true, "x")
        )
        .id
    );
}
