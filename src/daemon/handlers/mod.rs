//! Request routing. Handlers are thin: check the request, then call the part that does
//! the work (hook runner, and later Juju, state and Docker backends).

pub mod container;
mod daemon;
mod hook;

use super::Daemon;
use super::contexts::HookContext;
use super::output::OutputSink;
use crate::protocol::{ErrorKind, ErrorReply, Request, Response};
use std::sync::Arc;

/// Who is asking: the hook context the caller's token names, if it is live, and which
/// socket the call came in on.
pub struct Caller {
    pub context: Option<Arc<HookContext>>,
    pub origin: Origin,
}

/// Which socket a client connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The owner-only host socket: hooks, host scripts, operators.
    Host,
    /// The socket mounted into containers: anything a process in the container runs.
    Container,
}

pub async fn handle(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    out: OutputSink,
) -> Result<Response, ErrorReply> {
    if caller.origin == Origin::Container
        && let Some(why) = denied_from_container(&request)
    {
        return Err(ErrorReply::new(ErrorKind::Denied, why));
    }
    match request {
        Request::DaemonStatus => Ok(daemon::status(daemon, caller)),
        Request::DaemonStop => Ok(daemon::stop(daemon, caller)),
        Request::RunHook { hook, env } => hook::run(daemon, hook, env, &out).await,
        Request::ContainerEdit { container, edit } => {
            container::edit(daemon, caller, container, edit)
        }
        Request::ContainerGet { container, query } => container::get(daemon, container, query),
        Request::ContainerApply => container::apply_updates(daemon, caller, &out).await,
    }
}

/// What a client on the container socket may not ask, and why. Exhaustive on purpose:
/// every new request must be classified here.
fn denied_from_container(request: &Request) -> Option<&'static str> {
    match request {
        Request::DaemonStatus | Request::ContainerGet { .. } => None,
        Request::DaemonStop => Some(
            "`lucky daemon stop` is not allowed from inside a container: only the host may stop the daemon",
        ),
        Request::RunHook { .. } => Some(
            "`lucky hook` is not allowed from inside a container: hooks are run by Juju on the host",
        ),
        // Checked in the handlers, which name the command in the message.
        Request::ContainerEdit { .. } | Request::ContainerApply => None,
    }
}
