//! status-set, status-get, application-version-set. Statuses take effect at once (Juju sends
//! them to the controller immediately), so they survive a failing hook.

use super::args::{self, FORMAT, OUTPUT, flag};
use super::{Ctx, ToolError, ToolResult, now, output};
use crate::simulator::state::{Status, StatusRecord};
use serde_json::{Value, json};

const SETTABLE: &[&str] = &["maintenance", "blocked", "waiting", "active"];

pub(crate) fn status_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let app = flag(&["application"]);
    let p = args::parse(&[&app], argv)?;
    let Some(status) = p.args.first() else {
        return Err(ToolError::usage("invalid args, require <status> [message]"));
    };
    p.at_most(2)?;
    if !SETTABLE.contains(&status.as_str()) {
        return Err(ToolError::usage(format!(
            "invalid status \"{status}\", expected one of [{}]",
            SETTABLE.join(" ")
        )));
    }
    let application = p.has("application");
    if application && !ctx.state.leader {
        return Err(ToolError::fail(
            "setting application status: this unit is not the leader",
        ));
    }
    let new = Status {
        status: status.clone(),
        message: p.args.get(1).cloned().unwrap_or_default(),
    };
    ctx.state.status_history.push(StatusRecord {
        time: now(),
        hook: ctx.hook.hook.clone(),
        target: if application { "application" } else { "unit" }.into(),
        status: new.status.clone(),
        message: new.message.clone(),
    });
    if application {
        ctx.state.application_status = new;
    } else {
        ctx.state.unit_status = new;
    }
    ctx.changed = true;
    Ok(Vec::new())
}

fn status_map(s: &Status) -> Value {
    json!({"status": s.status, "message": s.message, "status-data": {}})
}

pub(crate) fn status_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let include = flag(&["include-data"]);
    let app = flag(&["application"]);
    let p = args::parse(&[&include, &app, &FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    p.format()?;
    if p.has("application") {
        if !ctx.state.leader {
            return Err(ToolError::fail(
                "finding application status: this unit is not the leader",
            ));
        }
        let mut app_status = status_map(&ctx.state.application_status);
        app_status["units"] = json!({ ctx.state.unit.clone(): status_map(&ctx.state.unit_status) });
        return output(&p, &json!({ "application-status": app_status }));
    }
    if p.has("include-data") {
        return output(&p, &status_map(&ctx.state.unit_status));
    }
    output(&p, &Value::String(ctx.state.unit_status.status.clone()))
}

pub(crate) fn application_version_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    let Some(version) = p.args.first() else {
        return Err(ToolError::usage("no version specified"));
    };
    p.at_most(1)?;
    ctx.state.application_version = version.clone();
    ctx.changed = true;
    Ok(Vec::new())
}
