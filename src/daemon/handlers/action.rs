//! `lucky action get|set|fail|log`: only inside an action.

use super::{Caller, check_keys, juju_error};
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

pub async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action get")?;
    let args: Vec<&str> = key.as_deref().into_iter().collect();
    let value = crate::juju::json(ctx, "action-get", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn set(caller: &Caller, pairs: Vec<(String, String)>) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action set")?;
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, "action-set", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn fail(caller: &Caller, message: &str) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action fail")?;
    let args: Vec<&str> = if message.is_empty() {
        vec![]
    } else {
        vec![message]
    };
    crate::juju::exec(ctx, "action-fail", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn log(caller: &Caller, message: &str) -> Result<Response, ErrorReply> {
    let ctx = action_context(caller, "action log")?;
    crate::juju::exec(ctx, "action-log", &[message])
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}
