//! juju-reboot as Juju handles it: after a hook that succeeded (none if it failed), or with
//! `--now` at once: the hook process is killed, nothing it staged is committed, and Juju
//! runs the hook again from the start once the machine is back (`requeued`).

use super::driver::Model;
use super::state::{ModelState, RebootPriority, RebootRecord, Status};
use anyhow::Result;

/// Kills the running hook's process, as Juju's `killCharmHook` does for `--now`.
pub(super) fn kill_hook(pid: u32) -> Result<(), String> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| format!("bad hook pid {pid}"))?;
    // SAFETY: kill(2) with a pid the driver recorded for the child it is waiting on (so
    // the pid cannot have been reused yet) and a constant signal.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot kill the hook process {pid}: {}",
            std::io::Error::last_os_error()
        ))
    }
}

/// When a run ends: the reboot it asked for happens if Juju would do it; the agent then
/// shows `rebooting` (until the next run), as `juju status` does.
pub(super) fn after_run(
    state: &mut ModelState,
    hook: &str,
    asked: Option<RebootPriority>,
    succeeded: bool,
) {
    let now = match asked {
        None => return,
        Some(RebootPriority::AfterHook) if !succeeded => return,
        Some(RebootPriority::AfterHook) => false,
        Some(RebootPriority::Now) => true,
    };
    state.machine.reboots.push(RebootRecord {
        hook: hook.to_string(),
        now,
    });
    state.agent_status = Status {
        status: "rebooting".into(),
        message: String::new(),
    };
}

impl Model {
    /// `juju trust APP` (true) or `juju trust APP --remove` (false).
    pub fn set_trust(&self, trusted: bool) -> Result<()> {
        self.update(|s| {
            s.machine.trusted = trusted;
            Ok(())
        })
    }

    /// The reboots juju-reboot caused, oldest first.
    pub fn reboots(&self) -> Result<Vec<RebootRecord>> {
        Ok(self.state()?.machine.reboots)
    }

    /// Makes relation `relation_id` cross-model: its remote application lives in the
    /// model `uuid` (what relation-model-get prints).
    pub fn set_remote_model(&self, relation_id: &str, uuid: &str) -> Result<()> {
        self.update(|s| {
            let rel = s
                .data
                .relations
                .get_mut(relation_id)
                .ok_or_else(|| anyhow::anyhow!("no relation {relation_id:?} in the model"))?;
            rel.remote_model_uuid = Some(uuid.to_string());
            Ok(())
        })
    }
}
