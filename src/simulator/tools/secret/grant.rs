//! secret-grant and secret-revoke: who else may read an owned secret, by relation and
//! remote application or unit.

use super::{APP, RELATION, UNIT, check_manager, owned, uri_arg};
use crate::simulator::state::SecretGrant;
use crate::simulator::tools::args;
use crate::simulator::tools::{Ctx, ToolError, ToolResult};

/// The unit, checked as a Juju unit name (`app/N`).
fn valid_unit(unit: &str) -> bool {
    unit.split_once('/').is_some_and(|(app, n)| {
        valid_app(app) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn valid_app(app: &str) -> bool {
    app.starts_with(|c: char| c.is_ascii_lowercase())
        && !app.ends_with('-')
        && app
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn unit_tag(unit: &str) -> String {
    format!("unit-{}", unit.replace('/', "-"))
}

pub(crate) fn secret_grant(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&UNIT, &RELATION], argv)?;
    let Some(first) = p.args.first() else {
        return Err(ToolError::usage("missing secret URI"));
    };
    let id = uri_arg(first)?;
    let relation_id = crate::simulator::tools::relation::relation_id(ctx, &p)?;
    let (endpoint, remote_app) = ctx
        .hook
        .staged
        .relations
        .get(&relation_id)
        .map(|r| (r.endpoint.clone(), r.remote_app.clone()))
        .unwrap_or_default();
    let unit = p.value("unit").map(str::to_string);
    if let Some(u) = &unit {
        if !valid_unit(u) {
            return Err(ToolError::usage(format!("unit {u:?} not valid")));
        }
        if u.split('/').next() != Some(remote_app.as_str()) {
            return Err(ToolError::usage(format!(
                "cannot specify unit {u:?} in relation to application {remote_app:?}"
            )));
        }
    }
    p.at_most(1)?;
    let app = ctx.state.app().to_string();
    let leader = ctx.state.leader;
    let secret = owned(ctx, &id)?;
    check_manager(leader, secret)?;
    let target = match &unit {
        Some(u) => unit_tag(u),
        None => format!("application-{remote_app}"),
    };
    let app_target = format!("application-{remote_app}");
    let unit_prefix = format!("unit-{remote_app}-");
    if secret
        .grants
        .iter()
        .any(|g| g.target == target || g.target == app_target)
    {
        return Ok(Vec::new());
    }
    if unit.is_none()
        && secret
            .grants
            .iter()
            .any(|g| g.target.starts_with(&unit_prefix))
    {
        return Err(ToolError::fail(
            "any unit level grants need to be revoked before granting access to the corresponding application",
        ));
    }
    secret.grants.push(SecretGrant {
        target,
        relation_id,
        // The relation's tag; the simulator names the remote endpoint like the local one.
        scope: format!("relation-{remote_app}.{endpoint}#{app}.{endpoint}"),
    });
    Ok(Vec::new())
}

pub(crate) fn secret_revoke(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&APP, &UNIT, &RELATION], argv)?;
    let Some(first) = p.args.first() else {
        return Err(ToolError::usage("missing secret URI"));
    };
    let id = uri_arg(first)?;
    let mut app = p.value("app").map(str::to_string);
    let unit = p.value("unit").map(str::to_string);
    if let Some(a) = &app
        && !valid_app(a)
    {
        return Err(ToolError::usage(format!("application {a:?} not valid")));
    }
    if let Some(u) = &unit
        && !valid_unit(u)
    {
        return Err(ToolError::usage(format!("unit {u:?} not valid")));
    }
    if app.is_some() && unit.is_some() {
        return Err(ToolError::usage("specify only one of application or unit"));
    }
    if p.value("relation").is_some() {
        let relation_id = crate::simulator::tools::relation::relation_id(ctx, &p)?;
        if app.is_some() {
            return Err(ToolError::usage("do not specify both relation and app"));
        }
        app = ctx
            .hook
            .staged
            .relations
            .get(&relation_id)
            .map(|r| r.remote_app.clone());
    }
    if app.is_none() && unit.is_none() {
        return Err(ToolError::usage("missing relation or application or unit"));
    }
    p.at_most(1)?;
    let leader = ctx.state.leader;
    let secret = owned(ctx, &id)?;
    check_manager(leader, secret)?;
    match (&app, &unit) {
        (Some(a), _) => {
            let (app_target, unit_prefix) = (format!("application-{a}"), format!("unit-{a}-"));
            secret
                .grants
                .retain(|g| g.target != app_target && !g.target.starts_with(&unit_prefix));
        }
        (None, Some(u)) => {
            let target = unit_tag(u);
            secret.grants.retain(|g| g.target != target);
        }
        (None, None) => {}
    }
    Ok(Vec::new())
}
