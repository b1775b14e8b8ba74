//! The accept loop: bounded connections, HTTP/1 and HTTP/2, timeouts, graceful shutdown.
//!
//! As in mini-redis, a semaphore bounds open connections (past the cap, new ones wait in the
//! kernel's backlog), and one shutdown signal stops the accept loop, asks every connection to
//! finish its in-flight requests, then returns so the caller can flush storage.
//!
//! Slow and idle clients cannot hold a connection: hyper closes an HTTP/1 connection whose
//! request head has not arrived within the header timeout (it starts when hyper waits for a
//! request, so it also bounds an idle keep-alive connection), and each connection's own
//! watchdog closes it once no request has been in progress for the idle timeout, or when it
//! has not begun a first request within the header timeout (a client that never sends a
//! byte, or half an HTTP/2 preface). A request counts as in progress until its response body
//! has been sent, so a long download or a live-reload stream is never cut. Slow request
//! bodies are bounded where they are read (see [`ConnectionLimits::body_timeout`]).

use super::http::Body;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Most connections served at once by default; further ones wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 4096;

/// HTTP/2: most requests in flight on one connection.
const H2_MAX_STREAMS: u32 = 100;
/// HTTP/2: largest header list a client may send.
const H2_MAX_HEADER_LIST: u32 = 64 * 1024;
/// HTTP/2: how often a quiet connection is pinged, and how long the answer may take.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// How long clients may take, and how many connections are served at once.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionLimits {
    /// Time for a request's head (request line and headers) to arrive.
    pub header_timeout: Duration,
    /// Time for a request's body to arrive, enforced by the handlers that read one (408).
    pub body_timeout: Duration,
    /// Time a connection may stay open with no request in progress.
    pub idle_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// A boxed response future.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// Something that answers requests (the router).
pub trait Handler: Send + Sync + 'static {
    /// Answers one request; `peer` is the TCP peer address.
    fn handle(self: Arc<Self>, req: Request<Incoming>, peer: SocketAddr) -> ResponseFuture;
}

/// Sends the shutdown signal to a running [`serve`].
#[derive(Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// A new, not yet triggered signal and its receiver.
    pub fn new() -> (Shutdown, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Shutdown(tx), rx)
    }
    /// Starts graceful shutdown.
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

/// [`serve_with`] under the default [`ConnectionLimits`].
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    serve_with(
        listener,
        handler,
        shutdown,
        grace,
        ConnectionLimits::default(),
    )
    .await
}

/// Accepts connections until `shutdown` fires, then waits (up to `grace`) for open requests.
pub async fn serve_with<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
    limits: ConnectionLimits,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let builder = Arc::new(http_builder(&limits));
    let limits = Arc::new(limits);
    let mut accept_failing = false;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => {
                    accept_failing = false;
                    x
                }
                Err(e) => {
                    // Out of file descriptors or similar: say so once, and back off
                    // instead of spinning until a descriptor is free again.
                    if !accept_failing {
                        eprintln!("cannot accept a connection ({e}); retrying every 50 ms");
                        accept_failing = true;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            builder.clone(),
            stream,
            peer,
            handler.clone(),
            shutdown.clone(),
            limits.clone(),
            permit,
        ));
    }
    drop(listener);
    // Every open connection holds a permit: all of them back means every connection closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, permits.acquire_many(all)).await;
}

fn http_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .max_header_list_size(H2_MAX_HEADER_LIST)
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    b
}

/// Serves one connection until it ends, is idle too long, or the server shuts down.
async fn connection<H: Handler>(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
    limits: Arc<ConnectionLimits>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let busy = activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let (h, guard) = (handler.clone(), busy.start());
        async move {
            let res = h.handle(req, peer).await;
            Ok::<_, Infallible>(res.map(|body| Tracked {
                body,
                _guard: guard,
            }))
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let idle = activity.idle(&limits);
    tokio::pin!(idle);
    let mut closing = false;
    // Once asked to close, a connection gets as long as a request head may take to wind
    // down; then it is dropped, which closes the socket.
    let wind_down = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(wind_down);
    loop {
        tokio::select! {
            _ = &mut conn => return,
            _ = shutdown.changed(), if !closing => closing = true,
            _ = &mut idle, if !closing => closing = true,
            _ = &mut wind_down, if closing => return,
        }
        conn.as_mut().graceful_shutdown();
        wind_down
            .as_mut()
            .reset(Instant::now() + limits.header_timeout);
    }
}

/// When a connection last finished a request, and how many are in progress.
struct Activity {
    in_flight: AtomicUsize,
    /// When the last request finished; `None` until the first one has.
    last_done: Mutex<Option<Instant>>,
    opened: Instant,
    /// Wakes the watchdog when a request finishes, so it moves its deadline.
    finished: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            last_done: Mutex::new(None),
            opened: Instant::now(),
            finished: tokio::sync::Notify::new(),
        }
    }

    fn start(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Resolves once the connection has been idle too long.
    async fn idle(&self, limits: &ConnectionLimits) {
        loop {
            let last = *self.last_done.lock().expect("activity");
            let deadline = match last {
                Some(t) => t + limits.idle_timeout,
                // A first request must begin within the header timeout.
                None => self.opened + limits.header_timeout,
            };
            if Instant::now() >= deadline {
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                // A request is in progress: nothing changes until one finishes (a finish
                // between the check and this wait leaves a permit, so none is missed).
                self.finished.notified().await;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = self.finished.notified() => {}
                }
            }
        }
    }
}

/// Marks a request in progress until its response body is done or dropped.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last_done.lock().expect("activity") = Some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.finished.notify_one();
    }
}

/// A response body that keeps its request marked in progress while it is sent.
struct Tracked {
    body: Body,
    _guard: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn os_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
