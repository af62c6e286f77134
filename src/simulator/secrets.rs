//! The other side of secrets: what another application (or the operator) does to the
//! model between hooks — share a secret with this unit, publish a new revision of it.
//! No hook runs; `Model::run_secret_hook` then fires `secret-changed`.

use super::driver::Model;
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

    /// Every secret the unit sees, by bare id, as committed.
    pub fn secrets(&self) -> Result<BTreeMap<String, Secret>> {
        Ok(self.state()?.data.secrets)
    }
}
