//! `lucky hook <name>`.

use super::Caller;
use crate::daemon::Daemon;
use crate::daemon::hook_runner;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::OutputSink;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) async fn run(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    hook: String,
    env: BTreeMap<String, String>,
    cron_job: Option<String>,
    out: &OutputSink,
) -> Result<Response, ErrorReply> {
    if !valid_hook_name(&hook) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "invalid hook name {hook:?}: use letters, digits and dashes, e.g. config-changed"
            ),
        ));
    }
    // A script of the running hook asking for a hook would wait for the lock its own
    // hook holds, for ever: refuse at once.
    if let Some(ctx) = &caller.context {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot run hook {hook:?} from a script of the running {}: it would wait for that hook to end, which waits for the script; run the work in the script itself",
                ctx.hook
            ),
        ));
    }
    hook_runner::run_hook(daemon, &hook, env, cron_job, out)
        .await
        .map(Response::Hook)
}

fn valid_hook_name(hook: &str) -> bool {
    !hook.is_empty()
        && hook.len() <= 128
        && hook
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
