//! `lucky port open|close|get-opened`.

use super::output::{self, FormatArg};
use super::{CliResult, request, request_value};
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PortCommand {
    /// Open a port: PORT, PORT/tcp, PORT/udp, FROM-TO[/proto] or icmp
    Open { port: String },
    /// Close a port, or every opened port with --all
    Close {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        port: Option<String>,
        #[arg(short = 'A', long)]
        all: bool,
    },
    /// List opened ports, one per line
    GetOpened {
        #[command(flatten)]
        format: FormatArg,
    },
}

pub fn run(cmd: PortCommand) -> CliResult {
    match cmd {
        PortCommand::Open { port } => {
            request(Request::PortOpen { port })?;
        }
        PortCommand::Close { port, .. } => {
            request(Request::PortClose { port })?;
        }
        PortCommand::GetOpened { format } => {
            output::print(&request_value(Request::PortsOpened)?, format.format);
        }
    }
    Ok(())
}
