//! `lucky kv get|set`.

use super::output::{self, FormatArg, parse_pair};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum KvCommand {
    /// Print one value (empty line if unset), or every key=value
    Get {
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Set values; KEY= deletes the key
    Set {
        #[arg(required = true, value_parser = parse_pair)]
        pairs: Vec<(String, Option<String>)>,
    },
}

pub(crate) fn run(cmd: KvCommand) -> CliResult {
    match cmd {
        KvCommand::Get { key, format } => {
            output::print(&request_value(Request::KvGet { key })?, format.format);
        }
        KvCommand::Set { pairs } => {
            request(Request::KvSet { pairs })?;
        }
    }
    Ok(())
}
