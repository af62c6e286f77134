//! `lucky kv get|set`: unit-local key-values, durable before the call returns.

use super::check_keys;
use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use serde_json::Value;

pub fn get(daemon: &Daemon, key: Option<String>) -> Result<Response, ErrorReply> {
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

pub fn set(daemon: &Daemon, pairs: Vec<(String, Option<String>)>) -> Result<Response, ErrorReply> {
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    daemon
        .state
        .kv
        .update(|kv| {
            for (k, v) in pairs {
                match v {
                    Some(v) => kv.insert(k, v),
                    None => kv.remove(&k),
                };
            }
        })
        .map_err(|e| ErrorReply::new(ErrorKind::Internal, e.to_string()))?;
    Ok(Response::Ok)
}
