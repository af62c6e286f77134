//! `lucky relation get|set|list-units|list-ids|model-get`. Every client string is checked by
//! `juju::args` before it becomes a hook-tool argument (see there for the rule).

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use serde_json::Value;

/// Largest `relation set --file` text taken (relation data is meant to be small; Juju's
/// own limit on a unit's settings is far below this).
pub(crate) const MAX_SETTINGS_FILE: usize = 1024 * 1024;

/// `-r ID` when given, checked.
fn relation_flag(relation_id: Option<&str>) -> Result<Vec<String>, ErrorReply> {
    Ok(match relation_id {
        Some(id) => vec!["-r".into(), args::relation_id(id).map_err(bad_arg)?.into()],
        None => Vec::new(),
    })
}

pub(crate) async fn get(
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

pub(crate) async fn set(
    caller: &Caller,
    relation_id: Option<String>,
    app: bool,
    pairs: Vec<(String, Option<String>)>,
    file: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation set")?;
    let mut all = match &file {
        Some(text) => file_pairs(text)?,
        None => Vec::new(),
    };
    // The command line wins over the file, as in relation-set.
    all.extend(pairs);
    if all.is_empty() && file.is_none() {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            "cannot set relation data: nothing to set; give KEY=VALUE pairs or a --file with a YAML map",
        ));
    }
    let settings = args::settings_yaml(&all).map_err(bad_arg)?;
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

/// `relation set --file`: a YAML map of keys to scalars (null or "" deletes the key).
fn file_pairs(text: &str) -> Result<Vec<(String, Option<String>)>, ErrorReply> {
    let bad = |why: String| {
        ErrorReply::new(
            ErrorKind::BadRequest,
            format!("cannot set relation data from --file: {why}"),
        )
    };
    if text.len() > MAX_SETTINGS_FILE {
        return Err(bad(format!(
            "the file has {} bytes, more than the {} taken",
            text.len(),
            MAX_SETTINGS_FILE
        )));
    }
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_saphyr::from_str(text).map_err(|e| {
        let e = e.to_string();
        bad(format!(
            "it is not valid YAML ({})",
            e.lines().next().unwrap_or_default()
        ))
    })?;
    let map = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(map) => map,
        _ => return Err(bad("expected a YAML map of keys to values".into())),
    };
    map.into_iter()
        .map(|(key, v)| {
            let v = match v {
                Value::Null => None,
                Value::String(s) => (!s.is_empty()).then_some(s),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => {
                    return Err(bad(format!(
                        "the value of {key:?} is a list or map; relation data values are strings"
                    )));
                }
            };
            Ok((key, v))
        })
        .collect()
}

pub(crate) async fn list_units(
    caller: &Caller,
    relation_id: Option<String>,
    app: bool,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-units")?;
    let mut argv = relation_flag(relation_id.as_deref())?;
    if app {
        argv.push("--app".into());
    }
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let value = crate::juju::json(ctx, "relation-list", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub(crate) async fn list_ids(
    caller: &Caller,
    relation_name: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation list-ids")?;
    let mut argv = Vec::new();
    match &relation_name {
        Some(name) => argv.extend(["--", args::relation_name(name).map_err(bad_arg)?]),
        // relation-ids then lists the hook's own endpoint (JUJU_RELATION).
        None if ctx.var("JUJU_RELATION").is_none_or(str::is_empty) => {
            return Err(ErrorReply::new(
                ErrorKind::BadRequest,
                format!(
                    "cannot list relation ids in hook {}: it is not a relation hook; name the endpoint with -n NAME",
                    ctx.hook
                ),
            ));
        }
        None => {}
    }
    let value = crate::juju::json(ctx, "relation-ids", &argv)
        .await
        .map_err(juju_error)?;
    // Juju prints null for none; a list either way.
    Ok(Response::Value(match value {
        Value::Null => Value::Array(Vec::new()),
        other => other,
    }))
}

/// relation-model-get: the uuid of the model hosting the relation's other side.
pub(crate) async fn model_get(
    caller: &Caller,
    relation_id: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("relation model-get")?;
    if relation_id.is_none() && ctx.var("JUJU_RELATION_ID").is_none_or(str::is_empty) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot get the remote model in hook {}: it is not a relation hook; name the relation with -r ID",
                ctx.hook
            ),
        ));
    }
    let argv = relation_flag(relation_id.as_deref())?;
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let value = crate::juju::json(ctx, "relation-model-get", &argv)
        .await
        .map_err(juju_error)?;
    match value.get("uuid").and_then(Value::as_str) {
        Some(uuid) => Ok(Response::Value(Value::String(uuid.to_string()))),
        None => Err(ErrorReply::new(
            ErrorKind::Juju,
            format!("relation-model-get: printed no model uuid: {value}"),
        )),
    }
}
