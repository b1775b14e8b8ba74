//! The YouTube facade in headless Chromium: until the visitor clicks, the page makes no
//! request to a third party; the click inserts the youtube-nocookie.com player.
//!
//! Requests are counted twice: the page's own Resource Timing entries, and a recording proxy
//! on loopback that the browser must use for every non-loopback host (it answers 502). Skipped
//! loudly without chromedriver, unless `SPLITMARK_REQUIRE_BROWSER` is set.

mod common;
use common::*;
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use splitmark::devserver::{start, ServeOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A proxy that records the first line of every request (`CONNECT host:443 …`) and refuses it.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        // Bounded: the test needs a handful of connections.
        for conn in listener.incoming().take(500) {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 2048];
            let n = conn.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            if let Some(line) = head.lines().next() {
                seen.lock().unwrap().push(line.to_owned());
            }
            let _ = conn.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, log)
}

fn video_hosts(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| {
            ["youtube", "ytimg", "googlevideo", "vimeo", "ggpht"]
                .iter()
                .any(|h| l.contains(h))
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youtube_facade_loads_nothing_third_party_until_clicked() {
    let required = std::env::var("SPLITMARK_REQUIRE_BROWSER").is_ok();
    let port = free_port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            assert!(
                !required,
                "SPLITMARK_REQUIRE_BROWSER is set but chromedriver cannot start: {e}"
            );
            eprintln!("\n*** SKIPPED: browser tests need chromium and chromedriver (apt-get install chromium chromium-driver): {e} ***\n");
            return;
        }
    };
    let _driver = Driver(child);
    let site = Site::new(&[(
        "content/video.md",
        "+++\ntitle = \"Video\"\n+++\nIntro.\n\n{{< youtube id=\"w7Ft2ymGmfc\" title=\"Launch talk\" >}}\n\nAfter.\n",
    )]);
    let server = start(ServeOptions {
        root: site.root().to_path_buf(),
        bind: "127.0.0.1".into(),
        port: 0,
        drafts: false,
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.addr());
    let (proxy_port, log) = recording_proxy();
    let profile = tempfile::tempdir().unwrap();
    let opts = json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 format!("--proxy-server=http://127.0.0.1:{proxy_port}"),
                 format!("--user-data-dir={}", profile.path().display()), "--window-size=1024,800"],
    });
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let c = client.expect("chromedriver did not accept a session");

    c.goto(&format!("{base}/video/")).await.unwrap();
    // Give late loads (lazy images, prefetches) a moment to show up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let origin = base.clone();
    let foreign = c
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(arguments[0]))",
            vec![json!(origin)],
        )
        .await
        .unwrap();
    assert_eq!(foreign, json!([]), "third-party resources before the click");
    assert!(
        video_hosts(&log.lock().unwrap()).is_empty(),
        "{:?}",
        log.lock().unwrap()
    );
    assert!(c.find(Locator::Css(".video iframe")).await.is_err());
    let label = c
        .find(Locator::Css(".video button"))
        .await
        .unwrap()
        .attr("aria-label")
        .await
        .unwrap();
    assert_eq!(label.as_deref(), Some("Play: Launch talk"));

    c.find(Locator::Css(".video button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let iframe = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".video iframe"))
        .await
        .unwrap();
    assert_eq!(
        iframe.attr("src").await.unwrap().as_deref(),
        Some("https://www.youtube-nocookie.com/embed/w7Ft2ymGmfc?autoplay=1")
    );
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/video/",
        "the click stays on the page"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hosts = video_hosts(&log.lock().unwrap());
        if hosts.iter().any(|h| h.contains("www.youtube-nocookie.com")) {
            assert!(
                hosts.iter().all(|h| h.contains("youtube-nocookie.com")),
                "only the nocookie player: {hosts:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the player was never requested: {:?}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.close().await.unwrap();
    server.stop().await;
}
