//! `lucky set-status`: each owner's status, aggregated into the unit's.

use super::Caller;
use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response, WorkloadStatus};
use crate::state::status::OwnedStatus;

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
        daemon
            .status_reporter
            .push(&daemon.state.statuses, ctx)
            .await?;
    }
    Ok(Response::Ok)
}
