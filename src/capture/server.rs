//! The accept loop: bounded connections, HTTP/1 and HTTP/2, graceful shutdown.
//!
//! As in mini-redis, a semaphore bounds open connections, and one shutdown signal stops the
//! accept loop, lets in-flight requests finish, then returns so the caller can flush storage.

use super::http::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Most connections served at once; further ones wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 4096;

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

/// Accepts connections until `shutdown` fires, then waits (up to `grace`) for open requests.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let h = handler.clone();
        let service = hyper::service::service_fn(move |req| {
            let h = h.clone();
            async move { Ok::<_, std::convert::Infallible>(h.handle(req, peer).await) }
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
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
