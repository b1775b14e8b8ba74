//! The `splitmark` command line: parses arguments, then calls one library function per command.

use clap::{Parser, Subcommand};
use splitmark::site::{self, BuildOptions};
use std::path::PathBuf;
use std::process::ExitCode;

// The capture server allocates per request on several threads; mimalloc's per-thread heaps
// cut the allocator's share of a submission's CPU time against glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "splitmark",
    version,
    about = "Markdown to fast landing pages with A/B-tested lead capture"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new site in DIR.
    Init {
        /// Folder to create (must be empty or missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Convert a Hugo or Zola site into a new splitmark site, with a report of what was left.
    Import {
        /// The Hugo or Zola site's root.
        dir: PathBuf,
        /// Folder for the new site, missing or empty (default: DIR-splitmark beside DIR).
        #[arg(long)]
        into: Option<PathBuf>,
    },
    /// Build the site into the output folder.
    Build {
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder (default: ROOT/public).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Override base_url.
        #[arg(long)]
        base_url: Option<String>,
        /// Include drafts.
        #[arg(long)]
        drafts: bool,
    },
    /// Build, serve with live reload and run the capture API.
    Serve {
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Port.
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Include drafts.
        #[arg(long)]
        drafts: bool,
    },
    /// Run the capture server: store leads, count exposures, serve reports.
    Capture {
        /// Site root (for splitmark.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Database: sqlite:PATH or postgres://user:pass@host/db (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
        /// Also serve this built site (default: API only; the manifest is read from ROOT/public).
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Per-variant statistics and a verdict for one or all experiments.
    Report {
        /// Experiment id (default: all).
        experiment: Option<String>,
        /// Site root (the manifest is read from ROOT/public).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Database: sqlite:PATH or postgres://user:pass@host/db (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the variant a visitor gets in an experiment (from the built manifest).
    Assign {
        /// Experiment id.
        experiment: String,
        /// Visitor id (the `sm_vid` cookie).
        visitor: String,
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Load and render without writing; report problems.
    Check {
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { dir } => site::init(&dir).map(|()| {
            println!(
                "Created a new site in {}. Next: cd {0} && splitmark serve",
                dir.display()
            );
        }),
        Command::Import { dir, into } => {
            splitmark::import::import(&splitmark::import::ImportOptions { source: dir, into })
                .map(|report| print!("{report}"))
        }
        Command::Build {
            root,
            output,
            base_url,
            drafts,
        } => {
            let opts = BuildOptions {
                root,
                output,
                base_url,
                drafts,
                progress: true,
            };
            run_build(&opts)
        }
        Command::Serve {
            root,
            bind,
            port,
            drafts,
        } => splitmark::devserver::run(splitmark::devserver::ServeOptions {
            root,
            bind,
            port,
            drafts,
        }),
        Command::Check { root } => run_check(&BuildOptions::new(root)),
        Command::Capture {
            root,
            bind,
            db,
            site,
        } => splitmark::capture::run(splitmark::capture::CaptureOptions {
            root,
            bind,
            db,
            site,
            admin_token: None,
        }),
        Command::Report {
            experiment,
            root,
            db,
            json,
        } => splitmark::capture::report_command(&root, db.as_deref(), experiment.as_deref(), json),
        Command::Assign {
            experiment,
            visitor,
            root,
        } => splitmark::experiments::assign_from_site(&root, &experiment, &visitor)
            .map(|v| println!("{v}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_build(opts: &BuildOptions) -> anyhow::Result<()> {
    let report = site::build(opts).map_err(|d| {
        anyhow::anyhow!(
            "{d}\nBuild failed; {} left untouched.",
            opts.output_dir().display()
        )
    })?;
    println!("{report}");
    Ok(())
}

fn run_check(opts: &BuildOptions) -> anyhow::Result<()> {
    let report = site::check(opts);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    println!(
        "Checked {} pages: {} errors, {} warnings",
        report.pages,
        report.errors.len(),
        report.warnings.len()
    );
    if report.errors.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("check failed")
    }
}
