//! `juju-exec <unit> <command>`: run a command in a fresh hook context outside any hook,
//! waiting for the running hook first (how cron jobs get a context).

use crate::simulator::Model;
use crate::simulator::store;
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) const JUJU_EXEC: &str = "juju-exec";

/// The model whose tools dir holds this juju-exec: the agent socket's dir when called
/// from a hook, else the tools dir on the path we were called by (cron has no hook env).
fn model_dir(arg0: &Path) -> Option<PathBuf> {
    let has_model = |d: &Path| d.join(store::MODEL_FILE).is_file();
    if let Some(addr) = std::env::var_os("JUJU_AGENT_SOCKET_ADDRESS") {
        let dir = Path::new(&addr).parent()?.to_path_buf();
        if has_model(&dir) {
            return Some(dir);
        }
    }
    let from_tools = |tools: &Path| {
        tools
            .parent()
            .filter(|d| has_model(d))
            .map(Path::to_path_buf)
    };
    if arg0.components().count() > 1 {
        return from_tools(arg0.parent()?);
    }
    let path = std::env::var_os("PATH")?;
    crate::executable::on_path(JUJU_EXEC, &path).find_map(|tool| from_tools(tool.parent()?))
}

pub(crate) fn main(arg0: &Path, args: &[String]) -> u8 {
    let fail = |code: u8, msg: &str| {
        eprintln!("ERROR {msg}");
        code
    };
    let (unit, command) = match args {
        [unit, command @ ..] if !command.is_empty() && !unit.starts_with('-') => {
            (unit, command.join(" "))
        }
        _ => return fail(2, "usage: juju-exec <unit-name> <command>"),
    };
    let Some(dir) = model_dir(arg0) else {
        return fail(1, "cannot find the simulated model for juju-exec");
    };
    let model = match Model::open(&dir) {
        Ok(m) => m,
        Err(e) => return fail(1, &format!("{e:#}")),
    };
    match model.state() {
        Ok(s) if s.unit == *unit => {}
        Ok(s) => {
            return fail(
                1,
                &format!("unit \"{unit}\" not found (this model runs {})", s.unit),
            );
        }
        Err(e) => return fail(1, &format!("{e:#}")),
    }
    match model.exec(&command) {
        Ok(run) => {
            let _ = std::io::stdout().write_all(run.stdout.as_bytes());
            let _ = std::io::stderr().write_all(run.stderr.as_bytes());
            u8::try_from(run.exit_code).unwrap_or(1)
        }
        Err(e) => fail(1, &format!("{e:#}")),
    }
}
