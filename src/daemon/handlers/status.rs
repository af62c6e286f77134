//! `lucky set-status`: each owner's status, aggregated into the unit's.

use super::{Caller, juju_error};
use crate::daemon::Daemon;
use crate::juju::status::{OwnedStatus, unit_status};
use crate::protocol::{ErrorKind, ErrorReply, Response, WorkloadStatus};
use std::sync::{Arc, PoisonError};

/// Longest status message: Juju shows one line; a long one would also grow the unit's
/// aggregated message past what `status-set` can take on its command line.
pub const MAX_STATUS_MESSAGE: usize = 1024;
/// Longest status owner name.
pub const MAX_OWNER: usize = 128;
/// Status owners at once; each is one script or `--name`, so a few dozen at most.
pub const MAX_OWNERS: usize = 64;
/// Longest aggregated message given to `status-set` (MAX_OWNERS messages joined could be
/// longer); it is cut, not refused, so the unit's status never freezes.
const MAX_UNIT_MESSAGE: usize = 16 * 1024;

pub async fn set(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    owner: String,
    status: Option<WorkloadStatus>,
    message: String,
) -> Result<Response, ErrorReply> {
    if owner.is_empty() {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            "status name is empty",
        ));
    }
    if owner.len() > MAX_OWNER || owner.chars().any(char::is_control) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!("invalid status name: at most {MAX_OWNER} bytes, without control characters"),
        ));
    }
    if message.len() > MAX_STATUS_MESSAGE {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot set a status message of {} bytes: the limit is {MAX_STATUS_MESSAGE} bytes; shorten it (details belong in `lucky log`)",
                message.len()
            ),
        ));
    }
    let context = caller.context.as_ref().map(|c| c.token.clone());
    let full = status.is_some()
        && daemon
            .state
            .statuses
            .read(|all| all.len() >= MAX_OWNERS && !all.contains_key(&owner));
    if full {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot add status {owner:?}: the unit already has {MAX_OWNERS} statuses; clear unused ones with `lucky set-status --name NAME --clear`"
            ),
        ));
    }
    let writer = Arc::clone(daemon);
    // The write (two fsyncs) runs off the daemon's event loop: other clients go on.
    tokio::task::spawn_blocking(move || {
        writer.state.statuses.update(|all| match status {
            Some(status) => {
                let context = (status == WorkloadStatus::Maintenance)
                    .then_some(context)
                    .flatten();
                all.insert(
                    owner,
                    OwnedStatus {
                        status,
                        message,
                        context,
                    },
                );
            }
            None => {
                all.remove(&owner);
            }
        })
    })
    .await
    .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("status write failed: {e}")))?
    .map_err(|e| ErrorReply::new(ErrorKind::Internal, e.to_string()))?;
    // Outside a hook the status is stored and reaches Juju with the next hook.
    if let Some(ctx) = &caller.context {
        push_unit_status(daemon, ctx).await?;
    }
    Ok(Response::Ok)
}

/// Gives Juju the unit's aggregated status if it changed since it was last given.
pub async fn push_unit_status(
    daemon: &Daemon,
    ctx: &crate::daemon::contexts::HookContext,
) -> Result<(), ErrorReply> {
    let wanted = daemon.state.statuses.read(unit_status);
    let nothing_reported = daemon.state.statuses.read(|all| all.is_empty());
    let unchanged = match &*daemon
        .pushed_status
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
    {
        Some(pushed) => *pushed == wanted,
        // Juju shows its own status until the charm reports one.
        None => nothing_reported,
    };
    if unchanged {
        return Ok(());
    }
    let message = crate::daemon::hook_runner::truncated(&wanted.1, MAX_UNIT_MESSAGE);
    crate::juju::exec(ctx, "status-set", &["--", wanted.0.as_str(), message])
        .await
        .map_err(juju_error)?;
    *daemon
        .pushed_status
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(wanted);
    Ok(())
}
