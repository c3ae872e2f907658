//! The `icelock` command: arguments, rendering for people and machines, exit codes.
//!
//! Everything here is presentation: the facts come from `icelock-env` (which environment),
//! `icelock-dist` (what is installed) and `icelock-graph` (what requires what).

mod inspect;
mod render;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "icelock",
    version,
    about = "A true lock of an installed Python environment: the exact files, proven.",
    after_help = "ENV is a virtual environment's root, a site-packages folder or a Python interpreter.\nWithout it: $VIRTUAL_ENV, else ./.venv, else the python3 on PATH."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every installed distribution: version, installer, origin, import names.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// The environment (see below).
        env: Option<PathBuf>,
    },
    /// Attribute every installed distribution to the exact file it came from, prove it, and write
    /// the result; exit 1 when any distribution cannot be proven.
    Lock(LockArgs),
    /// Verify every installed file against RECORD and every requirement against what is
    /// installed; exit 1 when anything is wrong.
    Check {
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        env: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct LockArgs {
    /// Output format. `json` is the attribution report: per distribution, the artifact it came
    /// from and the proof.
    #[arg(long, value_enum, default_value_t = LockFormat::Json)]
    format: LockFormat,
    /// Write to FILE (atomically: the whole file or nothing) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// How much to check: the METADATA hash (default), also the wheel's RECORD, or also the
    /// whole wheel's hash (downloads every wheel).
    #[arg(long, value_enum, default_value_t = VerifyLevel::Metadata)]
    verify: VerifyLevel,
    /// The primary index (default: as pip and uv are configured, else PyPI).
    #[arg(long, value_name = "URL")]
    index_url: Option<String>,
    /// Another index to search (repeatable).
    #[arg(long, value_name = "URL")]
    extra_index_url: Vec<String>,
    /// A folder or page of wheels to search (repeatable).
    #[arg(long, short = 'f', value_name = "URL|PATH")]
    find_links: Vec<String>,
    /// Search no index, only --find-links.
    #[arg(long)]
    no_index: bool,
    /// Allow plain http for this host (repeatable), as pip's --trusted-host.
    #[arg(long, value_name = "HOST")]
    trusted_host: Vec<String>,
    /// An extra CA bundle (PEM), on top of the system trust store.
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Make no network request: use only cached pages and facts.
    #[arg(long)]
    offline: bool,
    /// The cache folder (default: the platform's cache folder, or $ICELOCK_CACHE_DIR).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Neither read nor write the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Log each request on stderr.
    #[arg(short, long)]
    verbose: bool,
    /// The environment (see below).
    env: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LockFormat {
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum VerifyLevel {
    Metadata,
    Record,
    Hash,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// Everything that stops a command before it has a result; rendered once, at the edge.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    Env(#[from] icelock_env::EnvError),
    #[error("index configuration: {0}")]
    Config(#[from] icelock_index::config::ConfigError),
    #[error(transparent)]
    Client(#[from] icelock_index::FetchError),
    #[error(transparent)]
    Write(#[from] write::WriteError),
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { format, env } => list(format, env),
        Command::Check { format, env } => check(format, env),
        Command::Lock(args) => lock(args),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::from(2)
    })
}

fn list(format: ListFormat, env: Option<PathBuf>) -> Result<ExitCode, AppError> {
    let inspection = inspect::Inspection::load(env)?;
    let out = match format {
        ListFormat::Table => render::list_table(&inspection),
        ListFormat::Json => render::list_json(&inspection),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn check(format: CheckFormat, env: Option<PathBuf>) -> Result<ExitCode, AppError> {
    let inspection = inspect::Inspection::load(env)?;
    let report = inspection.check();
    let out = match format {
        CheckFormat::Text => render::check_text(&inspection, &report),
        CheckFormat::Json => render::check_json(&report),
    };
    print!("{out}");
    Ok(if report.problems.iter().any(|p| p.kind.is_failure()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn lock(args: LockArgs) -> Result<ExitCode, AppError> {
    let inspection = inspect::Inspection::load(args.env.clone())?;
    let index_args = icelock_index::IndexArgs {
        index_url: args.index_url.clone(),
        extra_index_urls: args.extra_index_url.clone(),
        find_links: args.find_links.clone(),
        no_index: args.no_index,
        trusted_hosts: args.trusted_host.clone(),
        cert: args.cert.clone(),
    };
    let var = |name: &str| std::env::var(name).ok();
    let context = icelock_index::config::Context {
        var: &var,
        home: std::env::var_os("HOME").map(PathBuf::from),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        env_root: Some(inspection.env.root.clone()),
    };
    let config = icelock_index::IndexConfig::discover(&index_args, &context)?;
    let options = icelock_index::ClientOptions {
        offline: args.offline,
        trusted_hosts: config.trusted_hosts.clone(),
        cert: config.cert.clone(),
        verbose: args.verbose,
        cache_dir: if args.no_cache {
            None
        } else {
            args.cache_dir
                .clone()
                .or_else(|| icelock_index::cache::Cache::default_dir(&var))
        },
        ..icelock_index::ClientOptions::default()
    };
    let verify = match args.verify {
        VerifyLevel::Metadata => icelock_attribute::Verify::Metadata,
        VerifyLevel::Record => icelock_attribute::Verify::Record,
        VerifyLevel::Hash => icelock_attribute::Verify::Hash,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?;
    let attributed = runtime.block_on(inspection.attribute(config, options, verify))?;

    let out = match args.format {
        LockFormat::Json => render::lock_json(&inspection, &attributed),
    };
    match args.output.as_deref() {
        None => print!("{out}"),
        Some(path) if path.as_os_str() == "-" => print!("{out}"),
        Some(path) => write::atomically(path, out.as_bytes())?,
    }
    eprint!("{}", render::lock_summary(&inspection, &attributed));
    Ok(if attributed.iter().all(|a| a.attribution.is_proven()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
