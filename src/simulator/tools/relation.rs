//! relation-get, relation-set, relation-ids, relation-list, relation-model-get.
//!
//! They read and write the hook's staged copy of the relations, so relation-set is seen by
//! later calls in the same hook and committed only when the hook exits 0.

use super::args::{self, FORMAT, OUTPUT, Parsed, flag, option};
use super::{Ctx, ToolError, ToolResult, output};
use crate::simulator::state::{Bag, Relation};
use serde_json::Value;
use std::io::Read;

const RELATION: args::Flag = option(&["relation", "r"]);
const APP: args::Flag = flag(&["app"]);

/// `-r db:1` or `-r 1`, else the hook's own relation. Returns the canonical id.
pub(super) fn relation_id(ctx: &Ctx, p: &Parsed) -> Result<String, ToolError> {
    let Some(given) = p.value("relation") else {
        return ctx
            .hook
            .relation_id
            .clone()
            .ok_or_else(|| ToolError::usage("no relation id specified"));
    };
    let (name, num) = match given.rsplit_once(':') {
        Some((n, id)) => (Some(n), id),
        None => (None, given),
    };
    let bad = || {
        ToolError::usage(format!(
            "invalid value \"{given}\" for option -r: relation not found"
        ))
    };
    let num: u32 = num.parse().map_err(|_| {
        ToolError::usage(format!(
            "invalid value \"{given}\" for option -r: invalid relation id"
        ))
    })?;
    ctx.hook
        .staged
        .relations
        .iter()
        .find(|(id, rel)| {
            id.rsplit_once(':').and_then(|(_, n)| n.parse::<u32>().ok()) == Some(num)
                && name.is_none_or(|n| n == rel.endpoint)
        })
        .map(|(id, _)| id.clone())
        .ok_or_else(bad)
}

fn relation<'a>(ctx: &'a mut Ctx, id: &str) -> Result<&'a mut Relation, ToolError> {
    ctx.hook
        .staged
        .relations
        .get_mut(id)
        .ok_or_else(|| ToolError::fail(format!("relation {id} not found")))
}

fn bag_value(bag: &Bag) -> Value {
    Value::Object(
        bag.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

pub(crate) fn relation_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&RELATION, &APP, &FORMAT, &OUTPUT], argv)?;
    p.at_most(2)?;
    p.format()?;
    let id = relation_id(ctx, &p)?;
    let app = p.has("app");
    let key = p.args.first().filter(|k| *k != "-").cloned();
    let target = match p.args.get(1) {
        Some(t) => t.clone(),
        None if app => ctx
            .hook
            .remote_app
            .clone()
            .ok_or_else(|| ToolError::usage("no unit or application specified"))?,
        None => ctx
            .hook
            .remote_unit
            .clone()
            .ok_or_else(|| ToolError::usage("no unit or application specified"))?,
    };
    if !app && !target.contains('/') {
        return Err(ToolError::usage(format!(
            "invalid unit name \"{target}\" (use --app to read application data)"
        )));
    }
    let leader = ctx.state.leader;
    let (local_unit, local_app) = (ctx.state.unit.clone(), ctx.state.app().to_string());
    let rel = relation(ctx, &id)?;
    let bag = if app {
        if target == local_app {
            // In a peer relation the local application is the remote one too: every
            // unit reads its bag (Juju asks the controller), only the leader writes it.
            if !leader && rel.remote_app != local_app {
                return Err(ToolError::fail(format!(
                    "cannot read local application settings in relation {id}: permission denied (this unit is not the leader)"
                )));
            }
            &rel.local_app_data
        } else if target == rel.remote_app {
            &rel.remote_app_data
        } else {
            return Err(ToolError::fail(format!(
                "cannot read settings for application \"{target}\" in relation {id}: application is not in the relation"
            )));
        }
    } else if target == local_unit {
        &rel.local_unit_data
    } else if let Some(bag) = rel.remote_units.get(&target) {
        bag
    } else {
        return Err(ToolError::fail(format!(
            "cannot read settings for unit \"{target}\" in relation {id}: unit \"{target}\": settings not found"
        )));
    };
    let value = match key {
        Some(k) => bag
            .get(&k)
            .map_or(Value::Null, |v| Value::String(v.clone())),
        None => bag_value(bag),
    };
    output(&p, &value)
}

pub(crate) fn relation_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let file = option(&["file"]);
    let p = args::parse(&[&RELATION, &APP, &file, &FORMAT], argv)?;
    let id = relation_id(ctx, &p)?;
    let mut settings: Vec<(String, String)> = Vec::new();
    if let Some(path) = p.value("file") {
        settings.extend(read_settings_file(path)?);
    }
    settings.extend(args::key_values(&p.args)?);
    let app = p.has("app");
    if app && !ctx.state.leader {
        return Err(ToolError::fail(format!(
            "cannot write application settings in relation {id}: this unit is not the leader"
        )));
    }
    ctx.changed = true;
    let rel = relation(ctx, &id)?;
    let bag = if app {
        &mut rel.local_app_data
    } else {
        &mut rel.local_unit_data
    };
    crate::simulator::state::set_or_delete(bag, settings);
    Ok(Vec::new())
}

/// `--file <path>|-`: a YAML map of settings; scalars become strings, null deletes.
fn read_settings_file(path: &str) -> Result<Vec<(String, String)>, ToolError> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| ToolError::fail(format!("cannot read settings from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| ToolError::fail(format!("cannot read settings file {path}: {e}")))?
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    // One YAML value type for the whole binary (each type parsed adds a parser copy).
    let expected_map = |e: &dyn std::fmt::Display| {
        ToolError::usage(format!(
            "invalid settings in {path}: expected a YAML map: {e}"
        ))
    };
    let Value::Object(map) = serde_saphyr::from_str(&text).map_err(|e| expected_map(&e))? else {
        return Err(expected_map(&"not a map"));
    };
    map.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(ToolError::usage(format!(
                        "invalid value for \"{k}\" in {path}: expected a string, got {other}"
                    )));
                }
            };
            Ok((k, v))
        })
        .collect()
}

pub(crate) fn relation_ids(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let endpoint = match p.args.first() {
        Some(e) => e.clone(),
        None => {
            let hook_rel = ctx.hook.relation_id.as_ref();
            hook_rel
                .and_then(|id| ctx.hook.staged.relations.get(id))
                .map(|r| r.endpoint.clone())
                .ok_or_else(|| ToolError::usage("no endpoint name specified"))?
        }
    };
    let mut ids: Vec<(u32, String)> = ctx
        .hook
        .staged
        .relations
        .iter()
        .filter(|(_, r)| r.endpoint == endpoint)
        .map(|(id, _)| (relation_number(id), id.clone()))
        .collect();
    ids.sort();
    let list = ids.into_iter().map(|(_, id)| Value::String(id)).collect();
    output(&p, &Value::Array(list))
}

pub(crate) fn relation_number(id: &str) -> u32 {
    id.rsplit_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(u32::MAX)
}

pub(crate) fn relation_list(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&RELATION, &APP, &FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    p.format()?;
    let id = relation_id(ctx, &p)?;
    let rel = relation(ctx, &id)?;
    let value = if p.has("app") {
        Value::String(rel.remote_app.clone())
    } else {
        let mut units: Vec<&String> = rel.remote_units.keys().collect();
        // app/10 after app/9.
        units.sort_by_key(|u| {
            let n: u32 = u
                .rsplit_once('/')
                .and_then(|(_, n)| n.parse().ok())
                .unwrap_or(0);
            (u.split('/').next().unwrap_or("").to_string(), n)
        });
        Value::Array(
            units
                .into_iter()
                .map(|u| Value::String(u.clone()))
                .collect(),
        )
    };
    output(&p, &value)
}

/// relation-model-get: `uuid:` of the model the relation's remote application is in.
pub(crate) fn relation_model_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&RELATION, &FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    p.format()?;
    let id = relation_id(ctx, &p)?;
    let own = ctx.state.model_uuid.clone();
    let rel = relation(ctx, &id)?;
    let uuid = rel.remote_model_uuid.clone().unwrap_or(own);
    output(&p, &serde_json::json!({ "uuid": uuid }))
}
