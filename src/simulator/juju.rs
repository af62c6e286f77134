//! Which Juju the simulator stands in for: 3.6 (the default) or 4.0.
//!
//! What differs for a machine charm, as read in Juju's sources:
//! - 4.0's unit agent has no `leader-get` or `leader-set` (its jujuc server lists
//!   `is-leader` alone under leadership), so they are not in the hook's tools dir and a
//!   script calling them gets "command not found"; leader data lives in a peer
//!   relation's application data instead.
//! - 4.0 never fires `leader-settings-changed` (its leadership resolver only accepts or
//!   resigns leadership); 3.6 fires it on a non-leader at start and when leader data
//!   changes. Neither runs `leader-deposed`: resigning only logs "we should run a
//!   leader-deposed hook here, but we can't yet".
//! - 4.0 refuses a charm whose metadata.yaml declares `series` (bases only).

use anyhow::{Result, bail};
use serde_json::Value;

/// The Juju a simulated model stands in for: its version, tools and hooks differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Juju {
    /// Juju 3.6, the long-term release.
    #[default]
    V3_6,
    /// Juju 4.0: no leader-settings tools or hooks, no `series`.
    V4_0,
}

impl Juju {
    /// What `--juju` accepts.
    pub(crate) const NAMES: &[&str] = &["3.6", "4.0"];

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "3.6" => Some(Self::V3_6),
            "4.0" => Some(Self::V4_0),
            _ => None,
        }
    }

    /// The model's Juju, from the version it gives hooks as `JUJU_VERSION`.
    pub(crate) fn of_version(version: &str) -> Self {
        match version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
        {
            Some(major) if major >= 4 => Self::V4_0,
            _ => Self::V3_6,
        }
    }

    /// `JUJU_VERSION` as this Juju's agents give it.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Self::V3_6 => "3.6.12",
            Self::V4_0 => "4.0.0",
        }
    }

    /// Whether a hook tool exists in this Juju's hook environment.
    pub(crate) fn has_tool(self, tool: &str) -> bool {
        !(self == Self::V4_0 && matches!(tool, "leader-get" | "leader-set"))
    }

    /// Whether this Juju ever fires the (non-relation) hook `hook` on a machine unit.
    pub(crate) fn fires(self, hook: &str) -> bool {
        match hook {
            "leader-deposed" => false,
            "leader-settings-changed" => self == Self::V3_6,
            _ => true,
        }
    }

    /// Refuses what this Juju will not deploy: for 4.0, metadata.yaml's `series`.
    pub(crate) fn check_metadata(self, metadata: Option<&Value>) -> Result<()> {
        if self == Self::V4_0 && metadata.and_then(|m| m.get("series")).is_some() {
            bail!(
                "cannot deploy the charm on Juju 4.0: its metadata.yaml declares `series`, which Juju 4 no longer reads; deploy the folder `lucky charm build` writes (it turns `series` into bases) or declare bases in charmcraft.yaml"
            );
        }
        Ok(())
    }
}

impl std::fmt::Display for Juju {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V3_6 => "3.6",
            Self::V4_0 => "4.0",
        })
    }
}
