//! `lucky storage get|list|add`: the unit's Juju storage.

use super::output::{self, FormatArg};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum StorageCommand {
    /// Print a storage instance's kind and location, or one of them
    Get {
        /// The storage id, as `lucky storage list` prints it (default: the storage hook's)
        #[arg(short = 's', long = "storage-id", value_name = "ID")]
        id: Option<String>,
        /// kind (filesystem or block) or location (its mount point or device)
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// List the ids of the storage attached to the unit, of storage NAME only
    List {
        /// A storage name from metadata.yaml
        name: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Ask Juju for more storage instances (when the hook succeeds): NAME or NAME=COUNT
    Add {
        #[arg(value_parser = parse_directive, value_name = "NAME[=COUNT]")]
        directive: (String, u32),
    },
}

fn parse_directive(s: &str) -> Result<(String, u32), String> {
    match s.split_once('=') {
        None => Ok((s.to_string(), 1)),
        Some((name, count)) => match count.parse::<u32>() {
            Ok(n) if n > 0 => Ok((name.to_string(), n)),
            _ => Err(format!(
                "expected NAME or NAME=COUNT with COUNT a positive number, got {s:?}"
            )),
        },
    }
}

pub(crate) fn run(cmd: StorageCommand) -> CliResult {
    match cmd {
        StorageCommand::Get { id, key, format } => {
            output::print(
                &request_value(Request::StorageGet { id, key })?,
                format.format,
            );
        }
        StorageCommand::List { name, format } => {
            output::print(
                &request_value(Request::StorageList { name })?,
                format.format,
            );
        }
        StorageCommand::Add {
            directive: (name, count),
        } => {
            request(Request::StorageAdd { name, count })?;
        }
    }
    Ok(())
}
