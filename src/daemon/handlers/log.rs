//! `lucky log`: to the daemon log at once, to `juju-log` off the caller's path.

use super::{Caller, bad_arg};
use crate::protocol::{ErrorReply, LogLevel, Response};
use std::sync::{Arc, PoisonError};

/// `juju-log` calls a hook may have in flight. The hook waits for them before it ends,
/// so each one holds its message until then; past this many, a caller waits for the
/// oldest to land (memory stays bounded and the hook's end is not pushed back by
/// thousands of queued calls).
pub(crate) const MAX_PENDING_LOGS: usize = 32;

pub(crate) async fn log(
    caller: &Caller,
    level: LogLevel,
    message: String,
) -> Result<Response, ErrorReply> {
    crate::juju::args::text("log message", &message).map_err(bad_arg)?;
    let hook = caller
        .context
        .as_ref()
        .map(|c| c.hook.as_str())
        .unwrap_or("-");
    // One call is one line of the daemon log: a newline in the message cannot forge the
    // next entry.
    let shown: std::borrow::Cow<'_, str> = if message.chars().any(char::is_control) {
        message.escape_debug().to_string().into()
    } else {
        message.as_str().into()
    };
    match level {
        LogLevel::Trace => tracing::trace!(hook, "charm: {shown}"),
        LogLevel::Debug => tracing::debug!(hook, "charm: {shown}"),
        LogLevel::Info => tracing::info!(hook, "charm: {shown}"),
        LogLevel::Warning => tracing::warn!(hook, "charm: {shown}"),
        LogLevel::Error | LogLevel::Critical => tracing::error!(hook, "charm: {shown}"),
    }
    // Outside a hook there is no Juju context to log to; the daemon log has it.
    let Some(ctx) = &caller.context else {
        return Ok(Response::Ok);
    };
    loop {
        let oldest = {
            let mut pending = ctx
                .pending_logs
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.retain(|h| !h.is_finished());
            if pending.len() < MAX_PENDING_LOGS {
                break;
            }
            pending.remove(0)
        };
        let _ = oldest.await;
    }
    let task_ctx = Arc::clone(ctx);
    let handle = tokio::spawn(async move {
        let result = crate::juju::exec(
            &task_ctx,
            "juju-log",
            &["-l", level.juju_name(), "--", &message],
        )
        .await;
        if let Err(e) = result {
            tracing::warn!("{e}");
        }
    });
    ctx.pending_logs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(handle);
    Ok(Response::Ok)
}
