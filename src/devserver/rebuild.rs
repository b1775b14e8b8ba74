//! The dev server's rebuild loop: the current [`Snapshot`] and the changes not yet built.
//!
//! Each step turns the snapshot and the changed paths into a new snapshot; a failed step keeps
//! the old one (and its output) and remembers the paths, so the next step retries them.

use crate::capture::live_reload::{Event, LiveReload};
use crate::site::incremental::Snapshot;
use crate::site::BuildOptions;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The manifest the last build wrote (forms and experiments), or an empty one.
pub fn load_manifest(build: &BuildOptions) -> crate::manifest::Manifest {
    crate::manifest::Manifest::load(&build.manifest_path()).unwrap_or_default()
}

/// Rebuild state of one `serve` run.
pub struct Rebuilder {
    build: BuildOptions,
    current: Option<Snapshot>,
    /// Paths changed since the last good build.
    pending: BTreeSet<PathBuf>,
    /// The watcher lost track of changes: rebuild everything.
    full: bool,
    api: Option<Arc<crate::capture::app::App>>,
}

impl Rebuilder {
    /// Nothing built yet.
    pub fn new(build: BuildOptions) -> Rebuilder {
        Rebuilder {
            build,
            current: None,
            pending: BTreeSet::new(),
            full: false,
            api: None,
        }
    }

    /// Hands each new manifest to the capture API.
    pub fn with_api(mut self, api: Arc<crate::capture::app::App>) -> Rebuilder {
        self.api = Some(api);
        self
    }

    /// Builds the changes of `paths` (an empty list means "anything may have changed") and
    /// tells the browsers: reload, or the error.
    pub fn step(&mut self, paths: &[PathBuf], reload: &LiveReload) {
        self.full |= paths.is_empty();
        self.pending.extend(paths.iter().cloned());
        let result = match (&self.current, self.full) {
            (Some(current), false) => {
                let paths: Vec<PathBuf> = self.pending.iter().cloned().collect();
                current.update(&paths)
            }
            _ => Snapshot::build(&self.build),
        };
        match result {
            Ok((snapshot, report)) => {
                eprintln!("{report}");
                if report.full {
                    if let Some(api) = &self.api {
                        api.set_manifest(snapshot.manifest().clone());
                    }
                }
                let old = self.current.replace(snapshot);
                self.pending.clear();
                self.full = false;
                reload.publish(Event::Reload);
                drop(old);
            }
            Err(d) => {
                eprintln!("{d}");
                reload.publish(Event::BuildError(d.to_string()));
            }
        }
    }
}
