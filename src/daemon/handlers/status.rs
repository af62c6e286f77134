//! `lucky set-status`: each owner's status, aggregated into the unit's.

use super::{Caller, juju_error};
use crate::daemon::Daemon;
use crate::juju::status::{OwnedStatus, unit_status};
use crate::protocol::{ErrorKind, ErrorReply, Response, WorkloadStatus};
use std::sync::PoisonError;

pub async fn set(
    daemon: &Daemon,
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
    let context = caller.context.as_ref().map(|c| c.token.clone());
    daemon
        .state
        .statuses
        .update(|all| match status {
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
    crate::juju::exec(ctx, "status-set", &[wanted.0.as_str(), &wanted.1])
        .await
        .map_err(juju_error)?;
    *daemon
        .pushed_status
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(wanted);
    Ok(())
}
