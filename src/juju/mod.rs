//! The hook-tool backend: run Juju's hook tools in a hook's context and parse what they
//! print. Nothing here knows about sockets or scripts.

pub(crate) mod args;
pub(crate) mod leader;
pub(crate) mod status;
mod tools;

pub(crate) use tools::{JujuError, run_tool, run_tool_with_input};

use crate::script::HookContext;
use serde_json::Value;

/// Runs `tool --format=json args…` and parses its output (empty output is null).
pub(crate) async fn json(ctx: &HookContext, tool: &str, args: &[&str]) -> Result<Value, JujuError> {
    let mut full = Vec::with_capacity(args.len() + 1);
    full.push("--format=json");
    full.extend_from_slice(args);
    let out = run_tool(ctx, tool, &full).await?;
    if out.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&out).map_err(|e| JujuError {
        tool: tool.to_string(),
        message: format!("printed something that is not JSON ({e}): {}", out.trim()),
        status: None,
    })
}

/// Runs a tool for its effect.
pub(crate) async fn exec(ctx: &HookContext, tool: &str, args: &[&str]) -> Result<(), JujuError> {
    run_tool(ctx, tool, args).await.map(drop)
}

/// Runs a tool and returns what it printed, trimmed of the final newline.
pub(crate) async fn text(
    ctx: &HookContext,
    tool: &str,
    args: &[&str],
) -> Result<String, JujuError> {
    let mut out = run_tool(ctx, tool, args).await?;
    while out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}
