//! Webhook attempts over real HTTP on loopback: what a receiver gets (headers, body,
//! signature), how its answers map to outcomes, and what the SSRF guard refuses.

#[path = "common/receiver.rs"]
mod receiver;

use receiver::{closed_port, Receiver, Silent};
use splitmark::config::Config;
use splitmark::delivery::sign::Secret;
use splitmark::delivery::{
    Deliverer, Event, EventKind, Labels, Message, Outcome, Resolver, TargetRef, Targets, Timeouts,
};
use splitmark::store::{NewLead, Utm};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn lead() -> NewLead {
    let mut answers = serde_json::Map::new();
    answers.insert("email".into(), "ada@example.com".into());
    answers.insert("name".into(), "Ada Lovelace".into());
    NewLead {
        received_at: chrono::Utc::now(),
        form: "demo".into(),
        answers,
        email: Some("ada@example.com".into()),
        experiment: Some("hero".into()),
        variant: Some("b".into()),
        attribution_flag: None,
        visitor: Some("v1".into()),
        page: Some("/".into()),
        referrer: None,
        utm: Utm {
            source: Some("news".into()),
            ..Utm::default()
        },
        user_agent: Some("UA".into()),
        ip_hash: Some("h".into()),
        score: 70,
        qualified: true,
        spam_reason: None,
        consent: None,
        dedupe_key: "k".into(),
        confirmation: None,
        form_version: None,
    }
}

fn message() -> Message {
    Event::new(
        EventKind::LeadCreated,
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        &lead(),
    )
    .message()
}

/// Targets from a `[capture]` snippet; the webhook secret comes from a fake environment.
fn targets(capture: &str) -> Targets {
    let config = Config::parse(&format!(
        "base_url = \"https://x.test\"\n[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\n{capture}"
    ))
    .unwrap();
    Targets::from_config(&config, &|k| {
        (k == "HOOK_SECRET").then(|| SECRET.to_owned())
    })
    .unwrap()
}

fn hook(url: &str, allow_private: bool, extra: &str) -> Targets {
    targets(&format!(
        "[capture]\nallow_private_targets = {allow_private}\n[[capture.webhooks]]\nurl = \"{url}\"\n{extra}"
    ))
}

fn signed(url: &str, allow_private: bool) -> Targets {
    hook(url, allow_private, "secret_env = \"HOOK_SECRET\"\n")
}

fn first(t: &Targets) -> TargetRef {
    t.iter().next().unwrap().0.clone()
}

fn fast() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        total: Duration::from_millis(800),
    }
}

async fn attempt(t: Targets) -> Outcome {
    let key = first(&t);
    Deliverer::new(t, "https://x.test", Labels::default())
        .with_timeouts(fast())
        .attempt(&key, &message())
        .await
}

#[tokio::test]
async fn a_receiver_gets_the_signed_body_byte_for_byte_with_a_stable_id() {
    let rx = Receiver::always(200).await;
    let t = signed(&rx.url("/hooks/leads?src=sm"), true);
    let key = first(&t);
    let d = Deliverer::new(t, "https://x.test", Labels::default());
    let msg = message();
    assert_eq!(
        d.attempt(&key, &msg).await,
        Outcome::Delivered { status: 200 }
    );
    assert_eq!(
        d.attempt(&key, &msg).await,
        Outcome::Delivered { status: 200 }
    );
    let got = rx.received();
    assert_eq!(got.len(), 2);
    let secret = Secret::parse(SECRET).unwrap();
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hooks/leads?src=sm");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("user-agent"),
            Some(format!("splitmark/{}", env!("CARGO_PKG_VERSION")).as_str())
        );
        assert_eq!(r.header("webhook-id"), Some(msg.id.as_str()));
        assert_eq!(r.body, msg.body.as_bytes(), "the stored body is sent as is");
        let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
        let sig = r.header("webhook-signature").unwrap();
        assert!(sig.starts_with("v1,"), "{sig}");
        assert!(secret.verify(&msg.id, ts, &r.body, sig));
        // The documented few lines of plain HMAC agree.
        assert!(splitmark::delivery::sign::verify(
            SECRET.trim_start_matches("whsec_"),
            r.header("webhook-id").unwrap(),
            ts,
            &r.body,
            sig
        ));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["type"], "lead.created");
        assert_eq!(body["data"]["email"], "ada@example.com");
        assert_eq!(body["data"]["utm_source"], "news");
    }
}

#[tokio::test]
async fn answers_map_to_outcomes_and_redirects_are_not_followed() {
    let rx = Receiver::scripted(Arc::new(|n| match n {
        0 => (503, vec![]),
        1 => (410, vec![]),
        2 => (302, vec![("location", "/elsewhere".to_owned())]),
        3 => (500, vec![]),
        _ => (204, vec![]),
    }))
    .await;
    let t = signed(&rx.url("/hook"), true);
    let key = first(&t);
    let d = Deliverer::new(t, "https://x.test", Labels::default());
    let msg = message();
    match d.attempt(&key, &msg).await {
        Outcome::Retry { status, error } => {
            assert_eq!(status, Some(503));
            assert!(error.contains("503"), "{error}");
        }
        other => panic!("503 gave {other:?}"),
    }
    assert_eq!(d.attempt(&key, &msg).await, Outcome::Gone);
    match d.attempt(&key, &msg).await {
        Outcome::Retry { status, error } => {
            assert_eq!(status, Some(302));
            assert!(error.contains("not followed"), "{error}");
        }
        other => panic!("302 gave {other:?}"),
    }
    assert!(matches!(
        d.attempt(&key, &msg).await,
        Outcome::Retry {
            status: Some(500),
            ..
        }
    ));
    assert_eq!(
        d.attempt(&key, &msg).await,
        Outcome::Delivered { status: 204 }
    );
    let paths: Vec<String> = rx.received().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec!["/hook"; 5],
        "the redirect's target was never asked"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let url = format!("http://127.0.0.1:{}/hook", closed_port());
    match attempt(signed(&url, true)).await {
        Outcome::Retry {
            status: None,
            error,
        } => {
            assert!(error.contains("cannot connect"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn https_is_tls_with_verified_certificates() {
    // A plain-HTTP server behind an https:// URL: the TLS handshake fails and is retried,
    // and no request is sent in the clear.
    let rx = Receiver::always(200).await;
    let url = format!("https://127.0.0.1:{}/hook", rx.addr.port());
    match attempt(signed(&url, true)).await {
        Outcome::Retry {
            status: None,
            error,
        } => assert!(error.contains("TLS"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(rx.received().is_empty());
}

#[tokio::test]
async fn https_delivers_to_a_trusted_certificate_for_the_name_only() {
    let (acceptor, roots) = receiver::self_signed(&["hooks.example.test"]);
    let rx = Receiver::tls(200, acceptor).await;
    let url = format!("https://hooks.example.test:{}/hook", rx.addr.port());
    let deliver = |roots: Option<rustls::RootCertStore>, url: String| async move {
        let t = signed(&url, true);
        let key = first(&t);
        let mut d = Deliverer::new(t, "https://x.test", Labels::default())
            .with_timeouts(fast())
            .with_resolver(resolving_to("127.0.0.1"));
        if let Some(roots) = roots {
            d = d.with_tls_roots(roots);
        }
        d.attempt(&key, &message()).await
    };
    assert_eq!(
        deliver(Some(roots.clone()), url.clone()).await,
        Outcome::Delivered { status: 200 }
    );
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), Some(message().id.as_str()));
    // Not trusted (Mozilla's roots only): a TLS failure, retried.
    match deliver(None, url).await {
        Outcome::Retry { error, .. } => assert!(error.contains("TLS"), "{error}"),
        other => panic!("{other:?}"),
    }
    // Trusted, but for another name: refused by the handshake too.
    let other = format!("https://other.example.test:{}/hook", rx.addr.port());
    match deliver(Some(roots), other).await {
        Outcome::Retry { error, .. } => assert!(error.contains("TLS"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        rx.received().len(),
        1,
        "nothing reached the receiver without a valid handshake"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_retried_after_the_total_timeout() {
    let silent = Silent::start().await;
    let url = format!("http://{}/hook", silent.addr);
    // The test's own bound: the attempt must end by itself, well before this.
    let outcome = tokio::time::timeout(Duration::from_secs(10), attempt(signed(&url, true)))
        .await
        .expect("the attempt ended by its own timeout");
    match outcome {
        Outcome::Retry {
            status: None,
            error,
        } => assert!(error.contains("no answer"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn private_addresses_are_refused_by_default_and_nothing_is_sent() {
    let rx = Receiver::always(200).await;
    let port = rx.addr.port();
    for host in [
        "127.0.0.1".to_owned(),
        "10.0.0.1".to_owned(),
        "169.254.169.254".to_owned(),
        "[::1]".to_owned(),
        "[::ffff:127.0.0.1]".to_owned(),
        "localhost".to_owned(),
    ] {
        let url = format!("http://{host}:{port}/hook");
        match attempt(signed(&url, false)).await {
            Outcome::Refused { reason } => {
                // The reason says how to allow it, except where nothing can.
                let metadata = host.contains("169.254");
                assert_eq!(
                    reason.contains("allow_private_targets"),
                    !metadata,
                    "{host}: {reason}"
                );
                assert_eq!(reason.contains("metadata"), metadata, "{host}: {reason}");
            }
            other => panic!("{host} gave {other:?}"),
        }
    }
    assert!(rx.received().is_empty(), "a refused target was contacted");
}

fn resolving_to(ip: &'static str) -> Resolver {
    Arc::new(move |_host: &str, port: u16| {
        let ip: IpAddr = ip.parse().unwrap();
        Box::pin(async move { Ok(vec![SocketAddr::new(ip, port)]) })
    })
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_unless_private_targets_are_allowed() {
    let rx = Receiver::always(200).await;
    let url = format!("http://hooks.example.test:{}/hook", rx.addr.port());
    let attempt_with = |allow: bool, ip: &'static str| {
        let t = signed(&url, allow);
        let key = first(&t);
        async move {
            Deliverer::new(t, "https://x.test", Labels::default())
                .with_timeouts(fast())
                .with_resolver(resolving_to(ip))
                .attempt(&key, &message())
                .await
        }
    };
    match attempt_with(false, "127.0.0.1").await {
        Outcome::Refused { reason } => assert!(reason.contains("127.0.0.1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(rx.received().is_empty());
    // Allowed: the request goes to the address the resolver gave, and only there.
    assert_eq!(
        attempt_with(true, "127.0.0.1").await,
        Outcome::Delivered { status: 200 }
    );
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("host"),
        Some(format!("hooks.example.test:{}", rx.addr.port()).as_str())
    );
    // The metadata address never, whatever the setting.
    assert!(matches!(
        attempt_with(true, "169.254.169.254").await,
        Outcome::Refused { .. }
    ));
}

#[tokio::test]
async fn loopback_is_allowed_with_allow_private_but_metadata_never() {
    let rx = Receiver::always(200).await;
    let port = rx.addr.port();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let url = format!("http://{host}:{port}/hook");
        assert_eq!(
            attempt(signed(&url, true)).await,
            Outcome::Delivered { status: 200 },
            "{host}"
        );
    }
    assert_eq!(rx.received().len(), 3);
    match attempt(signed(&format!("http://169.254.169.254:{port}/"), true)).await {
        Outcome::Refused { reason } => assert!(reason.contains("metadata"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn slack_format_posts_an_unsigned_message() {
    let rx = Receiver::always(200).await;
    let t = hook(&rx.url("/slack"), true, "format = \"slack\"\n");
    let key = first(&t);
    let d = Deliverer::new(t, "https://x.test", Labels::default());
    assert_eq!(
        d.attempt(&key, &message()).await,
        Outcome::Delivered { status: 200 }
    );
    let got = rx.received();
    assert_eq!(got[0].header("webhook-signature"), None);
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("Ada Lovelace"), "{text}");
    let blocks = body["blocks"].to_string();
    assert!(
        blocks.contains("https://x.test/admin/leads/0190a1b2"),
        "{blocks}"
    );
}

#[tokio::test]
async fn a_target_no_longer_configured_is_refused() {
    let d = Deliverer::new(targets(""), "https://x.test", Labels::default());
    assert!(matches!(
        d.attempt(&TargetRef::from("webhook:000000000000"), &message())
            .await,
        Outcome::Refused { .. }
    ));
}

#[tokio::test]
async fn the_connector_itself_refuses_what_the_config_check_would() {
    // Without the start-up check: the client resolves (system resolver) and vets on its own.
    use splitmark::delivery::http::HttpError;
    use splitmark::delivery::HttpClient;
    let rx = Receiver::always(200).await;
    let port = rx.addr.port();
    let client = HttpClient::new(false, fast());
    for host in [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "10.0.0.1",
    ] {
        let url = url::Url::parse(&format!("http://{host}:{port}/hook")).unwrap();
        match client
            .post(&url, &[], bytes::Bytes::from_static(b"{}"))
            .await
        {
            Err(HttpError::Refused(why)) => assert!(why.contains("refused"), "{host}: {why}"),
            other => panic!("{host}: {other:?}"),
        }
    }
    assert!(rx.received().is_empty());
    let open = HttpClient::new(true, fast());
    let url = url::Url::parse(&format!("http://localhost:{port}/hook")).unwrap();
    assert_eq!(
        open.post(&url, &[], bytes::Bytes::from_static(b"{}"))
            .await
            .unwrap()
            .as_u16(),
        200
    );
    assert_eq!(rx.received().len(), 1);
}
