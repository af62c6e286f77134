//! `lucky juju-reboot [--now]`: ask Juju to reboot the machine after the hook (only if it
//! succeeds), or at once with `--now`, when Juju kills the hook, drops its changes and
//! runs it again from the start after the reboot. Host scripts only (policy.rs).

use super::{Caller, juju_error};
use crate::protocol::{ErrorReply, Response};

pub(crate) async fn request(caller: &Caller, now: bool) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("juju-reboot")?;
    let argv: &[&str] = if now { &["--now"] } else { &[] };
    crate::juju::exec(ctx, "juju-reboot", argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}
