//! `lucky port open|close|get-opened`.

use super::{Caller, bad_arg, juju_error};
use crate::protocol::{ErrorKind, ErrorReply, Response};
use serde_json::Value;

/// `80`, `80/tcp`, `8000-8010/udp` or `icmp`, in any case as Juju takes them (`80/TCP`,
/// `ICMP`): checked here so a typo fails clearly, and given to Juju in lowercase.
fn check_port(spec: &str) -> Result<String, ErrorReply> {
    let lower = spec.to_ascii_lowercase();
    check_lower(&lower).ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::BadRequest,
            format!("invalid port {spec:?}: use PORT, PORT/tcp, PORT/udp, FROM-TO[/proto] or icmp"),
        )
    })?;
    Ok(lower)
}

/// `--endpoints=a,b` for the tool (names checked), or nothing for every endpoint.
fn endpoints_flag(endpoints: &[String]) -> Result<Option<String>, ErrorReply> {
    if endpoints.is_empty() {
        return Ok(None);
    }
    for e in endpoints {
        crate::juju::args::binding_name(e).map_err(bad_arg)?;
    }
    Ok(Some(format!("--endpoints={}", endpoints.join(","))))
}

fn check_lower(spec: &str) -> Option<()> {
    if spec == "icmp" {
        return Some(());
    }
    let (range, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    if !matches!(proto, "tcp" | "udp") {
        return None;
    }
    let (from, to) = range.split_once('-').unwrap_or((range, range));
    let from: u16 = from.parse().ok()?;
    let to: u16 = to.parse().ok()?;
    (from != 0 && to >= from).then_some(())
}

pub(crate) async fn open(
    caller: &Caller,
    port: &str,
    endpoints: &[String],
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("port open")?;
    let port = check_port(port)?;
    let flag = endpoints_flag(endpoints)?;
    let mut argv: Vec<&str> = flag.as_deref().into_iter().collect();
    argv.extend(["--", &port]);
    crate::juju::exec(ctx, "open-port", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub(crate) async fn close(
    caller: &Caller,
    port: Option<String>,
    endpoints: &[String],
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("port close")?;
    let flag = endpoints_flag(endpoints)?;
    let ports = match port {
        Some(port) => vec![check_port(&port)?],
        None => opened_list(ctx).await?,
    };
    for port in ports {
        let mut argv: Vec<&str> = flag.as_deref().into_iter().collect();
        argv.extend(["--", &port]);
        crate::juju::exec(ctx, "close-port", &argv)
            .await
            .map_err(juju_error)?;
    }
    Ok(Response::Ok)
}

async fn opened_list(ctx: &crate::script::HookContext) -> Result<Vec<String>, ErrorReply> {
    let value = crate::juju::json(ctx, "opened-ports", &[])
        .await
        .map_err(juju_error)?;
    Ok(value
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

pub(crate) async fn opened(caller: &Caller) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("port get-opened")?;
    let ports = opened_list(ctx).await?;
    Ok(Response::Value(Value::Array(
        ports.into_iter().map(Value::String).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::check_port;

    #[test]
    fn port_specs() {
        for ok in ["80", "80/tcp", "53/udp", "8000-8010/tcp", "icmp"] {
            assert_eq!(check_port(ok).ok().as_deref(), Some(ok));
        }
        assert_eq!(check_port("53/UDP").ok().as_deref(), Some("53/udp"));
        assert_eq!(check_port("ICMP").ok().as_deref(), Some("icmp"));
        for bad in ["", "0", "http", "80/sctp", "90-80", "70000", "80/"] {
            assert!(check_port(bad).is_err(), "{bad}");
        }
    }
}
