//! `lucky secret add|get|set|ids|info-get|grant|revoke|remove`: Juju's secret-* hook
//! tools. Every client string is checked by `juju::args`; ids and keys by Juju's own
//! rules, flag values go as one `--flag=VALUE` word, positional words after `--`.
//!
//! Content never goes on a command line: it is written to a file only the daemon's user
//! can read, given to the tool as `--file`, and removed when the tool has run.
//!
//! From a container script (docs/container-policy.md): reading is allowed, adding only a
//! unit-owned secret, and setting only a secret the unit owns, which is checked here
//! with secret-info-get before secret-set runs.

use super::{Caller, Origin, bad_arg, juju_error};
use crate::daemon::Daemon;
use crate::juju::args;
use crate::protocol::secret::{SecretMeta, SecretRequest};
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::HookContext;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) async fn handle(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: SecretRequest,
) -> Result<Response, ErrorReply> {
    let ctx = caller.hook(request.command())?;
    match request {
        SecretRequest::Add {
            content,
            unit_owned,
            meta,
        } => {
            let mut argv = meta_flags(&meta)?;
            if unit_owned {
                argv.push("--owner=unit".into());
            }
            let out = with_content(daemon, ctx, "secret-add", argv, &content, true).await?;
            Ok(Response::Value(Value::String(out.trim().to_string())))
        }
        SecretRequest::Get {
            id,
            label,
            key,
            peek,
            refresh,
        } => {
            let mut argv = vec!["--format=json".to_string()];
            if let Some(label) = &label {
                argv.push(format!(
                    "--label={}",
                    args::flag_value("label", label).map_err(bad_arg)?
                ));
            }
            if peek {
                argv.push("--peek".into());
            }
            if refresh {
                argv.push("--refresh".into());
            }
            argv.push("--".into());
            match (&id, &key) {
                (Some(id), _) => argv.push(args::secret_id(id).map_err(bad_arg)?.into()),
                (None, Some(_)) => {
                    return Err(ErrorReply::new(
                        ErrorKind::BadRequest,
                        "cannot get one key of a secret named by --label alone: give its id too (secret:…)",
                    ));
                }
                (None, None) => {}
            }
            if let Some(key) = &key {
                argv.push(args::secret_key(key).map_err(bad_arg)?.into());
            }
            json(ctx, "secret-get", &argv).await
        }
        SecretRequest::Set { id, content, meta } => {
            let id = args::secret_id(&id).map_err(bad_arg)?.to_string();
            if caller.origin == Origin::Container {
                check_unit_owned(ctx, &id).await?;
            }
            let mut argv = meta_flags(&meta)?;
            argv.push("--".into());
            argv.push(id);
            with_content(daemon, ctx, "secret-set", argv, &content, false).await?;
            Ok(Response::Ok)
        }
        SecretRequest::Ids => json(ctx, "secret-ids", &["--format=json".into()]).await,
        SecretRequest::InfoGet { id, label } => {
            let mut argv = vec!["--format=json".to_string()];
            if let Some(label) = &label {
                argv.push(format!(
                    "--label={}",
                    args::flag_value("label", label).map_err(bad_arg)?
                ));
            }
            if let Some(id) = &id {
                argv.push("--".into());
                argv.push(args::secret_id(id).map_err(bad_arg)?.into());
            }
            json(ctx, "secret-info-get", &argv).await
        }
        SecretRequest::Grant {
            id,
            relation_id,
            unit,
        } => {
            let argv = scoped(&id, relation_id.as_deref(), None, unit.as_deref())?;
            exec(ctx, "secret-grant", &argv).await
        }
        SecretRequest::Revoke {
            id,
            relation_id,
            app,
            unit,
        } => {
            let argv = scoped(&id, relation_id.as_deref(), app.as_deref(), unit.as_deref())?;
            exec(ctx, "secret-revoke", &argv).await
        }
        SecretRequest::Remove { id, revision } => {
            let mut argv = Vec::new();
            if let Some(r) = revision {
                argv.push(format!("--revision={r}"));
            }
            argv.push("--".into());
            argv.push(args::secret_id(&id).map_err(bad_arg)?.into());
            exec(ctx, "secret-remove", &argv).await
        }
    }
}

fn meta_flags(meta: &SecretMeta) -> Result<Vec<String>, ErrorReply> {
    let mut argv = Vec::new();
    for (flag, value) in [
        ("label", &meta.label),
        ("description", &meta.description),
        ("expire", &meta.expire),
        ("rotate", &meta.rotate),
    ] {
        if let Some(v) = value {
            let v = args::flag_value(flag, v).map_err(bad_arg)?;
            argv.push(format!("--{flag}={v}"));
        }
    }
    Ok(argv)
}

async fn json(ctx: &HookContext, tool: &str, argv: &[String]) -> Result<Response, ErrorReply> {
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = crate::juju::run_tool(ctx, tool, &argv)
        .await
        .map_err(juju_error)?;
    if out.trim().is_empty() {
        return Ok(Response::Value(Value::Null));
    }
    let value = serde_json::from_str(&out).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Juju,
            format!("{tool} printed something that is not JSON ({e})"),
        )
    })?;
    Ok(Response::Value(value))
}

async fn exec(ctx: &HookContext, tool: &str, argv: &[String]) -> Result<Response, ErrorReply> {
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    crate::juju::exec(ctx, tool, &argv)
        .await
        .map_err(juju_error)?;
    Ok(Response::Ok)
}

/// A container script may set only a secret its unit owns.
async fn check_unit_owned(ctx: &HookContext, id: &str) -> Result<(), ErrorReply> {
    let out = crate::juju::run_tool(ctx, "secret-info-get", &["--format=json", "--", id])
        .await
        .map_err(juju_error)?;
    let info: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    let owner = info
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|v| v.get("owner"))
        .and_then(Value::as_str);
    if owner == Some("unit") {
        return Ok(());
    }
    Err(ErrorReply::new(
        ErrorKind::Denied,
        format!(
            "`lucky secret set` of {id} is not allowed from inside a container: it is owned by the {}, and containers may change only secrets their unit owns (add them with --owner unit); set it from a host script",
            owner.unwrap_or("application")
        ),
    ))
}

/// Runs `tool argv… [--file F]` with `content` in F (JSON, read only by the daemon's
/// user), removed afterwards whatever happened. `required`: the tool needs content.
async fn with_content(
    daemon: &Arc<Daemon>,
    ctx: &HookContext,
    tool: &str,
    mut argv: Vec<String>,
    content: &[(String, String)],
    required: bool,
) -> Result<String, ErrorReply> {
    if content.is_empty() && required {
        return Err(ErrorReply::new(
            ErrorKind::BadRequest,
            "cannot add a secret without content: give at least one KEY=VALUE",
        ));
    }
    let mut map = serde_json::Map::new();
    for (k, v) in content {
        args::secret_key(k).map_err(bad_arg)?;
        map.insert(k.clone(), Value::String(v.clone()));
    }
    let file = if content.is_empty() {
        None
    } else {
        let file = ContentFile::write(&daemon.paths.data_dir, &Value::Object(map).to_string())?;
        argv.insert(0, format!("--file={}", file.0.display()));
        Some(file)
    };
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let result = crate::juju::run_tool(ctx, tool, &argv).await;
    drop(file);
    result.map_err(juju_error)
}

/// A content file, removed on drop.
struct ContentFile(PathBuf);

impl ContentFile {
    fn write(data_dir: &Path, text: &str) -> Result<Self, ErrorReply> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let internal = |e: std::io::Error| {
            ErrorReply::new(
                ErrorKind::Internal,
                format!(
                    "cannot write the secret content file in {}: {e}",
                    data_dir.display()
                ),
            )
        };
        let dir = data_dir.join("secret-content");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(internal)?;
        let mut name = [0u8; 12];
        getrandom::fill(&mut name).map_err(|e| internal(std::io::Error::other(e.to_string())))?;
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("{name}.json"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(internal)?;
        let file = ContentFile(path);
        f.write_all(text.as_bytes()).map_err(internal)?;
        Ok(file)
    }
}

impl Drop for ContentFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The argv of secret-grant and secret-revoke: who the grant is for, each flag value
/// checked and given as one `--flag=VALUE` word, then the secret's id after `--`.
fn scoped(
    id: &str,
    relation_id: Option<&str>,
    app: Option<&str>,
    unit: Option<&str>,
) -> Result<Vec<String>, ErrorReply> {
    let mut argv = Vec::new();
    if let Some(r) = relation_id {
        argv.push(format!(
            "--relation={}",
            args::relation_id(r).map_err(bad_arg)?
        ));
    }
    for (flag, value) in [("app", app), ("unit", unit)] {
        if let Some(v) = value {
            argv.push(format!(
                "--{flag}={}",
                args::unit_or_app(v).map_err(bad_arg)?
            ));
        }
    }
    argv.push("--".into());
    argv.push(args::secret_id(id).map_err(bad_arg)?.into());
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::super::policy::{Access, container_access};
    use crate::protocol::Request;
    use crate::protocol::secret::{SecretMeta, SecretRequest};

    fn access(r: SecretRequest) -> Access {
        container_access(&Request::Secret(r))
    }

    #[test]
    fn containers_read_and_keep_their_units_secrets_only() {
        let id = || "secret:9m4e2mr0ui3e8a215n4g".to_string();
        let add = |unit_owned| SecretRequest::Add {
            content: vec![("password".into(), "x".into())],
            unit_owned,
            meta: SecretMeta::default(),
        };
        for allowed in [
            SecretRequest::Get {
                id: Some(id()),
                label: None,
                key: None,
                peek: false,
                refresh: false,
            },
            SecretRequest::Ids,
            SecretRequest::InfoGet {
                id: Some(id()),
                label: None,
            },
            add(true),
            // Allowed by the table; the handler then refuses a secret the unit does not own.
            SecretRequest::Set {
                id: id(),
                content: Vec::new(),
                meta: SecretMeta::default(),
            },
        ] {
            assert_eq!(access(allowed.clone()), Access::ScriptToken, "{allowed:?}");
        }
        for denied in [
            add(false),
            SecretRequest::Grant {
                id: id(),
                relation_id: None,
                unit: None,
            },
            SecretRequest::Revoke {
                id: id(),
                relation_id: None,
                app: Some("client".into()),
                unit: None,
            },
            SecretRequest::Remove {
                id: id(),
                revision: None,
            },
        ] {
            let Access::Denied(why) = access(denied.clone()) else {
                panic!("{denied:?} must be denied from a container");
            };
            assert!(
                why.starts_with(&format!("`lucky {}`", denied.command())),
                "{why}"
            );
        }
    }
}
