//! `lucky daemon status` / `stop`, and the handover `lucky self-update` asks for.

use super::Caller;
use crate::daemon::Daemon;
use crate::daemon::handover::{self, Plan};
use crate::protocol::{DaemonStatus, ErrorKind, ErrorReply, Response};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(crate) fn status(daemon: &Daemon, caller: &Caller) -> Response {
    Response::DaemonStatus(DaemonStatus {
        version: env!("LUCKY_BUILD_VERSION").to_string(),
        pid: std::process::id(),
        unit: daemon.paths.unit.clone(),
        socket: daemon.paths.socket.display().to_string(),
        data_dir: daemon.paths.data_dir.display().to_string(),
        uptime_secs: daemon.started.elapsed().as_secs(),
        hooks_run: daemon.hooks_run.load(Ordering::Relaxed),
        running_hook: daemon.running_hook_name().clone(),
        caller_hook: caller.context.as_ref().map(|c| c.hook.clone()),
        problems: daemon.problems.clone(),
    })
}

pub(crate) fn stop(daemon: &Daemon, _caller: &Caller) -> Response {
    tracing::info!("stop requested by a client");
    daemon.request_shutdown();
    Response::Ok
}

/// Checks the new binary (`--version`), then waits until the daemon has stopped
/// accepting for the handover; the answer (the new version) is the last one this
/// process sends before it execs `exe`.
pub(crate) async fn handover(daemon: &Arc<Daemon>, exe: String) -> Result<Response, ErrorReply> {
    let exe = PathBuf::from(exe);
    let version = handover::check_binary(&exe)
        .await
        .map_err(|e| ErrorReply::new(ErrorKind::BadRequest, format!("{e:#}")))?;
    if daemon.is_shutting_down() {
        return Err(ErrorReply::new(
            ErrorKind::ShuttingDown,
            "cannot hand over: the daemon is stopping",
        ));
    }
    let (accepted, answer) = tokio::sync::oneshot::channel();
    let plan = Plan {
        exe,
        version: version.clone(),
        accepted,
    };
    if daemon.handover.request(plan).is_err() {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            "cannot hand over: another handover is under way; wait for it to end",
        ));
    }
    match answer.await {
        Ok(Ok(())) => Ok(Response::Value(serde_json::json!({ "version": version }))),
        Ok(Err(why)) => Err(ErrorReply::new(ErrorKind::ShuttingDown, why)),
        Err(_) => Err(ErrorReply::new(
            ErrorKind::Internal,
            "cannot hand over: the daemon dropped the request",
        )),
    }
}
