//! What a client on the container socket may ask: the one place that decides it. The
//! table in docs/container-policy.md is this function, row for row.
//!
//! Anything a process in a container runs reaches that socket, so the rule is: a request
//! needs the token of a container script that is running now (given to that one exec,
//! revoked when it exits), except `daemon status`, which only reads the daemon's health;
//! and what would let a container change the host or how Juju runs it is denied even to
//! a container script.

use super::Caller;
use crate::protocol::secret::SecretRequest;
use crate::protocol::{ErrorKind, ErrorReply, Request};

/// One row of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Allowed with no token (a health check).
    Always,
    /// Allowed with a live container script token, denied without one.
    ScriptToken,
    /// Never allowed from a container; the reason names the command.
    Denied(String),
}

/// The row for `request`. Exhaustive on purpose: every new request must be classified.
pub fn container_access(request: &Request) -> Access {
    match request {
        Request::DaemonStatus => Access::Always,
        Request::DaemonStop => Access::Denied(
            "`lucky daemon stop` is not allowed from inside a container: only the host may stop the daemon".into(),
        ),
        Request::RunHook { .. } => Access::Denied(
            "`lucky hook` is not allowed from inside a container: hooks are run by Juju on the host".into(),
        ),
        // A container that could add host bind mounts could take over the host.
        Request::ContainerEdit { edit, .. } => Access::Denied(format!(
            "`lucky container {}` is not allowed from inside a container: container configuration can only be changed by host scripts",
            edit.name()
        )),
        // Applying could recreate the very container the caller runs in, killing it
        // mid-script; host scripts and the end of the hook apply instead.
        Request::ContainerApply => Access::Denied(
            "`lucky container apply-updates` is not allowed from inside a container: changes are applied when the hook ends".into(),
        ),
        // Every script's output tail and the hook environment's failures: for operators.
        Request::History { .. } | Request::HistoryShow { .. } => Access::Denied(
            "`lucky history` is not allowed from inside a container: the hook history is for operators on the host".into(),
        ),
        // Secrets: a container script may read what its unit may read, and add or change
        // only secrets its unit owns (secret set checks the owner in handlers/secret.rs);
        // application secrets, and sharing or removing any secret, are for host scripts.
        Request::Secret(secret) => match secret {
            SecretRequest::Get { .. }
            | SecretRequest::Ids
            | SecretRequest::InfoGet { .. }
            | SecretRequest::Set { .. }
            | SecretRequest::Add {
                unit_owned: true, ..
            } => Access::ScriptToken,
            SecretRequest::Add { .. } => Access::Denied(
                "`lucky secret add` of an application-owned secret is not allowed from inside a container: add it from a host script, or add a unit-owned one with --owner unit".into(),
            ),
            SecretRequest::Grant { .. } | SecretRequest::Revoke { .. } | SecretRequest::Remove { .. } => Access::Denied(format!(
                "`lucky {}` is not allowed from inside a container: sharing and removing secrets is for host scripts",
                secret.command()
            )),
        },
        // Reading check states changes nothing and shows what the charm declared.
        Request::Checks { .. } => Access::ScriptToken,
        Request::CheckReport { .. } => Access::Denied(
            "`lucky check report` is not allowed from inside a container: the daemon runs it on the host through juju-exec".into(),
        ),
        Request::Handover { .. } => Access::Denied(
            "`lucky self-update` is not allowed from inside a container: only the host's operator replaces the daemon's binary".into(),
        ),
        // What a container script needs: status, config, relations, kv, leader, ports,
        // logs, actions, reading the containers' settings (their env may hold secrets).
        Request::ContainerGet { .. }
        | Request::SetStatus { .. }
        | Request::GetConfig { .. }
        | Request::GetResource { .. }
        | Request::KvGet { .. }
        | Request::KvSet { .. }
        | Request::LeaderGet { .. }
        | Request::LeaderSet { .. }
        | Request::IsLeader
        | Request::RelationGet { .. }
        | Request::RelationSet { .. }
        | Request::RelationListUnits { .. }
        | Request::RelationListIds { .. }
        | Request::PortOpen { .. }
        | Request::PortClose { .. }
        | Request::PortsOpened
        | Request::Address { .. }
        | Request::Log { .. }
        | Request::ActionGet { .. }
        | Request::ActionSet { .. }
        | Request::ActionFail { .. }
        | Request::ActionLog { .. } => Access::ScriptToken,
        // Reading the unit's storage, networks, statuses and Juju-stored state; setting
        // statuses, the workload version and the unit's Juju-stored state, as with kv.
        Request::StorageGet { .. }
        | Request::StorageList { .. }
        | Request::NetworkGet { .. }
        | Request::StatusGet { .. }
        | Request::SetApplicationStatus { .. }
        | Request::SetApplicationVersion { .. }
        | Request::JujuStateGet { .. }
        | Request::JujuStateSet { .. }
        | Request::GoalState => Access::ScriptToken,
        // New storage is provisioned on the machine (disks, mounts): the host decides.
        Request::StorageAdd { .. } => Access::Denied(
            "`lucky storage add` is not allowed from inside a container: storage is added by host scripts".into(),
        ),
        // The cloud credential opens the whole cloud account, not just this unit.
        Request::CredentialGet => Access::Denied(
            "`lucky credential-get` is not allowed from inside a container: the cloud credential is for host scripts".into(),
        ),
        // Rebooting stops every container on the machine and the machine itself.
        Request::JujuReboot { .. } => Access::Denied(
            "`lucky juju-reboot` is not allowed from inside a container: only host scripts may reboot the machine".into(),
        ),
        // Reading which model a relation's other side lives in, as relation get.
        Request::RelationModelGet { .. } => Access::ScriptToken,
    }
}

/// Refuses a container client's request the policy does not allow it.
pub(crate) fn check_container(caller: &Caller, request: &Request) -> Result<(), ErrorReply> {
    match container_access(request) {
        Access::Always => Ok(()),
        Access::ScriptToken if caller.context.is_some() => Ok(()),
        Access::ScriptToken => Err(ErrorReply::new(
            ErrorKind::Denied,
            format!(
                "`lucky {}` is only allowed inside a container from a container script while it runs (its LUCKY_CONTEXT token){}",
                command(request),
                if caller.token_given {
                    ", and the token given is not one, or its script has ended"
                } else {
                    ", and no token was given"
                }
            ),
        )),
        Access::Denied(why) => Err(ErrorReply::new(ErrorKind::Denied, why)),
    }
}

/// The command a request comes from, for messages.
fn command(request: &Request) -> &'static str {
    match request {
        Request::DaemonStatus => "daemon status",
        Request::DaemonStop => "daemon stop",
        Request::RunHook { .. } => "hook",
        Request::SetStatus { .. } => "set-status",
        Request::GetConfig { .. } => "get-config",
        Request::GetResource { .. } => "get-resource",
        Request::KvGet { .. } => "kv get",
        Request::KvSet { .. } => "kv set",
        Request::LeaderGet { .. } => "leader get",
        Request::LeaderSet { .. } => "leader set",
        Request::IsLeader => "leader is-leader",
        Request::RelationGet { .. } => "relation get",
        Request::RelationSet { .. } => "relation set",
        Request::RelationListUnits { .. } => "relation list-units",
        Request::RelationListIds { .. } => "relation list-ids",
        Request::PortOpen { .. } => "port open",
        Request::PortClose { .. } => "port close",
        Request::PortsOpened => "port get-opened",
        Request::Address { public: true } => "public-address",
        Request::Address { public: false } => "private-address",
        Request::Log { .. } => "log",
        Request::ActionGet { .. } => "action get",
        Request::ActionSet { .. } => "action set",
        Request::ActionFail { .. } => "action fail",
        Request::ActionLog { .. } => "action log",
        Request::ContainerEdit { .. } => "container",
        Request::ContainerGet { .. } => "container get",
        Request::ContainerApply => "container apply-updates",
        Request::History { .. } => "history",
        Request::HistoryShow { .. } => "history show",
        Request::StorageGet { .. } => "storage get",
        Request::StorageList { .. } => "storage list",
        Request::StorageAdd { .. } => "storage add",
        Request::NetworkGet { .. } => "network get",
        Request::StatusGet { .. } => "get-status",
        Request::SetApplicationStatus { .. } => "set-status --application",
        Request::SetApplicationVersion { .. } => "set-application-version",
        Request::JujuStateGet { .. } => "state get",
        Request::JujuStateSet { .. } => "state set",
        Request::GoalState => "goal-state",
        Request::Secret(secret) => secret.command(),
        Request::Checks { name: None } => "check list",
        Request::Checks { name: Some(_) } => "check show",
        Request::CheckReport { .. } => "check report",
        Request::CredentialGet => "credential-get",
        Request::JujuReboot { .. } => "juju-reboot",
        Request::RelationModelGet { .. } => "relation model-get",
        Request::Handover { .. } => "self-update",
    }
}
