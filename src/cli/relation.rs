//! `lucky relation get|set|list-units|list-ids|model-get`.

use super::output::{self, FormatArg, parse_pair};
use super::{CliResult, Failure, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum RelationCommand {
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
        /// A YAML map of keys to values (null or "" deletes), read here (inside the
        /// container when called there); `-` reads stdin. KEY=VALUE pairs win over it
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        #[arg(required_unless_present = "file", value_parser = parse_pair)]
        pairs: Vec<(String, Option<String>)>,
    },
    /// List the remote units of a relation, one per line (or, with --app, its remote app)
    ListUnits {
        #[arg(short, long)]
        relation_id: Option<String>,
        /// Print the remote application's name instead of its units
        #[arg(short = 'A', long)]
        app: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// List the ids of the relations of an endpoint (default: the hook's), one per line
    ListIds {
        /// The endpoint (default: the relation hook's own, JUJU_RELATION)
        #[arg(short = 'n', long)]
        relation_name: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print the uuid of the model the relation's remote application is in
    ModelGet {
        /// Relation id such as db:1 (default: the hook's relation)
        #[arg(short, long)]
        relation_id: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// Largest `--file` read (the daemon takes no more either).
const MAX_FILE: u64 = 1024 * 1024;

/// `--file`'s text, read where the command runs (a container's path stays there).
fn read_file(path: &std::path::Path) -> Result<String, Failure> {
    use std::io::Read;
    let bad = |why: String| Failure {
        message: format!("cannot read --file {}: {why}", path.display()),
        code: 2,
    };
    let mut text = String::new();
    let read = if path == std::path::Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FILE + 1).read_to_string(&mut text))
    };
    read.map_err(|e| bad(e.to_string()))?;
    if text.len() as u64 > MAX_FILE {
        return Err(bad(format!("it is over {MAX_FILE} bytes")));
    }
    Ok(text)
}

pub(crate) fn run(cmd: RelationCommand) -> CliResult {
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
            file,
            pairs,
        } => {
            let file = file.as_deref().map(read_file).transpose()?;
            request(Request::RelationSet {
                relation_id,
                app,
                pairs,
                file,
            })?;
        }
        RelationCommand::ListUnits {
            relation_id,
            app,
            format,
        } => {
            let value = request_value(Request::RelationListUnits { relation_id, app })?;
            output::print(&value, format.format);
        }
        RelationCommand::ModelGet {
            relation_id,
            format,
        } => {
            let value = request_value(Request::RelationModelGet { relation_id })?;
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
