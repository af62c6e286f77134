//! `lucky get-status`, `lucky set-application-version`.

use super::output::{self, FormatArg};
use super::{CliResult, request, request_value};
use crate::protocol::Request;

#[derive(clap::Args)]
pub(crate) struct GetStatusArgs {
    /// The application's status and its units' (leader only)
    #[arg(long)]
    pub(crate) application: bool,
    /// The status with its message and data, not only its name
    #[arg(long)]
    pub(crate) include_data: bool,
    #[command(flatten)]
    pub(crate) format: FormatArg,
}

pub(crate) fn get_status(args: GetStatusArgs) -> CliResult {
    let value = request_value(Request::StatusGet {
        application: args.application,
        include_data: args.include_data,
    })?;
    output::print(&value, args.format.format);
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct SetApplicationVersionArgs {
    /// The workload's version, shown by `juju status`
    #[arg(allow_hyphen_values = true, value_name = "VERSION")]
    pub(crate) workload_version: String,
}

pub(crate) fn set_application_version(args: SetApplicationVersionArgs) -> CliResult {
    request(Request::SetApplicationVersion {
        version: args.workload_version,
    })?;
    Ok(())
}
