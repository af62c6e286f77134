//! `lucky state get|set|delete`: unit state kept by Juju on the controller.
//!
//! Next to `lucky kv` (kept on the machine by the daemon, written at once, even from a
//! hook that then fails): `lucky state` is committed only when the hook succeeds and
//! survives the machine, but needs a running hook and a round trip to the controller.

use super::output::{self, FormatArg, parse_pair};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum JujuStateCommand {
    /// Print one value kept by Juju (empty line if unset), or every key=value
    Get {
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Set values kept by Juju, committed when the hook succeeds; KEY= deletes the key
    Set {
        #[arg(required = true, value_parser = parse_pair)]
        pairs: Vec<(String, Option<String>)>,
    },
    /// Delete keys kept by Juju, when the hook succeeds
    Delete {
        #[arg(required = true)]
        keys: Vec<String>,
    },
}

pub(crate) fn run(cmd: JujuStateCommand) -> CliResult {
    match cmd {
        JujuStateCommand::Get { key, format } => {
            output::print(
                &request_value(Request::JujuStateGet { key })?,
                format.format,
            );
        }
        JujuStateCommand::Set { pairs } => {
            request(Request::JujuStateSet { pairs })?;
        }
        JujuStateCommand::Delete { keys } => {
            let pairs = keys.into_iter().map(|k| (k, None)).collect();
            request(Request::JujuStateSet { pairs })?;
        }
    }
    Ok(())
}
