//! `lucky charm create` and `lucky charm build`: need no daemon.

use super::CliResult;
use crate::charm::build::{self, BuildOptions};
use crate::charm::template::{self, Values};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum CharmCommand {
    /// Lay out a new charm from Lucky's template
    Create(CreateArgs),
    /// Validate a charm and write the folder Juju deploys
    Build(BuildArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Folder to create the charm in (must be absent or empty)
    pub dir: PathBuf,
    /// Charm name (default: from the folder's name)
    #[arg(long)]
    pub name: Option<String>,
    /// Name shown to people (default: from the charm name)
    #[arg(long)]
    pub display_name: Option<String>,
    /// One-line summary
    #[arg(long)]
    pub summary: Option<String>,
    /// Maintainer, e.g. "Jane Doe <jane@example.com>"
    #[arg(long)]
    pub maintainer: Option<String>,
    /// Do not ask: use defaults for what is not given (asking happens only on a terminal)
    #[arg(short = 'y', long)]
    pub use_defaults: bool,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The charm folder
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the built charm (default: <dir>/build/<name>); replaced as a whole
    #[arg(short, long)]
    pub build_dir: Option<PathBuf>,
    /// Ship lucky binaries inside the charm for these targets (comma-separated target
    /// triples, uname -m names, or all), for machines that cannot download them
    #[arg(long, value_delimiter = ',', value_name = "TARGETS")]
    pub bundle_lucky: Vec<String>,
    /// Folder holding the lucky-<version>-<target> files to bundle (a release folder)
    #[arg(long, value_name = "DIR", requires = "bundle_lucky")]
    pub lucky_binaries: Option<PathBuf>,
    /// Version of lucky the charm installs
    #[arg(long, value_name = "VERSION", default_value = env!("CARGO_PKG_VERSION"))]
    pub lucky_version: String,
}

pub fn run(cmd: CharmCommand) -> CliResult {
    match cmd {
        CharmCommand::Create(args) => create(args),
        CharmCommand::Build(args) => build(args),
    }
}

fn create(args: CreateArgs) -> CliResult {
    let defaults = Values::defaults(&args.dir);
    // Ask only a person: scripts and CI get the defaults, never a hang on stdin.
    let interactive = !args.use_defaults && std::io::stdin().is_terminal();
    let ask = |given: Option<String>, question: &str, default: String| -> Result<String, String> {
        match given {
            Some(v) => Ok(v),
            None if interactive => prompt(question, &default),
            None => Ok(default),
        }
    };
    let name = ask(args.name, "Charm name", defaults.name.clone())?;
    template::check_name(&name)?;
    let display_name = ask(
        args.display_name,
        "Display name",
        template::display_name(&name),
    )?;
    let summary = ask(
        args.summary,
        "Summary",
        format!("{display_name} as a Juju machine charm"),
    )?;
    let maintainer = ask(args.maintainer, "Maintainer", defaults.maintainer)?;
    let values = Values {
        name,
        display_name,
        summary,
        maintainer,
    };
    template::create(&args.dir, &values)?;
    println!(
        "Created charm {} in {}; build it with `lucky charm build {}`",
        values.name,
        args.dir.display(),
        args.dir.display()
    );
    Ok(())
}

fn prompt(question: &str, default: &str) -> Result<String, String> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [{default}]: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    let answer = line.trim();
    Ok(if answer.is_empty() {
        default.to_string()
    } else {
        answer.to_string()
    })
}

fn build(args: BuildArgs) -> CliResult {
    let report = build::build(&BuildOptions {
        charm_dir: args.dir,
        build_dir: args.build_dir,
        bundle_targets: args.bundle_lucky,
        lucky_binaries: args.lucky_binaries,
        lucky_version: args.lucky_version,
    })?;
    for note in &report.notes {
        eprintln!("lucky: note: {note}");
    }
    println!(
        "Built {} ({} hooks, {} actions{})",
        report.build_dir.display(),
        report.hooks.len(),
        report.actions.len(),
        if report.bundled.is_empty() {
            String::new()
        } else {
            format!(", bundled {}", report.bundled.join(", "))
        }
    );
    Ok(())
}
