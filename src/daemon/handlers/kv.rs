//! `lucky kv get|set`: unit-local key-values, durable before the call returns.

use super::check_keys;
use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use serde_json::Value;
use std::sync::Arc;

pub(crate) fn get(daemon: &Daemon, key: Option<String>) -> Result<Response, ErrorReply> {
    Ok(Response::Value(daemon.state.kv.read(|kv| {
        match key {
            Some(key) => kv.get(&key).cloned().map_or(Value::Null, Value::String),
            None => Value::Object(
                kv.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        }
    })))
}

/// Largest single value: room for a certificate chain or a small config file.
pub(crate) const MAX_VALUE: usize = 64 * 1024;
/// Largest store (keys and values together): every set rewrites (and fsyncs) the whole
/// document, and it is held in memory for the daemon's life.
pub(crate) const MAX_TOTAL: usize = 1024 * 1024;

pub(crate) async fn set(
    daemon: &Arc<Daemon>,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    if let Some((k, v)) = pairs
        .iter()
        .find_map(|(k, v)| v.as_ref().filter(|v| v.len() > MAX_VALUE).map(|v| (k, v)))
    {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot store kv key {k:?}: its value is {} bytes and the limit is {MAX_VALUE} bytes; keep large data in a file",
                v.len()
            ),
        ));
    }
    let daemon = Arc::clone(daemon);
    // The write (two fsyncs) runs off the daemon's event loop: other clients go on.
    tokio::task::spawn_blocking(move || {
        daemon.state.kv.try_update(|kv| {
            for (k, v) in pairs {
                match v {
                    Some(v) => kv.insert(k, v),
                    None => kv.remove(&k),
                };
            }
            let total: usize = kv.iter().map(|(k, v)| k.len() + v.len()).sum();
            if total > MAX_TOTAL {
                return Err(ErrorReply::new(
                    ErrorKind::BadRequest,
                    format!(
                        "cannot store these kv values: the unit's kv store would hold {total} bytes and the limit is {MAX_TOTAL} bytes; delete keys you no longer need (`lucky kv set KEY=`)"
                    ),
                ));
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("kv write failed: {e}")))?
    .map_err(|e| match e {
        crate::state::UpdateError::Refused(reply) => reply,
        crate::state::UpdateError::State(e) => ErrorReply::new(ErrorKind::Internal, e.to_string()),
    })?;
    Ok(Response::Ok)
}
