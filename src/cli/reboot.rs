//! `lucky juju-reboot [--now]`: Juju's juju-reboot, from host scripts only.

use super::{CliResult, request};
use crate::protocol::Request;

#[derive(clap::Args)]
pub(crate) struct JujuRebootArgs {
    /// Reboot at once: Juju kills the hook, drops what it changed, and runs it again from
    /// the start after the reboot (end the script right after this)
    #[arg(long)]
    pub(crate) now: bool,
}

pub(crate) fn run(args: JujuRebootArgs) -> CliResult {
    request(Request::JujuReboot { now: args.now })?;
    Ok(())
}
