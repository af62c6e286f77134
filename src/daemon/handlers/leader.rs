//! `lucky leader get|set|is-leader`: the same answers on Juju 3.6 (leader-get/leader-set)
//! and Juju 4.0 (a peer relation's application data; see `juju::leader`).

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::juju::leader::{self, LeaderError};
use crate::protocol::{ErrorKind, ErrorReply, JUJU_TOOL_REFUSED, Response};
use serde_json::Value;

fn leader_error(e: LeaderError) -> ErrorReply {
    match e {
        LeaderError::Juju(e) => juju_error(e),
        // Refused in place of leader-set, which Juju 4.0 lacks: its exit status.
        e @ LeaderError::NotLeader => ErrorReply::new(ErrorKind::Juju, e.to_string())
            .with_tool_status(Some(JUJU_TOOL_REFUSED)),
        // Nothing Juju's tools refuse: Lucky's own status.
        e @ LeaderError::NoPeerRelation => ErrorReply::new(ErrorKind::Juju, e.to_string()),
    }
}

pub(crate) async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader get")?;
    let key = match &key {
        Some(key) => args::setting_key(key).map_err(bad_arg)?,
        // `-` is leader-get's "every key".
        None => "-",
    };
    let value = leader::get(ctx, key).await.map_err(leader_error)?;
    Ok(Response::Value(value))
}

pub(crate) async fn set(
    caller: &Caller,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader set")?;
    // No settings file: KEY=VALUE words after `--`, keys checked.
    let words = args::pair_words(&pairs, args::setting_key).map_err(bad_arg)?;
    leader::set(ctx, &words).await.map_err(leader_error)?;
    Ok(Response::Ok)
}

pub(crate) async fn is_leader(caller: &Caller) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("leader is-leader")?;
    let value = crate::juju::json(ctx, "is-leader", &[])
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(Value::Bool(
        value.as_bool().unwrap_or(false),
    )))
}
