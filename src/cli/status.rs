//! `lucky set-status`.

use super::{CliResult, Failure, request};
use crate::protocol::{Request, WorkloadStatus};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["status", "clear"]))]
pub(crate) struct SetStatusArgs {
    /// Name of the status, so one script can report several (default: the script's id)
    #[arg(short, long)]
    pub(crate) name: Option<String>,
    /// Remove this status instead of setting it
    #[arg(long)]
    pub(crate) clear: bool,
    /// Set the application's status instead (leader only; not merged with the unit's)
    #[arg(long, conflicts_with_all = ["name", "clear"])]
    pub(crate) application: bool,
    /// active, waiting, maintenance or blocked
    #[arg(value_parser = parse_status)]
    pub(crate) status: Option<WorkloadStatus>,
    /// Message shown with the status
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) message: Vec<String>,
}

fn parse_status(s: &str) -> Result<WorkloadStatus, String> {
    s.parse()
}

pub(crate) fn run(args: SetStatusArgs) -> CliResult {
    if args.application
        && let Some(status) = args.status
    {
        request(Request::SetApplicationStatus {
            status,
            message: args.message.join(" "),
        })?;
        return Ok(());
    }
    let named = args.name.is_some();
    let owner = match args.name {
        Some(name) => name,
        None => std::env::var("LUCKY_SCRIPT_ID").map_err(|_| Failure {
            message: "set-status outside a charm script needs --name".into(),
            code: 2,
        })?,
    };
    request(Request::SetStatus {
        owner,
        status: if args.clear { None } else { args.status },
        message: args.message.join(" "),
        named,
    })?;
    Ok(())
}
