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
        /// Set when the daemon's cron scheduler asked for this run through `juju-exec`.
        cron_job: Option<String>,
    },
    /// Set (or with `status: None`, clear) the status `owner` reports for the unit.
    SetStatus {
        owner: String,
        status: Option<WorkloadStatus>,
        message: String,
        /// The owner was named (`--name`), not the calling script's id: such a status
        /// stays until replaced or cleared, even `maintenance`.
        #[serde(default)]
        named: bool,
    },
    /// One config value, or the whole config with `key: None`.
    GetConfig {
        key: Option<String>,
    },
    GetResource {
        name: String,
    },
    KvGet {
        key: Option<String>,
    },
    /// `None` deletes the key.
    KvSet {
        pairs: Vec<(String, Option<String>)>,
    },
    LeaderGet {
        key: Option<String>,
    },
    LeaderSet {
        pairs: Vec<(String, Option<String>)>,
    },
    IsLeader,
    RelationGet {
        relation_id: Option<String>,
        /// Unit (or, with `app`, application) whose data to read.
        remote: Option<String>,
        app: bool,
        key: Option<String>,
    },
    RelationSet {
        relation_id: Option<String>,
        app: bool,
        pairs: Vec<(String, Option<String>)>,
        /// `--file`: the YAML map's text (read by the CLI where it runs, container or
        /// host); the pairs given on the command line win over it, as in relation-set.
        #[serde(default)]
        file: Option<String>,
    },
    RelationListUnits {
        relation_id: Option<String>,
        /// `relation-list --app`: the remote application instead of its units.
        #[serde(default)]
        app: bool,
    },
    /// `None`: the endpoint of the hook's relation (relation-ids' default).
    RelationListIds {
        relation_name: Option<String>,
    },
    PortOpen {
        port: String,
        /// `--endpoints`: only for these endpoints (none: every endpoint).
        #[serde(default)]
        endpoints: Vec<String>,
    },
    /// `port: None` closes every opened port.
    PortClose {
        port: Option<String>,
        #[serde(default)]
        endpoints: Vec<String>,
    },
    PortsOpened,
    Address {
        public: bool,
    },
    Log {
        level: LogLevel,
        message: String,
    },
    ActionGet {
        key: Option<String>,
    },
    ActionSet {
        pairs: Vec<(String, String)>,
    },
    ActionFail {
        message: String,
    },
    ActionLog {
        message: String,
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
    /// `lucky history`: the newest runs (at most `limit`), of `name` only, failed only.
    History {
        limit: u32,
        name: Option<String>,
        failed_only: bool,
    },
    /// `lucky history show ID`: one run, whole.
    HistoryShow {
        id: u64,
    },
    /// `storage-get`: one attribute (`kind`, `location`) or both, of storage `id`
    /// (default: the storage hook's own).
    StorageGet {
        id: Option<String>,
        key: Option<String>,
    },
    /// `storage-list`: the attached storage ids, of storage `name` only.
    StorageList {
        name: Option<String>,
    },
    /// `storage-add NAME=COUNT`.
    StorageAdd {
        name: String,
        count: u32,
    },
    /// `network-get BINDING`, whole or the fields asked for.
    NetworkGet {
        binding: String,
        relation_id: Option<String>,
        bind_address: bool,
        ingress_address: bool,
        egress_subnets: bool,
    },
    /// `status-get`: the unit's status or (leader only) the application's.
    StatusGet {
        application: bool,
        include_data: bool,
    },
    /// `status-set --application` (leader only).
    SetApplicationStatus {
        status: WorkloadStatus,
        message: String,
    },
    /// `application-version-set`.
    SetApplicationVersion {
        version: String,
    },
    /// `state-get`: Juju-stored unit state, one key or all.
    JujuStateGet {
        key: Option<String>,
    },
    /// `state-set`; `None` deletes the key (`state-delete`).
    JujuStateSet {
        pairs: Vec<(String, Option<String>)>,
    },
    /// `goal-state`: the units and relations the model is heading for.
    GoalState,
    /// `lucky secret …`.
    Secret(super::secret::SecretRequest),
    /// `lucky check list` (`name: None`) / `lucky check show NAME`: health check states.
    Checks {
        name: Option<String>,
    },
    /// `lucky check report`: run by the daemon through `juju-exec` to give Juju the status
    /// its health checks changed; `env` is that context's environment.
    CheckReport {
        token: String,
        env: BTreeMap<String, String>,
    },
    /// `credential-get`: the model's cloud spec (trusted applications only).
    CredentialGet,
    /// `juju-reboot [--now]`.
    JujuReboot {
        now: bool,
    },
    /// `relation-model-get`: the uuid of the model on the other side of a relation.
    RelationModelGet {
        relation_id: Option<String>,
    },
    /// `lucky self-update`: once no hook runs, hand the listening sockets over to the
    /// lucky binary at `exe` by exec'ing it in place (same pid). Answered just before the
    /// exec; a daemon too old to know it answers a protocol error.
    Handover {
        exe: String,
    },
}

/// A workload status a charm may set, least severe first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadStatus {
    Active,
    Waiting,
    Maintenance,
    Blocked,
}

impl WorkloadStatus {
    pub(crate) const ALL: [WorkloadStatus; 4] = [
        WorkloadStatus::Active,
        WorkloadStatus::Waiting,
        WorkloadStatus::Maintenance,
        WorkloadStatus::Blocked,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WorkloadStatus::Active => "active",
            WorkloadStatus::Waiting => "waiting",
            WorkloadStatus::Maintenance => "maintenance",
            WorkloadStatus::Blocked => "blocked",
        }
    }
}

impl std::str::FromStr for WorkloadStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            // Any case, as the 2020 Lucky took them (`Active`, `BLOCKED`).
            .find(|w| w.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown status {s:?}: use active, waiting, maintenance or blocked")
            })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Trace,
    Critical,
}

impl LogLevel {
    /// The spelling `juju-log -l` takes.
    pub(crate) fn juju_name(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
            LogLevel::Trace => "TRACE",
            LogLevel::Critical => "CRITICAL",
        }
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARN" | "WARNING" => Ok(LogLevel::Warning),
            "ERROR" => Ok(LogLevel::Error),
            "TRACE" => Ok(LogLevel::Trace),
            "CRITICAL" => Ok(LogLevel::Critical),
            _ => Err(format!(
                "unknown log level {s:?}: use TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)"
            )),
        }
    }
}

impl Request {
    /// Short name for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Request::DaemonStatus => "daemon-status",
            Request::DaemonStop => "daemon-stop",
            Request::RunHook { .. } => "hook",
            Request::SetStatus { .. } => "set-status",
            Request::GetConfig { .. } => "get-config",
            Request::GetResource { .. } => "get-resource",
            Request::KvGet { .. } => "kv-get",
            Request::KvSet { .. } => "kv-set",
            Request::LeaderGet { .. } => "leader-get",
            Request::LeaderSet { .. } => "leader-set",
            Request::IsLeader => "is-leader",
            Request::RelationGet { .. } => "relation-get",
            Request::RelationSet { .. } => "relation-set",
            Request::RelationListUnits { .. } => "relation-list-units",
            Request::RelationListIds { .. } => "relation-list-ids",
            Request::PortOpen { .. } => "port-open",
            Request::PortClose { .. } => "port-close",
            Request::PortsOpened => "port-get-opened",
            Request::Address { .. } => "address",
            Request::Log { .. } => "log",
            Request::ActionGet { .. } => "action-get",
            Request::ActionSet { .. } => "action-set",
            Request::ActionFail { .. } => "action-fail",
            Request::ActionLog { .. } => "action-log",
            Request::ContainerEdit { .. } => "container-edit",
            Request::ContainerGet { .. } => "container-get",
            Request::ContainerApply => "container-apply",
            Request::History { .. } => "history",
            Request::HistoryShow { .. } => "history-show",
            Request::StorageGet { .. } => "storage-get",
            Request::StorageList { .. } => "storage-list",
            Request::StorageAdd { .. } => "storage-add",
            Request::NetworkGet { .. } => "network-get",
            Request::StatusGet { .. } => "status-get",
            Request::SetApplicationStatus { .. } => "set-application-status",
            Request::SetApplicationVersion { .. } => "set-application-version",
            Request::JujuStateGet { .. } => "state-get",
            Request::JujuStateSet { .. } => "state-set",
            Request::GoalState => "goal-state",
            Request::Secret(_) => "secret",
            Request::Checks { .. } => "checks",
            Request::CheckReport { .. } => "check-report",
            Request::CredentialGet => "credential-get",
            Request::JujuReboot { .. } => "juju-reboot",
            Request::RelationModelGet { .. } => "relation-model-get",
            Request::Handover { .. } => "handover",
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
    /// A value to print: strings raw, null as an empty line, the rest as JSON
    /// (or always JSON with `--format json`).
    Value(serde_json::Value),
    Container(ContainerAnswer),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DaemonStatus {
    pub version: String,
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HookSummary {
    pub(crate) hook: String,
    pub(crate) scripts_run: u32,
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ErrorReply {
    pub kind: ErrorKind,
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
