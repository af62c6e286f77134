//! open-port, close-port, opened-ports. Ports are kept as Juju prints them (`80/tcp`,
//! `8000-8010/udp`, `icmp`) in the hook's staged data.

use super::args::{self, FORMAT, OUTPUT, flag, option};
use super::{Ctx, ToolError, ToolResult, output};
use serde_json::Value;

/// Parse `80`, `80/tcp`, `8000-8010/udp`, `icmp` into the canonical form.
pub(crate) fn parse_port(spec: &str) -> Result<String, String> {
    if spec.eq_ignore_ascii_case("icmp") {
        return Ok("icmp".into());
    }
    let (range, proto) = match spec.split_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if proto != "tcp" && proto != "udp" {
        return Err(format!(
            "invalid protocol \"{proto}\", expected \"tcp\", \"udp\", or \"icmp\""
        ));
    }
    let port = |s: &str| -> Result<u16, String> {
        match s.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(format!(
                "invalid port \"{s}\": expected a number from 1 to 65535"
            )),
        }
    };
    let (from, to) = match range.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => {
            let p = port(range)?;
            (p, p)
        }
    };
    if from > to {
        return Err(format!("invalid port range {from}-{to}: start after end"));
    }
    Ok(if from == to {
        format!("{from}/{proto}")
    } else {
        format!("{from}-{to}/{proto}")
    })
}

fn sort_key(port: &str) -> (u8, u16, String) {
    let (range, proto) = port.split_once('/').unwrap_or((port, ""));
    let from = range
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let rank = if port == "icmp" { 1 } else { 0 };
    (rank, from, proto.to_string())
}

/// `--endpoints a,b`: the names, checked against the charm's endpoints as Juju checks
/// them; empty for every endpoint.
fn endpoints(ctx: &Ctx, given: Option<&str>, open: bool) -> Result<Vec<String>, ToolError> {
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for name in given.split(',').map(str::trim) {
        if !ctx.state.bindings.iter().any(|b| b == name) {
            return Err(ToolError::fail(format!(
                "{} port range: endpoint \"{name}\" for unit \"{}\" not found",
                if open { "open" } else { "close" },
                ctx.state.unit
            )));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Every endpoint: how opened-ports --endpoints shows a port open on all of them.
const ALL: &str = "*";

pub(crate) fn open_port(ctx: &mut Ctx, argv: &[String], open: bool) -> ToolResult {
    let endpoints_flag = option(&["endpoints"]);
    let p = args::parse(&[&endpoints_flag, &FORMAT], argv)?;
    let Some(spec) = p.args.first() else {
        return Err(ToolError::usage("no port or range specified"));
    };
    p.at_most(1)?;
    let port = parse_port(&spec.to_ascii_lowercase()).map_err(ToolError::usage)?;
    let named = endpoints(ctx, p.value("endpoints"), open)?;
    let data = ctx.data();
    let was_open = data.opened_ports.contains(&port);
    let mut on: Vec<String> = match data.port_endpoints.get(&port) {
        Some(list) => list.clone(),
        None if was_open => vec![ALL.to_string()],
        None => Vec::new(),
    };
    if open {
        let add = if named.is_empty() {
            vec![ALL.to_string()]
        } else {
            named
        };
        for e in add {
            if !on.contains(&e) {
                on.push(e);
            }
        }
    } else if named.is_empty() {
        on.clear();
    } else {
        on.retain(|e| !named.contains(e));
    }
    on.sort();
    if on.is_empty() {
        data.opened_ports.retain(|p| *p != port);
        data.port_endpoints.remove(&port);
        return Ok(Vec::new());
    }
    if !was_open {
        data.opened_ports.push(port.clone());
        data.opened_ports.sort_by_key(|p| sort_key(p));
    }
    if on == [ALL] {
        data.port_endpoints.remove(&port);
    } else {
        data.port_endpoints.insert(port, on);
    }
    Ok(Vec::new())
}

pub(crate) fn opened_ports(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let endpoints = flag(&["endpoints"]);
    let p = args::parse(&[&endpoints, &FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    let staged = &ctx.hook.staged;
    let list = staged
        .opened_ports
        .iter()
        .map(|port| {
            Value::String(if p.has("endpoints") {
                let on = staged
                    .port_endpoints
                    .get(port)
                    .map_or_else(|| ALL.to_string(), |e| e.join(", "));
                format!("{port} ({on})")
            } else {
                port.clone()
            })
        })
        .collect();
    output(&p, &Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn port_specs() {
        assert_eq!(parse_port("80").as_deref(), Ok("80/tcp"));
        assert_eq!(parse_port("53/UDP").as_deref(), Ok("53/udp"));
        assert_eq!(parse_port("8000-8010/udp").as_deref(), Ok("8000-8010/udp"));
        assert_eq!(parse_port("icmp").as_deref(), Ok("icmp"));
        for bad in ["0", "70000", "80/sctp", "10-5", "http", "", "80-"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }
}
