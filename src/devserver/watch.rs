//! File watching for the dev server: notify with a debouncer, polling where notify is blind.

use notify::RecursiveMode;
use notify_debouncer_full::{
    new_debouncer, new_debouncer_opt, DebounceEventResult, Debouncer, NoCache, RecommendedCache,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Events closer together than this are one change (an editor's truncate, write and rename).
/// Short, because it is a floor under every edit-to-reload: a rebuild that starts on a
/// half-written file is followed by another once the write completes.
const DEBOUNCE: Duration = Duration::from_millis(20);

/// Folders and files whose changes trigger a rebuild.
const WATCHED: &[&str] = &["content", "templates", "themes", "static", "splitmark.toml"];

/// Keeps the watcher alive; dropping it stops watching.
#[allow(dead_code)]
pub enum Watcher {
    /// Native file-system events.
    Native(Debouncer<notify::RecommendedWatcher, RecommendedCache>),
    /// Polling fallback.
    Poll(Debouncer<notify::PollWatcher, NoCache>),
}

impl Watcher {
    /// Watches the site sources under `root`, sending the paths of every relevant change (an
    /// empty list when the watcher lost track, which asks for a full rebuild).
    pub fn start(root: &Path, tx: UnboundedSender<Vec<PathBuf>>) -> anyhow::Result<Watcher> {
        let handler = move |res: DebounceEventResult| match res {
            Ok(events) => {
                let paths: Vec<PathBuf> = events
                    .iter()
                    .filter(|e| !e.kind.is_access())
                    .flat_map(|e| e.paths.iter().cloned())
                    .collect();
                if !paths.is_empty() {
                    let _ = tx.send(paths);
                }
            }
            Err(_) => {
                let _ = tx.send(Vec::new());
            }
        };
        let targets: Vec<PathBuf> = WATCHED
            .iter()
            .map(|w| root.join(w))
            .filter(|p| p.exists())
            .collect();
        match new_debouncer(DEBOUNCE, None, handler.clone()) {
            Ok(mut d) => {
                if targets
                    .iter()
                    .all(|t| d.watch(t, RecursiveMode::Recursive).is_ok())
                {
                    return Ok(Watcher::Native(d));
                }
            }
            Err(e) => eprintln!("file events unavailable ({e}); polling for changes instead"),
        }
        let config = notify::Config::default().with_poll_interval(Duration::from_millis(500));
        let mut d = new_debouncer_opt::<_, notify::PollWatcher, _>(
            DEBOUNCE, None, handler, NoCache, config,
        )?;
        for t in &targets {
            d.watch(t, RecursiveMode::Recursive)?;
        }
        Ok(Watcher::Poll(d))
    }
}
