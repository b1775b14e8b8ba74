//! A webhook receiver on loopback for delivery tests: records every request and answers as
//! its plan says; verifies signatures with the README's plain HMAC recipe.

use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub user_agent: String,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

impl Hit {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

/// How the receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Plan {
    /// Every request with this status.
    Always(u16),
    /// The first request of each webhook-id with this status, later ones 200.
    FailFirst(u16),
    /// 200, after holding the request this many milliseconds.
    Slow(u64),
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    plan: Arc<Mutex<Plan>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Listens on 127.0.0.1, port 0.
    pub async fn start(plan: Plan) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let plan = Arc::new(Mutex::new(plan));
        let (h, p) = (hits.clone(), plan.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (h, p) = (h.clone(), p.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (h, p) = (h.clone(), p.clone());
                        async move {
                            let header = |n: &str| {
                                req.headers()
                                    .get(n)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_owned()
                            };
                            let mut hit = Hit {
                                id: header("webhook-id"),
                                timestamp: header("webhook-timestamp"),
                                signature: header("webhook-signature"),
                                content_type: header("content-type"),
                                user_agent: header("user-agent"),
                                body: String::new(),
                                status: 200,
                            };
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            hit.body = String::from_utf8_lossy(&body).into_owned();
                            let plan = *p.lock().unwrap();
                            let (status, hold) = {
                                let mut hits = h.lock().unwrap();
                                let mut hold = 0;
                                hit.status = match plan {
                                    Plan::Always(s) => s,
                                    Plan::Slow(ms) => {
                                        hold = ms;
                                        200
                                    }
                                    Plan::FailFirst(s) => {
                                        if hits.iter().any(|x| x.id == hit.id) {
                                            200
                                        } else {
                                            s
                                        }
                                    }
                                };
                                let status = hit.status;
                                hits.push(hit);
                                (status, hold)
                            };
                            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
                            let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
                            *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(res)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            hits,
            plan,
            task,
        }
    }

    /// The webhook URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Changes how it answers from now on.
    pub fn set_plan(&self, plan: Plan) {
        *self.plan.lock().unwrap() = plan;
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits (bounded) until `done` holds for the hits so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; got {} requests: {:?}",
                hits.len(),
                hits.iter().map(|h| (&h.id, h.status)).collect::<Vec<_>>()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Verifies a Standard Webhooks signature the way the README shows: base64 HMAC-SHA256 of
/// `id.timestamp.body` with the key after `whsec_`, compared with each `v1,` signature given.
pub fn verify(secret: &str, hit: &Hit) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", hit.id, hit.timestamp, hit.body).as_bytes());
    let expected = b64.encode(mac.finalize().into_bytes());
    hit.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}
