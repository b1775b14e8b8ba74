//! `splitmark serve`: build, serve with live reload, rebuild on change.

use std::path::PathBuf;

/// Options of `splitmark serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Site root.
    pub root: PathBuf,
    /// Address to bind.
    pub bind: String,
    /// Port.
    pub port: u16,
    /// Include drafts.
    pub drafts: bool,
}

/// Runs the development server until Ctrl-C.
pub fn run(_opts: ServeOptions) -> anyhow::Result<()> {
    anyhow::bail!("serve is not available yet")
}
