//! `lucky relation get|set|list-units|list-ids`.

use super::output::{self, FormatArg, parse_pair};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum RelationCommand {
    /// Print relation data of a remote unit (or app), one key or every key=value
    Get {
        /// Relation id such as db:1 (default: the hook's relation)
        #[arg(short, long)]
        relation_id: Option<String>,
        /// Remote unit (or app, with --app) to read (default: the hook's remote unit)
        #[arg(short = 'u', long)]
        remote_unit: Option<String>,
        /// Read application data instead of unit data
        #[arg(short = 'A', long)]
        app: bool,
        key: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Set this unit's (or, with --app, the application's) relation data; KEY= deletes
    Set {
        #[arg(short, long)]
        relation_id: Option<String>,
        #[arg(short = 'A', long)]
        app: bool,
        #[arg(required = true, value_parser = parse_pair)]
        pairs: Vec<(String, Option<String>)>,
    },
    /// List the remote units of a relation, one per line
    ListUnits {
        #[arg(short, long)]
        relation_id: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// List the ids of the relations of an endpoint, one per line
    ListIds {
        #[arg(short = 'n', long)]
        relation_name: String,
        #[command(flatten)]
        format: FormatArg,
    },
}

pub fn run(cmd: RelationCommand) -> CliResult {
    match cmd {
        RelationCommand::Get {
            relation_id,
            remote_unit,
            app,
            key,
            format,
        } => {
            let value = request_value(Request::RelationGet {
                relation_id,
                remote: remote_unit,
                app,
                key,
            })?;
            output::print(&value, format.format);
        }
        RelationCommand::Set {
            relation_id,
            app,
            pairs,
        } => {
            request(Request::RelationSet {
                relation_id,
                app,
                pairs,
            })?;
        }
        RelationCommand::ListUnits {
            relation_id,
            format,
        } => {
            let value = request_value(Request::RelationListUnits { relation_id })?;
            output::print(&value, format.format);
        }
        RelationCommand::ListIds {
            relation_name,
            format,
        } => {
            let value = request_value(Request::RelationListIds { relation_name })?;
            output::print(&value, format.format);
        }
    }
    Ok(())
}
