//! leader-get, leader-set (leader only), is-leader.

use super::args::{self, FORMAT, OUTPUT};
use super::{Ctx, ToolError, ToolResult, output};
use serde_json::Value;

pub(crate) fn leader_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let data = &ctx.hook.staged.leader_data;
    let value = match p.args.first().filter(|k| *k != "-") {
        Some(k) => data
            .get(k)
            .map_or(Value::Null, |v| Value::String(v.clone())),
        None => Value::Object(
            data.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    };
    output(&p, &value)
}

pub(crate) fn leader_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    let settings = args::key_values(&p.args)?;
    if !ctx.state.leader {
        return Err(ToolError::fail(
            "cannot write leadership settings: cannot write settings: not the leader",
        ));
    }
    let data = &mut ctx.data().leader_data;
    crate::simulator::state::set_or_delete(data, settings);
    Ok(Vec::new())
}

pub(crate) fn is_leader(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    output(&p, &Value::Bool(ctx.state.leader))
}
