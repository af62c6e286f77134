//! Leadership changing hands after the model was created, as Juju's leadership resolver
//! enacts it on a machine unit:
//! - the unit is elected: it becomes the leader and `leader-elected` runs;
//! - the unit is deposed: it stops being the leader and no `leader-deposed` runs (Juju
//!   only logs that it should). On Juju 3.6 the new minion then runs
//!   `leader-settings-changed` when leader data changed since it last ran that hook (or
//!   it never did): Juju's resolver runs it for a non-leader whose leader settings
//!   version lags, and a leader's version never follows, not even its own writes. Juju
//!   4.0 has no leader-settings-changed;
//! - the leader (another unit) changes leader data: a non-leader runs
//!   `leader-settings-changed` on 3.6; on 4.0, where Lucky keeps leader data in the
//!   [`PEER_ENDPOINT`](crate::juju::leader::PEER_ENDPOINT) peer relation's application
//!   bag, the change is that relation's `-relation-changed` with the application as the
//!   remote side.

use super::driver::{HookRun, Model, RelationEvent};
use super::juju::Juju;
use super::state::set_or_delete;
use anyhow::{Result, anyhow, bail};

impl Model {
    /// The unit becomes its application's leader, and `leader-elected` runs.
    pub(crate) fn elect(&self) -> Result<HookRun> {
        self.update(|s| {
            if s.leader {
                bail!("{} is already the leader of {}", s.unit, s.app());
            }
            s.leader = true;
            Ok(())
        })?;
        self.run_hook("leader-elected")
    }

    /// Another unit takes the leadership: no leader-deposed (Juju runs none). On Juju 3.6
    /// the unit, now a minion, runs `leader-settings-changed` (returned) when leader data
    /// changed since it last ran that hook; on 4.0 nothing runs.
    pub(crate) fn depose(&self) -> Result<Option<HookRun>> {
        let lagging = self.update(|s| {
            if !s.leader {
                bail!("{} is not the leader of {}", s.unit, s.app());
            }
            s.leader = false;
            Ok(s.juju() == Juju::V3_6 && !s.leader_settings_seen)
        })?;
        if lagging {
            return self.run_hook("leader-settings-changed").map(Some);
        }
        Ok(None)
    }

    /// The leader, another unit, sets leader data (an empty value deletes the key), and
    /// this unit hears of it: `leader-settings-changed` on 3.6, the leader-data peer
    /// relation's `-relation-changed` on 4.0. Only a non-leader: a leader writes its own.
    pub(crate) fn set_leader_data_as_leader(&self, data: &[(&str, &str)]) -> Result<HookRun> {
        for (k, _) in data {
            crate::juju::args::setting_key(k).map_err(|e| anyhow!("{e}"))?;
        }
        let state = self.state()?;
        if state.leader {
            bail!(
                "{} is the leader: leader data changes from its own hooks (`lucky leader set`)",
                state.unit
            );
        }
        match state.juju() {
            Juju::V3_6 => {
                self.update(|s| {
                    set_or_delete(&mut s.data.leader_data, data.iter().copied());
                    s.leader_settings_seen = false;
                    Ok(())
                })?;
                self.run_hook("leader-settings-changed")
            }
            Juju::V4_0 => {
                let endpoint = crate::juju::leader::PEER_ENDPOINT;
                let id = state
                    .data
                    .relations
                    .iter()
                    .find(|(_, r)| r.endpoint == endpoint)
                    .map(|(id, _)| id.clone())
                    .ok_or_else(|| {
                        anyhow!(
                            "the model has no {endpoint} peer relation, where leader data lives on Juju 4.0: run {endpoint}-relation-created first (on a charm `lucky charm build` wrote)"
                        )
                    })?;
                self.update(|s| {
                    let rel = s
                        .data
                        .relations
                        .get_mut(&id)
                        .ok_or_else(|| anyhow!("no relation {id}"))?;
                    set_or_delete(&mut rel.local_app_data, data.iter().copied());
                    Ok(())
                })?;
                self.run_relation_hook(&id, RelationEvent::Changed, None)
            }
        }
    }
}
