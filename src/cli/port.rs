//! `lucky port open|close|get-opened`.

use super::output::{self, FormatArg};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum PortCommand {
    /// Open a port: PORT, PORT/tcp, PORT/udp, FROM-TO[/proto] or icmp (any case)
    Open {
        port: String,
        /// Only for these endpoints, comma-separated (default: every endpoint)
        #[arg(long, value_delimiter = ',', value_name = "A,B")]
        endpoints: Vec<String>,
    },
    /// Close a port, or every opened port with --all
    Close {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        port: Option<String>,
        #[arg(short = 'A', long)]
        all: bool,
        /// Only for these endpoints, comma-separated (default: every endpoint)
        #[arg(long, value_delimiter = ',', value_name = "A,B")]
        endpoints: Vec<String>,
    },
    /// List opened ports, one per line
    GetOpened {
        #[command(flatten)]
        format: FormatArg,
    },
}

pub(crate) fn run(cmd: PortCommand) -> CliResult {
    match cmd {
        PortCommand::Open { port, endpoints } => {
            request(Request::PortOpen { port, endpoints })?;
        }
        PortCommand::Close {
            port, endpoints, ..
        } => {
            request(Request::PortClose { port, endpoints })?;
        }
        PortCommand::GetOpened { format } => {
            output::print(&request_value(Request::PortsOpened)?, format.format);
        }
    }
    Ok(())
}
