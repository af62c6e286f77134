//! credential-get: the cloud spec of the unit's model. Juju answers only when the
//! application is trusted (`juju trust`, `juju deploy --trust`); the simulated cloud is a
//! local LXD one, with credential attributes that only say they are simulated.

use super::args::{self, FORMAT, OUTPUT};
use super::{Ctx, ToolError, ToolResult, output};
use serde_json::{Value, json};

/// The simulated model's cloud spec, with the fields (and names) Juju's has.
pub(crate) fn cloud_spec() -> Value {
    json!({
        "type": "lxd",
        "name": "localhost",
        "region": "localhost",
        "endpoint": "https://10.0.0.1:8443",
        "credential": {
            "auth-type": "certificate",
            "attrs": {
                "client-cert": "simulated-client-cert",
                "client-key": "simulated-client-key",
                "server-cert": "simulated-server-cert",
            },
        },
        "is-controller-cloud": true,
    })
}

pub(crate) fn credential_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    p.format()?;
    if !ctx.state.machine.trusted {
        return Err(ToolError::fail(
            "cannot access cloud credentials: permission denied",
        ));
    }
    output(&p, &cloud_spec())
}
