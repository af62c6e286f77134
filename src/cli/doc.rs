//! `lucky doc commands` (hidden): the command reference in docs/commands.md, rendered from
//! the clap definitions so it cannot drift from `--help`. The man pages and completions,
//! from the same definitions, are `lucky-doc`'s (see `cli::docgen`).

use super::{Cli, CliResult};
use clap::CommandFactory;

#[derive(clap::Subcommand)]
pub(crate) enum DocCommand {
    /// Print the command reference as Markdown
    Commands,
}

pub(crate) fn run(cmd: DocCommand) -> CliResult {
    match cmd {
        DocCommand::Commands => print!("{}", commands_markdown()),
    }
    Ok(())
}

/// Every visible command's `--help`, depth first, under a heading with its full name.
pub(crate) fn commands_markdown() -> String {
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
         | 2 | usage error (unknown flag, bad value), or the daemon refused a bad request |\n\
         | the tool's | lucky ran a Juju hook tool and it failed: lucky exits with that tool's own status, as a script calling the tool would see it (Juju's tools exit 1 when they refuse, such as a secret that does not exist or a non-leader writing, and 2 for arguments they reject); where lucky refuses in place of such a tool (a non-leader setting leader data on Juju 4.0, which has no leader-set, or the application status), it gives that tool's status, 1 |\n",
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

/// `lucky <command…> -H` (or `--doc`), as the 2020 CLI took on every command: that
/// command's page of the reference (its help and its subcommands'), or `None` when the
/// arguments ask for no page. The flag counts only right after the command's name and
/// its other flags, so `set-command grep -H x` stays a command to set.
pub(crate) fn page_for_args(args: &[std::ffi::OsString]) -> Option<String> {
    // Building the whole definition costs more than a script call: only when asked.
    if !args.iter().any(|a| a == "-H" || a == "--doc") {
        return None;
    }
    let mut root = Cli::command();
    root.build();
    let mut cmd = &root;
    let mut path = String::from("lucky");
    let mut rest = args.iter().skip(1).map(|a| a.to_str());
    for arg in rest.by_ref() {
        let arg = arg?;
        if arg == "-H" || arg == "--doc" {
            let mut out = String::new();
            render(cmd, &path, &mut out);
            return Some(out.trim_start().to_string());
        }
        match cmd.find_subcommand(arg) {
            Some(sub) => {
                path = format!("{path} {}", sub.get_name());
                cmd = sub;
            }
            None if arg.starts_with('-') && arg != "--" => {}
            None => return None,
        }
    }
    None
}
