//! The `icelock` command: arguments, rendering for people and machines, exit codes.
//!
//! Everything here is presentation: the facts come from `icelock-env` (which environment),
//! `icelock-dist` (what is installed) and `icelock-graph` (what requires what).

mod inspect;
mod render;

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
    /// Verify every installed file against RECORD and every requirement against what is
    /// installed; exit 1 when anything is wrong.
    Check {
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        env: Option<PathBuf>,
    },
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { format, env } => inspect::Inspection::load(env).map(|inspection| {
            let out = match format {
                ListFormat::Table => render::list_table(&inspection),
                ListFormat::Json => render::list_json(&inspection),
            };
            print!("{out}");
            ExitCode::SUCCESS
        }),
        Command::Check { format, env } => inspect::Inspection::load(env).map(|inspection| {
            let report = inspection.check();
            let out = match format {
                CheckFormat::Text => render::check_text(&inspection, &report),
                CheckFormat::Json => render::check_json(&report),
            };
            print!("{out}");
            if report.problems.iter().any(|p| p.kind.is_failure()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::from(2)
    })
}
