//! `lucky daemon status` / `stop`.

use super::Caller;
use crate::daemon::Daemon;
use crate::protocol::{DaemonStatus, Response};
use std::sync::atomic::Ordering;

pub fn status(daemon: &Daemon, caller: &Caller) -> Response {
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

pub fn stop(daemon: &Daemon, _caller: &Caller) -> Response {
    tracing::info!("stop requested by a client");
    daemon.request_shutdown();
    Response::Ok
}
