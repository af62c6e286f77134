//! `lucky relation get|set|list-units|list-ids`. Every client string is checked by
//! `juju::args` before it becomes a hook-tool argument (see there for the rule).

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorReply, Response};

/// `-r ID` when given, checked.
fn relation_flag(relation_id: Option<&str>) -> Result<Vec<String>, ErrorReply> {
    Ok(match relation_id {
        Some(id) => vec!["-r".into(), args::relation_id(id).map_err(bad_arg)?.into()],
        None => Vec::new(),
    })
}

pub async fn get(
    caller: &Caller,
    relation_id: Option<String>,
    remote: Option<String>,
    app: bool,
    key: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation get")?;
    let mut argv = relation_flag(relation_id.as_deref())?;
    if app {
        argv.push("--app".into());
    }
    argv.push("--".into());
    match key {
        Some(key) => argv.push(args::setting_key(&key).map_err(bad_arg)?.into()),
        // `-` is relation-get's "every key".
        None => argv.push("-".into()),
    }
    if let Some(remote) = remote {
        argv.push(args::unit_or_app(&remote).map_err(bad_arg)?.into());
    }
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let value = crate::juju::json(ctx, "relation-get", &argv)
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
    let settings = args::settings_yaml(&pairs).map_err(bad_arg)?;
    let mut argv = relation_flag(relation_id.as_deref())?;
    if app {
        argv.push("--app".into());
    }
    // The settings go on stdin: no value is ever a command-line word.
    argv.extend(["--file".into(), "-".into()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    crate::juju::run_tool_with_input(ctx, "relation-set", &argv, Some(settings.as_bytes()))
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn list_units(
    caller: &Caller,
    relation_id: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-units")?;
    let argv = relation_flag(relation_id.as_deref())?;
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let value = crate::juju::json(ctx, "relation-list", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub async fn list_ids(caller: &Caller, relation_name: &str) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-ids")?;
    let name = args::relation_name(relation_name).map_err(bad_arg)?;
    let value = crate::juju::json(ctx, "relation-ids", &["--", name])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}
