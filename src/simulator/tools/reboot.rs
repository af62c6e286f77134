//! juju-reboot [--now]: the request is kept on the running hook; the driver acts on it when
//! the hook ends (see `simulator::reboot`). `--now` kills the hook process at once.

use super::args::{self, flag};
use super::{Ctx, ToolError, ToolResult};
use crate::simulator::state::RebootPriority;

pub(crate) fn juju_reboot(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let now = flag(&["now"]);
    let p = args::parse(&[&now], argv)?;
    p.at_most(0)?;
    if ctx.hook.action.is_some() {
        return Err(ToolError::fail(
            "juju-reboot is not supported when running an action.",
        ));
    }
    let now = p.has("now");
    ctx.changed = true;
    ctx.hook.process.reboot = Some(if now {
        RebootPriority::Now
    } else {
        RebootPriority::AfterHook
    });
    if now {
        // No process (as in a debug-hooks session) is not an error to Juju either.
        if let Some(pid) = ctx.hook.process.pid {
            crate::simulator::reboot::kill_hook(pid).map_err(|e| {
                ctx.hook.process.reboot = None;
                ToolError::fail(e)
            })?;
        }
    }
    Ok(Vec::new())
}
