//! The other side of secrets: what another application (or the operator) does to the
//! model between hooks — share a secret with this unit, publish a new revision of it.
//! No hook runs; `Model::run_secret_hook` then fires `secret-changed`. And what Juju's
//! timers fire at an owner: `secret-rotate`, `secret-expired`, `secret-remove`.

use super::driver::{HookRun, Model};
use super::state::{Bag, Secret};
use anyhow::{Result, bail};
use std::collections::BTreeMap;

fn encoded(content: &[(&str, &str)]) -> Result<Bag> {
    let mut bag = Bag::new();
    for (k, v) in content {
        if !super::tools::secret_key_ok(k) {
            bail!(
                "secret key {k:?} is not valid: use 3 or more lowercase letters and digits, single '-' between, starting with a letter"
            );
        }
        bag.insert(
            (*k).to_string(),
            crate::release::verify::base64_encode(v.as_bytes()),
        );
    }
    if bag.is_empty() {
        bail!("a secret needs at least one key=value");
    }
    Ok(bag)
}

impl Model {
    /// A secret owned by `owner_app` and granted to this unit's application, at revision 1.
    /// Returns its id as Juju prints it (`secret:…`).
    pub fn add_remote_secret(&self, owner_app: &str, content: &[(&str, &str)]) -> Result<String> {
        let data = encoded(content)?;
        let id = super::tools::new_secret_id();
        self.update(|s| {
            s.data.secrets.insert(
                id.clone(),
                Secret {
                    owner: "remote".into(),
                    owner_id: owner_app.into(),
                    revisions: [(1, data)].into_iter().collect(),
                    ..Secret::default()
                },
            );
            Ok(())
        })?;
        Ok(format!("secret:{id}"))
    }

    /// The owner publishes new content for secret `id`: a new revision, returned. The
    /// unit keeps reading the revision it tracks until it refreshes.
    pub fn set_secret_content(&self, id: &str, content: &[(&str, &str)]) -> Result<u32> {
        let data = encoded(content)?;
        let Some(bare) = super::tools::secret_id(id) else {
            bail!("{id:?} is not a secret id: use secret:ID");
        };
        self.update(|s| {
            let Some(secret) = s.data.secrets.get_mut(&bare) else {
                bail!("the model has no secret {id}");
            };
            let next = secret.latest() + 1;
            secret.revisions.insert(next, data);
            Ok(next)
        })
    }

    /// What Juju's secret timers and revision tracking fire at the owner: `secret-rotate`
    /// when a rotate policy falls due, `secret-expired` when a revision's expiry passes,
    /// `secret-remove` when no consumer tracks a revision any more. Only for a secret
    /// this unit owns with the policy or revision in question; an application's secret
    /// goes to its leader, as in Juju.
    pub(crate) fn owner_secret_event(
        &self,
        event: OwnerSecretEvent,
        id: &str,
        revision: Option<u32>,
    ) -> Result<HookRun> {
        let Some(bare) = super::tools::secret_id(id) else {
            bail!("{id:?} is not a secret id: use secret:ID as secret-add printed it");
        };
        let state = self.state()?;
        let Some(secret) = state.data.secrets.get(&bare) else {
            bail!("the model has no secret {id}");
        };
        if !secret.owned() {
            bail!(
                "secret {id} is owned by {}: Juju fires {} only at the owner",
                secret.owner_id,
                event.hook()
            );
        }
        if secret.owner == "application" && !state.leader {
            bail!(
                "secret {id} belongs to the application: Juju fires {} at its leader, and this unit is not the leader",
                event.hook()
            );
        }
        let revision = match event {
            OwnerSecretEvent::Rotate => {
                match secret.rotate.as_deref() {
                    None | Some("never") => {
                        bail!(
                            "secret {id} has no rotate policy: set one with `secret set --rotate`"
                        )
                    }
                    Some(_) => {}
                }
                None
            }
            OwnerSecretEvent::Expire => {
                if secret.expire.is_none() {
                    bail!("secret {id} has no expiry: set one with `secret set --expire`");
                }
                Some(revision.unwrap_or(secret.latest()))
            }
            OwnerSecretEvent::Obsolete => {
                let Some(rev) = revision else {
                    bail!("secret-remove needs the revision nobody tracks any more");
                };
                if !secret.revisions.contains_key(&rev) {
                    bail!("secret {id} has no revision {rev}");
                }
                if rev == secret.latest() {
                    bail!("revision {rev} is the latest of secret {id}: Juju keeps it");
                }
                Some(rev)
            }
        };
        self.run_secret_hook(event.hook(), id, revision)
    }

    /// Every secret the unit sees, by bare id, as committed.
    pub fn secrets(&self) -> Result<BTreeMap<String, Secret>> {
        Ok(self.state()?.data.secrets)
    }
}

/// A secret event Juju fires at the secret's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnerSecretEvent {
    Rotate,
    Expire,
    Obsolete,
}

impl OwnerSecretEvent {
    pub(crate) fn hook(self) -> &'static str {
        match self {
            Self::Rotate => "secret-rotate",
            Self::Expire => "secret-expired",
            Self::Obsolete => "secret-remove",
        }
    }
}
