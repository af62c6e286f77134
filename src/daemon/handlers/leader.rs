//! `lucky leader get|set|is-leader`.

use super::{Caller, check_keys, juju_error, pair_args};
use crate::protocol::{ErrorReply, Response};
use serde_json::Value;

pub async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader get")?;
    let key = key.unwrap_or_else(|| "-".into());
    let value = crate::juju::json(ctx, "leader-get", &[&key])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn set(
    caller: &Caller,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader set")?;
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    let args = pair_args(&pairs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, "leader-set", &args)
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
