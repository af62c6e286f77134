//! Running one hook tool with the forwarded hook environment.

use crate::script::HookContext;
use std::process::Stdio;
use tokio::process::Command;

/// A hook tool that could not run or that refused: keeps Juju's own message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{tool}: {message}")]
pub(crate) struct JujuError {
    pub(crate) tool: String,
    pub(crate) message: String,
    /// The tool's own exit status when it ran and failed; None when it could not be run
    /// or answered what Lucky cannot read.
    pub(crate) status: Option<u8>,
}

impl From<JujuError> for crate::protocol::ErrorReply {
    /// The `lucky` command then exits with the tool's own status, as a script calling
    /// the tool would see it.
    fn from(e: JujuError) -> Self {
        let status = e.status;
        Self::new(crate::protocol::ErrorKind::Juju, e.to_string()).with_tool_status(status)
    }
}

/// Runs `tool args…` in the hook's environment and returns its stdout.
///
/// Calls within one context are serialized: the unit agent takes one command at a time.
pub(crate) async fn run_tool(
    ctx: &HookContext,
    tool: &str,
    args: &[&str],
) -> Result<String, JujuError> {
    run_tool_with_input(ctx, tool, args, None).await
}

/// Like [`run_tool`], with `input` on the tool's stdin (`relation-set --file -`).
pub(crate) async fn run_tool_with_input(
    ctx: &HookContext,
    tool: &str,
    args: &[&str],
    input: Option<&[u8]>,
) -> Result<String, JujuError> {
    let fail = |message: String| JujuError {
        tool: tool.to_string(),
        message,
        status: None,
    };
    // The tool is looked up on the hook's PATH (Juju's tools dir first), not the daemon's.
    let program = ctx
        .var("PATH")
        .and_then(|path| crate::executable::find(tool, path.as_ref()))
        .ok_or_else(|| {
            fail("not found on the hook's PATH: is this running inside a Juju hook?".into())
        })?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(&ctx.env)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = ctx.var("JUJU_CHARM_DIR").or_else(|| ctx.var("CHARM_DIR")) {
        cmd.current_dir(dir);
    }
    let _one_at_a_time = ctx.tool_lock.lock().await;
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("could not be run: {e}")))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        use tokio::io::AsyncWriteExt;
        // Written before the output is read: the input is small (settings of one call)
        // and tools read all of it before they print. A tool that exits without reading
        // closes the pipe; its exit status then says what went wrong.
        let _ = stdin.write_all(bytes).await;
        drop(stdin);
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| fail(format!("could not be run: {e}")))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .map(|l| l.trim_start_matches("ERROR ").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    // Killed by a signal: no status of its own to pass on.
    let status = out.status.code().and_then(|c| u8::try_from(c).ok());
    Err(JujuError {
        status: status.filter(|c| *c != 0),
        ..fail(if message.is_empty() {
            format!("failed with {}", out.status)
        } else {
            message
        })
    })
}
