//! `lucky-doc completions bash|zsh|fish` and `lucky-doc man [--dir DIR]`: shell
//! completions and man pages rendered from the clap definitions of `lucky` (the same ones
//! as docs/commands.md and `--help`).
//!
//! Why a second binary: clap_complete and clap_mangen add about 144 KiB to a release
//! build, and `lucky` ships inside a 5 MiB budget. Only `lucky-doc` calls them, so the
//! linker leaves them out of `lucky`; it is built and run at release or packaging time
//! (`cargo run --release --bin lucky-doc -- completions bash > lucky.bash`).

use super::{Cli, CliResult, Failure};
use clap::{CommandFactory, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lucky-doc",
    version = super::LONG_VERSION,
    about = "Render lucky's shell completions and man pages from its CLI definitions"
)]
struct DocGen {
    #[command(subcommand)]
    command: DocGenCommand,
}

#[derive(Subcommand)]
enum DocGenCommand {
    /// Print lucky's completion script for a shell: `source <(lucky-doc completions bash)`
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the lucky(1) man page (roff), or write a page per command into --dir
    Man {
        /// Write lucky.1 and one lucky-<command>.1 per command into this folder
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The shells completions are rendered for.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// `lucky-doc`'s command line: completions or man pages on standard output or in a folder.
pub fn main() -> ExitCode {
    let args = match DocGen::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("lucky-doc: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(command: DocGenCommand) -> CliResult {
    let mut out = Vec::new();
    match command {
        DocGenCommand::Completions { shell } => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(shell, &mut Cli::command(), "lucky", &mut out);
        }
        DocGenCommand::Man { dir: None } => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| format!("cannot render the man page: {e}"))?;
        }
        DocGenCommand::Man { dir: Some(dir) } => {
            return clap_mangen::generate_to(Cli::command(), &dir).map_err(|e| {
                Failure::from(format!(
                    "cannot write the man pages into {}: {e} (is it an existing, writable folder?)",
                    dir.display()
                ))
            });
        }
    }
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| format!("cannot write to stdout: {e}").into())
}
