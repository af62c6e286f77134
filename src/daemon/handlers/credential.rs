//! `lucky credential-get`: the model's cloud spec (Juju's credential-get), which Juju gives
//! only to applications deployed or configured with `--trust`.

use super::{Caller, juju_error};
use crate::protocol::{ErrorReply, Response};

pub(crate) async fn get(caller: &Caller) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("credential-get")?;
    let value = crate::juju::json(ctx, "credential-get", &[])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}
