//! `lucky doc commands|man` (hidden) and `lucky completions`: the command reference in
//! docs/commands.md, the man pages and the shell completions, all rendered from the clap
//! definitions so none can drift from `--help`.

use super::{Cli, CliResult};
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum DocCommand {
    /// Print the command reference as Markdown
    Commands,
    /// Print the lucky(1) man page (roff), or write a page per command into --dir
    Man {
        /// Write lucky.1 and one lucky-<command>.1 per command into this folder
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The shells `lucky completions` knows.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(cmd: DocCommand) -> CliResult {
    match cmd {
        DocCommand::Commands => print!("{}", commands_markdown()),
        DocCommand::Man { dir: None } => {
            let page = man_page()?;
            std::io::stdout()
                .write_all(&page)
                .map_err(|e| format!("cannot write the man page: {e}"))?;
        }
        DocCommand::Man { dir: Some(dir) } => {
            clap_mangen::generate_to(Cli::command(), &dir).map_err(|e| {
                format!(
                    "cannot write the man pages into {}: {e} (is it an existing, writable folder?)",
                    dir.display()
                )
            })?;
        }
    }
    Ok(())
}

/// `lucky completions SHELL`: the completion script, on stdout.
pub fn completions(args: CompletionsArgs) -> CliResult {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    match args.shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "lucky", &mut out)
        }
        Shell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "lucky", &mut out)
        }
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "lucky", &mut out)
        }
    }
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| format!("cannot write the completions: {e}"))?;
    Ok(())
}

/// lucky(1): the top command, its options and the list of its commands.
pub fn man_page() -> Result<Vec<u8>, super::Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(page)
}

/// Every visible command's `--help`, depth first, under a heading with its full name.
pub fn commands_markdown() -> String {
    let mut root = Cli::command();
    root.build();
    let mut out = String::from(
        "# Command reference\n\n\
         Generated from the CLI definitions by `lucky doc commands > docs/commands.md`;\n\
         do not edit (a test fails when this file is stale).\n",
    );
    render(&root, "lucky", &mut out);
    out.push_str(&exit_statuses());
    out
}

/// The exit statuses, from the one mapping `ErrorKind::exit_code` the CLI uses.
fn exit_statuses() -> String {
    let mut out = String::from(
        "\n## Exit status\n\n\
         `lucky hook` exits 1 when the hook failed, whatever the cause (that is what Juju\n\
         looks at). Every other command:\n\n\
         | status | meaning |\n| --- | --- |\n\
         | 0 | success |\n\
         | 1 | failed without a daemon refusal: no daemon answers, a local error, a script failed |\n\
         | 2 | usage error (unknown flag, bad value), or the daemon refused a bad request |\n",
    );
    for kind in crate::protocol::ErrorKind::ALL {
        let code = kind.exit_code();
        if code > 2 {
            out.push_str(&format!("| {code} | {} |\n", kind.meaning()));
        }
    }
    out
}

fn render(cmd: &clap::Command, path: &str, out: &mut String) {
    let help = cmd.clone().render_help().to_string();
    out.push_str(&format!(
        "\n## `{path}`\n\n```text\n{}\n```\n",
        help.trim_end()
    ));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        render(sub, &format!("{path} {}", sub.get_name()), out);
    }
}
