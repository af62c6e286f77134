//! `lucky action get|set|fail|log`: only inside an action.

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::HookContext;
use std::sync::Arc;

fn action_context<'a>(caller: &'a Caller, what: &str) -> Result<&'a Arc<HookContext>, ErrorReply> {
    let ctx = caller.hook(what)?;
    if ctx.var("JUJU_ACTION_NAME").is_none_or(str::is_empty) {
        return Err(ErrorReply::new(
            ErrorKind::NoContext,
            format!(
                "`lucky {what}` only works in an action, and {} is a hook",
                ctx.hook
            ),
        ));
    }
    Ok(ctx)
}

pub(crate) async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action get")?;
    let mut argv = vec!["--"];
    if let Some(key) = &key {
        argv.push(args::action_key(key).map_err(bad_arg)?);
    }
    let value = crate::juju::json(ctx, "action-get", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub(crate) async fn set(
    caller: &Caller,
    pairs: Vec<(String, String)>,
) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action set")?;
    let pairs: Vec<(String, Option<String>)> =
        pairs.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let mut argv = vec!["--".to_string()];
    argv.extend(args::pair_words(&pairs, args::action_key).map_err(bad_arg)?);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, "action-set", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub(crate) async fn fail(caller: &Caller, message: &str) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action fail")?;
    let message = args::text("message", message).map_err(bad_arg)?;
    let argv: Vec<&str> = if message.is_empty() {
        vec![]
    } else {
        vec!["--", message]
    };
    crate::juju::exec(ctx, "action-fail", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub(crate) async fn log(caller: &Caller, message: &str) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action log")?;
    let message = args::text("message", message).map_err(bad_arg)?;
    crate::juju::exec(ctx, "action-log", &["--", message])
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}
