//! `lucky get-status`, `lucky set-status --application`, `lucky set-application-version`:
//! Juju's status-get, status-set --application and application-version-set. The unit's
//! own status stays the aggregate of the named statuses (`status.rs`).

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorKind, ErrorReply, JUJU_TOOL_REFUSED, Response, WorkloadStatus};

pub(crate) async fn get(
    caller: &Caller,
    application: bool,
    include_data: bool,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("get-status")?;
    let mut argv = Vec::new();
    if application {
        argv.push("--application");
    }
    if include_data {
        argv.push("--include-data");
    }
    let value = crate::juju::json(ctx, "status-get", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub(crate) async fn set_application(
    caller: &Caller,
    status: WorkloadStatus,
    message: &str,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("set-status --application")?;
    let message = args::text("status message", message).map_err(bad_arg)?;
    if message.len() > super::status::MAX_STATUS_MESSAGE {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot set an application status message of {} bytes: the limit is {} bytes",
                message.len(),
                super::status::MAX_STATUS_MESSAGE
            ),
        ));
    }
    let leader = crate::juju::json(ctx, "is-leader", &[])
        .await
        .map_err(juju_error)?;
    if leader.as_bool() != Some(true) {
        // What status-set --application itself would refuse, with its exit status.
        return Err(ErrorReply::new(
            ErrorKind::Juju,
            "cannot set the application status: this unit is not the leader (only the leader may; see `lucky leader is-leader`)",
        )
        .with_tool_status(Some(JUJU_TOOL_REFUSED)));
    }
    crate::juju::exec(
        ctx,
        "status-set",
        &["--application", "--", status.as_str(), message],
    )
    .await
    .map_err(juju_error)?;
    Ok(Response::Ok)
}

/// Longest workload version: Juju shows it in one column of `juju status`.
pub(crate) const MAX_VERSION: usize = 256;

pub(crate) async fn set_version(caller: &Caller, version: &str) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("set-application-version")?;
    if version.len() > MAX_VERSION || version.chars().any(char::is_control) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot set application version: at most {MAX_VERSION} bytes, without control characters"
            ),
        ));
    }
    crate::juju::exec(ctx, "application-version-set", &["--", version])
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}
