//! `lucky relation get|set|list-units|list-ids`.

use super::{Caller, check_keys, juju_error, pair_args};
use crate::protocol::{ErrorReply, Response};

pub async fn get(
    caller: &Caller,
    relation_id: Option<String>,
    remote: Option<String>,
    app: bool,
    key: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation get")?;
    let mut args: Vec<String> = Vec::new();
    if let Some(id) = relation_id {
        args.extend(["-r".into(), id]);
    }
    if app {
        args.push("--app".into());
    }
    args.push(key.unwrap_or_else(|| "-".into()));
    args.extend(remote);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let value = crate::juju::json(ctx, "relation-get", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn set(
    caller: &Caller,
    relation_id: Option<String>,
    app: bool,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation set")?;
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    let mut args: Vec<String> = Vec::new();
    if let Some(id) = relation_id {
        args.extend(["-r".into(), id]);
    }
    if app {
        args.push("--app".into());
    }
    args.extend(pair_args(&pairs));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, "relation-set", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn list_units(
    caller: &Caller,
    relation_id: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-units")?;
    let mut args: Vec<&str> = Vec::new();
    if let Some(id) = &relation_id {
        args.extend(["-r", id]);
    }
    let value = crate::juju::json(ctx, "relation-list", &args)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn list_ids(caller: &Caller, relation_name: &str) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-ids")?;
    let value = crate::juju::json(ctx, "relation-ids", &[relation_name])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}
