//! `lucky port open|close|get-opened`.

use super::{Caller, juju_error};
use crate::protocol::{ErrorKind, ErrorReply, Response};
use serde_json::Value;

/// `80`, `80/tcp`, `8000-8010/udp` or `icmp`: checked here so a typo fails clearly.
fn check_port(spec: &str) -> Result<(), ErrorReply> {
    let bad = || {
        ErrorReply::new(
            ErrorKind::BadRequest,
            format!("invalid port {spec:?}: use PORT, PORT/tcp, PORT/udp, FROM-TO[/proto] or icmp"),
        )
    };
    if spec == "icmp" {
        return Ok(());
    }
    let (range, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    if !matches!(proto, "tcp" | "udp") {
        return Err(bad());
    }
    let (from, to) = range.split_once('-').unwrap_or((range, range));
    let from: u16 = from.parse().map_err(|_| bad())?;
    let to: u16 = to.parse().map_err(|_| bad())?;
    if from == 0 || to < from {
        return Err(bad());
    }
    Ok(())
}

pub async fn open(caller: &Caller, port: &str) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("port open")?;
    check_port(port)?;
    crate::juju::exec(ctx, "open-port", &[port])
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

pub async fn close(caller: &Caller, port: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("port close")?;
    let ports = match port {
        Some(port) => {
            check_port(&port)?;
            vec![port]
        }
        None => opened_list(ctx).await?,
    };
    for port in ports {
        crate::juju::exec(ctx, "close-port", &[&port])
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

pub async fn opened(caller: &Caller) -> Result<Response, ErrorReply> {
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
            assert!(check_port(ok).is_ok(), "{ok}");
        }
        for bad in ["", "0", "http", "80/sctp", "90-80", "70000", "80/"] {
            assert!(check_port(bad).is_err(), "{bad}");
        }
    }
}
