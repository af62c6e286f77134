//! Running the hooks that are not about a relation or an action: one by name, the secret
//! hooks, `juju-exec`, and a unit's whole life in Juju's order.

use super::{HookRun, Model, RelationEvent, RunSpec};
use anyhow::{Result, bail};

impl Model {
    /// Run a non-relation hook (install, config-change, start, leader-elected …).
    pub fn run_hook(&self, hook: &str) -> Result<HookRun> {
        if hook.contains("-relation-") {
            bail!("{hook} is a relation hook: use run_relation_hook");
        }
        let juju = self.state()?.juju();
        if !juju.fires(hook) {
            bail!("Juju {juju} never runs {hook} on a machine unit");
        }
        self.run(RunSpec {
            hook: hook.into(),
            dispatch_path: Some(format!("hooks/{hook}")),
            ..RunSpec::default()
        })
    }

    /// Run `secret-changed`, `secret-rotate`, `secret-expired` or `secret-remove` for the
    /// secret `id` (`secret:ID` or the bare ID) with Juju's JUJU_SECRET_* variables;
    /// `revision` is given to secret-remove and secret-expired.
    pub fn run_secret_hook(&self, hook: &str, id: &str, revision: Option<u32>) -> Result<HookRun> {
        const SECRET_HOOKS: &[&str] = &[
            "secret-changed",
            "secret-rotate",
            "secret-expired",
            "secret-remove",
        ];
        if !SECRET_HOOKS.contains(&hook) {
            bail!(
                "{hook} is not a secret hook: use one of {}",
                SECRET_HOOKS.join(", ")
            );
        }
        let Some(bare) = crate::simulator::tools::secret_id(id) else {
            bail!("{id:?} is not a secret id: use secret:ID as secret-add printed it");
        };
        let state = self.state()?;
        let Some(secret) = state.data.secrets.get(&bare) else {
            bail!("the model has no secret {id}");
        };
        self.run(RunSpec {
            hook: hook.into(),
            dispatch_path: Some(format!("hooks/{hook}")),
            secret: Some((format!("secret:{bare}"), secret.label.clone(), revision)),
            ..RunSpec::default()
        })
    }

    /// `juju-exec <unit> <command>`: the command runs through `/bin/sh -c` in a fresh context.
    pub(crate) fn exec(&self, command: &str) -> Result<HookRun> {
        self.run(RunSpec {
            hook: "juju-exec".into(),
            command: Some(command.into()),
            ..RunSpec::default()
        })
    }

    /// Play a unit's life: install, leader-elected (when leader), config-changed, start,
    /// for each relation created/joined/changed per remote unit, update-status, then each
    /// relation departs and breaks, stop, remove. Stops after the first failing hook, which
    /// is then the last run returned.
    pub fn play_life(&self) -> Result<Vec<HookRun>> {
        let mut runs = Vec::new();
        macro_rules! step {
            ($run:expr) => {{
                let run = $run?;
                let ok = run.success();
                runs.push(run);
                if !ok {
                    return Ok(runs);
                }
            }};
        }
        let state = self.state()?;
        step!(self.run_hook("install"));
        // Juju creates peer relations with the application; their relation-created runs
        // after install, before leadership and config hooks.
        for endpoint in self.peer_endpoints()? {
            let id = self.add_peer_relation(&endpoint)?;
            step!(self.run_relation_hook(&id, RelationEvent::Created, None));
        }
        if state.leader {
            step!(self.run_hook("leader-elected"));
        } else if state.juju().fires("leader-settings-changed") {
            step!(self.run_hook("leader-settings-changed"));
        }
        step!(self.run_hook("config-changed"));
        step!(self.run_hook("start"));
        let relations: Vec<(String, Vec<String>)> = state
            .data
            .relations
            .iter()
            .map(|(id, r)| (id.clone(), r.remote_units.keys().cloned().collect()))
            .collect();
        for (id, units) in &relations {
            step!(self.run_relation_hook(id, RelationEvent::Created, None));
            for u in units {
                step!(self.run_relation_hook(id, RelationEvent::Joined, Some(u)));
                step!(self.run_relation_hook(id, RelationEvent::Changed, Some(u)));
            }
        }
        step!(self.run_hook("update-status"));
        for (id, units) in &relations {
            for u in units {
                step!(self.run_relation_hook(id, RelationEvent::Departed, Some(u)));
            }
            step!(self.run_relation_hook(id, RelationEvent::Broken, None));
        }
        step!(self.run_hook("stop"));
        step!(self.run_hook("remove"));
        Ok(runs)
    }
}
