//! Container scripts: run through the exec API inside the unit's container, with the
//! hook's environment, output streamed into the hook, and the exit code read from the
//! exec itself (never scraped from output).

use super::{
    CONTAINER_LUCKY_BIN, CONTAINER_SCRIPTS, CONTAINER_SOCKET, DockerState, describe, docker_name,
    spec,
};
use crate::protocol::Stream;
use crate::script::{
    ContainerTarget, HookContext, OutputSink, ScriptEntry, ScriptFailure, ScriptKind,
};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;
use std::time::Duration;

/// Runs one `container-script` / `inline-container-script` entry to completion.
pub(crate) async fn run_container_script(
    docker_state: &DockerState,
    unit: &str,
    entry: &ScriptEntry,
    context: &HookContext,
    token: &str,
    out: &OutputSink,
) -> Result<(), ScriptFailure> {
    let (cmd, target) = match &entry.kind {
        ScriptKind::Container { name, target } => {
            let mut cmd = vec![format!("{CONTAINER_SCRIPTS}/{name}")];
            cmd.extend(entry.args.iter().cloned());
            (cmd, target)
        }
        ScriptKind::InlineContainer {
            script,
            shell,
            target,
        } => {
            if shell.is_empty() {
                return Err(ScriptFailure::new(entry, "has an empty shell-command"));
            }
            // `sh -c SCRIPT NAME ARGS…`: NAME becomes $0, ARGS $1…
            let mut cmd = shell.clone();
            cmd.push(script.clone());
            cmd.push(entry.id.clone());
            cmd.extend(entry.args.iter().cloned());
            (cmd, target)
        }
        ScriptKind::Host { .. } | ScriptKind::InlineHost { .. } => {
            return Err(ScriptFailure::new(
                entry,
                "is a host script, not a container script",
            ));
        }
    };
    let key = spec::container_key(target.container_name.as_deref())
        .map_err(|e| ScriptFailure::new(entry, e.0))?;
    let name = docker_name(unit, &key);
    let fail = |cause: String| ScriptFailure::new(entry, format!("in container {name}: {cause}"));

    let docker = docker_state.client().await.map_err(|e| fail(e.0))?;
    let Some(path) = is_running(&docker, &name, target, entry, out)
        .await
        .map_err(fail)?
    else {
        return Ok(());
    };
    let options = CreateExecOptions {
        cmd: Some(cmd),
        env: Some(exec_env(entry, context, token, path)),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        attach_stdin: Some(false),
        tty: Some(false),
        ..Default::default()
    };
    let exec = docker
        .create_exec(&name, options)
        .await
        .map_err(|e| fail(format!("cannot start the script: {}", describe(&e))))?;
    match docker
        .start_exec(&exec.id, None)
        .await
        .map_err(|e| fail(format!("cannot start the script: {}", describe(&e))))?
    {
        StartExecResults::Attached { mut output, .. } => {
            while let Some(item) = output.next().await {
                match item {
                    Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                        out.send(Stream::Stdout, message.to_vec()).await
                    }
                    Ok(LogOutput::StdErr { message }) => {
                        out.send(Stream::Stderr, message.to_vec()).await
                    }
                    Ok(LogOutput::StdIn { .. }) => {}
                    Err(e) => {
                        return Err(fail(format!("lost the script's output: {}", describe(&e))));
                    }
                }
            }
        }
        StartExecResults::Detached => {}
    }
    let code = exit_code(&docker, &exec.id).await.map_err(fail)?;
    match code {
        0 => Ok(()),
        // A binary that does not exist or cannot run: Docker's exec says 126/127.
        126 => Err(fail(
            "the script is not executable (exit status 126)".into(),
        )),
        127 => Err(fail(
            "the script or its interpreter was not found (exit status 127)".into(),
        )),
        code => Err(ScriptFailure::new(
            entry,
            format!("exited with status {code}"),
        )),
    }
    .map_err(|f| f.with_exit_status(code))
}

/// The container's PATH when it runs. Missing or stopped: an error, unless the entry
/// says to skip (`None`; a line in the hook output says why nothing ran).
async fn is_running(
    docker: &bollard::Docker,
    name: &str,
    target: &ContainerTarget,
    entry: &ScriptEntry,
    out: &OutputSink,
) -> Result<Option<String>, String> {
    let (running, path) = match docker.inspect_container(name, None).await {
        Ok(info) => (
            info.state.and_then(|s| s.running).unwrap_or(false),
            info.config
                .and_then(|c| c.env)
                .unwrap_or_default()
                .into_iter()
                .find_map(|v| v.strip_prefix("PATH=").map(str::to_string)),
        ),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => (false, None),
        Err(e) => return Err(format!("cannot inspect the container: {}", describe(&e))),
    };
    if running {
        return Ok(Some(exec_path(path)));
    }
    if target.ignore_missing_container {
        out.line(
            Stream::Stderr,
            format!(
                "lucky: skipped {} (line {}): container {name} is not running and ignore-missing-container is set",
                entry.kind.describe(),
                entry.line
            ),
        )
        .await;
        return Ok(None);
    }
    Err("the container does not exist or is not running (set an image with `lucky container image set`, or add `ignore-missing-container: true`)".into())
}

/// The exit code from exec inspect. The output stream can end a moment before the
/// engine records the exit, so wait briefly for `running` to turn false.
async fn exit_code(docker: &bollard::Docker, exec_id: &str) -> Result<i64, String> {
    for _ in 0..200 {
        let info = docker
            .inspect_exec(exec_id)
            .await
            .map_err(|e| format!("cannot read the script's exit status: {}", describe(&e)))?;
        if info.running != Some(true) {
            return info
                .exit_code
                .ok_or_else(|| "the engine reported no exit status for the script".to_string());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err("the script's exec never finished according to the engine".into())
}

/// Hook variables a container script sees: what the hook is about (unit, relation,
/// remote unit, action). Everything else stays on the host: `JUJU_CONTEXT_ID` and the
/// agent's socket address would let the workload talk to the unit agent as the hook,
/// host paths mean nothing inside, and the rest is not the workload's business. See
/// docs/container-policy.md.
pub(crate) const CONTAINER_HOOK_VARS: &[&str] = &[
    "JUJU_UNIT_NAME",
    "JUJU_PRINCIPAL_UNIT",
    "JUJU_MODEL_NAME",
    "JUJU_MODEL_UUID",
    "JUJU_VERSION",
    "JUJU_AVAILABILITY_ZONE",
    "JUJU_HOOK_NAME",
    "JUJU_RELATION",
    "JUJU_RELATION_ID",
    "JUJU_REMOTE_UNIT",
    "JUJU_REMOTE_APP",
    "JUJU_DEPARTING_UNIT",
    "JUJU_ACTION_NAME",
    "JUJU_ACTION_UUID",
    // Which storage a storage hook is about; its location is a host path.
    "JUJU_STORAGE_ID",
    "JUJU_STORAGE_KIND",
    "JUJU_SECRET_ID",
    "JUJU_SECRET_LABEL",
    "JUJU_SECRET_REVISION",
];

/// The allowed part of the hook's environment plus what `lucky` in the container needs
/// to reach the daemon as this script: its own token, never the hook's.
fn exec_env(entry: &ScriptEntry, context: &HookContext, token: &str, path: String) -> Vec<String> {
    let mut env: Vec<String> = context
        .env
        .iter()
        .filter(|(k, _)| CONTAINER_HOOK_VARS.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.extend([
        format!("PATH={path}"),
        format!("LUCKY_SOCKET={CONTAINER_SOCKET}"),
        format!("LUCKY_CONTEXT={token}"),
        format!("LUCKY_HOOK={}", context.hook),
        format!("LUCKY_SCRIPT_ID={}", entry.id),
    ]);
    env
}

/// The image's PATH with the mounted lucky's folder added when missing (a busybox-only
/// image has PATH=/bin), so scripts can call plain `lucky`.
fn exec_path(image_path: Option<String>) -> String {
    let path = image_path
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    let lucky_dir = CONTAINER_LUCKY_BIN
        .rsplit_once('/')
        .map_or("/usr/bin", |(d, _)| d);
    if path.split(':').any(|p| p == lucky_dir) {
        path
    } else {
        format!("{path}:{lucky_dir}")
    }
}

/// A health check's command in the unit's container `container` (`None`: the default
/// one), with no hook context and no token: its exit code and the first `limit` bytes of
/// its output (stdout and stderr together; the rest is read and dropped).
pub(crate) async fn probe(
    docker_state: &DockerState,
    unit: &str,
    container: Option<&str>,
    cmd: Vec<String>,
    limit: usize,
) -> Result<(i64, Vec<u8>), String> {
    let key = spec::container_key(container).map_err(|e| e.0)?;
    let name = docker_name(unit, &key);
    let docker = docker_state.client().await.map_err(|e| e.0)?;
    let options = CreateExecOptions {
        cmd: Some(cmd),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        attach_stdin: Some(false),
        tty: Some(false),
        ..Default::default()
    };
    let exec = docker
        .create_exec(&name, options)
        .await
        .map_err(|e| format!("cannot run in container {name}: {}", describe(&e)))?;
    let mut kept = Vec::new();
    if let StartExecResults::Attached { mut output, .. } =
        docker
            .start_exec(&exec.id, None)
            .await
            .map_err(|e| format!("cannot run in container {name}: {}", describe(&e)))?
    {
        while let Some(item) = output.next().await {
            match item {
                Ok(
                    LogOutput::StdOut { message }
                    | LogOutput::StdErr { message }
                    | LogOutput::Console { message },
                ) => {
                    let room = limit.saturating_sub(kept.len());
                    kept.extend_from_slice(&message[..message.len().min(room)]);
                }
                Ok(LogOutput::StdIn { .. }) => {}
                Err(e) => return Err(format!("lost the output in {name}: {}", describe(&e))),
            }
        }
    }
    let code = exit_code(&docker, &exec.id).await?;
    Ok((code, kept))
}

/// Restarts the unit's container `container` (its lucky.yaml name), as a failed health
/// check asks.
pub(crate) async fn restart(
    docker_state: &DockerState,
    unit: &str,
    container: &str,
) -> Result<(), String> {
    let key = spec::container_key(Some(container)).map_err(|e| e.0)?;
    let name = docker_name(unit, &key);
    let docker = docker_state.client().await.map_err(|e| e.0)?;
    docker
        .restart_container(
            &name,
            Some(bollard::query_parameters::RestartContainerOptions {
                t: Some(10),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| format!("cannot restart container {name}: {}", describe(&e)))
}
