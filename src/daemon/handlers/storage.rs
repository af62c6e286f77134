//! `lucky storage get|list|add`: Juju's storage-get, storage-list, storage-add.

use super::{Caller, bad_arg, juju_error};
use crate::juju::args;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::HookContext;

/// Most instances one `storage add` asks for (Juju's ranges are small; a typo's 1000000
/// would have the agent provision disks until it fails).
pub(crate) const MAX_ADD: u32 = 64;

pub(crate) async fn get(
    caller: &Caller,
    id: Option<String>,
    key: Option<String>,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("storage get")?;
    let mut argv = Vec::new();
    if let Some(id) = &id {
        argv.extend(["-s", args::storage_id(id).map_err(bad_arg)?]);
    } else if ctx.var("JUJU_STORAGE_ID").is_none_or(str::is_empty) {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot get storage in hook {}: it is not a storage hook; name the storage with -s ID (see `lucky storage list`)",
                ctx.hook
            ),
        ));
    }
    if let Some(key) = &key {
        if key != "kind" && key != "location" {
            return Err(ErrorReply::new(
                ErrorKind::BadRequest,
                format!("cannot get storage attribute {key:?}: use kind or location"),
            ));
        }
        argv.extend(["--", key.as_str()]);
    }
    let value = crate::juju::json(ctx, "storage-get", &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Value(value))
}

pub(crate) async fn list(caller: &Caller, name: Option<String>) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("storage list")?;
    let mut argv = Vec::new();
    if let Some(name) = &name {
        declared(ctx, "list", name)?;
        argv.extend(["--", name.as_str()]);
    }
    let value = crate::juju::json(ctx, "storage-list", &argv)
        .await
        .map_err(juju_error)?;
    // Juju prints null for no storage; a list either way.
    Ok(Response::Value(match value {
        serde_json::Value::Null => serde_json::Value::Array(Vec::new()),
        other => other,
    }))
}

pub(crate) async fn add(caller: &Caller, name: &str, count: u32) -> Result<Response, ErrorReply> {
    let ctx = caller.hook("storage add")?;
    declared(ctx, "add", name)?;
    if count == 0 || count > MAX_ADD {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!("cannot add {count} instances of storage {name:?}: ask for 1 to {MAX_ADD}"),
        ));
    }
    let directive = format!("{name}={count}");
    crate::juju::exec(ctx, "storage-add", &["--", &directive])
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

/// Refuses a storage name the charm's metadata.yaml does not declare, naming those it does.
fn declared(ctx: &HookContext, what: &str, name: &str) -> Result<(), ErrorReply> {
    let name = args::storage_name(name).map_err(bad_arg)?;
    let Some(dir) = ctx.var("JUJU_CHARM_DIR").or_else(|| ctx.var("CHARM_DIR")) else {
        return Err(ErrorReply::new(
            ErrorKind::Charm,
            format!("cannot {what} storage {name:?}: the hook has no JUJU_CHARM_DIR"),
        ));
    };
    let meta = crate::charm::metadata::load(std::path::Path::new(dir)).map_err(ErrorReply::from)?;
    if meta.storage.iter().any(|s| s == name) {
        return Ok(());
    }
    let known = if meta.storage.is_empty() {
        "it declares none".to_string()
    } else {
        format!("it declares {}", meta.storage.join(", "))
    };
    Err(ErrorReply::new(
        ErrorKind::BadRequest,
        format!("cannot {what} storage {name:?}: metadata.yaml declares no such storage ({known})"),
    ))
}
