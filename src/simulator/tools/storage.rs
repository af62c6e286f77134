//! storage-get, storage-list, storage-add. Added storage is staged like relation data:
//! Juju asks for it when the hook's context is flushed, so only when the hook exits 0;
//! it is attached (and listed) once its `-storage-attached` hook runs.

use super::args::{self, FORMAT, OUTPUT, option};
use super::{Ctx, ToolError, ToolResult, output};
use crate::simulator::storage::{name_of, new_instance};
use serde_json::{Value, json};

/// Juju's storage id rule: a storage name, `/`, a number.
fn valid_id(id: &str) -> bool {
    match id.split_once('/') {
        Some((name, n)) => {
            valid_name(name) && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub(crate) fn storage_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let id_flag = option(&["s"]);
    let p = args::parse(&[&id_flag, &FORMAT, &OUTPUT], argv)?;
    let attached = |id: &str| {
        ctx.hook
            .staged
            .storage
            .get(id)
            .filter(|s| s.attached)
            .cloned()
    };
    let id = match p.value("s") {
        Some(id) if !valid_id(id) => {
            return Err(ToolError::usage(format!(
                "invalid value \"{id}\" for flag -s: invalid storage ID \"{id}\""
            )));
        }
        Some(id) if attached(id).is_none() => {
            return Err(ToolError::usage(format!(
                "invalid value \"{id}\" for flag -s: storage \"{id}\" not found"
            )));
        }
        Some(id) => id.to_string(),
        None => match &ctx.hook.storage_id {
            Some(id) => id.clone(),
            None => return Err(ToolError::usage("no storage instance specified")),
        },
    };
    p.at_most(1)?;
    p.format()?;
    let Some(instance) = attached(&id) else {
        return Err(ToolError::fail(format!("storage \"{id}\" not found")));
    };
    let values = json!({"kind": instance.kind, "location": instance.location});
    match p.args.first() {
        None => output(&p, &values),
        Some(key) => match values.get(key) {
            Some(v) => output(&p, v),
            None => Err(ToolError::fail(format!(
                "invalid storage attribute \"{key}\""
            ))),
        },
    }
}

pub(crate) fn storage_list(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let name = p.args.first();
    let ids: Vec<Value> = ctx
        .hook
        .staged
        .storage
        .iter()
        .filter(|(id, s)| s.attached && name.is_none_or(|n| name_of(id) == n))
        .map(|(id, _)| Value::String(id.clone()))
        .collect();
    output(&p, &Value::Array(ids))
}

pub(crate) fn storage_add(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    if p.args.is_empty() {
        return Err(ToolError::usage("storage add requires a storage directive"));
    }
    let mut wanted = Vec::new();
    for directive in &p.args {
        let (name, count) = match directive.split_once('=') {
            None => (directive.as_str(), 1),
            Some((name, count)) => match count.parse::<u32>() {
                Ok(n) if n > 0 => (name, n),
                _ if count.contains(',') => {
                    return Err(ToolError::usage(format!(
                        "only count can be specified for \"{name}\""
                    )));
                }
                _ => {
                    return Err(ToolError::usage(format!(
                        "cannot parse count {count:?} for storage \"{name}\": use a positive integer"
                    )));
                }
            },
        };
        if !valid_name(name) {
            return Err(ToolError::usage(format!("storage name {name:?} not valid")));
        }
        wanted.push((name.to_string(), count));
    }
    // All or nothing: every directive is checked before any instance is staged.
    let mut staged = ctx.hook.staged.storage.clone();
    for (name, count) in wanted {
        for _ in 0..count {
            let (id, instance) =
                new_instance(ctx.state, &staged, &name).map_err(ToolError::fail)?;
            staged.insert(id, instance);
        }
    }
    ctx.data().storage = staged;
    Ok(Vec::new())
}
