//! `lucky network get`: addresses of a binding, as Juju's network-get gives them.

use super::output::{self, FormatArg};
use super::{CliResult, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum NetworkCommand {
    /// Print a binding's network: all of it, or the fields asked for
    Get {
        /// An endpoint or extra-binding name from metadata.yaml
        binding: String,
        /// Only the address to bind to
        #[arg(long)]
        bind_address: bool,
        /// Only the address other units should connect to
        #[arg(long)]
        ingress_address: bool,
        /// Only the subnets this unit's traffic comes from
        #[arg(long)]
        egress_subnets: bool,
        /// As seen over this relation (NAME:ID), e.g. across models
        #[arg(short = 'r', long = "relation")]
        relation_id: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

pub(crate) fn run(cmd: NetworkCommand) -> CliResult {
    match cmd {
        NetworkCommand::Get {
            binding,
            bind_address,
            ingress_address,
            egress_subnets,
            relation_id,
            format,
        } => {
            let value = request_value(Request::NetworkGet {
                binding,
                relation_id,
                bind_address,
                ingress_address,
                egress_subnets,
            })?;
            output::print(&value, format.format);
        }
    }
    Ok(())
}
