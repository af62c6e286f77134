//! Request routing. Handlers are thin: check the request, then call the part that does
//! the work (hook runner, and later Juju, state and Docker backends).

mod daemon;
mod hook;

use super::Daemon;
use super::contexts::HookContext;
use super::output::OutputSink;
use crate::protocol::{ErrorReply, Request, Response};
use std::sync::Arc;

/// Who is asking: the hook context the caller's token names, if it is live.
pub struct Caller {
    pub context: Option<Arc<HookContext>>,
}

pub async fn handle(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    out: OutputSink,
) -> Result<Response, ErrorReply> {
    match request {
        Request::DaemonStatus => Ok(daemon::status(daemon, caller)),
        Request::DaemonStop => Ok(daemon::stop(daemon, caller)),
        Request::RunHook { hook, env } => hook::run(daemon, hook, env, &out).await,
    }
}
