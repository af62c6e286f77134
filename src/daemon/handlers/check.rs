//! `lucky check list` / `lucky check show NAME`: the health checks' states; and
//! `lucky check report`, the daemon's own `juju-exec` callback that gives Juju the status
//! the checks changed.

use super::Caller;
use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn states(daemon: &Daemon, name: Option<String>) -> Result<Response, ErrorReply> {
    let all = daemon.checks.list();
    let value = match name {
        None => serde_json::to_value(&all),
        Some(name) => match all.into_iter().find(|c| c.name == name) {
            Some(state) => serde_json::to_value(&state),
            None => {
                return Err(ErrorReply::new(
                    ErrorKind::BadRequest,
                    format!(
                        "cannot show check {name:?}: no such check runs (lucky.yaml `checks:`; `lucky check list` lists them)"
                    ),
                ));
            }
        },
    };
    value
        .map(Response::Value)
        .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("cannot encode: {e}")))
}

pub(crate) async fn report(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    token: String,
    env: BTreeMap<String, String>,
) -> Result<Response, ErrorReply> {
    if caller.context.is_some() || !daemon.checks.take_report_token(&token) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            "cannot report health checks: unknown report token; reports are started by the daemon through juju-exec",
        ));
    }
    // As for a hook: one context at a time, so the status last given to Juju stays true.
    let _hook_lock = daemon.hook_lock.lock().await;
    if daemon.handover.in_progress() {
        return Err(ErrorReply::new(
            ErrorKind::ShuttingDown,
            "cannot report health checks now: the daemon is handing over to a new binary, which reports them again",
        ));
    }
    let guard = daemon.contexts.register("check", env);
    crate::daemon::checks::report(daemon, &guard.context).await;
    guard.context.flush_logs().await;
    Ok(Response::Ok)
}
