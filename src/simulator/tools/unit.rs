//! unit-get, network-get, resource-get, juju-log.

use super::args::{self, FORMAT, OUTPUT, flag, option};
use super::{Ctx, ToolError, ToolResult, now, output};
use serde_json::{Value, json};

pub(crate) fn unit_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    let Some(setting) = p.args.first() else {
        return Err(ToolError::usage("no setting specified"));
    };
    p.at_most(1)?;
    let addr = match setting.as_str() {
        "private-address" => &ctx.state.addresses.private,
        "public-address" => &ctx.state.addresses.public,
        other => return Err(ToolError::usage(format!("unknown setting \"{other}\""))),
    };
    output(&p, &Value::String(addr.clone()))
}

pub(crate) fn network_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let ingress = flag(&["ingress-address"]);
    let bind = flag(&["bind-address"]);
    let egress = flag(&["egress-subnets"]);
    let primary = flag(&["primary-address"]);
    let relation = option(&["relation", "r"]);
    let p = args::parse(
        &[
            &ingress, &bind, &egress, &primary, &relation, &FORMAT, &OUTPUT,
        ],
        argv,
    )?;
    let Some(binding) = p.args.first() else {
        return Err(ToolError::usage("no arguments specified"));
    };
    p.at_most(1)?;
    if !ctx.state.bindings.is_empty() && !ctx.state.bindings.contains(binding) {
        return Err(ToolError::fail(format!(
            "no network config found for binding \"{binding}\""
        )));
    }
    // `-r` (by default the hook's relation) must name a relation of the unit. Over a
    // cross-model relation the other side reaches the unit on its public address, so
    // Juju gives that as the ingress address and egress subnet; the unit still binds to
    // its private one.
    let cross_model = if p.value("relation").is_some() || ctx.hook.relation_id.is_some() {
        let id = super::relation::relation_id(ctx, &p)?;
        ctx.hook
            .staged
            .relations
            .get(&id)
            .is_some_and(|r| r.remote_model_uuid.is_some())
    } else {
        false
    };
    let addr = ctx.state.addresses.private.clone();
    let ingress_addr = if cross_model {
        ctx.state.addresses.public.clone()
    } else {
        addr.clone()
    };
    let subnet = format!("{ingress_addr}/32");
    let mut picked = Vec::new();
    if p.has("bind-address") || p.has("primary-address") {
        picked.push(("bind-address", Value::String(addr.clone())));
    }
    if p.has("ingress-address") {
        picked.push(("ingress-address", Value::String(ingress_addr.clone())));
    }
    if p.has("egress-subnets") {
        picked.push(("egress-subnets", Value::String(subnet.clone())));
    }
    let value = match picked.len() {
        // The YAML keeps copies of three fields for older agents (`address`, `macaddress`,
        // `interfacename`); Juju's JSON leaves them out (`json:"-"`).
        0 if p.format()? == crate::simulator::format::Format::Json => json!({
            "bind-addresses": [{
                "mac-address": "",
                "interface-name": "eth0",
                "addresses": [{"hostname": "", "cidr": "10.0.0.0/24", "value": addr}],
            }],
            "egress-subnets": [subnet],
            "ingress-addresses": [ingress_addr],
        }),
        0 => json!({
            "bind-addresses": [{
                "mac-address": "",
                "interface-name": "eth0",
                "addresses": [{"hostname": "", "address": addr, "cidr": "10.0.0.0/24", "value": addr}],
                "macaddress": "",
                "interfacename": "eth0",
            }],
            "egress-subnets": [subnet],
            "ingress-addresses": [ingress_addr],
        }),
        1 => picked.remove(0).1,
        _ => Value::Object(
            picked
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
    };
    output(&p, &value)
}

pub(crate) fn resource_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[], argv)?;
    let Some(name) = p.args.first() else {
        return Err(ToolError::usage("missing required resource name"));
    };
    p.at_most(1)?;
    if !ctx.state.declared_resources.is_empty() && !ctx.state.declared_resources.contains(name) {
        return Err(ToolError::fail(format!(
            "could not download resource: resource \"{name}\" is not declared by the charm"
        )));
    }
    match ctx.state.resources.get(name) {
        // Juju prints the path with no newline.
        Some(path) => Ok(path.to_string_lossy().into_owned().into_bytes()),
        None => Err(ToolError::fail(format!(
            "could not download resource: HTTP request failed: Get resource \"{name}\": resource#{}/{name} not found",
            ctx.state.app()
        ))),
    }
}

const LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

pub(crate) fn juju_log(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let level = option(&["log-level", "l"]);
    let debug = flag(&["debug"]);
    let p = args::parse(&[&level, &debug, &FORMAT], argv)?;
    if p.args.is_empty() {
        return Err(ToolError::usage("no message specified"));
    }
    // Juju takes the level in any case (WARN for WARNING); for one it does not know it
    // logs a warning and the message at INFO rather than failing.
    let given = p.value("log-level").map(str::to_ascii_uppercase);
    let mut lvl = match given.as_deref() {
        None | Some("") => "INFO".to_string(),
        Some("WARN") => "WARNING".to_string(),
        Some(l) if LEVELS.contains(&l) => l.to_string(),
        Some(_) => {
            let line = format!(
                "{} WARNING {} juju-log[{}]: Specified log level of {:?} is not valid",
                now(),
                ctx.unit_tag(),
                ctx.hook.hook,
                p.value("log-level").unwrap_or_default()
            );
            ctx.debug_lines.push(line.replace('\n', "\\n"));
            "INFO".to_string()
        }
    };
    if p.has("debug") {
        lvl = "DEBUG".into();
    }
    let mut message = p.args.join(" ");
    if let Some(rel) = &ctx.hook.relation_id {
        message = format!("{rel}: {message}");
    }
    let line = format!(
        "{} {lvl} {} juju-log[{}]: {message}",
        now(),
        ctx.unit_tag(),
        ctx.hook.hook
    );
    ctx.debug_lines.push(line.replace('\n', "\\n"));
    Ok(Vec::new())
}
