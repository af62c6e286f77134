//! state-get, state-set, state-delete: server-side unit state, staged like relation data.

use super::args::{self, FORMAT, OUTPUT, flag, option};
use super::{Ctx, ToolError, ToolResult, output};
use serde_json::Value;

pub(crate) fn state_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let strict = flag(&["strict"]);
    let p = args::parse(&[&strict, &FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let data = &ctx.hook.staged.unit_state;
    let value = match p.args.first().filter(|k| *k != "-") {
        Some(k) => match data.get(k) {
            Some(v) => Value::String(v.clone()),
            None if p.has("strict") => {
                return Err(ToolError::fail(format!("\"{k}\" not found")));
            }
            None => Value::Null,
        },
        None => Value::Object(
            data.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    };
    output(&p, &value)
}

pub(crate) fn state_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let file = option(&["file"]);
    let p = args::parse(&[&file], argv)?;
    let mut settings = Vec::new();
    if let Some(path) = p.value("file") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ToolError::fail(format!("cannot read {path}: {e}")))?;
        // Parsed as the one YAML value type the binary already carries (each type parsed
        // from YAML adds a copy of the parser to the binary).
        let value: serde_json::Value = serde_saphyr::from_str(&text)
            .map_err(|e| ToolError::usage(format!("invalid state in {path}: {e}")))?;
        let not_a_map = || {
            ToolError::usage(format!(
                "invalid state in {path}: expected a map of strings"
            ))
        };
        let map = match value {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => serde_json::Map::new(),
            _ => return Err(not_a_map()),
        };
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(not_a_map()),
            };
            settings.push((k, v));
        }
    }
    settings.extend(args::key_values(&p.args)?);
    let data = &mut ctx.data().unit_state;
    crate::simulator::state::set_or_delete(data, settings);
    Ok(Vec::new())
}

pub(crate) fn state_delete(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    let Some(key) = p.args.first() else {
        return Err(ToolError::usage("no key specified"));
    };
    p.at_most(1)?;
    ctx.data().unit_state.remove(key);
    Ok(Vec::new())
}
