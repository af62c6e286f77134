//! action-get, action-set, action-fail, action-log: only inside an action's context.

use super::args::{self, FORMAT, OUTPUT};
use super::{Ctx, ToolError, ToolResult, output};
use crate::simulator::state::ActionRecord;
use serde_json::{Map, Value};

const RESERVED: &[&str] = &["stdout", "stderr", "stdout-encoding", "stderr-encoding"];

fn action<'a>(ctx: &'a mut Ctx) -> Result<&'a mut ActionRecord, ToolError> {
    ctx.changed = true;
    ctx.hook
        .action
        .as_mut()
        .ok_or_else(|| ToolError::fail("not running an action"))
}

pub(crate) fn action_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let params = Value::Object(action(ctx)?.params.clone());
    ctx.changed = false;
    let value = match p.args.first() {
        None => params,
        Some(path) => {
            let mut cur = &params;
            for part in path.split('.') {
                cur = cur.get(part).unwrap_or(&Value::Null);
            }
            cur.clone()
        }
    };
    output(&p, &value)
}

/// Juju's rule for each dot-separated part of a result key.
fn valid_key_part(part: &str) -> bool {
    let bytes = part.as_bytes();
    let ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            ok(first) && ok(last) && bytes.iter().all(|b| ok(b) || *b == b'-')
        }
        _ => false,
    }
}

pub(crate) fn action_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    let pairs = args::key_values(&p.args)?;
    for (k, _) in &pairs {
        if !k.split('.').all(valid_key_part) {
            return Err(ToolError::usage(format!(
                "key \"{k}\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods"
            )));
        }
        let top = k.split('.').next().unwrap_or(k);
        if RESERVED.contains(&top) {
            return Err(ToolError::usage(format!(
                "cannot set reserved action key \"{top}\""
            )));
        }
    }
    let act = action(ctx)?;
    for (k, v) in pairs {
        let parts: Vec<&str> = k.split('.').collect();
        let mut map: &mut Map<String, Value> = &mut act.results;
        for part in &parts[..parts.len() - 1] {
            let entry = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else {
                unreachable!("just made an object")
            };
            map = next;
        }
        map.insert(parts[parts.len() - 1].to_string(), Value::String(v));
    }
    Ok(Vec::new())
}

pub(crate) fn action_fail(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    p.at_most(1)?;
    let message = p
        .args
        .first()
        .cloned()
        .unwrap_or_else(|| "action failed without reason given.".into());
    let act = action(ctx)?;
    act.status = "failed".into();
    act.message = Some(message);
    Ok(Vec::new())
}

pub(crate) fn action_log(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    if p.args.is_empty() {
        return Err(ToolError::usage("no message specified"));
    }
    let message = p.args.join(" ");
    action(ctx)?.logs.push(message);
    Ok(Vec::new())
}
