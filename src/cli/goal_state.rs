//! `lucky goal-state`.

use super::output::{self, FormatArg};
use super::{CliResult, request_value};
use crate::protocol::Request;

#[derive(clap::Args)]
pub(crate) struct GoalStateArgs {
    #[command(flatten)]
    pub(crate) format: FormatArg,
}

pub(crate) fn run(args: GoalStateArgs) -> CliResult {
    output::print(&request_value(Request::GoalState)?, args.format.format);
    Ok(())
}
