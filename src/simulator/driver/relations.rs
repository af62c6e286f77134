//! Relations as Juju manages them: relating to a remote application, peers, remote units
//! joining and setting data, and running the `<endpoint>-relation-<event>` hooks.

use super::{HookRun, Model, RunSpec, keys_of, read_yaml};
use crate::simulator::state::{Bag, Data, Relation};
use anyhow::{Result, anyhow, bail};

/// Which `<endpoint>-relation-<event>` hook to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationEvent {
    /// The relation exists, before any remote unit joins.
    Created,
    /// A remote unit joined.
    Joined,
    /// A remote unit's (or the remote application's) data changed.
    Changed,
    /// A remote unit left; it is gone from the relation before the hook runs.
    Departed,
    /// The relation is ending; it is gone once the hook succeeds.
    Broken,
}

impl RelationEvent {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Joined => "joined",
            Self::Changed => "changed",
            Self::Departed => "departed",
            Self::Broken => "broken",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
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

impl Model {
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
            crate::simulator::state::set_or_delete(bag, data.iter().copied());
            Ok(())
        })
    }

    /// Set keys of the remote application's data bag (empty value deletes), as its
    /// leader would.
    pub fn set_remote_app_data(&self, relation_id: &str, data: &[(&str, &str)]) -> Result<()> {
        self.update(|s| {
            crate::simulator::state::set_or_delete(
                &mut relation_mut(&mut s.data, relation_id)?.remote_app_data,
                data.iter().copied(),
            );
            Ok(())
        })
    }

    /// The relation as committed: its endpoint, remote units and data bags.
    pub fn relation(&self, relation_id: &str) -> Result<Relation> {
        self.state()?
            .data
            .relations
            .get(relation_id)
            .cloned()
            .ok_or_else(|| anyhow!("no relation {relation_id}"))
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
}

fn relation_mut<'a>(data: &'a mut Data, id: &str) -> Result<&'a mut Relation> {
    data.relations
        .get_mut(id)
        .ok_or_else(|| anyhow!("no relation {id}"))
}
