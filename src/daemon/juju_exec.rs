//! Reaching Juju between hooks: cron jobs and health-check reports run `lucky` inside a
//! fresh hook context that `juju-exec` (`juju-run` before Juju 3) opens for the unit.
//! One way to do it, so both get the same PATH, quoting and error text.

use super::Daemon;

/// Runs `lucky <args>` through `juju-exec` (or `juju-run`) found on the PATH the last
/// hook had, aimed back at this daemon's socket. `args` is appended to a `sh` command
/// line as it is: callers pass only words they made (a subcommand and a token).
/// `outlive_daemon`: whether the run goes on if the daemon stops while waiting for it (a
/// cron job's hook is then resent to the next daemon; a status report is not worth it).
pub(super) async fn run_lucky(
    daemon: &Daemon,
    args: &str,
    outlive_daemon: bool,
) -> Result<(), String> {
    let path = daemon
        .state
        .cron
        .read(|c| c.hook_path.clone())
        .unwrap_or_default();
    let program = ["juju-exec", "juju-run"]
        .iter()
        .find_map(|tool| crate::executable::find(tool, path.as_ref()))
        .ok_or_else(|| "neither juju-exec nor juju-run is on the hooks' PATH".to_string())?;
    let lucky = daemon.lucky_bin_dir.join("lucky");
    // The callback must reach this daemon, whatever socket it was started with.
    let command = format!(
        "LUCKY_SOCKET={} LUCKY_DATA_DIR={} {} {args}",
        sh_quote(&daemon.paths.socket.to_string_lossy()),
        sh_quote(&daemon.paths.data_dir.to_string_lossy()),
        sh_quote(&lucky.to_string_lossy())
    );
    let out = tokio::process::Command::new(&program)
        .arg(&daemon.paths.unit)
        .arg(&command)
        .env("PATH", &path)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(!outlive_daemon)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "{} exited with {}: {}",
        program.display(),
        out.status,
        stderr.trim().lines().last().unwrap_or("")
    ))
}

/// `'…'` for sh, whatever the path holds.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
