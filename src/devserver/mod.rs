//! `splitmark serve`: build, serve with live reload, rebuild on change.
//!
//! The dev build goes to `.splitmark/serve/public` with `base_url` set to the local address, so
//! `public/` (the production build) is never overwritten with local URLs; its manifest goes to
//! the default `.splitmark/manifest.json`, beside the default lead database it describes. Each rebuild swaps
//! the output folder atomically; the server reads whatever build is current. A failed
//! rebuild keeps the last good build and shows the error in an overlay. The capture API
//! answers on the same port, so forms on the example site work as they will in production.

mod rebuild;
mod watch;

use crate::capture::http::Body;
use crate::capture::live_reload::{self, LiveReload};
use crate::capture::server::{self, Handler, ResponseFuture, Shutdown};
use crate::capture::static_files::StaticSite;
use crate::site::BuildOptions;
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
    admin_token: String,
    api: Arc<crate::capture::app::App>,
    reload: LiveReload,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
    _watcher: watch::Watcher,
    worker: crate::delivery::worker::Worker,
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
    /// The admin token generated for this run.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }
    /// Stops accepting, finishes open requests, flushes the lead store and returns.
    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.worker.stop().await;
        let _ = self.api.store().close().await;
    }
}

struct DevRouter {
    site: StaticSite,
    reload: LiveReload,
    api: Arc<crate::capture::app::App>,
}

impl Handler for DevRouter {
    fn handle(self: Arc<Self>, req: Request<Incoming>, _peer: SocketAddr) -> ResponseFuture {
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            if path == live_reload::ENDPOINT {
                return self.reload.stream();
            }
            if crate::capture::is_api_path(&path) {
                return crate::capture::handle_api(self.api.clone(), req, _peer).await;
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
        manifest: None,
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
    let rebuilder = {
        let (b, r) = (build.clone(), reload.clone());
        tokio::task::spawn_blocking(move || {
            let mut rb = rebuild::Rebuilder::new(b);
            rb.step(&[], &r);
            rb
        })
        .await?
    };
    // The capture API runs in-process, with its database under .splitmark/ and a fresh admin
    // token for this run.
    let admin_token = uuid::Uuid::new_v4().simple().to_string();
    let capture_opts = crate::capture::CaptureOptions {
        root: opts.root.clone(),
        bind: String::new(),
        db: None,
        site: None,
        admin_token: Some(admin_token.clone()),
        manifest: Some(build.manifest_path()),
    };
    let api = Arc::new(
        crate::capture::build_app(&capture_opts, rebuild::load_manifest(&build), None).await?,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = watch::Watcher::start(&opts.root, tx)?;
    {
        let (r, a) = (reload.clone(), api.clone());
        let mut rebuilder = Some(rebuilder.with_api(a));
        tokio::spawn(async move {
            while let Some(mut paths) = rx.recv().await {
                // Coalesce a burst of changes into one rebuild.
                while let Ok(more) = rx.try_recv() {
                    if more.is_empty() || paths.is_empty() {
                        paths.clear();
                    } else {
                        paths.extend(more);
                    }
                }
                let (mut rb, r) = (rebuilder.take().expect("rebuilder"), r.clone());
                let done = tokio::task::spawn_blocking(move || {
                    rb.step(&paths, &r);
                    rb
                })
                .await;
                match done {
                    Ok(rb) => rebuilder = Some(rb),
                    Err(_) => break,
                }
            }
        });
    }
    let router = Arc::new(DevRouter {
        site: StaticSite::new(build.output_dir()),
        reload: reload.clone(),
        api: api.clone(),
    });
    // Leads of the dev server are delivered like the capture server's.
    let worker = crate::capture::delivery_worker(&api)?;
    let (shutdown, signal) = Shutdown::new();
    // The `[capture]` connection limits and metrics listener apply to `serve` too.
    crate::capture::start_metrics_listener(&api, signal.clone()).await?;
    let task = tokio::spawn(server::serve_with(
        listener,
        router,
        signal,
        Duration::from_secs(2),
        api.settings().network.limits.clone(),
    ));
    Ok(DevServer {
        addr,
        admin_token,
        api,
        reload,
        shutdown,
        task,
        _watcher: watcher,
        worker,
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
        println!("Capture API on the same port; leads in .splitmark/leads.db; admin token for this run: {}", server.admin_token());
        println!("Dashboard: http://{}/admin/ (log in with that token)", server.addr());
        server::os_signal().await;
        server.stop().await;
        Ok(())
    })
}
