//! Request routing. Handlers are thin: check the request, then call the part that does
//! the work (hook runner, Juju backend, unit state).

mod action;
mod address;
mod check;
mod config;
pub(crate) mod container;
mod credential;
mod daemon;
mod goal_state;
mod history;
mod hook;
mod juju_state;
mod kv;
mod leader;
mod log;
mod network;
pub mod policy;
mod port;
mod reboot;
mod relation;
mod secret;
mod status;
mod storage;
mod unit_status;

use super::Daemon;
use crate::juju::JujuError;
use crate::protocol::{ErrorKind, ErrorReply, Request, Response};
use crate::script::{HookContext, OutputSink};
use std::sync::Arc;

/// Who is asking: the hook context the caller's token names, if it is live, and which
/// socket the call came in on.
pub(crate) struct Caller {
    pub(crate) context: Option<Arc<HookContext>>,
    /// The caller presented a token (it may name a hook that has ended).
    pub(crate) token_given: bool,
    pub(crate) origin: Origin,
}

/// Which socket a client connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The owner-only host socket: hooks, host scripts, operators.
    Host,
    /// The socket mounted into containers: anything a process in the container runs.
    Container,
}

impl Caller {
    /// The caller's live hook context, or why there is none. `what` names the command.
    pub(crate) fn hook(&self, what: &str) -> Result<&Arc<HookContext>, ErrorReply> {
        self.context.as_ref().ok_or_else(|| self.no_context(what))
    }

    pub(crate) fn no_context(&self, what: &str) -> ErrorReply {
        let why = if self.token_given {
            "the hook it belonged to has ended"
        } else {
            "it was not made from a hook's script (no LUCKY_CONTEXT)"
        };
        ErrorReply::new(
            ErrorKind::NoContext,
            format!("`lucky {what}` needs a running hook, and {why}"),
        )
    }
}

pub(crate) fn juju_error(e: JujuError) -> ErrorReply {
    e.into()
}

pub(crate) async fn handle(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    out: &OutputSink,
) -> Result<Response, ErrorReply> {
    // The container socket's policy, in one place (docs/container-policy.md).
    if caller.origin == Origin::Container {
        policy::check_container(caller, &request)?;
    }
    // Requests answered from the daemon's own state run inline. The rest call out (Juju's
    // tools, Docker, a hook's scripts) and hold large futures: they are boxed, so that
    // every connection's task stays small. A task is moved whole at its start and end, and
    // a kv call would otherwise copy kilobytes of futures it never runs (bench/cli.rs).
    match request {
        Request::DaemonStatus => Ok(daemon::status(daemon, caller)),
        Request::DaemonStop => Ok(daemon::stop(daemon, caller)),
        Request::KvGet { key } => kv::get(daemon, key),
        Request::KvSet { pairs } => kv::set(daemon, pairs).await,
        Request::ContainerGet { container, query } => container::get(daemon, container, query),
        Request::Checks { name } => check::states(daemon, name),
        request => Box::pin(call_out(daemon, caller, request, out)).await,
    }
}

/// The requests that call out of the daemon (see [`handle`]).
async fn call_out(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    out: &OutputSink,
) -> Result<Response, ErrorReply> {
    match request {
        Request::DaemonStatus
        | Request::DaemonStop
        | Request::KvGet { .. }
        | Request::KvSet { .. }
        | Request::ContainerGet { .. }
        | Request::Checks { .. } => unreachable!("answered inline by handle"),
        Request::RunHook {
            hook,
            env,
            cron_job,
        } => hook::run(daemon, caller, hook, env, cron_job, out).await,
        Request::SetStatus {
            owner,
            status,
            message,
            named,
        } => status::set(daemon, caller, owner, status, message, named).await,
        Request::GetConfig { key } => config::get(daemon, caller, key).await,
        Request::GetResource { name } => config::resource(caller, &name).await,
        Request::LeaderGet { key } => leader::get(caller, key).await,
        Request::LeaderSet { pairs } => leader::set(caller, pairs).await,
        Request::IsLeader => leader::is_leader(caller).await,
        Request::RelationGet {
            relation_id,
            remote,
            app,
            key,
        } => relation::get(caller, relation_id, remote, app, key).await,
        Request::RelationSet {
            relation_id,
            app,
            pairs,
            file,
        } => relation::set(caller, relation_id, app, pairs, file).await,
        Request::RelationListUnits { relation_id, app } => {
            relation::list_units(caller, relation_id, app).await
        }
        Request::RelationListIds { relation_name } => {
            relation::list_ids(caller, relation_name).await
        }
        Request::PortOpen { port, endpoints } => port::open(caller, &port, &endpoints).await,
        Request::PortClose { port, endpoints } => port::close(caller, port, &endpoints).await,
        Request::PortsOpened => port::opened(caller).await,
        Request::Address { public } => address::get(daemon, caller, public).await,
        Request::Log { level, message } => log::log(caller, level, message).await,
        Request::ActionGet { key } => action::get(caller, key).await,
        Request::ActionSet { pairs } => action::set(caller, pairs).await,
        Request::ActionFail { message } => action::fail(caller, &message).await,
        Request::ActionLog { message } => action::log(caller, &message).await,
        Request::ContainerEdit { container, edit } => {
            container::edit(daemon, caller, container, edit).await
        }
        Request::ContainerApply => container::apply_updates(daemon, caller, out).await,
        Request::History {
            limit,
            name,
            failed_only,
        } => history::list(daemon, limit, name, failed_only).await,
        Request::HistoryShow { id } => history::show(daemon, id).await,
        Request::StorageGet { id, key } => storage::get(caller, id, key).await,
        Request::StorageList { name } => storage::list(caller, name).await,
        Request::StorageAdd { name, count } => storage::add(caller, &name, count).await,
        Request::NetworkGet {
            binding,
            relation_id,
            bind_address,
            ingress_address,
            egress_subnets,
        } => {
            let fields = network::Fields {
                bind_address,
                ingress_address,
                egress_subnets,
            };
            network::get(caller, &binding, relation_id, fields).await
        }
        Request::StatusGet {
            application,
            include_data,
        } => unit_status::get(caller, application, include_data).await,
        Request::SetApplicationStatus { status, message } => {
            unit_status::set_application(caller, status, &message).await
        }
        Request::SetApplicationVersion { version } => {
            unit_status::set_version(caller, &version).await
        }
        Request::JujuStateGet { key } => juju_state::get(caller, key).await,
        Request::JujuStateSet { pairs } => juju_state::set(caller, pairs).await,
        Request::GoalState => goal_state::get(caller).await,
        Request::Secret(request) => secret::handle(daemon, caller, request).await,
        Request::CheckReport { token, env } => check::report(daemon, caller, token, env).await,
        Request::CredentialGet => credential::get(caller).await,
        Request::JujuReboot { now } => reboot::request(caller, now).await,
        Request::RelationModelGet { relation_id } => relation::model_get(caller, relation_id).await,
        Request::Handover { exe } => daemon::handover(daemon, exe).await,
    }
}

/// A client string refused as a hook-tool argument.
pub(crate) fn bad_arg(e: crate::juju::args::ArgError) -> ErrorReply {
    ErrorReply::new(ErrorKind::BadRequest, e.to_string())
}

/// Rejects kv keys: the same rule as Juju's setting keys, so a key works everywhere.
pub(crate) fn check_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<(), ErrorReply> {
    for key in keys {
        crate::juju::args::setting_key(key).map_err(bad_arg)?;
    }
    Ok(())
}
