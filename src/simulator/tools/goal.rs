//! goal-state: the units and relations the model is heading for, as Juju gives it. In the
//! simulator the goal is what the model holds now: this unit, and each relation's remote
//! application and units, all alive.

use super::args::{self, FORMAT, OUTPUT};
use super::{Ctx, ToolResult, output};
use serde_json::{Map, Value, json};

pub(crate) fn goal_state(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    let since = since(&ctx.hook.started);
    let status = |s: &str| json!({"status": s, "since": since});
    let units = json!({ ctx.state.unit.clone(): status("active") });
    let mut relations: Map<String, Value> = Map::new();
    for rel in ctx.hook.staged.relations.values() {
        let entry = relations
            .entry(rel.endpoint.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(rel.remote_app.clone(), status("joined"));
            for unit in rel.remote_units.keys() {
                map.insert(unit.clone(), status("active"));
            }
        }
    }
    output(&p, &json!({"units": units, "relations": relations}))
}

/// `2024-05-01T12:00:00.123Z` → `2024-05-01 12:00:00Z`, Juju's goal-state timestamp.
fn since(rfc3339: &str) -> String {
    let (date, time) = rfc3339.split_once('T').unwrap_or((rfc3339, ""));
    let time = time.split('.').next().unwrap_or(time).trim_end_matches('Z');
    format!("{date} {time}Z")
}
