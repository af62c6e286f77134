//! `lucky set-status`: each owner's status, aggregated into the unit's.

use super::Caller;
use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response, WorkloadStatus};
use crate::state::status::OwnedStatus;
use std::sync::Arc;

/// Longest status message: Juju shows one line; a long one would also grow the unit's
/// aggregated message past what `status-set` can take on its command line.
pub(crate) const MAX_STATUS_MESSAGE: usize = 1024;
/// Longest status owner name.
pub(crate) const MAX_OWNER: usize = 128;
/// Status owners at once; each is one script or `--name`, so a few dozen at most.
pub(crate) const MAX_OWNERS: usize = 64;

pub(crate) async fn set(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    owner: String,
    status: Option<WorkloadStatus>,
    message: String,
    named: bool,
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
                // Only a script's own maintenance status ends with its hook.
                // Unnamed and outside a hook: "" is never live, so the next hook ends it.
                let context = (status == WorkloadStatus::Maintenance && !named)
                    .then(|| context.unwrap_or_default());
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
        daemon
            .status_reporter
            .push(&daemon.state.statuses, ctx)
            .await?;
    }
    Ok(Response::Ok)
}
