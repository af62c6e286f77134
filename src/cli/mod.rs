//! Command-line definitions (clap derive) and the client side of each command group,
//! one file per group. `main` maps errors to one line on stderr and an exit code.

mod container;
mod daemon;
mod hook;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `lucky --version`: version, target and commit.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("LUCKY_BUILD_TARGET"),
    ", commit ",
    env!("LUCKY_BUILD_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "lucky",
    version = LONG_VERSION,
    about = "Write Juju charms as plain scripts whose workload runs in Docker",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a Juju hook: used by the charm's hooks and dispatch; exit code is the hook's result
    Hook(hook::HookArgs),
    /// Start, stop or inspect the unit's daemon
    #[command(subcommand)]
    Daemon(daemon::DaemonCommand),
    /// Configure the unit's container(s): image, env, volumes, ports, …
    Container(container::ContainerArgs),
}

/// How a command failed: the message is printed as `lucky: <message>`.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            message: format!("{e:#}"),
            code: 1,
        }
    }
}

pub type CliResult = Result<(), Failure>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hook(args) => hook::run(args),
        Command::Daemon(cmd) => daemon::run(cmd),
        Command::Container(args) => container::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("lucky: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
