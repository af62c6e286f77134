//! `lucky goal-state`: Juju's goal-state.

use super::{Caller, juju_error};
use crate::protocol::{ErrorReply, Response};

pub(crate) async fn get(caller: &Caller) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("goal-state")?;
    let value = crate::juju::json(ctx, "goal-state", &[])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}
