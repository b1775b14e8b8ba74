//! Webhook connections are kept and reused, but only for the address the host has just
//! resolved to and passed the SSRF check: real HTTP/1.1 over loopback, receivers counting the
//! connections they accept.

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use splitmark::delivery::http::HttpError;
use splitmark::delivery::{HttpClient, Resolver, Timeouts};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// A receiver answering 204 to everything, counting connections and requests.
#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

async fn receiver(listener: TcpListener) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            c.connections.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let c = c.clone();
                    async move {
                        let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                        c.requests.fetch_add(1, Ordering::SeqCst);
                        let mut res = Response::new(http_body_util::Empty::<Bytes>::new());
                        *res.status_mut() = StatusCode::NO_CONTENT;
                        Ok::<_, std::convert::Infallible>(res)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    counts
}

/// Waits (bounded) until the client keeps an idle connection again.
async fn until_kept(client: &HttpClient) {
    for _ in 0..200 {
        if client.idle_connections() > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the connection was not kept");
}

async fn post(client: &HttpClient, url: &url::Url) -> Result<StatusCode, HttpError> {
    client
        .post(url, &[("webhook-id", "msg_1".into())], Bytes::from("{}"))
        .await
}

#[tokio::test]
async fn many_deliveries_share_few_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = receiver(listener).await;
    let client = HttpClient::new(true, Timeouts::default());
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
    let n = 20;
    for _ in 0..n {
        assert_eq!(post(&client, &url).await.unwrap(), StatusCode::NO_CONTENT);
        until_kept(&client).await;
    }
    assert_eq!(counts.requests.load(Ordering::SeqCst), n);
    let opened = counts.connections.load(Ordering::SeqCst);
    assert!(opened < n, "{n} deliveries opened {opened} connections");
    assert_eq!(opened, 1, "sequential deliveries reuse one connection");
}

#[tokio::test]
async fn a_host_that_moves_does_not_get_its_old_connection() {
    // Two receivers on the same port, at 127.0.0.1 and 127.0.0.2; the name points at one,
    // then the other, then at the metadata address.
    let (a, b, port) = loop {
        let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = a.local_addr().unwrap().port();
        if let Ok(b) = TcpListener::bind(("127.0.0.2", port)).await {
            break (a, b, port);
        }
    };
    let (a, b) = (receiver(a).await, receiver(b).await);
    let target: Arc<Mutex<IpAddr>> = Arc::new(Mutex::new("127.0.0.1".parse().unwrap()));
    let t = target.clone();
    let resolver: Resolver = Arc::new(move |_host: &str, port: u16| {
        let ip = *t.lock().unwrap();
        Box::pin(async move { Ok(vec![SocketAddr::new(ip, port)]) })
    });
    let client = HttpClient::new(true, Timeouts::default()).with_resolver(resolver);
    let url = url::Url::parse(&format!("http://hooks.example.test:{port}/hook")).unwrap();

    post(&client, &url).await.unwrap();
    until_kept(&client).await;
    post(&client, &url).await.unwrap();
    until_kept(&client).await;
    assert_eq!(a.connections.load(Ordering::SeqCst), 1);
    assert_eq!(a.requests.load(Ordering::SeqCst), 2);

    *target.lock().unwrap() = "127.0.0.2".parse().unwrap();
    post(&client, &url).await.unwrap();
    assert_eq!(
        a.requests.load(Ordering::SeqCst),
        2,
        "the old address got nothing"
    );
    assert_eq!(b.requests.load(Ordering::SeqCst), 1);
    assert_eq!(b.connections.load(Ordering::SeqCst), 1);

    *target.lock().unwrap() = "169.254.169.254".parse().unwrap();
    assert!(
        matches!(post(&client, &url).await, Err(HttpError::Refused(_))),
        "a kept connection never bypasses the check"
    );
    assert_eq!(a.requests.load(Ordering::SeqCst), 2);
    assert_eq!(b.requests.load(Ordering::SeqCst), 1);
}
