//! `lucky get-config`, `lucky get-resource`.

use super::output::{self, FormatArg};
use super::{CliResult, request_value};
use crate::protocol::Request;

#[derive(clap::Args)]
pub(crate) struct GetConfigArgs {
    /// One key; without it, every key as key=value lines
    pub(crate) key: Option<String>,
    #[command(flatten)]
    pub(crate) format: FormatArg,
}

pub(crate) fn get_config(args: GetConfigArgs) -> CliResult {
    let value = request_value(Request::GetConfig { key: args.key })?;
    output::print(&value, args.format.format);
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct GetResourceArgs {
    /// The resource's name in metadata.yaml
    pub(crate) name: String,
}

pub(crate) fn get_resource(args: GetResourceArgs) -> CliResult {
    let value = request_value(Request::GetResource { name: args.name })?;
    output::print(&value, output::Format::Plain);
    Ok(())
}
