//! `lucky hook <name>`.

use crate::daemon::Daemon;
use crate::daemon::hook_runner;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::OutputSink;
use std::collections::BTreeMap;
use std::sync::Arc;

pub async fn run(
    daemon: &Arc<Daemon>,
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
