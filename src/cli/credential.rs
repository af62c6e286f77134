//! `lucky credential-get`: the model's cloud spec and credential (Juju's credential-get),
//! for applications the operator trusted (`juju trust APP`).

use super::{CliResult, request_value};
use crate::protocol::Request;
use crate::simulator::format::{self, Format};

#[derive(Clone, Copy, Default, clap::ValueEnum)]
pub(crate) enum JujuFormat {
    /// as Juju's smart format: the map as YAML
    #[default]
    Smart,
    /// YAML
    Yaml,
    /// JSON
    Json,
}

#[derive(clap::Args)]
pub(crate) struct CredentialGetArgs {
    /// Output format, as credential-get's
    #[arg(long, value_enum, default_value_t = JujuFormat::Smart)]
    pub(crate) format: JujuFormat,
}

pub(crate) fn run(args: CredentialGetArgs) -> CliResult {
    let value = request_value(Request::CredentialGet)?;
    let format = match args.format {
        JujuFormat::Smart => Format::Smart,
        JujuFormat::Yaml => Format::Yaml,
        JujuFormat::Json => Format::Json,
    };
    use std::io::Write;
    let _ = std::io::stdout().write_all(format::render(&value, format).as_bytes());
    Ok(())
}
