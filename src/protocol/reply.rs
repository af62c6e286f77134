//! What the daemon sends back: output chunks, then one answer or one refusal, and the
//! exit status a refusal gives the command.

use super::container::ContainerAnswer;
use serde::{Deserialize, Serialize};

/// Which output stream a script's [`Reply::Output`] chunk came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Stream {
    /// The script's standard output.
    Stdout,
    /// The script's standard error.
    Stderr,
}

/// Frames the daemon sends back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Reply {
    /// A chunk (normally one line) a script wrote, while the request is still running.
    Output {
        /// Which of the script's streams.
        stream: Stream,
        /// The bytes as written (not necessarily UTF-8).
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// The request succeeded; last frame for this request.
    Done(Response),
    /// The request failed; last frame for this request.
    Error(ErrorReply),
}

/// What a request that succeeded answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Response {
    /// Done, nothing to print.
    Ok,
    /// `lucky daemon status`'s answer.
    DaemonStatus(DaemonStatus),
    /// `lucky hook`'s answer: what ran.
    Hook(HookSummary),
    /// A value to print: strings raw, null as an empty line, the rest as JSON
    /// (or always JSON with `--format json`).
    Value(serde_json::Value),
    /// `lucky container get`'s and `apply-updates`' answer.
    Container(ContainerAnswer),
}

/// Who the daemon is and what it is doing (`lucky daemon status`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DaemonStatus {
    /// The daemon's lucky version.
    pub version: String,
    /// The daemon's process id.
    pub pid: u32,
    pub(crate) unit: String,
    pub(crate) socket: String,
    pub(crate) data_dir: String,
    pub(crate) uptime_secs: u64,
    pub(crate) hooks_run: u64,
    /// The hook running now, if any.
    pub(crate) running_hook: Option<String>,
    /// The hook the caller's context belongs to, when the call came from a live hook.
    pub(crate) caller_hook: Option<String>,
    /// Problems found at start-up, e.g. a corrupt state file that was kept aside.
    pub(crate) problems: Vec<String>,
}

/// What one `lucky hook` ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HookSummary {
    pub(crate) hook: String,
    pub(crate) scripts_run: u32,
}

/// Why the daemon refused a request: decides the command's exit status (`exit_code`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed frames or messages.
    Protocol,
    /// CLI and daemon speak different protocol versions.
    VersionMismatch,
    /// A well-formed request with bad arguments.
    BadRequest,
    /// The request needs a live hook context and has none.
    NoContext,
    /// lucky.yaml or the charm folder is wrong.
    Charm,
    /// A script failed.
    ScriptFailed,
    /// A Juju hook tool refused or failed.
    Juju,
    /// The caller may not do this (e.g. a container changing its own configuration).
    Denied,
    /// The daemon is stopping and takes no new work.
    ShuttingDown,
    /// The Docker engine failed or refused (not answering, image missing, port in use).
    Docker,
    /// Anything else that went wrong inside the daemon.
    Internal,
}

impl ErrorKind {
    pub(crate) const ALL: [ErrorKind; 11] = [
        ErrorKind::ScriptFailed,
        ErrorKind::BadRequest,
        ErrorKind::NoContext,
        ErrorKind::Charm,
        ErrorKind::Juju,
        ErrorKind::Denied,
        ErrorKind::Docker,
        ErrorKind::ShuttingDown,
        ErrorKind::Protocol,
        ErrorKind::VersionMismatch,
        ErrorKind::Internal,
    ];

    /// What the kind means, for the exit-status table of docs/commands.md.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            ErrorKind::ScriptFailed => "a script failed",
            ErrorKind::BadRequest => "a well-formed request with bad arguments",
            ErrorKind::NoContext => "the command needs a running hook and has none",
            ErrorKind::Charm => "lucky.yaml or the charm folder is wrong",
            ErrorKind::Juju => {
                "a Juju hook tool could not be run or printed what lucky cannot read, or lucky refused what no Juju tool does (e.g. leader data before Juju 4.0's peer relation exists); a tool that ran and failed gives its own status (above)"
            }
            ErrorKind::Denied => "not allowed from where it was called (e.g. a container)",
            ErrorKind::Docker => "the Docker engine failed or refused",
            ErrorKind::ShuttingDown => "the daemon is stopping and takes no new work",
            ErrorKind::Protocol => "a malformed frame or message",
            ErrorKind::VersionMismatch => "the CLI and the daemon speak different protocols",
            ErrorKind::Internal => "anything else that went wrong inside the daemon",
        }
    }

    /// The exit status a `lucky` command ends with when the daemon refuses with this
    /// kind (documented in docs/commands.md; `lucky hook` always exits 1 on failure,
    /// which is what Juju looks at).
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            ErrorKind::ScriptFailed => 1,
            ErrorKind::BadRequest => 2,
            ErrorKind::NoContext => 3,
            ErrorKind::Charm => 4,
            ErrorKind::Juju => 5,
            ErrorKind::Denied => 6,
            ErrorKind::Docker => 7,
            ErrorKind::ShuttingDown => 8,
            ErrorKind::Protocol | ErrorKind::VersionMismatch => 9,
            ErrorKind::Internal => 10,
        }
    }
}

/// A refused request: its kind (which decides the exit status) and a one-line message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ErrorReply {
    /// What kind of failure; decides the exit status.
    pub kind: ErrorKind,
    /// One line: what failed and what to do.
    pub message: String,
    /// A Juju hook tool ran and failed with this exit status (or Lucky refused in place
    /// of a tool, with the status that tool gives): the command exits with it. Left out
    /// on the wire when absent, so a peer that predates it still reads the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_status: Option<u8>,
}

/// The exit status Juju's hook tools give when they refuse (a non-leader writing, a
/// secret that does not exist): what a refusal Lucky makes in place of such a tool gives.
pub(crate) const JUJU_TOOL_REFUSED: u8 = 1;

impl ErrorReply {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            tool_status: None,
        }
    }

    /// The same error, ending the command with a hook tool's exit status.
    pub(crate) fn with_tool_status(mut self, status: Option<u8>) -> Self {
        self.tool_status = status;
        self
    }

    /// The exit status of a `lucky` command that failed with this error: the hook tool's
    /// own when one failed, else the one its kind documents.
    pub(crate) fn exit_code(&self) -> u8 {
        self.tool_status.unwrap_or_else(|| self.kind.exit_code())
    }
}
