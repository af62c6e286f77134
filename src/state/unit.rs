//! The documents that make up a unit's durable state.

use super::status::Statuses;
use super::{Document, StateError, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What was last learnt from Juju, to answer calls made outside any hook.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct JujuCache {
    #[serde(default)]
    pub(crate) config: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) private_address: Option<String>,
    #[serde(default)]
    pub(crate) public_address: Option<String>,
}

/// What the cron scheduler must remember across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CronState {
    /// The charm folder, learnt from the last hook (the daemon starts without one).
    #[serde(default)]
    pub(crate) charm_dir: Option<std::path::PathBuf>,
    /// PATH of the last hook: where `juju-exec` / `juju-run` are found.
    #[serde(default)]
    pub(crate) hook_path: Option<String>,
    /// Set by the `stop` hook, cleared by `install` and `start`.
    #[serde(default)]
    pub(crate) stopped: bool,
    /// Schedule → when its job last started (Unix seconds).
    #[serde(default)]
    pub(crate) last_runs: BTreeMap<String, i64>,
}

pub(crate) struct UnitState {
    /// `lucky kv`: unit-local key-values.
    pub(crate) kv: Document<BTreeMap<String, String>>,
    /// Owner → status (see `state::status`).
    pub(crate) statuses: Document<Statuses>,
    pub(crate) juju_cache: Document<JujuCache>,
    pub(crate) cron: Document<CronState>,
}

impl UnitState {
    /// Opens every document; problems (a corrupt file kept aside) are returned to report.
    pub(crate) fn open(store: &Store) -> (Self, Vec<StateError>) {
        let mut problems = Vec::new();
        let mut note = |p: Option<StateError>| problems.extend(p);
        let (kv, p) = Document::open(store, "kv");
        note(p);
        let (statuses, p) = Document::open(store, "statuses");
        note(p);
        let (juju_cache, p) = Document::open(store, "juju-cache");
        note(p);
        let (cron, p) = Document::open(store, "cron");
        note(p);
        (
            Self {
                kv,
                statuses,
                juju_cache,
                cron,
            },
            problems,
        )
    }
}
