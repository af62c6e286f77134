//! The driver: creates a model, changes it between hooks as Juju would (config, relations,
//! leadership, resources), and runs hooks and actions with Juju's environment, committing
//! a hook's staged changes only when it exits 0.

use super::juju::Juju;
use super::state::{
    ActionRecord, Addresses, Bag, ConfigOption, Data, HookRecord, ModelState, Relation,
    RunningHook, Status, now_rfc3339, random_hex, random_uuid,
};
use super::store::{self, CallRecord};
use super::tools::TOOL_NAMES;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The PATH Juju gives hooks on Ubuntu, after the tools dir.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A simulated model for one unit, kept in a directory.
#[derive(Debug, Clone)]
pub struct Model {
    dir: PathBuf,
}

/// What one hook, action or juju-exec command did.
#[derive(Debug, Clone)]
pub struct HookRun {
    pub hook: String,
    pub context_id: String,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// False when the charm has neither `dispatch` nor the hook file (Juju skips it).
    pub ran: bool,
}

impl HookRun {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

#[derive(Debug, Clone)]
pub struct ActionRun {
    pub run: HookRun,
    pub action: ActionRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationEvent {
    Created,
    Joined,
    Changed,
    Departed,
    Broken,
}

impl RelationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Joined => "joined",
            Self::Changed => "changed",
            Self::Departed => "departed",
            Self::Broken => "broken",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => Self::Created,
            "joined" => Self::Joined,
            "changed" => Self::Changed,
            "departed" => Self::Departed,
            "broken" => Self::Broken,
            _ => return None,
        })
    }
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

pub(super) fn read_yaml(path: &Path) -> Result<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => serde_saphyr::from_str(&text)
            .map(Some)
            .with_context(|| format!("{} is not valid YAML", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn keys_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A remote unit's address, as Juju pre-fills its relation data.
fn unit_address(unit: &str) -> String {
    let n: u32 = unit
        .rsplit_once('/')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0);
    let h = unit
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("10.1.{}.{}", h % 200 + 1, n % 250 + 2)
}

fn address_bag(addr: &str) -> Bag {
    Bag::from([
        ("egress-subnets".to_string(), format!("{addr}/32")),
        ("ingress-address".to_string(), addr.to_string()),
        ("private-address".to_string(), addr.to_string()),
    ])
}

fn check_config_value(key: &str, opt: &ConfigOption, value: &Value) -> Result<()> {
    let ok = match (opt.kind.as_str(), value) {
        (_, Value::Null) => true,
        ("string" | "secret", Value::String(_)) => true,
        ("int", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("float", Value::Number(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        _ => false,
    };
    if !ok {
        bail!(
            "config option {key:?} expects type {}, got {value}",
            opt.kind
        );
    }
    Ok(())
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

        let config_options = match read_yaml(&charm_dir.join("config.yaml"))? {
            Some(v) => {
                let opts = v.get("options").cloned().unwrap_or(Value::Null);
                if opts.is_null() {
                    BTreeMap::new()
                } else {
                    serde_json::from_value(opts).context("config.yaml: invalid options")?
                }
            }
            None => BTreeMap::new(),
        };
        let metadata = read_yaml(&charm_dir.join("metadata.yaml"))?;
        juju.check_metadata(metadata.as_ref())?;
        let mut bindings = Vec::new();
        for section in ["provides", "requires", "peers", "extra-bindings"] {
            bindings.extend(keys_of(metadata.as_ref().and_then(|m| m.get(section))));
        }
        let declared_resources = keys_of(metadata.as_ref().and_then(|m| m.get("resources")));
        let declared_storage = super::storage::declared(metadata.as_ref())?;

        let state = ModelState {
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
        };
        let locked = store::lock(&dir)?;
        locked.save(&state)?;
        drop(locked);
        let model = Model { dir };
        model.ensure_tools(&state)?;
        Ok(model)
    }

    pub fn open(dir: impl AsRef<Path>) -> Result<Model> {
        let dir = dir
            .as_ref()
            .canonicalize()
            .with_context(|| format!("no model at {}", dir.as_ref().display()))?;
        store::load_unlocked(&dir)?;
        Ok(Model { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

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

    // ---- operator-side changes -------------------------------------------------------

    /// `juju config app key=value`, checked against config.yaml's declared type.
    /// Null resets the option to its default.
    pub fn set_config(&self, key: &str, value: Value) -> Result<()> {
        self.update(|s| {
            let opt = s
                .config_options
                .get(key)
                .ok_or_else(|| anyhow!("unknown config option {key:?} (not in config.yaml)"))?;
            check_config_value(key, opt, &value)?;
            if value.is_null() {
                s.config.remove(key);
            } else {
                s.config.insert(key.to_string(), value);
            }
            Ok(())
        })
    }

    /// Like [`set_config`](Self::set_config) with the value given as text, as on the
    /// `juju config` command line; an empty text resets to the default.
    pub fn set_config_str(&self, key: &str, text: &str) -> Result<()> {
        let state = self.state()?;
        let opt = state
            .config_options
            .get(key)
            .ok_or_else(|| anyhow!("unknown config option {key:?} (not in config.yaml)"))?;
        let value =
            if text.is_empty() {
                Value::Null
            } else {
                match opt.kind.as_str() {
                    "int" => Value::from(text.parse::<i64>().with_context(|| {
                        format!("config option {key:?}: {text:?} is not an int")
                    })?),
                    "float" => Value::from(text.parse::<f64>().with_context(|| {
                        format!("config option {key:?}: {text:?} is not a float")
                    })?),
                    "boolean" => Value::Bool(match text {
                        "true" | "True" => true,
                        "false" | "False" => false,
                        _ => bail!("config option {key:?}: {text:?} is not a boolean"),
                    }),
                    _ => Value::String(text.to_string()),
                }
            };
        self.set_config(key, value)
    }

    pub fn set_leader(&self, leader: bool) -> Result<()> {
        self.update(|s| {
            s.leader = leader;
            Ok(())
        })
    }

    pub fn set_addresses(&self, private: &str, public: &str) -> Result<()> {
        self.update(|s| {
            s.addresses = Addresses {
                private: private.into(),
                public: public.into(),
            };
            Ok(())
        })
    }

    /// Attach (upload) a resource: resource-get will print `path`.
    pub fn attach_resource(&self, name: &str, path: impl AsRef<Path>) -> Result<()> {
        let path = path
            .as_ref()
            .canonicalize()
            .with_context(|| format!("resource file {} not found", path.as_ref().display()))?;
        self.update(|s| {
            if !s.declared_resources.is_empty() && !s.declared_resources.iter().any(|r| r == name) {
                bail!("resource {name:?} is not declared in metadata.yaml");
            }
            s.resources.insert(name.to_string(), path);
            Ok(())
        })
    }

    /// Relate `endpoint` to `remote_app` with `units` remote units (`remote_app/0` …).
    /// Returns the relation id, e.g. `db:1`. No hook runs; see [`Self::run_relation_hook`].
    pub fn add_relation(&self, endpoint: &str, remote_app: &str, units: usize) -> Result<String> {
        self.update(|s| {
            if !s.bindings.is_empty() && !s.bindings.iter().any(|b| b == endpoint) {
                bail!("the charm has no endpoint {endpoint:?} in metadata.yaml");
            }
            let id = format!("{endpoint}:{}", s.next_relation_id);
            s.next_relation_id += 1;
            let mut rel = Relation {
                endpoint: endpoint.into(),
                remote_app: remote_app.into(),
                local_unit_data: address_bag(&s.addresses.private),
                ..Relation::default()
            };
            for n in 0..units {
                let unit = format!("{remote_app}/{n}");
                rel.remote_units
                    .insert(unit.clone(), address_bag(&unit_address(&unit)));
            }
            s.data.relations.insert(id.clone(), rel);
            Ok(id)
        })
    }

    /// The peer relation `endpoint` (declared under metadata.yaml's `peers:`), as Juju
    /// creates it for the application: the unit's own application on both sides, no
    /// other unit (the simulator has one). Returns its id, the existing one if there is
    /// one. No hook runs: Juju runs `<endpoint>-relation-created` next.
    pub fn add_peer_relation(&self, endpoint: &str) -> Result<String> {
        let state = self.state()?;
        if let Some((id, _)) = state
            .data
            .relations
            .iter()
            .find(|(_, r)| r.endpoint == endpoint)
        {
            return Ok(id.clone());
        }
        if !self.peer_endpoints()?.iter().any(|p| p == endpoint) {
            bail!("the charm declares no peer relation {endpoint:?} under metadata.yaml's peers");
        }
        self.add_relation(endpoint, state.app(), 0)
    }

    /// The endpoints under metadata.yaml's `peers:`.
    pub fn peer_endpoints(&self) -> Result<Vec<String>> {
        let charm = self.state()?.charm_dir;
        let metadata = read_yaml(&charm.join("metadata.yaml"))?;
        Ok(keys_of(metadata.as_ref().and_then(|m| m.get("peers"))))
    }

    /// A new unit of the remote application joins; returns its name.
    pub fn add_remote_unit(&self, relation_id: &str) -> Result<String> {
        self.update(|s| {
            let rel = relation_mut(&mut s.data, relation_id)?;
            let n = (0..)
                .find(|n| {
                    !rel.remote_units
                        .contains_key(&format!("{}/{n}", rel.remote_app))
                })
                .unwrap_or(0);
            let unit = format!("{}/{n}", rel.remote_app);
            rel.remote_units
                .insert(unit.clone(), address_bag(&unit_address(&unit)));
            Ok(unit)
        })
    }

    /// Set keys of a remote unit's data bag (empty value deletes), as the remote charm would.
    pub fn set_remote_unit_data(
        &self,
        relation_id: &str,
        unit: &str,
        data: &[(&str, &str)],
    ) -> Result<()> {
        self.update(|s| {
            let rel = relation_mut(&mut s.data, relation_id)?;
            let bag = rel
                .remote_units
                .get_mut(unit)
                .ok_or_else(|| anyhow!("unit {unit:?} is not in relation {relation_id}"))?;
            super::state::set_or_delete(bag, data.iter().copied());
            Ok(())
        })
    }

    pub fn set_remote_app_data(&self, relation_id: &str, data: &[(&str, &str)]) -> Result<()> {
        self.update(|s| {
            super::state::set_or_delete(
                &mut relation_mut(&mut s.data, relation_id)?.remote_app_data,
                data.iter().copied(),
            );
            Ok(())
        })
    }

    pub fn relation(&self, relation_id: &str) -> Result<Relation> {
        self.state()?
            .data
            .relations
            .get(relation_id)
            .cloned()
            .ok_or_else(|| anyhow!("no relation {relation_id}"))
    }

    // ---- reading back ----------------------------------------------------------------

    pub fn unit_status(&self) -> Result<Status> {
        Ok(self.state()?.unit_status)
    }

    pub fn application_status(&self) -> Result<Status> {
        Ok(self.state()?.application_status)
    }

    pub fn leader_data(&self) -> Result<Bag> {
        Ok(self.state()?.data.leader_data)
    }

    pub fn opened_ports(&self) -> Result<Vec<String>> {
        Ok(self.state()?.data.opened_ports)
    }

    pub fn unit_state(&self) -> Result<Bag> {
        Ok(self.state()?.data.unit_state)
    }

    /// Every hook-tool call so far, parsed from calls.log.
    pub fn calls(&self) -> Result<Vec<CallRecord>> {
        store::read_calls(&self.dir)
    }

    /// juju-debug.log as text (juju-log lines).
    pub fn debug_log(&self) -> Result<String> {
        match std::fs::read_to_string(self.dir.join(store::DEBUG_LOG)) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e).context("cannot read juju-debug.log"),
        }
    }

    // ---- running hooks -----------------------------------------------------------------

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

    /// Run `<endpoint>-relation-<event>` for `relation_id`. `remote_unit` is needed for
    /// joined, changed (unit data) and departed; departed removes the unit first, broken
    /// removes the relation once the hook succeeds.
    pub fn run_relation_hook(
        &self,
        relation_id: &str,
        event: RelationEvent,
        remote_unit: Option<&str>,
    ) -> Result<HookRun> {
        let rel = self.relation(relation_id)?;
        if let Some(u) = remote_unit
            && !rel.remote_units.contains_key(u)
        {
            bail!("unit {u:?} is not in relation {relation_id}");
        }
        if matches!(event, RelationEvent::Joined | RelationEvent::Departed) && remote_unit.is_none()
        {
            bail!("relation-{} needs a remote unit", event.as_str());
        }
        let mut departing = None;
        if event == RelationEvent::Departed {
            departing = remote_unit.map(str::to_string);
            self.update(|s| {
                let rel = relation_mut(&mut s.data, relation_id)?;
                for u in departing.iter() {
                    rel.remote_units.remove(u);
                }
                Ok(())
            })?;
        }
        if event == RelationEvent::Broken {
            self.update(|s| {
                relation_mut(&mut s.data, relation_id)?.remote_units.clear();
                Ok(())
            })?;
        }
        let hook = format!("{}-relation-{}", rel.endpoint, event.as_str());
        let run = self.run(RunSpec {
            hook: hook.clone(),
            dispatch_path: Some(format!("hooks/{hook}")),
            relation_id: Some(relation_id.to_string()),
            remote_unit: remote_unit.map(str::to_string),
            departing_unit: departing,
            ..RunSpec::default()
        })?;
        if event == RelationEvent::Broken && run.success() {
            self.update(|s| {
                s.data.relations.remove(relation_id);
                Ok(())
            })?;
        }
        Ok(run)
    }

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
        let Some(bare) = super::tools::secret_id(id) else {
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
    pub fn exec(&self, command: &str) -> Result<HookRun> {
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

    pub(super) fn run(&self, spec: RunSpec) -> Result<HookRun> {
        let _hook_lock = store::lock_hook(&self.dir)?;
        let context_id = format!("{}-{}-{}", self.state()?.unit, spec.hook, random_hex(8));
        // Open the context: from now on tools presenting this id are served.
        let state = self.update(|s| {
            let relation = spec
                .relation_id
                .as_ref()
                .and_then(|id| s.data.relations.get(id));
            s.agent_status = Status {
                status: "executing".into(),
                message: format!("running {} hook", spec.hook),
            };
            s.running = Some(RunningHook {
                context_id: context_id.clone(),
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
            Ok(s.clone())
        })?;
        self.ensure_tools(&state)?;
        let result = self.spawn(&state, &spec, &context_id);
        // Close the context whatever happened, committing only on success.
        let exit_code = result.as_ref().map_or(-1, |r| r.exit_code);
        self.update(|s| {
            let Some(running) = s.running.take() else {
                return Ok(());
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
                context_id: context_id.clone(),
                started: running.started,
                exit_code,
                committed,
            });
            super::reboot::after_run(s, &spec.hook, reboot, committed);
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
            env.extend(super::storage::hook_env(state, id));
        }
        env.extend(state.machine_env.clone());
        env
    }
}

fn relation_mut<'a>(data: &'a mut Data, id: &str) -> Result<&'a mut Relation> {
    data.relations
        .get_mut(id)
        .ok_or_else(|| anyhow!("no relation {id}"))
}
