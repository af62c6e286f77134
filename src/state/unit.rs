//! The documents that make up a unit's durable state.

use super::{Document, StateError, Store};
use crate::juju::status::Statuses;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What was last learnt from Juju, to answer calls made outside any hook.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JujuCache {
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub private_address: Option<String>,
    #[serde(default)]
    pub public_address: Option<String>,
}

pub struct UnitState {
    /// `lucky kv`: unit-local key-values.
    pub kv: Document<BTreeMap<String, String>>,
    /// Owner → status (see `juju::status`).
    pub statuses: Document<Statuses>,
    pub juju_cache: Document<JujuCache>,
}

impl UnitState {
    /// Opens every document; problems (a corrupt file kept aside) are returned to report.
    pub fn open(store: &Store) -> (Self, Vec<StateError>) {
        let mut problems = Vec::new();
        let mut note = |p: Option<StateError>| problems.extend(p);
        let (kv, p) = Document::open(store, "kv");
        note(p);
        let (statuses, p) = Document::open(store, "statuses");
        note(p);
        let (juju_cache, p) = Document::open(store, "juju-cache");
        note(p);
        (
            Self {
                kv,
                statuses,
                juju_cache,
            },
            problems,
        )
    }
}
