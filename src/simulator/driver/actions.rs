//! `juju run <unit> <action>`: parameters checked against actions.yaml, then the action
//! runs like a hook, and its record (results, status, logs) comes back.

use super::{ActionRun, Model, RunSpec, read_yaml};
use crate::simulator::state::{ActionRecord, random_uuid};
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};

impl Model {
    /// `juju run unit action k=v`: params are checked against actions.yaml and defaults filled.
    pub fn run_action(&self, name: &str, params: Map<String, Value>) -> Result<ActionRun> {
        let state = self.state()?;
        let actions = read_yaml(&state.charm_dir.join("actions.yaml"))?;
        let Some(spec) = actions.as_ref().and_then(|a| a.get(name)) else {
            bail!("action {name:?} is not defined in the charm's actions.yaml");
        };
        let mut params = params;
        let declared = spec.get("params").and_then(Value::as_object);
        if let Some(declared) = declared {
            for (k, p) in declared {
                if let Some(d) = p.get("default")
                    && !params.contains_key(k)
                {
                    params.insert(k.clone(), d.clone());
                }
            }
            let closed = spec.get("additionalProperties").and_then(Value::as_bool) == Some(false);
            if closed && let Some(k) = params.keys().find(|k| !declared.contains_key(*k)) {
                bail!("action {name:?} has no parameter {k:?}");
            }
        }
        if let Some(required) = spec.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !params.contains_key(r) {
                    bail!("action {name:?} needs parameter {r:?}");
                }
            }
        }
        let action = ActionRecord {
            uuid: random_uuid(),
            name: name.into(),
            params,
            results: Map::new(),
            status: "running".into(),
            message: None,
            logs: Vec::new(),
        };
        let run = self.run(RunSpec {
            hook: name.into(),
            dispatch_path: Some(format!("actions/{name}")),
            action: Some(action),
            ..RunSpec::default()
        })?;
        let action = self
            .state()?
            .actions
            .last()
            .cloned()
            .ok_or_else(|| anyhow!("action record missing after the run"))?;
        Ok(ActionRun { run, action })
    }
}
