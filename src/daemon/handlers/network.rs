//! `lucky network get`: Juju's network-get.

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorReply, Response};

/// The fields asked for; none means the whole answer.
pub(crate) struct Fields {
    pub(crate) bind_address: bool,
    pub(crate) ingress_address: bool,
    pub(crate) egress_subnets: bool,
}

pub(crate) async fn get(
    caller: &Caller,
    binding: &str,
    relation_id: Option<String>,
    fields: Fields,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("network get")?;
    let binding = args::binding_name(binding).map_err(bad_arg)?;
    let mut argv = Vec::new();
    if fields.bind_address {
        argv.push("--bind-address");
    }
    if fields.ingress_address {
        argv.push("--ingress-address");
    }
    if fields.egress_subnets {
        argv.push("--egress-subnets");
    }
    if let Some(id) = &relation_id {
        argv.extend(["-r", args::relation_id(id).map_err(bad_arg)?]);
    }
    argv.extend(["--", binding]);
    let value = crate::juju::json(ctx, "network-get", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}
