//! `lucky private-address` / `public-address`: from Juju in a hook, else the last known.

use super::{Caller, juju_error};
use crate::daemon::Daemon;
use crate::protocol::{ErrorReply, Response};
use serde_json::Value;
use std::sync::Arc;

pub(crate) async fn get(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    public: bool,
) -> Result<Response, ErrorReply> {
    let what = if public {
        "public-address"
    } else {
        "private-address"
    };
    let cached = || {
        daemon.state.juju_cache.read(|c| {
            if public {
                c.public_address.clone()
            } else {
                c.private_address.clone()
            }
        })
    };
    let address = match &caller.context {
        Some(ctx) => {
            let address = crate::juju::text(ctx, "unit-get", &[what])
                .await
                .map_err(juju_error)?;
            if cached().as_deref() != Some(address.as_str()) {
                let stored = address.clone();
                // Written (and fsynced) off the event loop, like every handler's write.
                let writer = Arc::clone(daemon);
                let result = tokio::task::spawn_blocking(move || {
                    writer.state.juju_cache.update(|c| {
                        if public {
                            c.public_address = Some(stored);
                        } else {
                            c.private_address = Some(stored);
                        }
                    })
                })
                .await;
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!("cannot cache the {what}: {e}"),
                    Err(e) => tracing::warn!("cannot cache the {what}: {e}"),
                }
            }
            address
        }
        None => cached().ok_or_else(|| caller.no_context(what))?,
    };
    Ok(Response::Value(Value::String(address)))
}
