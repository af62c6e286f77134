//! What `model.json` holds: the simulated model as one unit sees it.
//!
//! Everything a hook may change only on success (relation data, leader data, ports, unit
//! state) lives in [`Data`]: the committed copy at the top level, and while a hook runs a
//! staged copy inside [`RunningHook`] that the driver commits or drops when the hook ends.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) type Bag = BTreeMap<String, String>;

/// Sets each key of `settings` in `bag`, as Juju's `*-set` tools do: an empty value
/// deletes the key.
pub(crate) fn set_or_delete<K, V>(bag: &mut Bag, settings: impl IntoIterator<Item = (K, V)>)
where
    K: Into<String> + AsRef<str>,
    V: Into<String> + AsRef<str>,
{
    for (k, v) in settings {
        if v.as_ref().is_empty() {
            bag.remove(k.as_ref());
        } else {
            bag.insert(k.into(), v.into());
        }
    }
}

/// Everything `model.json` holds: the model, the unit, what the operator set, the
/// committed data, and the record of every hook, action and status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelState {
    pub(crate) model_name: String,
    /// `JUJU_MODEL_UUID`, random per model.
    pub model_uuid: String,
    pub(crate) unit: String,
    pub(crate) machine_id: String,
    pub(crate) availability_zone: String,
    /// `JUJU_VERSION`: which Juju the model stands in for.
    pub juju_version: String,
    pub(crate) charm_dir: PathBuf,
    /// The `lucky` binary the tools dir links to.
    pub(crate) lucky_bin: PathBuf,
    /// Whether the unit leads its application (`is-leader`).
    pub leader: bool,
    /// Whether the unit has run leader-settings-changed (Juju 3.6) since leader data last
    /// changed: Juju's resolver runs that hook for a non-leader whose leader settings
    /// version lags, which is what a freshly deposed leader finds when it is not set.
    #[serde(default)]
    pub(crate) leader_settings_seen: bool,
    /// Options declared in the charm's config.yaml (type, default, description).
    #[serde(default)]
    pub(crate) config_options: BTreeMap<String, ConfigOption>,
    /// Values set by the operator (`juju config`), on top of the defaults.
    #[serde(default)]
    pub(crate) config: Map<String, Value>,
    /// The unit's workload status (`status-set`).
    pub unit_status: Status,
    /// The application's status (`status-set --application`, leader only).
    pub application_status: Status,
    /// The unit agent's status: `idle`, `executing` while a hook runs, or `error` with
    /// `hook failed: "<hook>"` after a failed hook (as `juju status` shows it).
    #[serde(default)]
    pub agent_status: Status,
    /// Every status-set, oldest first, so tests can see statuses a hook went through.
    #[serde(default)]
    pub status_history: Vec<StatusRecord>,
    /// `application-version-set`'s version, shown by `juju status`.
    #[serde(default)]
    pub application_version: String,
    pub(crate) addresses: Addresses,
    /// Endpoints and extra bindings from metadata.yaml (what network-get accepts).
    #[serde(default)]
    pub(crate) bindings: Vec<String>,
    /// Resources declared in metadata.yaml.
    #[serde(default)]
    pub(crate) declared_resources: Vec<String>,
    /// Attached resources: name → file path.
    #[serde(default)]
    pub(crate) resources: BTreeMap<String, PathBuf>,
    /// Committed transactional data.
    pub data: Data,
    pub(crate) next_relation_id: u32,
    /// Every action run, oldest first.
    #[serde(default)]
    pub actions: Vec<ActionRecord>,
    /// Every hook the driver ran, oldest first.
    #[serde(default)]
    pub hooks: Vec<HookRecord>,
    /// The hook whose context is valid right now, if any.
    #[serde(default)]
    pub running: Option<RunningHook>,
    /// Variables this simulated machine adds to every hook's environment (where Lucky's
    /// socket lives, DOCKER_HOST …), kept in the model so `juju-exec` contexts get them too.
    #[serde(default)]
    pub(crate) machine_env: BTreeMap<String, String>,
    /// Storage declared in metadata.yaml: name → what it is and how many instances.
    #[serde(default)]
    pub(crate) declared_storage: BTreeMap<String, StorageDecl>,
    /// Storage ids are numbered model-wide, as in Juju (`data/0`, `logs/1`).
    #[serde(default)]
    pub(crate) next_storage_number: u32,
    /// Trust and reboots: what the machine and cloud let the unit do.
    #[serde(default)]
    pub machine: Machine,
}

/// What the unit's machine and cloud allow and were asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Machine {
    /// `juju trust` / `juju deploy --trust`: credential-get answers only when set.
    #[serde(default)]
    pub trusted: bool,
    /// Every reboot Juju was asked for and did, oldest first.
    #[serde(default)]
    pub reboots: Vec<RebootRecord>,
}

/// One machine reboot juju-reboot caused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RebootRecord {
    /// The hook that asked.
    pub hook: String,
    /// `--now`: the hook was killed, its changes dropped, and it runs again after the
    /// reboot (Juju requeues it).
    pub now: bool,
}

/// One `storage:` entry of metadata.yaml.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct StorageDecl {
    /// `filesystem` or `block`.
    pub(crate) kind: String,
    /// Most instances a unit may have (`multiple: range:`); 1 without `multiple`.
    pub(crate) max: Option<u32>,
    /// Instances a unit gets at deploy (the range's lower bound); 1 without `multiple`.
    #[serde(default)]
    pub(crate) min: u32,
}

/// A storage instance of the unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StorageInstance {
    /// `filesystem` or `block`.
    pub kind: String,
    /// Where it is mounted (a filesystem) or its device (a block).
    pub location: String,
    /// False from `storage-add` until the instance is attached (its
    /// `<name>-storage-attached` hook); only attached storage is listed.
    pub attached: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConfigOption {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) default: Value,
    #[serde(default)]
    pub(crate) description: String,
}

/// A status as `juju status` shows it: its name and message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `active`, `blocked`, `maintenance`, `waiting` (the agent's: `idle`, `executing`, `error`).
    pub status: String,
    /// Shown beside it.
    #[serde(default)]
    pub message: String,
}

/// One status-set, as the model's history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusRecord {
    pub(crate) time: String,
    pub(crate) hook: String,
    /// `unit` or `application`.
    pub target: String,
    /// The status set.
    pub status: String,
    /// Its message.
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Addresses {
    pub(crate) private: String,
    pub(crate) public: String,
}

/// What hooks change transactionally: staged while a hook runs, committed when it exits 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Data {
    /// Keyed by relation id, e.g. `db:1`.
    #[serde(default)]
    pub relations: BTreeMap<String, Relation>,
    /// The application's leader settings (`leader-set`).
    #[serde(default)]
    pub leader_data: Bag,
    /// Opened ports as Juju prints them: `80/tcp`, `8000-8010/udp`, `icmp`.
    #[serde(default)]
    pub opened_ports: Vec<String>,
    /// state-get/state-set key-values.
    #[serde(default)]
    pub unit_state: Bag,
    /// The unit's storage instances by id (`data/0`).
    #[serde(default)]
    pub storage: BTreeMap<String, StorageInstance>,
    /// Secrets this unit can see, by bare id (`secret:` dropped): its own and its
    /// application's, and those other applications shared with it.
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// The endpoints an opened port is for, when not every endpoint (`open-port
    /// --endpoints`); a port missing here is open on every endpoint (`*`).
    #[serde(default)]
    pub port_endpoints: BTreeMap<String, Vec<String>>,
}

/// One relation of the unit, with every data bag the unit can see.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Relation {
    /// The charm's endpoint it is on (metadata.yaml).
    pub endpoint: String,
    /// The application on the other side (the unit's own for a peer relation).
    pub remote_app: String,
    /// Remote units in the relation and their data bags.
    #[serde(default)]
    pub remote_units: BTreeMap<String, Bag>,
    #[serde(default)]
    pub(crate) remote_app_data: Bag,
    /// This unit's data bag (`relation-set`), pre-filled with its addresses.
    #[serde(default)]
    pub local_unit_data: Bag,
    /// The application's data bag (`relation-set --app`, leader only).
    #[serde(default)]
    pub local_app_data: Bag,
    /// The model the remote application lives in, for a cross-model relation (None: this
    /// model).
    #[serde(default)]
    pub(crate) remote_model_uuid: Option<String>,
}

/// One secret as the unit sees it. Content is stored as Juju stores it: base64 values.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Secret {
    /// `application` (this unit's application), `unit` (this unit), or `remote` (owned by
    /// another application, `owner_id`, and shared with this one).
    pub owner: String,
    /// The owning application or unit, e.g. `app` or `app/0`.
    pub owner_id: String,
    /// The label this unit gave it (owner label, or consumer label for a remote secret).
    #[serde(default)]
    pub label: String,
    /// `--description`, as the owner set it.
    #[serde(default)]
    pub description: String,
    /// The rotation policy (`hourly`, `daily` …); `None` for never.
    #[serde(default)]
    pub rotate: Option<String>,
    /// When the secret expires (RFC 3339), if it does.
    #[serde(default)]
    pub expire: Option<String>,
    /// Revision number → key → base64 value.
    pub revisions: BTreeMap<u32, Bag>,
    /// The revision this unit's secret-get returns (set by its first get, or --refresh).
    #[serde(default)]
    pub tracked: Option<u32>,
    /// Who else may read it (`secret-grant`).
    #[serde(default)]
    pub grants: Vec<SecretGrant>,
}

impl Secret {
    /// The newest revision (0 when it has none).
    pub fn latest(&self) -> u32 {
        self.revisions.keys().next_back().copied().unwrap_or(0)
    }

    /// Owned by this unit or its application (not shared by another application).
    pub(crate) fn owned(&self) -> bool {
        self.owner != "remote"
    }
}

/// One `secret-grant`: an application or unit on a relation may read the secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecretGrant {
    /// `application-<app>` or `unit-<app>-<n>`.
    pub(crate) target: String,
    /// The relation the grant belongs to, e.g. `db:1`.
    pub(crate) relation_id: String,
    /// Its relation tag, as secret-info-get prints it.
    pub(crate) scope: String,
}

/// One action run: what it was given and what it answered, as `juju run` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActionRecord {
    /// `JUJU_ACTION_UUID`.
    pub uuid: String,
    /// The action's name in actions.yaml.
    pub name: String,
    pub(crate) params: Map<String, Value>,
    /// What `action-set` set.
    #[serde(default)]
    pub results: Map<String, Value>,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// `action-fail`'s message, or the exit status of a failed run.
    #[serde(default)]
    pub message: Option<String>,
    /// `action-log`'s messages, oldest first.
    #[serde(default)]
    pub logs: Vec<String>,
}

/// One hook (or action, or juju-exec) the driver ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookRecord {
    /// Its name.
    pub hook: String,
    pub(crate) context_id: String,
    pub(crate) started: String,
    /// What it exited with (-1 when it could not run).
    pub exit_code: i32,
    /// Whether the hook's staged changes were committed (exit 0).
    pub committed: bool,
}

/// The hook whose context is open: the tools serve its id, and its changes stay staged
/// until it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningHook {
    pub(crate) context_id: String,
    /// Hook name, or `juju-exec` / the action name for those contexts.
    pub(crate) hook: String,
    pub(crate) started: String,
    #[serde(default)]
    pub(crate) relation_id: Option<String>,
    #[serde(default)]
    pub(crate) remote_unit: Option<String>,
    #[serde(default)]
    pub(crate) remote_app: Option<String>,
    #[serde(default)]
    pub(crate) action: Option<ActionRecord>,
    /// The storage instance a storage hook is about (storage-get's default).
    #[serde(default)]
    pub(crate) storage_id: Option<String>,
    /// The hook's process and the reboot it asked for.
    #[serde(default)]
    pub(crate) process: HookProcess,
    /// This hook's working copy; committed on exit 0.
    pub(crate) staged: Data,
}

/// The process running a hook, and the reboot it asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct HookProcess {
    /// The hook's process id, which `juju-reboot --now` kills.
    #[serde(default)]
    pub(crate) pid: Option<u32>,
    /// `juju-reboot` was called (after the hook, or with `now`, at once).
    #[serde(default)]
    pub(crate) reboot: Option<RebootPriority>,
}

/// When the reboot a hook asked for happens.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum RebootPriority {
    /// When the hook has succeeded (not at all if it fails).
    AfterHook,
    /// At once: the hook is killed and run again after the reboot.
    Now,
}

impl ModelState {
    /// The Juju this model stands in for, from its version.
    pub(crate) fn juju(&self) -> super::juju::Juju {
        super::juju::Juju::of_version(&self.juju_version)
    }

    /// The unit's application: `app` of `app/0`.
    pub fn app(&self) -> &str {
        self.unit.split('/').next().unwrap_or(&self.unit)
    }

    /// Effective config: declared defaults overlaid with operator values.
    pub(crate) fn effective_config(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, opt) in &self.config_options {
            out.insert(k.clone(), opt.default.clone());
        }
        for (k, v) in &self.config {
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// `2024-05-01T12:00:00.123Z` from the system clock, without a date crate.
pub(crate) fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let millis = now.subsec_millis();
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::calendar::civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Random lowercase hex, for context ids and UUIDs.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // A failing OS RNG is not worth failing a simulated hook over: fall back to the clock.
    if getrandom::fill(&mut buf).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8 ^ (std::process::id() as u8);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random_uuid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
