//! One run of a hook, action or juju-exec command: open its context, spawn the process
//! with exactly Juju's environment, then close the context, committing the staged changes
//! only when it exited 0.

use super::{HookRun, Model, RunSpec};
use crate::simulator::state::{
    HookRecord, ModelState, RunningHook, Status, now_rfc3339, random_hex,
};
use crate::simulator::store;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};

/// The PATH Juju gives hooks on Ubuntu, after the tools dir.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Model {
    /// Runs `spec` in a fresh context and records it; the hook's staged changes are
    /// committed only when it exits 0.
    pub(in crate::simulator) fn run(&self, spec: RunSpec) -> Result<HookRun> {
        let _hook_lock = store::lock_hook(&self.dir)?;
        let context_id = format!("{}-{}-{}", self.state()?.unit, spec.hook, random_hex(8));
        // Open the context: from now on tools presenting this id are served.
        let state = self.update(|s| {
            open_context(s, &spec, &context_id);
            Ok(s.clone())
        })?;
        self.ensure_tools(&state)?;
        let result = self.spawn(&state, &spec, &context_id);
        // Close the context whatever happened, committing only on success.
        let exit_code = result.as_ref().map_or(-1, |r| r.exit_code);
        self.update(|s| {
            close_context(s, &spec, &context_id, exit_code);
            Ok(())
        })?;
        result
    }

    fn spawn(&self, state: &ModelState, spec: &RunSpec, context_id: &str) -> Result<HookRun> {
        let charm = &state.charm_dir;
        let dispatch = charm.join("dispatch");
        let mut cmd = if let Some(command) = &spec.command {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(command);
            c
        } else if dispatch.is_file() {
            Command::new(&dispatch)
        } else {
            let path = charm.join(spec.dispatch_path.as_deref().unwrap_or_default());
            if !path.is_file() {
                return Ok(HookRun {
                    hook: spec.hook.clone(),
                    context_id: context_id.into(),
                    exit_code: 0,
                    stdout: String::new(),
                    stderr: String::new(),
                    ran: false,
                });
            }
            Command::new(path)
        };
        cmd.env_clear().current_dir(charm);
        for (k, v) in self.hook_env(state, spec, context_id) {
            cmd.env(k, v);
        }
        // Output goes to files, not pipes: a background process a hook leaves behind must
        // not keep the driver waiting for EOF.
        let run_dir = self.dir.join("run");
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let out_path = run_dir.join("stdout");
        let err_path = run_dir.join("stderr");
        let out = std::fs::File::create(&out_path).context("cannot create hook stdout file")?;
        let err = std::fs::File::create(&err_path).context("cannot create hook stderr file")?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot run hook {} of {}", spec.hook, charm.display()))?;
        // Recorded so `juju-reboot --now` can kill the hook, as Juju does.
        let pid = child.id();
        let noted = self.update(|s| {
            if let Some(running) = s.running.as_mut() {
                running.process.pid = Some(pid);
            }
            Ok(())
        });
        let status = child.wait().context("cannot wait for the hook process");
        noted?;
        let status = status?;
        let exit_code = status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        });
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        Ok(HookRun {
            hook: spec.hook.clone(),
            context_id: context_id.into(),
            exit_code,
            stdout: read(&out_path),
            stderr: read(&err_path),
            ran: true,
        })
    }

    /// Exactly the environment Juju gives a hook, plus what the caller asked to pass.
    fn hook_env(
        &self,
        state: &ModelState,
        spec: &RunSpec,
        context_id: &str,
    ) -> Vec<(String, String)> {
        let charm = state.charm_dir.to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = vec![
            ("JUJU_CHARM_DIR".into(), charm.clone()),
            ("CHARM_DIR".into(), charm),
            ("JUJU_CONTEXT_ID".into(), context_id.into()),
            ("JUJU_UNIT_NAME".into(), state.unit.clone()),
            ("JUJU_MODEL_UUID".into(), state.model_uuid.clone()),
            ("JUJU_MODEL_NAME".into(), state.model_name.clone()),
            ("JUJU_AGENT_SOCKET_NETWORK".into(), "unix".into()),
            (
                "JUJU_AGENT_SOCKET_ADDRESS".into(),
                self.dir
                    .join(store::SOCKET_NAME)
                    .to_string_lossy()
                    .into_owned(),
            ),
            ("JUJU_API_ADDRESSES".into(), "10.0.0.1:17070".into()),
            ("JUJU_MACHINE_ID".into(), state.machine_id.clone()),
            // Empty for a principal unit; subordinates get their principal's name.
            ("JUJU_PRINCIPAL_UNIT".into(), String::new()),
            (
                "JUJU_AVAILABILITY_ZONE".into(),
                state.availability_zone.clone(),
            ),
            ("JUJU_VERSION".into(), state.juju_version.clone()),
            ("JUJU_CHARM_HTTP_PROXY".into(), String::new()),
            ("JUJU_CHARM_HTTPS_PROXY".into(), String::new()),
            ("JUJU_CHARM_NO_PROXY".into(), String::new()),
            (
                "PATH".into(),
                format!("{}:{SYSTEM_PATH}", self.tools_dir().to_string_lossy()),
            ),
            ("LANG".into(), "C.UTF-8".into()),
            ("DEBIAN_FRONTEND".into(), "noninteractive".into()),
            ("APT_LISTCHANGES_FRONTEND".into(), "none".into()),
        ];
        env.extend(spec_env(state, spec));
        env.extend(state.machine_env.clone());
        env
    }
}

/// What Juju adds for this kind of run: the dispatch path and hook name, the relation and
/// remote unit, the secret, the action, the storage.
fn spec_env(state: &ModelState, spec: &RunSpec) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(path) = &spec.dispatch_path {
        env.push(("JUJU_DISPATCH_PATH".into(), path.clone()));
    }
    if spec.action.is_none() && spec.command.is_none() {
        env.push(("JUJU_HOOK_NAME".into(), spec.hook.clone()));
    }
    if let Some(id) = &spec.relation_id {
        let rel = state.data.relations.get(id);
        env.push((
            "JUJU_RELATION".into(),
            id.split(':').next().unwrap_or_default().into(),
        ));
        env.push(("JUJU_RELATION_ID".into(), id.clone()));
        env.push((
            "JUJU_REMOTE_UNIT".into(),
            spec.remote_unit.clone().unwrap_or_default(),
        ));
        env.push((
            "JUJU_REMOTE_APP".into(),
            rel.map(|r| r.remote_app.clone()).unwrap_or_default(),
        ));
        if let Some(d) = &spec.departing_unit {
            env.push(("JUJU_DEPARTING_UNIT".into(), d.clone()));
        }
    }
    if let Some((uri, label, revision)) = &spec.secret {
        env.push(("JUJU_SECRET_ID".into(), uri.clone()));
        env.push(("JUJU_SECRET_LABEL".into(), label.clone()));
        if let Some(r) = revision.filter(|r| *r > 0) {
            env.push(("JUJU_SECRET_REVISION".into(), r.to_string()));
        }
    }
    if let Some(action) = &spec.action {
        env.push(("JUJU_ACTION_NAME".into(), action.name.clone()));
        env.push(("JUJU_ACTION_UUID".into(), action.uuid.clone()));
    }
    if let Some(id) = &spec.storage_id {
        env.extend(crate::simulator::storage::hook_env(state, id));
    }
    env
}

/// Marks `spec` as the running hook, its changes staged on a copy of the model's data.
fn open_context(s: &mut ModelState, spec: &RunSpec, context_id: &str) {
    let relation = spec
        .relation_id
        .as_ref()
        .and_then(|id| s.data.relations.get(id));
    s.agent_status = Status {
        status: "executing".into(),
        message: format!("running {} hook", spec.hook),
    };
    s.running = Some(RunningHook {
        context_id: context_id.to_string(),
        hook: spec.hook.clone(),
        started: now_rfc3339(),
        relation_id: spec.relation_id.clone(),
        remote_unit: spec.remote_unit.clone(),
        remote_app: relation.map(|r| r.remote_app.clone()),
        action: spec.action.clone(),
        storage_id: spec.storage_id.clone(),
        process: Default::default(),
        staged: s.data.clone(),
    });
}

/// Ends the running hook: commits its staged data if it exited 0, sets the agent status,
/// files the action's record and the hook's.
fn close_context(s: &mut ModelState, spec: &RunSpec, context_id: &str, exit_code: i32) {
    let Some(running) = s.running.take() else {
        return;
    };
    let committed = exit_code == 0;
    let reboot = running.process.reboot;
    if committed {
        if running.staged.leader_data != s.data.leader_data {
            s.leader_settings_seen = false;
        } else if spec.hook == "leader-settings-changed" {
            s.leader_settings_seen = true;
        }
        s.data = running.staged;
    }
    // A failed action is the action's failure, not the unit's; a failed hook puts
    // the unit in error until a hook succeeds.
    s.agent_status = if committed || running.action.is_some() {
        Status {
            status: "idle".into(),
            message: String::new(),
        }
    } else {
        Status {
            status: "error".into(),
            message: format!("hook failed: {:?}", spec.hook),
        }
    };
    if let Some(mut action) = running.action {
        if action.status == "running" {
            if committed {
                action.status = "completed".into();
            } else {
                action.status = "failed".into();
                action.message = Some(format!("exit status {exit_code}"));
            }
        }
        s.actions.push(action);
    }
    s.hooks.push(HookRecord {
        hook: spec.hook.clone(),
        context_id: context_id.to_string(),
        started: running.started,
        exit_code,
        committed,
    });
    crate::simulator::reboot::after_run(s, &spec.hook, reboot, committed);
}
