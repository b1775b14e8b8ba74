//! `splitmark serve`: answers on a free port, serves the site correctly, rebuilds on change
//! and tells open pages to reload.

mod common;
use common::*;
use splitmark::capture::live_reload::Event;
use splitmark::devserver::{start, ServeOptions};
use std::time::Duration;

fn opts(site: &Site) -> ServeOptions {
    ServeOptions {
        root: site.root().to_path_buf(),
        bind: "127.0.0.1".into(),
        port: 0,
        drafts: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_rebuilds_and_reloads() {
    let site = Site::new(&[("content/a.md", "+++\ntitle = \"First title\"\n+++\nbody\n")]);
    let server = start(opts(&site)).await.unwrap();
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let page = client.get(format!("{base}/a/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("First title"));
    assert!(
        html.contains("/__splitmark/livereload"),
        "live-reload script injected"
    );
    assert!(
        html.contains(&format!("href=\"{base}/a/\"")),
        "dev build uses the local base URL"
    );
    assert!(
        !site.out("index.html").exists(),
        "serve never writes public/"
    );

    let mut events = server.live_reload().subscribe();
    site.write("content/a.md", "+++\ntitle = \"Second title\"\n+++\nbody\n");
    let ev = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("a rebuild within 20 s")
        .unwrap();
    assert_eq!(ev, Event::Reload);
    let html = client
        .get(format!("{base}/a/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Second title"), "{html}");

    // A broken edit keeps the last good build and reports the error.
    site.write("content/a.md", "+++\ntitle = \n+++\n");
    let ev = loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("rebuild")
            .unwrap();
        if matches!(ev, Event::BuildError(_)) {
            break ev;
        }
    };
    let Event::BuildError(msg) = ev else {
        unreachable!()
    };
    assert!(msg.contains("content/a.md:2:"), "{msg}");
    let html = client
        .get(format!("{base}/a/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Second title"),
        "last good build still served"
    );
    server.stop().await;
}

#[tokio::test]
async fn static_handler_validators_compression_404_and_traversal() {
    let site = Site::new(&[(
        "content/a.md",
        &format!("+++\ntitle = \"A\"\n+++\n{}\n", "long text ".repeat(300)),
    )]);
    site.build_ok();
    let handler = splitmark::capture::static_files::StaticSite::new(site.root().join("public"));
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let path = path.to_owned();
        let handler = handler.clone();
        async move { handler.respond(&hyper::Method::GET, &path, &h, None).await }
    };
    let res = get("/a/", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("last-modified"));
    assert_eq!(get("/a/", &[("if-none-match", &etag)]).await.status(), 304);
    let gz = get("/a/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let br = get("/a/", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(
        get("/favicon.svg", &[]).await.headers()["content-type"],
        "image/svg+xml"
    );
    let missing = get("/nope/", &[]).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "text/html; charset=utf-8",
        "the built 404 page"
    );
    let moved = get("/a", &[]).await;
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], "/a/");
    // A doubled slash must not turn into a protocol-relative redirect to another host.
    let sneaky = get("//a", &[]).await;
    assert_eq!(sneaky.headers()["location"], "/a/");
    // Any spelling of q=0 refuses a coding.
    for refused in ["gzip;q=0", "gzip;q=0.0", "gzip; q=0.000"] {
        assert!(
            get("/a/", &[("accept-encoding", refused)])
                .await
                .headers()
                .get("content-encoding")
                .is_none(),
            "{refused}"
        );
    }
    // The compressed body decompresses to the same page.
    use http_body_util::BodyExt;
    let plain = get("/a/", &[])
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let gz = get("/a/", &[("accept-encoding", "gzip")])
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, plain);
    let br = get("/a/", &[("accept-encoding", "br")])
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let mut unbrotli = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&br[..], 4096), &mut unbrotli)
        .unwrap();
    assert_eq!(unbrotli, plain);
    assert_eq!(get("/../secret", &[]).await.status(), 400);
    assert_eq!(get("/%2e%2e/secret", &[]).await.status(), 400);
}
