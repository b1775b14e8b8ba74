//! The HTTP side: the capture server (`splitmark capture`), static files and live reload.
//!
//! hyper 1.x on tokio. Handlers see parsed, validated values; storage is reached only
//! through [`crate::store::Store`].

pub mod app;
pub mod body;
pub mod client;
pub mod form_pages;
pub mod guard;
pub mod http;
pub mod live_reload;
pub mod metrics;
pub mod retention;
pub mod server;
pub mod settings;
pub mod static_files;
pub mod urlencoded;

use crate::config::Config;
use crate::manifest::Manifest;
use app::{App, AppParts};
use http::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use server::{Handler, ResponseFuture, Shutdown};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of `splitmark capture`.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Site root (for `splitmark.toml`).
    pub root: PathBuf,
    /// Address to listen on.
    pub bind: String,
    /// Database URL (default `sqlite:<root>/.splitmark/leads.db`).
    pub db: Option<String>,
    /// Built site to serve too.
    pub site: Option<PathBuf>,
    /// Admin token (default: `SPLITMARK_ADMIN_TOKEN`).
    pub admin_token: Option<String>,
    /// The manifest the build wrote (default `<root>/.splitmark/manifest.json`).
    pub manifest: Option<PathBuf>,
}

impl Handler for App {
    fn handle(self: Arc<Self>, req: Request<Incoming>, peer: SocketAddr) -> ResponseFuture {
        Box::pin(App::handle(self, req, peer))
    }
}

/// A running capture server.
pub struct CaptureServer {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    app: Arc<App>,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
    /// The hourly retention purge, when a window is configured.
    purge: Option<tokio::task::JoinHandle<()>>,
    worker: crate::delivery::worker::Worker,
}

impl CaptureServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The address of the token-free metrics listener, when `[capture] metrics_bind` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }
    /// The application (metrics, manifest reloads).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }
    /// Graceful shutdown: stop accepting, finish in-flight requests, flush the store.
    pub async fn stop(self) {
        self.shutdown.trigger();
        if let Some(purge) = &self.purge {
            purge.abort();
        }
        let _ = self.task.await;
        self.worker.stop().await;
        let _ = self.app.store().close().await;
    }
}

/// The `--db` URL, or the default SQLite file under the site root.
pub fn db_url(root: &std::path::Path, db: Option<&str>) -> String {
    db.map_or_else(
        || format!("sqlite:{}", root.join(".splitmark/leads.db").display()),
        str::to_owned,
    )
}

fn secret_path(root: &std::path::Path, url: &str) -> PathBuf {
    let sqlite = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"));
    match sqlite.map(std::path::Path::new).and_then(|p| p.parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("ip-hash.key"),
        _ => root.join(".splitmark/ip-hash.key"),
    }
}

/// Builds the application from options (shared by `capture` and `serve`).
pub async fn build_app(
    opts: &CaptureOptions,
    manifest: Manifest,
    html_filter: Option<Box<dyn Fn(String) -> String + Send + Sync>>,
) -> anyhow::Result<App> {
    let config = Config::load(&opts.root).map_err(|d| anyhow::anyhow!("{d}"))?;
    let settings = settings::Settings::from_config(&config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::CONFIG_FILE))?;
    // A bad webhook or e-mail target stops the start, before anything is accepted.
    let targets = crate::delivery::Targets::from_config(&config, &|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::CONFIG_FILE))?;
    if !targets.is_empty() {
        for line in targets.describe() {
            eprintln!("{line}");
        }
    }
    let opt_in =
        crate::delivery::opt_in::OptIn::from_config(&config, &manifest.forms, &targets, &|k| {
            std::env::var(k).ok()
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::CONFIG_FILE))?;
    if let Some(o) = &opt_in {
        eprintln!("{}", o.describe());
    }
    let delivery = crate::delivery::Deliverer::new(
        targets,
        crate::delivery::dashboard_base(&config),
        crate::delivery::Labels::from_manifest(&manifest),
    )
    .with_opt_in(opt_in);
    let url = db_url(&opts.root, opts.db.as_deref());
    let store = crate::store::open(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hasher = guard::IpHasher::load_or_create(&secret_path(&opts.root, &url))?;
    let dashboard =
        crate::dashboard::Dashboard::load(&opts.root, &config).map_err(|e| anyhow::anyhow!(e))?;
    let pages = form_pages::FormPages::load(&opts.root, &config).map_err(|e| anyhow::anyhow!(e))?;
    let session_key = session_key(opts.admin_token.as_deref())?;
    Ok(App::new(AppParts {
        manifest,
        store,
        settings,
        admin_token: opts.admin_token.clone(),
        site: opts.site.clone().map(static_files::StaticSite::new),
        hasher,
        html_filter,
        dashboard,
        pages,
        delivery,
        session_key,
    }))
}

/// The key of named users' sessions (see [`crate::users::keys`]), with a warning when it
/// lives only as long as this process.
fn session_key(admin_token: Option<&str>) -> anyhow::Result<crate::users::keys::SessionKey> {
    let key = crate::users::keys::SessionKey::from_env(admin_token, &|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!(e))?;
    if key.source() == crate::users::keys::KeySource::Random {
        eprintln!(
            "Neither SPLITMARK_SESSION_SECRET nor SPLITMARK_ADMIN_TOKEN is set: users' dashboard sessions end when this process stops and hold on this instance only"
        );
    }
    Ok(key)
}

/// Starts the app's delivery worker (the capture server and the dev server each run one).
pub fn delivery_worker(app: &App) -> anyhow::Result<crate::delivery::worker::Worker> {
    let (deliverer, metrics) = app.delivery();
    crate::delivery::worker::Worker::spawn(
        app.store().clone(),
        deliverer,
        metrics,
        crate::delivery::worker::WorkerOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("cannot start the delivery thread: {e}"))
}

/// Starts the capture server and returns once it listens.
pub async fn start(opts: CaptureOptions) -> anyhow::Result<CaptureServer> {
    let config = Config::load(&opts.root).map_err(|d| anyhow::anyhow!("{d}"))?;
    let policy = retention::policy(&config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::CONFIG_FILE))?;
    let manifest = Manifest::load(&crate::manifest::manifest_path(
        &opts.root,
        opts.manifest.as_deref(),
    ))?;
    let app = Arc::new(build_app(&opts, manifest, None).await?);
    let listener = tokio::net::TcpListener::bind(&opts.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.bind))?;
    let addr = listener.local_addr()?;
    let worker = delivery_worker(&app)?;
    let (shutdown, signal) = Shutdown::new();
    let metrics_addr = start_metrics_listener(&app, signal.clone()).await?;
    let task = tokio::spawn(server::serve_with(
        listener,
        app.clone(),
        signal,
        Duration::from_secs(10),
        app.settings().network.limits.clone(),
    ));
    let purge = retention::spawn(app.store().clone(), policy);
    Ok(CaptureServer {
        addr,
        metrics_addr,
        app,
        shutdown,
        task,
        purge,
        worker,
    })
}

/// Starts the token-free `/metrics` listener when `[capture] metrics_bind` asks for one.
pub async fn start_metrics_listener(
    app: &Arc<App>,
    signal: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<SocketAddr>> {
    let Some(bind) = app.settings().network.metrics_bind else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind} ([capture] metrics_bind): {e}"))?;
    let addr = listener.local_addr()?;
    tokio::spawn(server::serve_with(
        listener,
        Arc::new(app::MetricsListener(app.clone())),
        signal,
        Duration::from_secs(1),
        app.settings().network.limits.clone(),
    ));
    Ok(Some(addr))
}

/// `splitmark capture`: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub fn run(mut opts: CaptureOptions) -> anyhow::Result<()> {
    if opts.admin_token.is_none() {
        opts.admin_token = std::env::var("SPLITMARK_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
    }
    if opts.admin_token.is_none() {
        eprintln!("SPLITMARK_ADMIN_TOKEN is not set: the admin API (experiments, leads export) is disabled");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = start(opts).await?;
        println!("Capture server listening on http://{}", server.addr());
        if let Some(m) = server.metrics_addr() {
            println!("Metrics (no token) on http://{m}/metrics");
        }
        server::os_signal().await;
        eprintln!("Shutting down: finishing open requests and flushing the store");
        server.stop().await;
        Ok(())
    })
}

/// Routes a dev-server request to the capture API when it is one.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/healthz"
        || path == "/metrics"
        || crate::dashboard::is_dashboard_path(path)
}

/// Answers an API request inside another server (the dev server).
pub async fn handle_api(app: Arc<App>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    App::handle(app, req, peer).await
}

/// `splitmark report`: reads the manifest and the store, prints tables or JSON.
pub fn report_command(
    root: &std::path::Path,
    manifest: &std::path::Path,
    db: Option<&str>,
    experiment: Option<&str>,
    as_json: bool,
) -> anyhow::Result<()> {
    let manifest = Manifest::load(manifest)?;
    let chosen: Vec<&crate::manifest::ExperimentManifest> = match experiment {
        Some(id) => vec![manifest
            .experiment(id)
            .ok_or_else(|| anyhow::anyhow!("no experiment {id:?} in the built site"))?],
        None => manifest.experiments.iter().collect(),
    };
    // The whole-site report also counts the double opt-in forms' confirmations.
    let opt_in_forms: Vec<String> = match experiment {
        Some(_) => Vec::new(),
        None => manifest
            .forms
            .iter()
            .filter(|(_, f)| f.double_opt_in)
            .map(|(id, _)| id.clone())
            .collect(),
    };
    if chosen.is_empty() && as_json {
        println!("The built site has no experiments.");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let store = crate::store::open(&db_url(root, db))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if chosen.is_empty() {
            println!("The built site has no experiments.");
        }
        let mut reports = Vec::new();
        for e in chosen {
            reports.push(crate::report::load(store.as_ref(), e).await?);
        }
        if as_json {
            let out = if reports.len() == 1 {
                serde_json::to_string_pretty(&reports[0])?
            } else {
                serde_json::to_string_pretty(&reports)?
            };
            println!("{out}");
        } else {
            for r in &reports {
                println!("{}", crate::report::render_table(r));
            }
            if let Some(cost) = crate::report::cost::load(root, store.as_ref()).await? {
                println!("Cost by source and campaign\n\n{cost}");
            }
            if !opt_in_forms.is_empty() {
                use crate::report::opt_in::{per_form, render_confirmations};
                let counts = store.confirmation_counts().await?;
                println!(
                    "{}",
                    render_confirmations(&per_form(&counts, &opt_in_forms))
                );
            }
            let samples = store.contact_samples().await?;
            let speed = crate::lifecycle::speed::by_group(&samples, chrono::Utc::now());
            println!("{}", crate::lifecycle::speed::render_text(&speed));
        }
        store.close().await?;
        Ok::<_, anyhow::Error>(())
    })
}
