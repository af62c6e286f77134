//! What a client sends: the hello that opens a connection, and its requests.

use super::container::{ContainerEdit, ContainerQuery};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// First frame of every connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hello {
    /// The sender's `PROTOCOL_VERSION`; the daemon refuses any other.
    pub protocol: u32,
    /// The client's `lucky` version, only for error messages.
    pub version: String,
    /// Token of the hook invocation the caller runs in (`LUCKY_CONTEXT`), if any.
    pub context: Option<String>,
}

/// What a client asks the daemon for: one per connection, answered by one [`Reply::Done`](super::Reply::Done)
/// or [`Reply::Error`](super::Reply::Error) (after any [`Reply::Output`](super::Reply::Output)).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Request {
    /// `lucky daemon status`: who the daemon is and what it is doing.
    DaemonStatus,
    /// Stop after the running hook, if any, has finished.
    DaemonStop,
    /// Run the scripts lucky.yaml lists for `hook`, in the Juju hook environment `env`.
    RunHook {
        /// The Juju hook (or action) name, as `JUJU_DISPATCH_PATH` ends.
        hook: String,
        /// The hook's Juju environment (`JUJU_*`), forwarded by `lucky hook`.
        env: BTreeMap<String, String>,
        /// Set when the daemon's cron scheduler asked for this run through `juju-exec`.
        cron_job: Option<String>,
    },
    /// Set (or with `status: None`, clear) the status `owner` reports for the unit.
    SetStatus {
        /// Whose status: the script's id, or the `--name` given.
        owner: String,
        /// The status to set; `None` clears this owner's.
        status: Option<WorkloadStatus>,
        /// Shown with the status in `juju status`.
        message: String,
        /// The owner was named (`--name`), not the calling script's id: such a status
        /// stays until replaced or cleared, even `maintenance`.
        #[serde(default)]
        named: bool,
    },
    /// `lucky get-config`: one config value, or the whole config with `key: None`.
    GetConfig {
        /// The option's name; `None` for the whole config.
        key: Option<String>,
    },
    /// `lucky get-resource NAME`: the path Juju's `resource-get` gives for resource `name`.
    GetResource {
        /// The resource's name in metadata.yaml.
        name: String,
    },
    /// `lucky kv get`: one value of the unit's key-value store, or every pair.
    KvGet {
        /// The key to read; `None` for every pair.
        key: Option<String>,
    },
    /// `lucky kv set`; a `None` value deletes the key.
    KvSet {
        /// Keys and values to store, in order.
        pairs: Vec<(String, Option<String>)>,
    },
    /// `lucky leader get`: one leader value, or every pair.
    LeaderGet {
        /// The key to read; `None` for every pair.
        key: Option<String>,
    },
    /// `lucky leader set` (leader only); a `None` value deletes the key.
    LeaderSet {
        /// Keys and values to set, in order.
        pairs: Vec<(String, Option<String>)>,
    },
    /// `lucky leader is-leader`: whether this unit leads its application.
    IsLeader,
    /// `lucky relation get`: a remote unit's (or application's) relation data, one key or all.
    RelationGet {
        /// Relation id such as `db:1`; `None` for the hook's relation.
        relation_id: Option<String>,
        /// Unit (or, with `app`, application) whose data to read.
        remote: Option<String>,
        /// Read the application's data instead of a unit's.
        app: bool,
        /// The key to read; `None` for every pair.
        key: Option<String>,
    },
    /// `lucky relation set`: this unit's (or, with `app`, the application's) relation data;
    /// a `None` value deletes the key.
    RelationSet {
        /// Relation id such as `db:1`; `None` for the hook's relation.
        relation_id: Option<String>,
        /// Write the application's data (leader only) instead of the unit's.
        app: bool,
        /// Keys and values to set, in order.
        pairs: Vec<(String, Option<String>)>,
        /// `--file`: the YAML map's text (read by the CLI where it runs, container or
        /// host); the pairs given on the command line win over it, as in relation-set.
        #[serde(default)]
        file: Option<String>,
    },
    /// `lucky relation list-units`: the remote units of a relation.
    RelationListUnits {
        /// Relation id such as `db:1`; `None` for the hook's relation.
        relation_id: Option<String>,
        /// `relation-list --app`: the remote application instead of its units.
        #[serde(default)]
        app: bool,
    },
    /// `lucky relation list-ids`: the ids of an endpoint's relations.
    RelationListIds {
        /// The endpoint; `None` for the hook's relation's own (relation-ids' default).
        relation_name: Option<String>,
    },
    /// `lucky port open`: open a port (`80`, `80/udp`, `8000-8100/tcp`, `icmp`) on the unit.
    PortOpen {
        /// The port spec, as `open-port` takes it.
        port: String,
        /// `--endpoints`: only for these endpoints (none: every endpoint).
        #[serde(default)]
        endpoints: Vec<String>,
    },
    /// `lucky port close`: close a port the unit opened.
    PortClose {
        /// The port spec; `None` for every opened port.
        port: Option<String>,
        /// `--endpoints`: only for these endpoints (none: every endpoint).
        #[serde(default)]
        endpoints: Vec<String>,
    },
    /// `lucky port get-opened`: the ports this unit has opened.
    PortsOpened,
    /// `lucky private-address` / `public-address`: the unit's address.
    Address {
        /// The public address instead of the private one.
        public: bool,
    },
    /// `lucky log`: a line in the Juju debug log (`juju-log`).
    Log {
        /// The level Juju logs it at.
        level: LogLevel,
        /// The line to log.
        message: String,
    },
    /// `lucky action get`: one parameter of the running action (a dotted path), or all.
    ActionGet {
        /// The dotted path of the parameter; `None` for all of them.
        key: Option<String>,
    },
    /// `lucky action set`: results of the running action.
    ActionSet {
        /// Result keys (dotted paths) and values, in order.
        pairs: Vec<(String, String)>,
    },
    /// `lucky action fail`: mark the running action failed.
    ActionFail {
        /// Why it failed, shown by `juju run`.
        message: String,
    },
    /// `lucky action log`: a progress message in the action's output.
    ActionLog {
        /// The progress line, shown by `juju run` while the action runs.
        message: String,
    },
    /// `lucky container …` edits of the desired state; `container: None` is the default one.
    ContainerEdit {
        /// The container to edit; `None` for the default one.
        container: Option<String>,
        /// What to change.
        edit: ContainerEdit,
    },
    /// `lucky container get …`: a value of a container's desired or actual state.
    ContainerGet {
        /// The container to read; `None` for the default one.
        container: Option<String>,
        /// What to read.
        query: ContainerQuery,
    },
    /// `lucky container apply-updates`: reconcile now.
    ContainerApply,
    /// `lucky history`: the newest runs (at most `limit`), of `name` only, failed only.
    History {
        /// At most this many runs.
        limit: u32,
        /// Only runs of this hook or action (`cron` for cron jobs).
        name: Option<String>,
        /// Only runs that failed.
        failed_only: bool,
    },
    /// `lucky history show ID`: one run, whole.
    HistoryShow {
        /// The run's id, as `lucky history` lists it.
        id: u64,
    },
    /// `storage-get`: one attribute (`kind`, `location`) or both, of storage `id`
    /// (default: the storage hook's own).
    StorageGet {
        /// The storage instance, e.g. `data/0`; `None` for the storage hook's own.
        id: Option<String>,
        /// `kind` or `location`; `None` for both.
        key: Option<String>,
    },
    /// `storage-list`: the attached storage ids, of storage `name` only.
    StorageList {
        /// The storage name in metadata.yaml; `None` for every storage.
        name: Option<String>,
    },
    /// `storage-add NAME=COUNT`.
    StorageAdd {
        /// The storage name in metadata.yaml.
        name: String,
        /// How many instances to add.
        count: u32,
    },
    /// `network-get BINDING`, whole or the fields asked for.
    NetworkGet {
        /// An endpoint or extra-binding name from metadata.yaml.
        binding: String,
        /// As seen over this relation (`NAME:ID`), e.g. across models.
        relation_id: Option<String>,
        /// Only the address to bind to.
        bind_address: bool,
        /// Only the address other units should connect to.
        ingress_address: bool,
        /// Only the subnets this unit's traffic comes from.
        egress_subnets: bool,
    },
    /// `status-get`: the unit's status or (leader only) the application's.
    StatusGet {
        /// The application's status and its units' (leader only) instead of the unit's.
        application: bool,
        /// The status with its message and data, not only its name.
        include_data: bool,
    },
    /// `status-set --application` (leader only).
    SetApplicationStatus {
        /// The application's new status.
        status: WorkloadStatus,
        /// Shown with the status in `juju status`.
        message: String,
    },
    /// `application-version-set`.
    SetApplicationVersion {
        /// The workload's version, shown by `juju status`.
        version: String,
    },
    /// `state-get`: Juju-stored unit state, one key or all.
    JujuStateGet {
        /// The key to read; `None` for every pair.
        key: Option<String>,
    },
    /// `state-set`; `None` deletes the key (`state-delete`).
    JujuStateSet {
        /// Keys and values to store, in order.
        pairs: Vec<(String, Option<String>)>,
    },
    /// `goal-state`: the units and relations the model is heading for.
    GoalState,
    /// `lucky secret …`.
    Secret(super::secret::SecretRequest),
    /// `lucky check list` (`name: None`) / `lucky check show NAME`: health check states.
    Checks {
        /// The check's name; `None` for every check.
        name: Option<String>,
    },
    /// `lucky check report`: run by the daemon through `juju-exec` to give Juju the status
    /// its health checks changed; `env` is that context's environment.
    CheckReport {
        /// The one-use token the daemon gave this `juju-exec` run.
        token: String,
        /// The `juju-exec` context's environment (`JUJU_*`), forwarded.
        env: BTreeMap<String, String>,
    },
    /// `credential-get`: the model's cloud spec (trusted applications only).
    CredentialGet,
    /// `juju-reboot [--now]`.
    JujuReboot {
        /// `--now`: kill the running hook and reboot at once, instead of after it.
        now: bool,
    },
    /// `relation-model-get`: the uuid of the model on the other side of a relation.
    RelationModelGet {
        /// Relation id such as `db:1`; `None` for the hook's relation.
        relation_id: Option<String>,
    },
    /// `lucky self-update`: once no hook runs, hand the listening sockets over to the
    /// lucky binary at `exe` by exec'ing it in place (same pid). Answered just before the
    /// exec; a daemon too old to know it answers a protocol error.
    Handover {
        /// Path of the new lucky binary.
        exe: String,
    },
}

/// A workload status a charm may set, least severe first.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadStatus {
    /// The workload runs as it should.
    Active,
    /// The workload waits for something outside the charm (a relation, another unit).
    Waiting,
    /// The charm is busy with work the operator need not act on.
    Maintenance,
    /// The workload cannot run until the operator acts.
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

/// The level of a `lucky log` line, as `juju-log -l` takes it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum LogLevel {
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the charm can live with.
    Warning,
    /// Something failed.
    Error,
    /// Finer than debug.
    Trace,
    /// The charm or workload cannot go on.
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
    /// Whether the daemon answers with output frames before the final one (a hook's
    /// scripts, a container apply's pulls); every other request is one frame.
    pub(crate) fn streams_output(&self) -> bool {
        matches!(self, Request::RunHook { .. } | Request::ContainerApply)
    }

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
