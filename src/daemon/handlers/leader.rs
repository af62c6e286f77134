//! `lucky leader get|set|is-leader`.

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorReply, Response};
use serde_json::Value;

pub async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader get")?;
    let key = match &key {
        Some(key) => args::setting_key(key).map_err(bad_arg)?,
        // `-` is leader-get's "every key".
        None => "-",
    };
    let value = crate::juju::json(ctx, "leader-get", &["--", key])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn set(
    caller: &Caller,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader set")?;
    // leader-set takes no settings file: KEY=VALUE words after `--`, keys checked.
    let mut argv = vec!["--".to_string()];
    argv.extend(args::pair_words(&pairs, args::setting_key).map_err(bad_arg)?);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, "leader-set", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn is_leader(caller: &Caller) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader is-leader")?;
    let value = crate::juju::json(ctx, "is-leader", &[])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(Value::Bool(
        value.as_bool().unwrap_or(false),
    )))
}
