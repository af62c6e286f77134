//! One hook or action: run it through the simulator as Juju would, print its output and
//! the unit status after it, note it for the summary, and turn a failure into one line.

use super::error::RunError;

use super::Runner;
use super::options::Setting;
use crate::simulator::{HookRun, Model, RelationEvent};
use serde_json::{Map, Value};

/// A hook or action that ran, for the summary.
pub(super) struct Step {
    pub(crate) name: String,
    pub(crate) exit_code: i32,
    pub(crate) status: String,
}

impl Runner {
    pub(super) fn hook(&mut self, model: &Model, hook: &str) -> Result<(), RunError> {
        let run = model.run_hook(hook).map_err(RunError::Simulator)?;
        self.report(model, run, hook.to_string())
    }

    pub(super) fn relation_hook(
        &mut self,
        model: &Model,
        id: &str,
        event: RelationEvent,
        remote_unit: Option<&str>,
    ) -> Result<(), RunError> {
        let run = model
            .run_relation_hook(id, event, remote_unit)
            .map_err(RunError::Simulator)?;
        let title = match remote_unit {
            Some(u) => format!("{} ({id}, {u})", run.hook),
            None => format!("{} ({id})", run.hook),
        };
        self.report(model, run, title)
    }

    pub(super) fn action(&mut self, model: &Model, name: &str) -> Result<(), RunError> {
        let params = self.action_params(model, name)?;
        let run = model
            .run_action(name, params.clone())
            .map_err(|e| format!("action {name}: {e:#}"))?;
        let title = format!("action {name} {}", Value::Object(params));
        print_run(&run.run, &title);
        let a = &run.action;
        for log in &a.logs {
            println!("    log: {log}");
        }
        for (k, v) in &a.results {
            println!("    result {k} = {}", plain(v));
        }
        let status = match &a.message {
            Some(m) => format!("{} ({m})", a.status),
            None => a.status.clone(),
        };
        println!("    action: {status}");
        self.steps.push(Step {
            name: format!("action {name}"),
            exit_code: run.run.exit_code,
            status: format!("action {status}"),
        });
        if a.status != "completed" || !run.run.success() {
            return Err(failure(&format!("action {name}"), &run.run, &status).into());
        }
        Ok(())
    }

    /// The `--action-param`s of action `name`, typed by actions.yaml as `juju run` types
    /// them.
    fn action_params(&self, model: &Model, name: &str) -> Result<Map<String, Value>, RunError> {
        let charm = model.state().map_err(RunError::Simulator)?.charm_dir;
        let declared: Value = std::fs::read_to_string(charm.join("actions.yaml"))
            .ok()
            .and_then(|t| serde_saphyr::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let mut params = Map::new();
        for p in self.opts.action_params.iter().filter(|p| p.action == name) {
            let Setting { key, value } = &p.setting;
            let kind = declared
                .pointer(&format!("/{name}/params/{key}/type"))
                .and_then(Value::as_str)
                .unwrap_or("string");
            let typed = match kind {
                "integer" | "number" | "boolean" => serde_json::from_str(value).map_err(|_| {
                    format!(
                        "--action-param {name}:{key}={value}: \"{value}\" is not of type {kind}"
                    )
                })?,
                _ => Value::String(value.clone()),
            };
            params.insert(key.clone(), typed);
        }
        Ok(params)
    }

    pub(super) fn report(
        &mut self,
        model: &Model,
        run: HookRun,
        title: String,
    ) -> Result<(), RunError> {
        print_run(&run, &title);
        let status = model
            .unit_status()
            .map(|s| status_text(&s.status, &s.message))
            .unwrap_or_else(|e| format!("unknown ({e:#})"));
        if run.ran {
            println!("    unit status: {status}");
        }
        self.steps.push(Step {
            name: run.hook.clone(),
            exit_code: run.exit_code,
            status: status.clone(),
        });
        if !run.success() {
            return Err(failure(&format!("hook {}", run.hook), &run, &status).into());
        }
        Ok(())
    }
}

fn print_run(run: &HookRun, title: &str) {
    println!("\n==> {title}");
    if !run.ran {
        println!("    (the charm has no {} hook: Juju skips it)", run.hook);
        return;
    }
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        println!("    {line}");
    }
}

/// One line: what failed, its exit code, the unit status, and the last line it printed.
fn failure(what: &str, run: &HookRun, status: &str) -> String {
    let why = run
        .stderr
        .lines()
        .chain(run.stdout.lines())
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output");
    // The daemon's own last line repeats what failed; keep its reason.
    let why = why.strip_prefix("lucky: ").unwrap_or(why);
    let why = why.strip_prefix(&format!("{what} failed: ")).unwrap_or(why);
    format!(
        "{what} failed (exit code {}; unit status {status}): {why}",
        run.exit_code
    )
}

fn status_text(status: &str, message: &str) -> String {
    if message.is_empty() {
        status.to_string()
    } else {
        format!("{status} ({message})")
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
