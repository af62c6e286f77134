//! Storage in the simulated model: what metadata.yaml declares, the unit's instances,
//! and the `<name>-storage-attached` / `<name>-storage-detaching` hooks with Juju's
//! environment (`JUJU_STORAGE_ID`, `JUJU_STORAGE_KIND`, `JUJU_STORAGE_LOCATION`).
//!
//! Filesystem storage gets a real directory under the model dir (`storage/<name>/<n>`),
//! so scripts can write to it; block storage gets a device-like location that is not
//! created. A location declared in metadata.yaml is not used: it would be on the host.

use super::driver::{HookRun, Model, RunSpec};
use super::state::{ModelState, StorageDecl, StorageInstance};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::collections::BTreeMap;

/// metadata.yaml's `storage:` section: name → kind and most instances.
pub(crate) fn declared(metadata: Option<&Value>) -> Result<BTreeMap<String, StorageDecl>> {
    let mut out = BTreeMap::new();
    let Some(section) = metadata.and_then(|m| m.get("storage")) else {
        return Ok(out);
    };
    let Some(map) = section.as_object() else {
        bail!("metadata.yaml: `storage` must be a map of storage names");
    };
    for (name, spec) in map {
        let kind = spec
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("metadata.yaml: storage {name:?} has no `type`"))?;
        if kind != "filesystem" && kind != "block" {
            bail!("metadata.yaml: storage {name:?} has type {kind:?}: use filesystem or block");
        }
        let (min, max) = match spec.get("multiple").and_then(|m| m.get("range")) {
            None => (1, Some(1)),
            Some(range) => bounds_of_range(range)
                .with_context(|| format!("metadata.yaml: storage {name:?}: bad multiple.range"))?,
        };
        out.insert(
            name.clone(),
            StorageDecl {
                kind: kind.into(),
                max,
                min,
            },
        );
    }
    Ok(out)
}

/// `3`, `0-10` or `2-` (no upper bound): (lower, upper).
fn bounds_of_range(range: &Value) -> Result<(u32, Option<u32>)> {
    let text = match range {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => bail!("expected N, N-M or N-"),
    };
    let number = |s: &str| s.trim().parse::<u32>().context("expected N, N-M or N-");
    match text.split_once('-') {
        Some((lower, "")) => Ok((number(lower)?, None)),
        Some((lower, upper)) => Ok((number(lower)?, Some(number(upper)?))),
        None => {
            let n = number(&text)?;
            Ok((n, Some(n)))
        }
    }
}

/// The storage name of an id (`data/0` → `data`).
pub(crate) fn name_of(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

/// The next instance of `name`: its id and instance, not yet attached. Refuses a name the
/// charm does not declare, and one more instance than `multiple.range` allows.
/// `storage` is the unit's instances as the caller sees them (a hook's staged copy).
pub(crate) fn new_instance(
    state: &mut ModelState,
    storage: &BTreeMap<String, StorageInstance>,
    name: &str,
) -> Result<(String, StorageInstance), String> {
    let Some(decl) = state.declared_storage.get(name).cloned() else {
        return Err(format!("charm storage {name:?} not found"));
    };
    let existing = storage.keys().filter(|id| name_of(id) == name).count();
    if let Some(max) = decl.max
        && existing >= max as usize
    {
        return Err(format!(
            "cannot add storage {name:?}: the charm allows at most {max} instance(s) and the unit has {existing}"
        ));
    }
    let n = state.next_storage_number;
    state.next_storage_number += 1;
    let id = format!("{name}/{n}");
    Ok((
        id,
        StorageInstance {
            kind: decl.kind,
            location: String::new(),
            attached: false,
        },
    ))
}

/// Juju's storage hook variables for instance `id`.
pub(crate) fn hook_env(state: &ModelState, id: &str) -> Vec<(String, String)> {
    let (kind, location) = state
        .data
        .storage
        .get(id)
        .map(|s| (s.kind.clone(), s.location.clone()))
        .unwrap_or_default();
    vec![
        ("JUJU_STORAGE_ID".into(), id.into()),
        ("JUJU_STORAGE_LOCATION".into(), location),
        ("JUJU_STORAGE_KIND".into(), kind),
    ]
}

impl Model {
    /// The unit's storage instances by id, attached or pending (added by `storage-add`).
    pub fn storage(&self) -> Result<BTreeMap<String, StorageInstance>> {
        Ok(self.state()?.data.storage)
    }

    /// `juju add-storage` / deploy with storage: a new instance of `name` is attached and
    /// its `<name>-storage-attached` hook runs. Returns the instance's id and the run.
    pub fn attach_storage(&self, name: &str) -> Result<(String, HookRun)> {
        let id = self.update(|s| {
            let storage = s.data.storage.clone();
            let (id, instance) = new_instance(s, &storage, name).map_err(|e| anyhow!(e))?;
            s.data.storage.insert(id.clone(), instance);
            Ok(id)
        })?;
        let run = self.run_attached(&id)?;
        Ok((id, run))
    }

    /// Deploy: each declared storage gets its lower bound of instances, and their
    /// `-storage-attached` hooks run, as Juju runs them before `install`.
    pub(crate) fn attach_deploy_storage(&self) -> Result<Vec<(String, HookRun)>> {
        let state = self.state()?;
        let mut runs = Vec::new();
        for (name, decl) in &state.declared_storage {
            let have = state
                .data
                .storage
                .keys()
                .filter(|id| name_of(id) == name)
                .count();
            for _ in have..decl.min as usize {
                runs.push(self.attach_storage(name)?);
            }
        }
        Ok(runs)
    }

    /// Attaches every instance `storage-add` asked for, running each one's
    /// `-storage-attached` hook, as Juju does once the storage is provisioned.
    pub fn attach_pending_storage(&self) -> Result<Vec<(String, HookRun)>> {
        let pending: Vec<String> = self
            .storage()?
            .into_iter()
            .filter(|(_, s)| !s.attached)
            .map(|(id, _)| id)
            .collect();
        let mut runs = Vec::new();
        for id in pending {
            let run = self.run_attached(&id)?;
            let ok = run.success();
            runs.push((id, run));
            if !ok {
                break;
            }
        }
        Ok(runs)
    }

    fn run_attached(&self, id: &str) -> Result<HookRun> {
        let location = self.dir().join("storage").join(id);
        self.update(|s| {
            let instance = s
                .data
                .storage
                .get_mut(id)
                .ok_or_else(|| anyhow!("no storage instance {id}"))?;
            if instance.kind == "filesystem" {
                std::fs::create_dir_all(&location)
                    .with_context(|| format!("cannot create {}", location.display()))?;
                instance.location = location.to_string_lossy().into_owned();
            } else {
                let n = id.rsplit('/').next().unwrap_or("0");
                instance.location = format!("/dev/loop{n}");
            }
            instance.attached = true;
            Ok(())
        })?;
        let hook = format!("{}-storage-attached", name_of(id));
        self.run(RunSpec {
            dispatch_path: Some(format!("hooks/{hook}")),
            hook,
            storage_id: Some(id.into()),
            ..RunSpec::default()
        })
    }

    /// `juju detach-storage ID`: the `<name>-storage-detaching` hook runs while the storage
    /// is still there; once it succeeds the instance is gone. A failed hook keeps it.
    pub fn detach_storage(&self, id: &str) -> Result<HookRun> {
        match self.storage()?.get(id) {
            Some(s) if s.attached => {}
            Some(_) => bail!("storage {id} is not attached yet"),
            None => bail!("the unit has no storage {id}"),
        }
        let hook = format!("{}-storage-detaching", name_of(id));
        let run = self.run(RunSpec {
            dispatch_path: Some(format!("hooks/{hook}")),
            hook,
            storage_id: Some(id.into()),
            ..RunSpec::default()
        })?;
        if run.success() {
            self.update(|s| {
                s.data.storage.remove(id);
                Ok(())
            })?;
        }
        Ok(run)
    }
}
