//! The `icelock` command: arguments, rendering for people and machines, exit codes.
//!
//! Everything here is presentation: the facts come from `icelock-env` (which environment),
//! `icelock-dist` (what is installed) and `icelock-graph` (what requires what).

mod drift;
mod inspect;
mod model;
mod progress;
mod render;
mod sbom;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "icelock",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("ICELOCK_COMMIT"), ")"),
    about = "A true lock of an installed Python environment: the exact files, proven.",
    after_help = "ENV is a virtual environment's root, a site-packages folder or a Python interpreter.\nWithout it: $VIRTUAL_ENV, else ./.venv, else the python3 on PATH."
)]
struct Cli {
    /// No progress bars (they are drawn only when stderr is a terminal anyway).
    #[arg(short, long, global = true)]
    quiet: bool,
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
        /// Never shorten a column: the table is as wide as its longest values (otherwise it fits
        /// `COLUMNS`, else the terminal, else 100 columns).
        #[arg(long)]
        wide: bool,
        /// The environment (see below).
        env: Option<PathBuf>,
    },
    /// Attribute every installed distribution to the exact file it came from, prove it, and write
    /// the result; exit 1 when any distribution cannot be proven.
    Lock(Box<LockArgs>),
    /// Verify every installed file against RECORD and every requirement against what is
    /// installed; exit 1 when anything is wrong.
    Check {
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        env: Option<PathBuf>,
    },
    /// Verify that the environment is exactly what a lock says, down to the files: each
    /// package `ok`, `missing`, `extra`, `version`, `artifact`, `modified` or `unverifiable`.
    /// Exit 0 when every package is `ok`, 1 on any drift, 2 when the lock cannot be read.
    Verify(Box<VerifyArgs>),
    /// Print a completion script for SHELL (e.g. `icelock completions bash >
    /// ~/.local/share/bash-completion/completions/icelock`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The lock: pylock.toml (any producer), requirements.txt with hashes, pyodide-lock.json,
    /// uv.lock, poetry.lock or pdm.lock (the format from its name, else its contents).
    #[arg(long, value_name = "FILE")]
    lock: PathBuf,
    /// The lock's format, where its name does not say.
    #[arg(long, value_enum)]
    lock_format: Option<LockFileFormat>,
    /// Output: a table of what is not `ok` and a summary, or the whole report as JSON.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// Download every locked wheel whole and hash it, instead of reading its RECORD through a
    /// range request.
    #[arg(long)]
    hash: bool,
    /// Do not compare bytecode with its sources (the first run compiles every source; later
    /// ones cost a stat per `.pyc`). The report then says bytecode was not checked.
    #[arg(long)]
    no_bytecode: bool,
    #[command(flatten)]
    index: IndexOptions,
    /// The environment (see below).
    env: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LockFileFormat {
    Pylock,
    Requirements,
    Pyodide,
    Uv,
    Poetry,
    Pdm,
}

#[derive(clap::Args)]
struct LockArgs {
    /// Output format (default: from the output's name: pylock.toml / pylock.NAME.toml,
    /// requirements*.txt, pyodide-lock.json, other *.json = the report; else pyodide-lock.json
    /// for a Pyodide environment, pylock.toml otherwise). `json` is the attribution report,
    /// written even when some distribution is unproven.
    #[arg(long, value_enum)]
    format: Option<LockFormat>,
    /// Write to FILE (atomically: the whole file or nothing); `-` or nothing: standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// pyodide-lock.json: the URL the runtime's own packages are served from (default: the
    /// runtime's folder on this machine).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// pyodide-lock.json: start from this runtime lock instead of the environment's runtime.
    #[arg(long, value_name = "FILE")]
    base_lock: Option<PathBuf>,
    /// Leave this distribution out of the lock on purpose (repeatable); the lock says so.
    #[arg(long, value_name = "NAME")]
    exclude: Vec<String>,
    /// Lock distributions installed from local source trees (directories, editables) as
    /// `directory` entries that point at those folders on this machine.
    #[arg(long)]
    allow_local: bool,
    /// Lock a distribution built locally from an sdist as that sdist (from the index), with
    /// a warning: a build from source is not byte-reproducible.
    #[arg(long)]
    allow_sdist: bool,
    /// Rebuild a wheel into DIR for every distribution no index can prove (built locally from
    /// an sdist, installed from a local folder, a local version), from its verified installed
    /// files, and lock that wheel (by a path relative to the lock).
    #[arg(long, value_name = "DIR")]
    wheelhouse: Option<PathBuf>,
    /// Also copy every wheel of the environment into DIR (checking its sha256) and point the
    /// lock at those copies, relative to the lock file.
    #[arg(long, value_name = "DIR")]
    download: Option<PathBuf>,
    /// Write nothing: exit 0 when the lock that would be written equals the file `-o` names,
    /// else 1, with the entries that would change (for CI, as `uv lock --check`).
    #[arg(long, requires = "output")]
    check: bool,
    /// What a proof binds: `record` (the default), the artifact's own RECORD against the
    /// installed one, read through a range request; `hash`, the same with every artifact
    /// downloaded and hashed whole; `metadata`, the weak mode, only METADATA matched (proves the
    /// label, not the files: every entry says `metadata-only`).
    #[arg(long, value_enum, default_value_t = VerifyLevel::Record)]
    verify: VerifyLevel,
    /// Also compare the bytecode Python would run for each listed source with that source
    /// compiled, by the environment's own interpreter (`check` and `verify` always do; it costs
    /// a compile of every source the first time, a stat after).
    #[arg(long)]
    bytecode: bool,
    #[command(flatten)]
    index: IndexOptions,
    /// The environment (see below).
    env: Option<PathBuf>,
}

/// Where artifacts are looked up and how: shared by `lock` and `verify`.
#[derive(clap::Args, Clone)]
struct IndexOptions {
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
    /// Seconds a server may stay silent before the request fails (and is retried); a whole
    /// request may take twice as long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Make no network request: use only cached pages and facts.
    #[arg(long)]
    offline: bool,
    /// The cache folder (default: the platform's cache folder, or $ICELOCK_CACHE_DIR).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Neither read nor write the cache: every page fetched, every installed file hashed.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Ask every index again for every page, however fresh the cached one is (pages that say
    /// nothing of their lifetime are otherwise used for 10 minutes). Proofs stay cached: they
    /// are kept under the artifact's and the installed RECORD's hashes.
    #[arg(long, conflicts_with = "offline")]
    refresh: bool,
    /// Log each request on stderr.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LockFormat {
    Pylock,
    Requirements,
    Pyodide,
    Json,
    /// CycloneDX 1.6 JSON, an SBOM: written even when some dists are unproven (marked).
    Cyclonedx,
    /// SPDX 2.3 JSON, an SBOM, likewise.
    Spdx,
}

impl LockFormat {
    /// The format an output file's name asks for.
    fn from_name(path: &std::path::Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        if name == "pyodide-lock.json" {
            Some(Self::Pyodide)
        } else if name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml"))
        {
            Some(Self::Pylock)
        } else if name.starts_with("requirements") && name.ends_with(".txt") {
            Some(Self::Requirements)
        } else if name.ends_with(".cdx.json") {
            Some(Self::Cyclonedx)
        } else if name.ends_with(".spdx.json") {
            Some(Self::Spdx)
        } else if name.ends_with(".json") {
            Some(Self::Json)
        } else {
            None
        }
    }
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
    #[error(transparent)]
    Model(#[from] model::ModelError),
    #[error(transparent)]
    Format(#[from] icelock_lock::FormatError),
    #[error("--download: {0}")]
    Download(String),
    #[error("the lock cannot be read: {0}")]
    Lock(#[from] icelock_lockfile::ReadError),
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
}

fn main() -> ExitCode {
    // glibc gives each thread that allocates its own arena, and memory freed in one is not
    // reused by another: with the hashing, scanning and network threads all allocating, that
    // left a quarter of the peak RSS as fragmentation on a 300-distribution environment.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; mallopt only sets an allocator parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // A fixed threshold: glibc otherwise raises it each time a large block is freed, after
        // which multi-MB page bodies come from the arenas and their holes stay resident.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 * 1024);
    }
    let cli = Cli::parse();
    if cli.quiet {
        progress::silence();
    }
    let result = match cli.command {
        Command::List { format, wide, env } => list(format, wide, env),
        Command::Check { format, env } => check(format, env),
        Command::Lock(args) => lock(*args),
        Command::Verify(args) => verify(*args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "icelock", &mut script);
            // A reader that stops early (`| head`) is not an error of ours.
            match std::io::stdout().write_all(&script) {
                Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: {err}");
                    Ok(ExitCode::from(2))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::from(2)
    })
}

fn list(format: ListFormat, wide: bool, env: Option<PathBuf>) -> Result<ExitCode, AppError> {
    let inspection = inspect::Inspection::load(env)?;
    let out = match format {
        ListFormat::Table => render::list_table(&inspection, (!wide).then(table_width)),
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
    let env = inspect::Inspection::locate(args.env.clone())?;
    let (config, options) = index_setup(&args.index, &env.root)?;
    let verify = match args.verify {
        VerifyLevel::Metadata => icelock_attribute::Verify::Metadata,
        VerifyLevel::Record => icelock_attribute::Verify::Record,
        VerifyLevel::Hash => icelock_attribute::Verify::Hash,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?;
    let offline = options.offline;
    let indexes = icelock_index::Indexes::connect(config, options)?;
    progress::requests(indexes.client().stats.clone());
    // The pages of the environment's index installs, asked for while its folders are read.
    if !offline {
        let sites = env.site_packages.iter().map(|site| site.path.as_path());
        for (name, version) in icelock_dist::index_candidates(sites) {
            indexes.prefetch(runtime.handle(), name, version);
        }
    }
    let inspection = inspect::Inspection::of(env);
    let (attributed, integrity) = inspection.attribute(&runtime, &indexes, verify, args.bytecode);
    progress::clear();
    if !args.bytecode {
        eprint!("{}", render::BYTECODE_UNCHECKED);
    }

    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    let format = args
        .format
        .or_else(|| output.and_then(LockFormat::from_name))
        .unwrap_or(if inspection.env.pyodide.is_some() {
            LockFormat::Pyodide
        } else {
            LockFormat::Pylock
        });
    // An SBOM says what is installed, so it is written whatever is unproven: each such
    // component is marked in it and named here.
    if matches!(format, LockFormat::Cyclonedx | LockFormat::Spdx) {
        eprint!("{}", render::survey_summary(&inspection.survey));
        let facts = sbom::build(&inspection, &attributed);
        for component in &facts.components {
            if let Some(why) = &component.unproven {
                eprintln!(
                    "icelock: {} {} is in the SBOM without an artifact hash: {why}",
                    component.name, component.version
                );
            }
        }
        let out = if format == LockFormat::Cyclonedx {
            icelock_sbom::cyclonedx(&facts)
        } else {
            icelock_sbom::spdx(&facts)
        };
        match output {
            None => print!("{out}"),
            Some(path) => write::atomically(path, out.as_bytes())?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let policy = model::Policy {
        exclude: args
            .exclude
            .iter()
            .map(|n| {
                n.parse::<uv_normalize::PackageName>()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|_| n.clone())
            })
            .collect(),
        allow_local: args.allow_local,
        allow_sdist: args.allow_sdist,
    };
    let mut verdicts = model::judge(&inspection, &attributed, &policy);
    let mut repacked = std::collections::BTreeMap::new();
    if let (Some(dir), true) = (&args.wheelhouse, format != LockFormat::Json) {
        let lock_dir = lock_folder(output);
        for (i, dist) in inspection.dists().iter().enumerate() {
            // What is blocked, and for pyodide-lock.json (which loads only wheels) whatever
            // would otherwise be locked as a source tree or an sdist.
            let not_a_wheel = match &attributed[i].attribution {
                icelock_attribute::Attribution::Vcs { .. }
                | icelock_attribute::Attribution::Directory { .. } => true,
                icelock_attribute::Attribution::Unproven { .. } => true,
                icelock_attribute::Attribution::Url { artifact, .. } => {
                    !artifact.filename.ends_with(".whl")
                }
                _ => false,
            };
            let wanted = matches!(verdicts[i], model::Verdict::Blocked(_))
                || (format == LockFormat::Pyodide
                    && verdicts[i] == model::Verdict::Lock
                    && not_a_wheel);
            let repackable = wanted
                && integrity[i].problems.is_empty()
                && !matches!(dist.source, icelock_dist::Source::Editable { .. });
            if !repackable {
                continue;
            }
            match icelock_repack::repack(dist, dir) {
                Ok(wheel) => {
                    let url = match &lock_dir {
                        Some(lock_dir) => relative_to(&wheel.path, lock_dir),
                        None => file_url(&wheel.path),
                    };
                    repacked.insert(i, (wheel, url));
                    verdicts[i] = model::Verdict::Lock;
                }
                Err(err) => {
                    if let model::Verdict::Blocked(reasons) = &mut verdicts[i] {
                        reasons.push(format!("--wheelhouse could not rebuild it: {err}"));
                    }
                }
            }
        }
    }
    let all_proven = attributed.iter().all(|a| a.attribution.is_proven());
    let out = if format == LockFormat::Json {
        eprint!("{}", render::lock_summary(&inspection, &attributed, None));
        render::lock_json(&inspection, &attributed, args.bytecode)
    } else {
        eprint!(
            "{}",
            render::lock_summary(&inspection, &attributed, Some(&verdicts))
        );
        let blocked = verdicts
            .iter()
            .any(|v| matches!(v, model::Verdict::Blocked(_)));
        if blocked {
            eprintln!(
                "icelock: no lock written: every distribution must be proven (or excluded) first"
            );
            return Ok(ExitCode::from(1));
        }
        if !inspection.survey.unowned.is_empty() {
            eprintln!(
                "icelock: no lock written: what this environment can run must all be what the lock rebuilds"
            );
            return Ok(ExitCode::from(1));
        }
        let mut model = model::build(
            &inspection,
            &attributed,
            &verdicts,
            &repacked,
            &model::PyodideOptions {
                base_lock: args.base_lock.clone(),
                base_url: args.base_url.clone(),
            },
        )?;
        if let Some(dir) = &args.download {
            runtime.block_on(download(&mut model, dir, output, args.index.offline))?;
        }
        match format {
            LockFormat::Pylock => icelock_lock::pylock::write(&model),
            LockFormat::Requirements => icelock_lock::requirements::write(&model),
            LockFormat::Pyodide => icelock_lock::pyodide::write(&model)?,
            LockFormat::Json | LockFormat::Cyclonedx | LockFormat::Spdx => {
                unreachable!("handled above")
            }
        }
    };
    if args.check {
        let path = output.expect("clap requires --output with --check");
        return Ok(check_lock(path, &out, &inspection.env.markers));
    }
    match output {
        None => print!("{out}"),
        Some(path) => write::atomically(path, out.as_bytes())?,
    }
    Ok(
        if format != LockFormat::Json || (all_proven && inspection.survey.unowned.is_empty()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

fn verify(args: VerifyArgs) -> Result<ExitCode, AppError> {
    let env = inspect::Inspection::locate(args.env.clone())?;
    let kind = args.lock_format.map(|f| match f {
        LockFileFormat::Pylock => icelock_lockfile::LockKind::Pylock,
        LockFileFormat::Requirements => icelock_lockfile::LockKind::Requirements,
        LockFileFormat::Pyodide => icelock_lockfile::LockKind::PyodideLock,
        LockFileFormat::Uv => icelock_lockfile::LockKind::UvLock,
        LockFileFormat::Poetry => icelock_lockfile::LockKind::PoetryLock,
        LockFileFormat::Pdm => icelock_lockfile::LockKind::PdmLock,
    });
    let lock = icelock_lockfile::read(&args.lock, kind, &env.markers)?;
    // Files a lock names without a URL are looked for where it says, beside the indexes
    // configured (as pip reads a requirements file's own --index-url lines).
    let mut index = args.index.clone();
    if !index.no_index {
        for url in &lock.sources.indexes {
            if index.index_url.as_ref() != Some(url) && !index.extra_index_url.contains(url) {
                index.extra_index_url.push(url.clone());
            }
        }
    }
    for location in &lock.sources.find_links {
        if !index.find_links.contains(location) {
            index.find_links.push(location.clone());
        }
    }
    let (config, options) = index_setup(&index, &env.root)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?;
    let indexes = icelock_index::Indexes::connect(config, options)?;
    progress::requests(indexes.client().stats.clone());
    let inspection = inspect::Inspection::of(env);
    let verify = if args.hash {
        icelock_attribute::Verify::Hash
    } else {
        icelock_attribute::Verify::Record
    };
    // The files are hashed on another thread while the locked artifacts are read.
    let bytecode = std::sync::OnceLock::new();
    let mut report = std::thread::scope(|scope| {
        let checking = scope.spawn(|| inspection.integrity_with(&indexes, !args.no_bytecode));
        let integrity = || {
            let (integrity, checked) = checking
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let _ = bytecode.set(checked);
            integrity
        };
        runtime.block_on(drift::judge(
            &inspection,
            &lock,
            integrity,
            &indexes,
            verify,
        ))
    });
    progress::clear();
    report.bytecode = Some(match bytecode.into_inner().flatten() {
        Some(checked) => inspect::BytecodeReport {
            compared: checked.bound,
            unchecked: checked.unchecked,
        },
        None => inspect::BytecodeReport {
            compared: 0,
            unchecked: Some("--no-bytecode".into()),
        },
    });
    let out = match args.format {
        CheckFormat::Text => render::verify_text(&report),
        CheckFormat::Json => render::verify_json(&report),
    };
    print!("{out}");
    Ok(if report.drifted() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `lock --check`: whether `fresh` (the lock as it would be written) is what `path` holds; the
/// entries that would change are printed when not.
fn check_lock(
    path: &std::path::Path,
    fresh: &str,
    markers: &uv_pep508::MarkerEnvironment,
) -> ExitCode {
    let current = match std::fs::read_to_string(path) {
        Ok(current) => current,
        Err(err) => {
            eprintln!(
                "icelock: {} cannot be read ({err}): the lock would be new",
                path.display()
            );
            return ExitCode::from(1);
        }
    };
    if current == fresh {
        eprintln!("icelock: {} is up to date", path.display());
        return ExitCode::SUCCESS;
    }
    // The same format's reader over both, so the difference is said as entries.
    let kind = icelock_lockfile::LockKind::from_name(path);
    let read_fresh = icelock_lockfile::parse(fresh, path, kind, markers).ok();
    let read_current = icelock_lockfile::read(path, kind, markers);
    let changes = match (read_current, read_fresh) {
        (Ok(current), Some(fresh)) => render::lock_changes(&current, &fresh),
        (Err(err), _) => vec![format!("the current lock cannot be read: {err}")],
        (_, None) => Vec::new(),
    };
    eprintln!("icelock: {} would change:", path.display());
    if changes.is_empty() {
        eprintln!("  no entry changes; the file differs in its layout or header");
    }
    for change in changes {
        eprintln!("  {change}");
    }
    ExitCode::from(1)
}

/// How wide a table may be: `COLUMNS`, else the terminal's width, else 100.
fn table_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, columns)| usize::from(columns))
        })
        .unwrap_or(100)
}

/// The index configuration and client options `index` asks for, for the environment at
/// `env_root` (whose own pip.conf counts).
fn index_setup(
    index: &IndexOptions,
    env_root: &std::path::Path,
) -> Result<(icelock_index::IndexConfig, icelock_index::ClientOptions), AppError> {
    let index_args = icelock_index::IndexArgs {
        index_url: index.index_url.clone(),
        extra_index_urls: index.extra_index_url.clone(),
        find_links: index.find_links.clone(),
        no_index: index.no_index,
        trusted_hosts: index.trusted_host.clone(),
        cert: index.cert.clone(),
    };
    let var = |name: &str| std::env::var(name).ok();
    let context = icelock_index::config::Context {
        var: &var,
        home: std::env::var_os("HOME").map(PathBuf::from),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        env_root: Some(env_root.to_path_buf()),
    };
    let config = icelock_index::IndexConfig::discover(&index_args, &context)?;
    let options = icelock_index::ClientOptions {
        offline: index.offline,
        trusted_hosts: config.trusted_hosts.clone(),
        cert: config.cert.clone(),
        verbose: index.verbose,
        connect_timeout: std::time::Duration::from_secs(index.timeout.clamp(1, 10)),
        read_timeout: std::time::Duration::from_secs(index.timeout.max(1)),
        timeout: std::time::Duration::from_secs(index.timeout.max(1) * 2),
        pip_cache_dir: icelock_index::pip_cache::dir(&var),
        refresh: index.refresh,
        on_whole: progress::whole_downloads(),
        cache_dir: if index.no_cache {
            None
        } else {
            index
                .cache_dir
                .clone()
                .or_else(|| icelock_index::cache::Cache::default_dir(&var))
        },
        ..icelock_index::ClientOptions::default()
    };
    Ok((config, options))
}

/// Copies every wheel of the model into `dir`, checking each against its proven sha256, and
/// points the model at the copies (relative to the lock's folder when there is a lock file).
async fn download(
    model: &mut icelock_lock::LockModel,
    dir: &std::path::Path,
    output: Option<&std::path::Path>,
    offline: bool,
) -> Result<(), AppError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::Download(format!("{}: {e}", dir.display())))?;
    let client = icelock_index::Client::new(
        icelock_index::ClientOptions {
            offline,
            ..icelock_index::ClientOptions::default()
        },
        &[],
    )?;
    let lock_dir = output.and_then(|o| o.parent()).map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    for package in &mut model.packages {
        let icelock_lock::PackageSource::Wheel { artifact, .. } = &mut package.source else {
            continue;
        };
        let url = url::Url::parse(&artifact.url)
            .map_err(|e| AppError::Download(format!("{}: {e}", artifact.url)))?;
        let dest = dir.join(&artifact.filename);
        let (sha, _) = client.download(&url, &dest).await?;
        if sha != artifact.sha256 {
            let _ = std::fs::remove_file(&dest);
            return Err(AppError::Download(format!(
                "{} hashes to {sha}, but {} {} was proven to be {}",
                artifact.filename, package.name, package.version, artifact.sha256
            )));
        }
        artifact.url = match &lock_dir {
            Some(lock_dir) => relative_to(&dest, lock_dir),
            None => file_url(&dest),
        };
    }
    Ok(())
}

/// The folder a lock file is written to (`None` for standard output).
fn lock_folder(output: Option<&std::path::Path>) -> Option<PathBuf> {
    output.and_then(|o| o.parent()).map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    })
}

fn file_url(path: &std::path::Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    url::Url::from_file_path(&path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// `dest` relative to `base` (both made absolute), with `/` separators as lock files use.
fn relative_to(dest: &std::path::Path, base: &std::path::Path) -> String {
    let abs = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (dest, base) = (abs(dest), abs(base));
    let common = dest
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = base
        .components()
        .skip(common)
        .map(|_| "..".to_string())
        .collect();
    parts.extend(
        dest.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}
