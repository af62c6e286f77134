//! The driver: creates a model, changes it between hooks as Juju would (config, relations,
//! leadership, resources), and runs hooks and actions with Juju's environment, committing
//! a hook's staged changes only when it exits 0.
//!
//! This file holds the model's types and its creation; the rest is one concern per file:
//! `operator` (what an operator changes: config, leadership, resources), `relations`,
//! `hooks` (running hooks, a unit's whole life), `actions`, `readback` (what tests read
//! back) and `run` (one run: the context, the process, Juju's environment, the commit).

mod actions;
mod hooks;
mod operator;
mod readback;
mod relations;
mod run;

pub use relations::RelationEvent;

use super::juju::Juju;
use super::state::{ActionRecord, Addresses, ConfigOption, Data, ModelState, Status, random_uuid};
use super::store;
use super::tools::TOOL_NAMES;
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A simulated model for one unit, kept in a directory.
#[derive(Debug, Clone)]
pub struct Model {
    dir: PathBuf,
}

/// What one hook, action or juju-exec command did.
#[derive(Debug, Clone)]
pub struct HookRun {
    /// The hook's name (the action's, or `juju-exec`).
    pub hook: String,
    /// The `JUJU_CONTEXT_ID` it ran with; tools calls.log lines carry it.
    pub context_id: String,
    /// The process's exit status (128 + the signal when killed); 0 commits its changes.
    pub exit_code: i32,
    /// Everything it wrote to standard output.
    pub stdout: String,
    /// Everything it wrote to standard error.
    pub stderr: String,
    /// False when the charm has neither `dispatch` nor the hook file (Juju skips it).
    pub ran: bool,
}

impl HookRun {
    /// It exited 0, so Juju committed what it changed.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// What `juju run <unit> <action>` did: the run, and the action's record.
#[derive(Debug, Clone)]
pub struct ActionRun {
    /// The action's process, as a hook's.
    pub run: HookRun,
    /// Its parameters, results, status and log, as Juju keeps them.
    pub action: ActionRecord,
}

/// The context a run gets beyond the basics.
#[derive(Default)]
pub(super) struct RunSpec {
    pub(super) hook: String,
    /// `hooks/<name>` or `actions/<name>`; None for juju-exec.
    pub(super) dispatch_path: Option<String>,
    pub(super) relation_id: Option<String>,
    pub(super) remote_unit: Option<String>,
    pub(super) departing_unit: Option<String>,
    pub(super) action: Option<ActionRecord>,
    pub(super) command: Option<String>,
    /// The storage instance a `<name>-storage-*` hook is about.
    pub(super) storage_id: Option<String>,
    /// Secret hooks: `secret:ID`, its label, and the revision (remove, expired).
    pub(super) secret: Option<(String, String, Option<u32>)>,
}

/// A charm's YAML file as JSON values; None when it is missing or empty.
fn read_yaml(path: &Path) -> Result<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => serde_saphyr::from_str(&text)
            .map(Some)
            .with_context(|| format!("{} is not valid YAML", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The keys of a YAML mapping (a metadata.yaml section); none when it is absent.
fn keys_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The options config.yaml declares (none without one).
fn config_options(charm_dir: &Path) -> Result<BTreeMap<String, ConfigOption>> {
    Ok(match read_yaml(&charm_dir.join("config.yaml"))? {
        Some(v) => {
            let opts = v.get("options").cloned().unwrap_or(Value::Null);
            if opts.is_null() {
                BTreeMap::new()
            } else {
                serde_json::from_value(opts).context("config.yaml: invalid options")?
            }
        }
        None => BTreeMap::new(),
    })
}

/// A new model's state as Juju has it before the first hook: the charm's config options,
/// endpoints, resources and storage read from its files; nothing related, not leader.
fn fresh_state(
    juju: Juju,
    unit: &str,
    charm_dir: PathBuf,
    lucky_bin: PathBuf,
) -> Result<ModelState> {
    let config_options = config_options(&charm_dir)?;
    let metadata = read_yaml(&charm_dir.join("metadata.yaml"))?;
    juju.check_metadata(metadata.as_ref())?;
    let mut bindings = Vec::new();
    for section in ["provides", "requires", "peers", "extra-bindings"] {
        bindings.extend(keys_of(metadata.as_ref().and_then(|m| m.get(section))));
    }
    let declared_resources = keys_of(metadata.as_ref().and_then(|m| m.get("resources")));
    let declared_storage = super::storage::declared(metadata.as_ref())?;

    Ok(ModelState {
        model_name: "sim".into(),
        model_uuid: random_uuid(),
        unit: unit.to_string(),
        machine_id: "0".into(),
        availability_zone: "zone-1".into(),
        machine: Default::default(),
        juju_version: juju.version().into(),
        charm_dir,
        lucky_bin,
        leader: false,
        leader_settings_seen: false,
        config_options,
        config: Map::new(),
        unit_status: Status {
            status: "waiting".into(),
            message: "waiting for machine".into(),
        },
        application_status: Status {
            status: "unknown".into(),
            message: String::new(),
        },
        agent_status: Status {
            status: "allocating".into(),
            message: String::new(),
        },
        status_history: Vec::new(),
        application_version: String::new(),
        addresses: Addresses {
            private: "10.0.0.10".into(),
            public: "203.0.113.10".into(),
        },
        bindings,
        declared_resources,
        resources: BTreeMap::new(),
        data: Data::default(),
        next_relation_id: 1,
        actions: Vec::new(),
        hooks: Vec::new(),
        running: None,
        machine_env: BTreeMap::new(),
        declared_storage,
        next_storage_number: 0,
    })
}

impl Model {
    /// Create a model directory for `unit` (e.g. `app/0`) of the charm in `charm_dir`.
    /// `lucky_bin` is the binary the tools dir links to (tests pass
    /// `env!("CARGO_BIN_EXE_lucky")`).
    pub fn create(
        dir: impl AsRef<Path>,
        charm_dir: impl AsRef<Path>,
        unit: &str,
        lucky_bin: impl AsRef<Path>,
    ) -> Result<Model> {
        Self::create_on(Juju::default(), dir, charm_dir, unit, lucky_bin)
    }

    /// Like [`create`](Self::create), for a model run by `juju` (3.6 or 4.0): its
    /// `JUJU_VERSION`, its hook tools, the hooks it fires, what it refuses to deploy.
    pub fn create_on(
        juju: Juju,
        dir: impl AsRef<Path>,
        charm_dir: impl AsRef<Path>,
        unit: &str,
        lucky_bin: impl AsRef<Path>,
    ) -> Result<Model> {
        let dir = dir.as_ref();
        match unit.split_once('/') {
            Some((app, n)) if !app.is_empty() && n.parse::<u32>().is_ok() => {}
            _ => bail!("invalid unit name {unit:?}: expected <application>/<number>"),
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create model dir {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        if dir.join(store::MODEL_FILE).exists() {
            bail!("{} already holds a model", dir.display());
        }
        let charm_dir = charm_dir
            .as_ref()
            .canonicalize()
            .with_context(|| format!("cannot find charm dir {}", charm_dir.as_ref().display()))?;
        let lucky_bin = lucky_bin.as_ref().canonicalize().with_context(|| {
            format!("cannot find lucky binary {}", lucky_bin.as_ref().display())
        })?;

        let state = fresh_state(juju, unit, charm_dir, lucky_bin)?;
        let locked = store::lock(&dir)?;
        locked.save(&state)?;
        drop(locked);
        let model = Model { dir };
        model.ensure_tools(&state)?;
        Ok(model)
    }

    /// The model `create` made in `dir` (`lucky sim` opens it again for each command).
    pub fn open(dir: impl AsRef<Path>) -> Result<Model> {
        let dir = dir
            .as_ref()
            .canonicalize()
            .with_context(|| format!("no model at {}", dir.as_ref().display()))?;
        store::load_unlocked(&dir)?;
        Ok(Model { dir })
    }

    /// The model's directory: model.json, calls.log, juju-debug.log, the tools.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the hook tools (links to `lucky`) are, first on every hook's PATH.
    pub fn tools_dir(&self) -> PathBuf {
        self.dir.join(store::TOOLS_DIR)
    }

    /// Add a variable to every hook's environment (e.g. `LUCKY_*`, `DOCKER_HOST`); hooks
    /// otherwise get only what Juju gives them. Stored in the model, so it holds for
    /// every later run, `juju-exec` included.
    pub fn pass_env(&self, key: impl Into<String>, value: impl Into<String>) -> Result<()> {
        let (key, value) = (key.into(), value.into());
        self.update(|s| {
            s.machine_env.insert(key, value);
            Ok(())
        })
    }

    /// The whole model as last committed (plus the running hook, if any).
    pub fn state(&self) -> Result<ModelState> {
        store::load_unlocked(&self.dir)
    }

    /// Change the model between hooks, under the lock.
    pub fn update<T>(&self, f: impl FnOnce(&mut ModelState) -> Result<T>) -> Result<T> {
        let locked = store::lock(&self.dir)?;
        let mut state = locked.load()?;
        let out = f(&mut state)?;
        locked.save(&state)?;
        Ok(out)
    }

    fn ensure_tools(&self, state: &ModelState) -> Result<()> {
        let lucky_bin = state.lucky_bin.as_path();
        let juju = state.juju();
        let tools = self.tools_dir();
        std::fs::create_dir_all(&tools)
            .with_context(|| format!("cannot create {}", tools.display()))?;
        // `lucky` itself too: on a real unit the installer puts it on every hook's PATH.
        for name in TOOL_NAMES.iter().chain(&["lucky"]) {
            let link = tools.join(name);
            if !juju.has_tool(name) {
                // Not in this Juju's hook environment: calling it is "command not found".
                let _ = std::fs::remove_file(&link);
                continue;
            }
            if std::fs::read_link(&link).ok().as_deref() == Some(lucky_bin) {
                continue;
            }
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(lucky_bin, &link)
                .with_context(|| format!("cannot link {}", link.display()))?;
        }
        Ok(())
    }
}
