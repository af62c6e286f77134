//! `lucky log`.

use super::{CliResult, request};
use crate::protocol::{LogLevel, Request};

#[derive(clap::Args)]
pub(crate) struct LogArgs {
    /// TRACE, DEBUG, INFO, WARNING (or WARN), ERROR or CRITICAL, in any case
    #[arg(short, long, default_value = "INFO", value_parser = parse_level)]
    pub(crate) level: LogLevel,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) message: Vec<String>,
}

fn parse_level(s: &str) -> Result<LogLevel, String> {
    s.parse()
}

pub(crate) fn run(args: LogArgs) -> CliResult {
    request(Request::Log {
        level: args.level,
        message: args.message.join(" "),
    })?;
    Ok(())
}
