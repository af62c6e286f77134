//! How a host script is started, and the environment it gets.

use crate::protocol::Stream;
use crate::script::{HookContext, OutputSink, ScriptEntry, ScriptFailure, ScriptKind};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use tokio::process::Command;

/// What a script needs from the daemon besides its hook context.
pub(crate) struct ScriptEnv<'a> {
    pub(crate) socket: &'a Path,
    /// Folder holding a `lucky` link to the daemon's own binary, put first on PATH.
    pub(crate) lucky_bin_dir: &'a Path,
    pub(crate) charm_dir: &'a Path,
}

/// Runs one host script to completion, streaming its output.
pub(crate) async fn run_host(
    entry: &ScriptEntry,
    context: &HookContext,
    env: &ScriptEnv<'_>,
    out: &OutputSink,
) -> Result<(), ScriptFailure> {
    let mut cmd = match &entry.kind {
        ScriptKind::Host { path, .. } => {
            let mut cmd = Command::new(path);
            cmd.args(&entry.args);
            cmd
        }
        ScriptKind::InlineHost { script, shell } => {
            let (program, shell_args) = shell
                .split_first()
                .ok_or_else(|| ScriptFailure::new(entry, "has an empty shell-command"))?;
            let mut cmd = Command::new(program);
            // `sh -c SCRIPT NAME ARGS…`: NAME becomes $0, ARGS $1…
            cmd.args(shell_args)
                .arg(script)
                .arg(&entry.id)
                .args(&entry.args);
            cmd
        }
        ScriptKind::Container { .. } | ScriptKind::InlineContainer { .. } => {
            return Err(ScriptFailure::new(
                entry,
                "is a container script: it runs through Docker exec, not on the host",
            ));
        }
    };
    cmd.env_clear()
        .envs(script_env(entry, context, env))
        .current_dir(env.charm_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| ScriptFailure::new(entry, format!("could not be started: {e}")))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let pump_out = async {
        if let Some(s) = stdout {
            out.pump(Stream::Stdout, s).await;
        }
    };
    let pump_err = async {
        if let Some(s) = stderr {
            out.pump(Stream::Stderr, s).await;
        }
    };
    let pumps = async {
        tokio::join!(pump_out, pump_err);
    };
    tokio::pin!(pumps);
    let mut drained = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            () = &mut pumps, if !drained => drained = true,
        }
    };
    // A process the script left running in the background may hold the output pipes
    // open for ever: once the script itself has exited, its output gets a short grace.
    if !drained
        && tokio::time::timeout(OUTPUT_GRACE, &mut pumps)
            .await
            .is_err()
    {
        tracing::warn!(
            script = %entry.id,
            "exited, but a process it started still holds its output open; not waiting for it"
        );
    }
    let status = status.map_err(|e| ScriptFailure::new(entry, format!("was lost: {e}")))?;
    check_status(entry, status)
}

/// How long output may keep arriving after a script has exited.
const OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

fn check_status(entry: &ScriptEntry, status: ExitStatus) -> Result<(), ScriptFailure> {
    if status.success() {
        return Ok(());
    }
    let cause = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => format!("ended abnormally ({status})"),
    };
    let failure = ScriptFailure::new(entry, cause);
    Err(match status.code() {
        Some(code) => failure.with_exit_status(code.into()),
        None => failure,
    })
}

/// The forwarded hook environment, plus what a script needs to reach the daemon.
pub(crate) fn script_env(
    entry: &ScriptEntry,
    context: &HookContext,
    env: &ScriptEnv<'_>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = context
        .env
        .iter()
        .filter(|(k, _)| k.as_str() != "PATH")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut path: Vec<PathBuf> = vec![env.lucky_bin_dir.to_path_buf(), env.charm_dir.join("bin")];
    match context.var("PATH") {
        Some(p) => path.extend(std::env::split_paths(p)),
        None => path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from)),
    }
    let path = std::env::join_paths(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let charm_dir = env.charm_dir.to_string_lossy().into_owned();
    vars.extend([
        ("PATH".to_string(), path),
        ("CHARM_DIR".to_string(), charm_dir.clone()),
        ("JUJU_CHARM_DIR".to_string(), charm_dir),
        ("LUCKY_HOOK".to_string(), context.hook.clone()),
        ("LUCKY_SCRIPT_ID".to_string(), entry.id.clone()),
        (
            "LUCKY_SOCKET".to_string(),
            env.socket.to_string_lossy().into_owned(),
        ),
        ("LUCKY_CONTEXT".to_string(), context.token.clone()),
    ]);
    vars
}
