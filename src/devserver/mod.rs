//! `splitmark serve`: build, serve with live reload, rebuild on change.
//!
//! The dev build goes to `.splitmark/serve/public` with `base_url` set to the local address, so
//! `public/` (the production build) is never overwritten with local URLs. Each rebuild swaps
//! the output folder atomically; the server reads whatever build is current. A failed
//! rebuild keeps the last good build and shows the error in an overlay.

mod watch;

use crate::capture::http::Body;
use crate::capture::live_reload::{self, Event, LiveReload};
use crate::capture::server::{self, Handler, ResponseFuture, Shutdown};
use crate::capture::static_files::StaticSite;
use crate::site::{self, BuildOptions};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of `splitmark serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Site root.
    pub root: PathBuf,
    /// Address to bind.
    pub bind: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Include drafts.
    pub drafts: bool,
}

/// A running dev server.
pub struct DevServer {
    addr: SocketAddr,
    reload: LiveReload,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
    _watcher: watch::Watcher,
}

impl DevServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The live-reload hub (to observe rebuilds).
    pub fn live_reload(&self) -> &LiveReload {
        &self.reload
    }
    /// Stops accepting, finishes open requests and returns.
    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
    }
}

struct DevRouter {
    site: StaticSite,
    reload: LiveReload,
}

impl Handler for DevRouter {
    fn handle(self: Arc<Self>, req: Request<Incoming>, _peer: SocketAddr) -> ResponseFuture {
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            if path == live_reload::ENDPOINT {
                return self.reload.stream();
            }
            let inject = |_: &str, html: String| live_reload::inject(&html);
            let res: Response<Body> = self
                .site
                .respond(req.method(), &path, req.headers(), Some(&inject))
                .await;
            res
        })
    }
}

/// Build options of the dev build for a server at `addr`.
pub fn dev_build_options(opts: &ServeOptions, addr: SocketAddr) -> BuildOptions {
    BuildOptions {
        root: opts.root.clone(),
        output: Some(opts.root.join(".splitmark/serve/public")),
        base_url: Some(format!("http://{addr}")),
        drafts: opts.drafts,
        progress: false,
    }
}

fn rebuild(build: &BuildOptions, reload: &LiveReload) {
    match site::build(build) {
        Ok(report) => {
            eprintln!("{report}");
            reload.publish(Event::Reload);
        }
        Err(d) => {
            eprintln!("{d}");
            reload.publish(Event::BuildError(d.to_string()));
        }
    }
}

/// Builds, starts serving and watching; returns once the server is listening.
pub async fn start(opts: ServeOptions) -> anyhow::Result<DevServer> {
    let listener = tokio::net::TcpListener::bind((opts.bind.as_str(), opts.port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", opts.bind, opts.port))?;
    let addr = listener.local_addr()?;
    let build = dev_build_options(&opts, addr);
    let reload = LiveReload::new();
    {
        let (b, r) = (build.clone(), reload.clone());
        tokio::task::spawn_blocking(move || rebuild(&b, &r)).await?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = watch::Watcher::start(&opts.root, tx)?;
    {
        let (b, r) = (build.clone(), reload.clone());
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Coalesce a burst of changes into one rebuild.
                while rx.try_recv().is_ok() {}
                let (b, r) = (b.clone(), r.clone());
                let _ = tokio::task::spawn_blocking(move || rebuild(&b, &r)).await;
            }
        });
    }
    let router = Arc::new(DevRouter {
        site: StaticSite::new(build.output_dir()),
        reload: reload.clone(),
    });
    let (shutdown, signal) = Shutdown::new();
    let task = tokio::spawn(server::serve(
        listener,
        router,
        signal,
        Duration::from_secs(2),
    ));
    Ok(DevServer {
        addr,
        reload,
        shutdown,
        task,
        _watcher: watcher,
    })
}

/// Runs the development server until Ctrl-C.
pub fn run(opts: ServeOptions) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = start(opts).await?;
        println!("Serving on http://{} (Ctrl-C to stop)", server.addr());
        server::os_signal().await;
        server.stop().await;
        Ok(())
    })
}
