//! `lucky doc commands` (hidden): the command reference in docs/commands.md, rendered from
//! the clap definitions so it cannot drift from `--help`.

use super::{Cli, CliResult};
use clap::CommandFactory;

#[derive(clap::Subcommand)]
pub enum DocCommand {
    /// Print the command reference as Markdown
    Commands,
}

pub fn run(cmd: DocCommand) -> CliResult {
    match cmd {
        DocCommand::Commands => print!("{}", commands_markdown()),
    }
    Ok(())
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
