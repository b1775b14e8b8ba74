//! Slow and idle clients cannot hold the capture server: half-sent request heads, silent
//! and idle keep-alive connections (HTTP/1 and HTTP/2), trickled bodies are closed by their
//! timeouts, and the connection cap makes new connections wait instead of failing. Running out
//! of file descriptors is `capture_descriptors.rs`.

mod common;
use common::capture::{Harness, DEMO_FORM, FORM, LANDING};
use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Slow connections opened by the main test (fewer when the descriptor limit is too low).
const SLOW_CLIENTS: usize = 1_000;
/// Extra time past a timeout allowed for the server to act on it (bounds the test only).
const MARGIN: Duration = Duration::from_secs(5);

async fn harness(capture: &str) -> Harness {
    Harness::start(
        &[
            (
                "splitmark.toml",
                &format!("{CONFIG}\n[capture]\nrate_limit_burst = 100000\nrate_limit_per_minute = 100000\n{capture}\n{DEMO_FORM}"),
            ),
            ("content/landing.md", LANDING),
        ],
        None,
    )
    .await
}

/// Raises this process's soft descriptor limit to its hard limit; returns the new limit.
fn raise_fd_limit() -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

/// How a connection ended, if it did within `deadline`.
#[derive(Debug, PartialEq)]
enum End {
    /// The server closed it (EOF or reset), after sending these bytes.
    Closed(Vec<u8>),
    /// Still open at the deadline.
    Open,
}

async fn wait_for_close(stream: &mut TcpStream, deadline: tokio::time::Instant) -> End {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return End::Open,
            Ok(Ok(0)) | Ok(Err(_)) => return End::Closed(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server has neither answered nor closed `stream` yet.
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Submits a lead on a connection of its own. The harness's pooled client would reuse the
/// first submission's keep-alive connection for the second, and the header timeout closes
/// that idle connection at about the moment the last slow connection closes: the request
/// would race the close (which a client may answer only by retrying a POST it cannot know
/// was unsent).
async fn submit(h: &Harness, n: usize) -> reqwest::StatusCode {
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    fresh
        .post(format!("{}/api/v1/forms/demo", h.base))
        .header("content-type", FORM)
        .header("accept", "application/json")
        .timeout(Duration::from_secs(30))
        .body(format!("email=s{n}%40example.com&_visitor=s{n}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_heads_are_closed_at_the_header_timeout_while_real_leads_get_in() {
    let limit = raise_fd_limit();
    // Each slow connection costs two descriptors here (client and server end, one process).
    let n = SLOW_CLIENTS.min((limit.saturating_sub(200) / 2) as usize);
    if n < SLOW_CLIENTS {
        eprintln!(
            "*** descriptor limit {limit}: testing {n} slow connections, not {SLOW_CLIENTS} ***"
        );
    }
    let header_timeout = Duration::from_secs(4);
    let h =
        harness("header_timeout_secs = 4\nidle_timeout_secs = 600\nbody_timeout_secs = 600").await;
    let addr = h.server.addr();
    let opened = tokio::time::Instant::now();
    let mut slow = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // Half a request: a request line or some headers, never the blank line.
        let part: &[u8] = match i % 3 {
            0 => b"POST /api/v1/forms/demo HTT",
            1 => b"POST /api/v1/forms/demo HTTP/1.1\r\nHost: x\r\nContent-Type: appl",
            _ => b"GET / HTTP/1.1\r\nHost: x\r\n",
        };
        s.write_all(part).await.unwrap();
        slow.push(s);
    }
    eprintln!("{n} slow connections opened in {:?}", opened.elapsed());

    // A real visitor meanwhile gets its lead stored, while every slow one is still held.
    assert_eq!(submit(&h, 1).await, reqwest::StatusCode::CREATED);
    let held = slow.iter().filter(|s| still_open(s)).count();
    assert_eq!(
        held, n,
        "the submission was answered while all slow connections were still open"
    );

    // Then every slow connection is closed by the header timeout.
    let deadline = opened + header_timeout + MARGIN;
    let mut tasks = tokio::task::JoinSet::new();
    for mut s in slow {
        tasks.spawn(async move { wait_for_close(&mut s, deadline).await });
    }
    let mut open = 0;
    while let Some(end) = tasks.join_next().await {
        match end.unwrap() {
            End::Open => open += 1,
            // Closed silently, or with a 408: never with a real answer.
            End::Closed(bytes) => assert!(
                bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 408"),
                "{}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
    assert_eq!(open, 0, "{open} of {n} slow connections were still open");
    eprintln!(
        "all {n} closed {:?} after the first was opened",
        opened.elapsed()
    );
    // And the server is as good as new.
    assert_eq!(submit(&h, 2).await, reqwest::StatusCode::CREATED);
    h.server.stop().await;
}

/// Reads one HTTP/1.1 response with a Content-Length from `s`; returns its status line.
async fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return head.lines().next().unwrap().to_owned();
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn idle_keep_alive_and_silent_connections_are_closed() {
    // The idle timeout is far below the header timeout: if the connection closes soon, the
    // idle timeout closed it.
    let h = harness("idle_timeout_secs = 1\nheader_timeout_secs = 60").await;
    let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(get).await.unwrap();
    assert_eq!(read_response(&mut s).await, "HTTP/1.1 200 OK");
    // Kept alive: a second request on the same connection is answered...
    s.write_all(get).await.unwrap();
    assert_eq!(read_response(&mut s).await, "HTTP/1.1 200 OK");
    // ...and once idle, it is closed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1) + MARGIN;
    assert_eq!(wait_for_close(&mut s, deadline).await, End::Closed(vec![]));
    h.server.stop().await;

    // The header timeout also bounds an HTTP/1 connection's wait for its next request.
    let h = harness("idle_timeout_secs = 600\nheader_timeout_secs = 1").await;
    let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
    s.write_all(get).await.unwrap();
    assert_eq!(read_response(&mut s).await, "HTTP/1.1 200 OK");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1) + MARGIN;
    assert_eq!(wait_for_close(&mut s, deadline).await, End::Closed(vec![]));

    // A connection that never sends a byte must start a request within the header timeout.
    let mut silent = TcpStream::connect(h.server.addr()).await.unwrap();
    // Half an HTTP/2 preface leaves the server unable to tell the protocol: same rule.
    let mut preface = TcpStream::connect(h.server.addr()).await.unwrap();
    preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1) + MARGIN;
    assert_eq!(
        wait_for_close(&mut silent, deadline).await,
        End::Closed(vec![])
    );
    assert_eq!(
        wait_for_close(&mut preface, deadline).await,
        End::Closed(vec![])
    );
    h.server.stop().await;
}

#[tokio::test]
async fn a_trickled_body_gets_408_and_the_connection_closes() {
    let h =
        harness("body_timeout_secs = 1\nheader_timeout_secs = 60\nidle_timeout_secs = 60").await;
    let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
    s.write_all(
        b"POST /api/v1/forms/demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: 100\r\n\r\nemail=a%40",
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1) + MARGIN;
    let End::Closed(bytes) = wait_for_close(&mut s, deadline).await else {
        panic!("the slow body still holds its connection");
    };
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"request_timeout\""), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );

    // The dashboard's login form is bounded the same way.
    let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
    s.write_all(
        b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=",
    )
    .await
    .unwrap();
    let End::Closed(bytes) = wait_for_close(&mut s, deadline + Duration::from_secs(1)).await else {
        panic!("the slow login still holds its connection");
    };
    assert!(
        bytes.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    h.server.stop().await;
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_their_turn() {
    let h = harness("max_connections = 4\nheader_timeout_secs = 60\nidle_timeout_secs = 60").await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    let waiting = {
        let (http, base) = (h.http.clone(), h.base.clone());
        tokio::spawn(async move {
            http.get(format!("{base}/healthz"))
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map(|r| r.status())
        })
    };
    // While the cap is taken, the fifth connection waits in the backlog: not refused, not served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "served past the cap: {:?}",
        waiting.await
    );
    // One slot frees up, and the waiting request is served.
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
    h.server.stop().await;
}

#[tokio::test]
async fn http2_connections_are_limited_and_closed_when_idle() {
    let h = harness("idle_timeout_secs = 1\nheader_timeout_secs = 60").await;
    let tcp = TcpStream::connect(h.server.addr()).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let req = hyper::Request::post(format!("http://{}/api/v1/forms/demo", h.server.addr()))
        .header("content-type", FORM)
        .header("accept", "application/json")
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(req, false).unwrap();
    body.send_data(bytes::Bytes::from_static(b"email=h2%40example.com"), true)
        .unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 201);
    // The server's SETTINGS cap the streams one connection may have open.
    assert_eq!(client.current_max_send_streams(), 100);
    // Once no stream is open for the idle timeout, the server ends the connection (the client
    // keeps its handle, so it is not the one closing it).
    drop(response);
    let ended = tokio::time::timeout(Duration::from_secs(1) + MARGIN, connection).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection is still open");
    drop(client);
    h.server.stop().await;
}

#[tokio::test]
async fn a_request_in_progress_is_not_cut_by_the_idle_timeout() {
    // A body that takes longer than the idle timeout, but within the body timeout, arrives.
    let h =
        harness("idle_timeout_secs = 1\nbody_timeout_secs = 30\nheader_timeout_secs = 60").await;
    let mut s = TcpStream::connect(h.server.addr()).await.unwrap();
    let body = b"email=slow%40example.com&_visitor=slow";
    s.write_all(
        format!("POST /api/v1/forms/demo HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n", body.len())
            .as_bytes(),
    )
    .await
    .unwrap();
    for part in body.chunks(body.len() / 3 + 1) {
        tokio::time::sleep(Duration::from_millis(800)).await;
        s.write_all(part).await.unwrap();
    }
    assert_eq!(read_response(&mut s).await, "HTTP/1.1 201 Created");
    h.server.stop().await;
}
