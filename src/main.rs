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
        /// Where to write the capture server's manifest (default: ROOT/.splitmark/manifest.json).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Print the time per stage and per template after the build.
        #[arg(long)]
        timings: bool,
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
        /// Also serve this built site (default: API only).
        #[arg(long)]
        site: Option<PathBuf>,
        /// The manifest `build` wrote (default: ROOT/.splitmark/manifest.json).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
    /// Per-variant statistics and a verdict for one or all experiments.
    Report {
        /// Experiment id (default: all).
        experiment: Option<String>,
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Database: sqlite:PATH or postgres://user:pass@host/db (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
        /// The manifest `build` wrote (default: ROOT/.splitmark/manifest.json).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write the stored leads as CSV, JSON or NDJSON (streamed; safe while `capture` runs).
    Export {
        /// Site root (for the default database).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Database: sqlite:PATH or postgres://user:pass@host/db (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
        /// csv, json or ndjson.
        #[arg(long, default_value = "csv")]
        format: splitmark::store::export::ExportFormat,
        /// Only this form's leads.
        #[arg(long)]
        form: Option<String>,
        /// Only leads received on or after this day (YYYY-MM-DD, UTC) or RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only leads received up to this day, inclusive (YYYY-MM-DD, UTC), or before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// Write here (atomically) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Erase every lead with this email address (right to erasure).
    Erase {
        /// The person's email address.
        email: String,
        /// Site root (for the default database).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Database: sqlite:PATH or postgres://user:pass@host/db (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
    },
    /// Copy a SQLite database consistently, even while `capture` writes to it.
    Backup {
        /// The copy to write.
        out: PathBuf,
        /// Site root (for the default database).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Database: sqlite:PATH (default: sqlite:ROOT/.splitmark/leads.db).
        #[arg(long)]
        db: Option<String>,
    },
    /// Named users of the dashboard and the admin API (sales or admin).
    User {
        #[command(subcommand)]
        action: UserCommand,
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
        /// The manifest `build` wrote (default: ROOT/.splitmark/manifest.json).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
    /// Load and render without writing; report problems.
    Check {
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// Where `user` commands find the database.
#[derive(clap::Args)]
struct UserDb {
    /// Site root (for the default database).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Database: sqlite:PATH or postgres://user:pass@host/db. Default: the SPLITMARK_DB
    /// environment variable (keeps a password out of the process list), else
    /// sqlite:ROOT/.splitmark/leads.db.
    #[arg(long)]
    db: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user and print its login secret once (only its argon2 hash is stored).
    Add {
        /// Lower-case letters, digits, '.', '_' and '-' (up to 32).
        name: String,
        /// sales (leads, queue, experiments, stages) or admin (also export, erase, redeliver, metrics).
        #[arg(long)]
        role: String,
        /// Replace an existing user: a new secret (and role), and its sessions end.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        db: UserDb,
    },
    /// List users: name, role, created.
    List {
        #[command(flatten)]
        db: UserDb,
    },
    /// Remove a user; its sessions and API access end at once.
    Remove {
        /// The user's name.
        name: String,
        #[command(flatten)]
        db: UserDb,
    },
}

fn run_user(cmd: UserCommand) -> anyhow::Result<()> {
    use splitmark::cli_users;
    match cmd {
        UserCommand::Add {
            name,
            role,
            replace,
            db,
        } => cli_users::add(&db.root, db.db.as_deref(), &name, &role, replace).map(|a| {
            let what = if a.replaced { "Replaced" } else { "Added" };
            eprintln!(
                "{what} {} user {}. Their login secret, shown only now (a lost one is replaced with --replace):",
                a.user.role, a.user.name
            );
            println!("{}", a.secret);
        }),
        UserCommand::List { db } => {
            cli_users::list(&db.root, db.db.as_deref()).map(|u| print!("{}", cli_users::table(&u)))
        }
        UserCommand::Remove { name, db } => cli_users::remove(&db.root, db.db.as_deref(), &name)
            .map(|()| println!("Removed user {name}; their sessions have ended")),
    }
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
            manifest,
            timings,
        } => {
            let opts = BuildOptions {
                root,
                output,
                base_url,
                drafts,
                progress: true,
                manifest,
            };
            run_build(&opts, timings)
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
            manifest,
        } => splitmark::capture::run(splitmark::capture::CaptureOptions {
            root,
            bind,
            db,
            site,
            admin_token: None,
            manifest,
        }),
        Command::Report {
            experiment,
            root,
            db,
            manifest,
            json,
        } => {
            let manifest = splitmark::manifest::manifest_path(&root, manifest.as_deref());
            splitmark::capture::report_command(
                &root,
                &manifest,
                db.as_deref(),
                experiment.as_deref(),
                json,
            )
        }
        Command::Export {
            root,
            db,
            format,
            form,
            since,
            until,
            output,
        } => splitmark::cli_data::export(&splitmark::cli_data::ExportOptions {
            root,
            db,
            format,
            form,
            since,
            until,
            output: output.clone(),
        })
        .map(|n| {
            if let Some(out) = output {
                eprintln!("Exported {n} leads to {}", out.display());
            }
        }),
        Command::Erase { email, root, db } => {
            splitmark::cli_data::erase(&root, db.as_deref(), &email)
                .map(|n| println!("Erased {n} leads of {email}"))
        }
        Command::Backup { out, root, db } => {
            splitmark::cli_data::backup(&root, db.as_deref(), &out)
                .map(|()| println!("Backed up to {}", out.display()))
        }
        Command::User { action } => run_user(action),
        Command::Assign {
            experiment,
            visitor,
            root,
            manifest,
        } => {
            let manifest = splitmark::manifest::manifest_path(&root, manifest.as_deref());
            splitmark::experiments::assign_from_manifest(&manifest, &experiment, &visitor)
                .map(|v| println!("{v}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_build(opts: &BuildOptions, timings: bool) -> anyhow::Result<()> {
    let timings = timings.then(site::Timings::default);
    let report = site::build_timed(opts, timings.as_ref()).map_err(|d| {
        anyhow::anyhow!(
            "{d}\nBuild failed; {} left untouched.",
            opts.output_dir().display()
        )
    })?;
    println!("{report}");
    if let Some(t) = timings {
        print!("\n{t}");
    }
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
