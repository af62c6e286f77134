//! `lucky get-config`, `lucky get-resource`.

use super::{Caller, bad_arg, juju_error};
use crate::daemon::Daemon;
use crate::protocol::{ErrorReply, Response};
use serde_json::Value;
use std::sync::Arc;

pub(crate) async fn get(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    key: Option<String>,
) -> Result<Response, ErrorReply> {
    let config = match &caller.context {
        Some(ctx) => {
            ctx.config
                .get_or_try_init(|| async {
                    let config = crate::juju::json(ctx, "config-get", &["--all"])
                        .await
                        .map_err(juju_error)?;
                    // Kept for calls made outside a hook; a failed write only loses that.
                    // Written (and fsynced) off the event loop, like every handler's write.
                    let (writer, stored) = (Arc::clone(daemon), config.clone());
                    let written = tokio::task::spawn_blocking(move || {
                        writer.state.juju_cache.update(|c| c.config = Some(stored))
                    })
                    .await;
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::warn!("cannot cache the config: {e}"),
                        Err(e) => tracing::warn!("cannot cache the config: {e}"),
                    }
                    Ok::<_, ErrorReply>(config)
                })
                .await?
                .clone()
        }
        None => daemon
            .state
            .juju_cache
            .read(|c| c.config.clone())
            .ok_or_else(|| caller.no_context("get-config"))?,
    };
    Ok(Response::Value(match key {
        None => config,
        Some(key) => config.get(&key).cloned().unwrap_or(Value::Null),
    }))
}

pub(crate) async fn resource(caller: &Caller, name: &str) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("get-resource")?;
    let name = crate::juju::args::resource_name(name).map_err(bad_arg)?;
    let path = crate::juju::text(ctx, "resource-get", &["--", name])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(Value::String(path)))
}
