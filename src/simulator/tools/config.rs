//! config-get: the effective config (defaults from config.yaml plus operator values).

use super::args::{self, FORMAT, OUTPUT, flag};
use super::{Ctx, ToolResult, output};
use serde_json::Value;

pub(crate) fn config_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let all = flag(&["all", "a"]);
    let p = args::parse(&[&all, &FORMAT, &OUTPUT], argv)?;
    p.at_most(1)?;
    let config = ctx.state.effective_config();
    if let Some(key) = p.args.first() {
        // Juju prints null for a key the charm does not declare, rather than failing.
        return output(&p, config.get(key).unwrap_or(&Value::Null));
    }
    let map = if p.has("all") {
        config
    } else {
        config.into_iter().filter(|(_, v)| !v.is_null()).collect()
    };
    output(&p, &Value::Object(map))
}
