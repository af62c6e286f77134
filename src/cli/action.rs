//! `lucky action get|set|fail|log`.

use super::output::{self, FormatArg};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum ActionCommand {
    /// Print one action parameter (dotted path) or all of them
    Get {
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Set action results (`key=` sets an empty result; it deletes nothing)
    Set {
        #[arg(required = true, value_parser = output::key_value)]
        pairs: Vec<(String, String)>,
    },
    /// Mark the action failed, with a message
    Fail {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        message: Vec<String>,
    },
    /// Log a progress message to the action's output
    Log {
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        message: Vec<String>,
    },
}

pub(crate) fn run(cmd: ActionCommand) -> CliResult {
    match cmd {
        ActionCommand::Get { key, format } => {
            output::print(&request_value(Request::ActionGet { key })?, format.format);
        }
        ActionCommand::Set { pairs } => {
            request(Request::ActionSet { pairs })?;
        }
        ActionCommand::Fail { message } => {
            request(Request::ActionFail {
                message: message.join(" "),
            })?;
        }
        ActionCommand::Log { message } => {
            request(Request::ActionLog {
                message: message.join(" "),
            })?;
        }
    }
    Ok(())
}
