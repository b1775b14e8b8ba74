//! Who the client is, over real HTTP: forwarding headers are believed from trusted proxies
//! only, and the rate limit, the stored IP hash and the dashboard's `Secure` cookie all follow
//! that one answer. Also: `/metrics` needs the admin token, or its own listener.

mod common;
use common::capture::{Harness, ADMIN_TOKEN, DEMO_FORM, FORM, LANDING};
use common::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, SET_COOKIE};
use reqwest::StatusCode;
use splitmark::capture::guard::IpHasher;
use std::net::IpAddr;

async fn harness(capture: &str) -> Harness {
    Harness::start(
        &[
            (
                "splitmark.toml",
                &format!("{CONFIG}\n[capture]\nrate_limit_burst = 3\nrate_limit_per_minute = 1\n{capture}\n{DEMO_FORM}"),
            ),
            ("content/landing.md", LANDING),
        ],
        None,
    )
    .await
}

impl Harness {
    /// A JSON submission carrying `headers`; returns its status.
    async fn submit_with(&self, n: usize, headers: &[(&str, &str)]) -> StatusCode {
        let mut req = self
            .http
            .post(format!("{}/api/v1/forms/demo", self.base))
            .header(CONTENT_TYPE, FORM)
            .header(ACCEPT, "application/json")
            .body(format!("email=p{n}%40example.com&_visitor=v{n}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().status()
    }

    /// The stored leads' IP hashes, in any order.
    async fn ip_hashes(&self) -> Vec<String> {
        let leads = self.admin("/api/v1/leads?format=json").await;
        let mut v: Vec<String> = leads["leads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["ip_hash"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    }

    /// What the server stores for a client at `ip` today.
    fn hash_of(&self, ip: &str) -> String {
        let hasher = IpHasher::load_or_create(&self.site.root().join("data/ip-hash.key")).unwrap();
        hasher.hash(
            ip.parse::<IpAddr>().unwrap(),
            chrono::Utc::now().date_naive(),
        )
    }

    async fn login_cookie(&self, headers: &[(&str, &str)]) -> String {
        let mut req = self
            .http
            .post(format!("{}/admin/login", self.base))
            .header(CONTENT_TYPE, FORM)
            .body(format!("token={ADMIN_TOKEN}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        r.headers()[SET_COOKIE].to_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    // No trusted proxies: whatever the headers say, every request is the TCP peer's.
    let h = harness("").await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let forged = format!("203.0.113.{n}");
        let s = h
            .submit_with(
                n,
                &[
                    ("x-forwarded-for", &forged),
                    ("forwarded", &format!("for={forged}")),
                ],
            )
            .await;
        statuses.push(s);
    }
    assert_eq!(
        statuses,
        [201, 201, 201, 429, 429].map(|s| StatusCode::from_u16(s).unwrap()),
        "five forged addresses share the peer's bucket of 3"
    );
    let loopback = h.hash_of("127.0.0.1");
    assert_eq!(h.ip_hashes().await, vec![loopback.clone(); 3]);
    h.server.stop().await;

    // A trusted network that does not contain the peer changes nothing.
    let h = harness("trusted_proxies = [\"10.0.0.0/8\"]").await;
    for n in 0..3 {
        let forged = format!("203.0.113.{n}");
        assert_eq!(h.submit_with(n, &[("x-forwarded-for", &forged)]).await, 201);
    }
    assert_eq!(
        h.submit_with(9, &[("x-forwarded-for", "203.0.113.9")])
            .await,
        429
    );
    h.server.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_for_the_limit_and_the_hash() {
    let h = harness("trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]").await;
    // Five clients behind the proxy: five buckets, none refused.
    for n in 0..5 {
        let client = format!("203.0.113.{n}");
        assert_eq!(
            h.submit_with(n, &[("x-forwarded-for", &client)]).await,
            201,
            "{client}"
        );
    }
    // One of them alone is still limited: two more fill its burst of 3, the next is refused.
    let one = [("x-forwarded-for", "203.0.113.0")];
    assert_eq!(h.submit_with(10, &one).await, 201);
    assert_eq!(h.submit_with(11, &one).await, 201);
    assert_eq!(h.submit_with(12, &one).await, 429);
    // It cannot escape by prepending a forged address: the proxy's own entry is rightmost.
    let forged = [("x-forwarded-for", "198.51.100.77, 203.0.113.0")];
    assert_eq!(h.submit_with(13, &forged).await, 429);
    // The forwarded-for client is what the stored hash is of; never the raw address.
    let hashes = h.ip_hashes().await;
    let mut want: Vec<String> = (0..5)
        .map(|n| h.hash_of(&format!("203.0.113.{n}")))
        .collect();
    want.extend([h.hash_of("203.0.113.0"), h.hash_of("203.0.113.0")]);
    want.sort();
    assert_eq!(hashes, want);
    assert!(!hashes.iter().any(|x| x.contains("203.0.113")));
    h.server.stop().await;
}

#[tokio::test]
async fn rfc_7239_forwarded_is_read_when_configured() {
    let h = harness("trusted_proxies = [\"127.0.0.1/32\"]\nforwarded_header = \"forwarded\"").await;
    let client = [("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")];
    for n in 0..3 {
        assert_eq!(h.submit_with(n, &client).await, 201);
    }
    assert_eq!(h.submit_with(3, &client).await, 429);
    // Another client has its own bucket; X-Forwarded-For is not read in this mode.
    let other = [
        ("forwarded", "for=203.0.113.5"),
        ("x-forwarded-for", "2001:db8:cafe::17"),
    ];
    assert_eq!(h.submit_with(4, &other).await, 201);
    let hashes = h.ip_hashes().await;
    assert_eq!(
        hashes
            .iter()
            .filter(|x| **x == h.hash_of("2001:db8:cafe::17"))
            .count(),
        3
    );
    assert!(hashes.contains(&h.hash_of("203.0.113.5")));
    // (A fresh client logs in: the first one has used up its bucket, logins included.)
    let cookie = h
        .login_cookie(&[("forwarded", "for=203.0.113.6;proto=https")])
        .await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    h.server.stop().await;
}

#[tokio::test]
async fn the_secure_cookie_follows_the_trusted_proxys_scheme_only() {
    let h = harness("trusted_proxies = [\"127.0.0.1/32\"]").await;
    let https = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-for", "203.0.113.8"),
    ];
    let cookie = h.login_cookie(&https).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = h.login_cookie(&[("x-forwarded-for", "203.0.113.8")]).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    let cookie = h.login_cookie(&[("x-forwarded-proto", "http")]).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    h.server.stop().await;

    // The same claim from a peer that is not a trusted proxy is ignored.
    let h = harness("trusted_proxies = [\"10.0.0.0/8\"]").await;
    let cookie = h
        .login_cookie(&[("x-forwarded-proto", "https"), ("forwarded", "proto=https")])
        .await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    h.server.stop().await;
}

#[tokio::test]
async fn metrics_need_the_token_or_their_own_listener() {
    let h = harness("").await;
    let url = format!("{}/metrics", h.base);
    let anonymous = h.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body = anonymous.text().await.unwrap();
    assert!(!body.contains("splitmark_submissions_total"), "{body}");
    let wrong = h.http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let admin = h
        .http
        .get(&url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    assert!(admin
        .text()
        .await
        .unwrap()
        .contains("splitmark_submissions_total 0"));
    assert!(h.server.metrics_addr().is_none());
    h.server.stop().await;

    // With metrics_bind, a second listener serves /metrics without a token, and only that.
    let h = harness("metrics_bind = \"127.0.0.1:0\"").await;
    assert_eq!(h.submit_with(1, &[]).await, 201);
    let metrics = format!("http://{}", h.server.metrics_addr().unwrap());
    let r = h
        .http
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("splitmark_submissions_total 1"));
    for path in ["/api/v1/leads?format=json", "/admin/", "/healthz", "/"] {
        let r = h.http.get(format!("{metrics}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The main listener still wants the token.
    let r = h
        .http
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    h.server.stop().await;
}

#[tokio::test]
async fn bad_network_settings_stop_the_start_with_a_clear_message() {
    for (bad, says) in [
        ("trusted_proxies = [\"10.0.0.0/33\"]", "is not a network"),
        (
            "trusted_proxies = [\"10.1.2.3/8\"]",
            "did you mean \"10.0.0.0/8\"",
        ),
        ("header_timeout_secs = 0", "header_timeout_secs must be"),
        (
            "metrics_bind = \"nine-one-hundred\"",
            "metrics_bind must be",
        ),
        (
            "forwarded_header = \"x-real-ip\"",
            "forwarded_header must be",
        ),
    ] {
        // Built with a good config, then started with the bad one: the server refuses it
        // itself. The build checks [capture] as well and says the same.
        let config = format!("{CONFIG}\n[capture]\n{bad}\n{DEMO_FORM}");
        let site = Site::new(&[("splitmark.toml", &format!("{CONFIG}\n{DEMO_FORM}"))]);
        site.build_ok();
        site.write("splitmark.toml", &config);
        let built = site.build().err().unwrap_or_else(|| panic!("{bad} built"));
        assert!(built.contains(says), "build with {bad}: {built}");
        let err = splitmark::capture::start(splitmark::capture::CaptureOptions {
            root: site.root().to_path_buf(),
            bind: "127.0.0.1:0".into(),
            db: Some(format!("sqlite:{}", site.root().join("l.db").display())),
            site: None,
            admin_token: None,
            manifest: None,
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("{bad} was accepted"))
        .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}
