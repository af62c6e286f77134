//! `lucky leader get|set|is-leader`.

use super::output::{self, FormatArg, parse_pair};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum LeaderCommand {
    /// Print one leader value, or every key=value
    Get {
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Set leader values (leader only); KEY= deletes the key
    Set {
        #[arg(required = true, value_parser = parse_pair)]
        pairs: Vec<(String, Option<String>)>,
    },
    /// Print true or false
    IsLeader,
}

pub(crate) fn run(cmd: LeaderCommand) -> CliResult {
    match cmd {
        LeaderCommand::Get { key, format } => {
            output::print(&request_value(Request::LeaderGet { key })?, format.format);
        }
        LeaderCommand::Set { pairs } => {
            request(Request::LeaderSet { pairs })?;
        }
        LeaderCommand::IsLeader => {
            output::print(&request_value(Request::IsLeader)?, output::Format::Plain);
        }
    }
    Ok(())
}
