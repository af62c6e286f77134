//! `lucky state get|set|delete`: the unit's state kept by Juju (state-get, state-set,
//! state-delete), next to the unit-local `lucky kv`. Juju commits it only when the hook
//! succeeds and keeps it on the controller, so it outlives the machine.

use super::{Caller, bad_arg, check_keys, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorReply, Response};

pub(crate) async fn get(caller: &Caller, key: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("state get")?;
    let mut argv = Vec::new();
    if let Some(key) = &key {
        argv.extend(["--", args::setting_key(key).map_err(bad_arg)?]);
    }
    let value = crate::juju::json(ctx, "state-get", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(match (value, key.is_some()) {
        // No state at all: an empty map, as for kv.
        (serde_json::Value::Null, false) => serde_json::Value::Object(Default::default()),
        (value, _) => value,
    }))
}

pub(crate) async fn set(
    caller: &Caller,
    pairs: Vec<(String, Option<String>)>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("state set")?;
    check_keys(pairs.iter().map(|(k, _)| k.as_str()))?;
    let (sets, deletes): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(_, v)| v.is_some());
    if !sets.is_empty() {
        let mut argv = vec!["--".to_string()];
        argv.extend(args::pair_words(&sets, args::setting_key).map_err(bad_arg)?);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        crate::juju::exec(ctx, "state-set", &argv)
            .await
            .map_err(juju_error)?;
    }
    for (key, _) in &deletes {
        crate::juju::exec(ctx, "state-delete", &["--", key])
            .await
            .map_err(juju_error)?;
    }
    Ok(Response::Ok)
}
