//! The typed messages carried by frames.

use super::container::{ContainerAnswer, ContainerEdit, ContainerQuery};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// First frame of every connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hello {
    pub protocol: u32,
    /// The client's `lucky` version, only for error messages.
    pub version: String,
    /// Token of the hook invocation the caller runs in (`LUCKY_CONTEXT`), if any.
    pub context: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Request {
    DaemonStatus,
    /// Stop after the running hook, if any, has finished.
    DaemonStop,
    /// Run the scripts lucky.yaml lists for `hook`, in the Juju hook environment `env`.
    RunHook {
        hook: String,
        env: BTreeMap<String, String>,
    },
    /// `lucky container …` edits of the desired state; `container: None` is the default one.
    ContainerEdit {
        container: Option<String>,
        edit: ContainerEdit,
    },
    ContainerGet {
        container: Option<String>,
        query: ContainerQuery,
    },
    /// `lucky container apply-updates`: reconcile now.
    ContainerApply,
}

impl Request {
    /// Short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::DaemonStatus => "daemon-status",
            Request::DaemonStop => "daemon-stop",
            Request::RunHook { .. } => "hook",
            Request::ContainerEdit { .. } => "container-edit",
            Request::ContainerGet { .. } => "container-get",
            Request::ContainerApply => "container-apply",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Frames the daemon sends back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Reply {
    /// A chunk (normally one line) a script wrote, while the request is still running.
    Output {
        stream: Stream,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// The request succeeded; last frame for this request.
    Done(Response),
    /// The request failed; last frame for this request.
    Error(ErrorReply),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Response {
    Ok,
    DaemonStatus(DaemonStatus),
    Hook(HookSummary),
    Container(ContainerAnswer),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DaemonStatus {
    pub version: String,
    pub pid: u32,
    pub unit: String,
    pub socket: String,
    pub data_dir: String,
    pub uptime_secs: u64,
    pub hooks_run: u64,
    /// The hook running now, if any.
    pub running_hook: Option<String>,
    /// The hook the caller's context belongs to, when the call came from a live hook.
    pub caller_hook: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HookSummary {
    pub hook: String,
    pub scripts_run: u32,
}

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
    /// The daemon is stopping and takes no new work.
    ShuttingDown,
    /// The caller may not do this (e.g. a container client changing container config).
    Denied,
    /// The Docker engine failed or refused (not answering, image missing, port in use).
    Docker,
    /// Anything else that went wrong inside the daemon.
    Internal,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ErrorReply {
    pub kind: ErrorKind,
    pub message: String,
}

impl ErrorReply {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
