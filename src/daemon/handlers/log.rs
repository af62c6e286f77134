//! `lucky log`: to the daemon log at once, to `juju-log` off the caller's path.

use super::Caller;
use crate::protocol::{LogLevel, Response};
use std::sync::{Arc, PoisonError};

pub fn log(caller: &Caller, level: LogLevel, message: String) -> Response {
    let hook = caller
        .context
        .as_ref()
        .map(|c| c.hook.as_str())
        .unwrap_or("-");
    match level {
        LogLevel::Debug => tracing::debug!(hook, "charm: {message}"),
        LogLevel::Info => tracing::info!(hook, "charm: {message}"),
        LogLevel::Warning => tracing::warn!(hook, "charm: {message}"),
        LogLevel::Error => tracing::error!(hook, "charm: {message}"),
    }
    // Outside a hook there is no Juju context to log to; the daemon log has it.
    if let Some(ctx) = &caller.context {
        let task_ctx = Arc::clone(ctx);
        let handle = tokio::spawn(async move {
            let result =
                crate::juju::exec(&task_ctx, "juju-log", &["-l", level.juju_name(), &message])
                    .await;
            if let Err(e) = result {
                tracing::warn!("{e}");
            }
        });
        ctx.pending_logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }
    Response::Ok
}
