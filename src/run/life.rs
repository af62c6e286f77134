//! The unit's life: a fresh (or kept) model, install … remove in Juju's order, and
//! `--hook` / `--action` alone on the kept model.

use super::error::RunError;

use super::Runner;
use super::options::Setting;
use crate::charm::{lucky_yaml::LuckyYaml, metadata::Metadata};
use crate::simulator::{Model, RelationEvent};
use std::collections::BTreeMap;
use std::path::Path;

impl Runner {
    pub(super) fn model(&self) -> Result<Model, RunError> {
        Model::open(&self.paths.model).map_err(RunError::Simulator)
    }

    /// The whole life on a fresh (or, with --keep, the kept) model.
    pub(super) fn life(
        &mut self,
        charm_dir: &Path,
        meta: &Metadata,
        lucky_yaml: &LuckyYaml,
    ) -> Result<(), RunError> {
        let reuse = self.opts.keep && self.paths.has_model();
        if !reuse {
            self.clear()?;
        }
        self.build(charm_dir)?;
        self.prepare_engine()?;
        let model = if reuse {
            self.recreate_containers()?;
            println!("Reusing the kept model in {}", self.paths.model.display());
            self.model()?
        } else {
            self.create_model()?
        };
        let model = &model;
        set_config(model, &self.opts.config, "--config")?;
        let relations = self.relate(model, meta)?;

        for (id, run) in model.attach_deploy_storage().map_err(RunError::Simulator)? {
            let title = format!("{} ({id})", run.hook);
            self.report(model, run, title)?;
        }
        self.hook(model, "install")?;
        // Lucky's leader-data peer relation, as Juju creates it with the application:
        // its relation-created runs after install, before leader-elected.
        if !reuse
            && model
                .peer_endpoints()
                .map_err(RunError::Simulator)?
                .iter()
                .any(|p| p == crate::juju::leader::PEER_ENDPOINT)
        {
            let id = model
                .add_peer_relation(crate::juju::leader::PEER_ENDPOINT)
                .map_err(RunError::Simulator)?;
            self.relation_hook(model, &id, RelationEvent::Created, None)?;
        }
        for hook in ["leader-elected", "config-changed", "start"] {
            self.hook(model, hook)?;
        }
        for (id, remote_unit) in &relations {
            self.relation_hook(model, id, RelationEvent::Created, None)?;
            self.relation_hook(model, id, RelationEvent::Joined, Some(remote_unit))?;
            self.relation_hook(model, id, RelationEvent::Changed, Some(remote_unit))?;
        }
        self.hook(model, "update-status")?;
        for action in lucky_yaml.actions.keys() {
            self.action(model, action)?;
        }
        set_config(model, &self.opts.then_config, "--then-config")?;
        self.hook(model, "config-changed")?;
        if self.opts.no_stop {
            println!("\n==> stop, remove: skipped (--no-stop)");
        } else {
            self.hook(model, "stop")?;
            self.hook(model, "remove")?;
        }
        Ok(())
    }

    /// `--hook NAME` / `--action NAME` on the kept model.
    pub(super) fn single(&mut self, charm_dir: &Path) -> Result<(), RunError> {
        if !self.paths.has_model() {
            return Err(format!(
                "no kept model in {}: run `lucky charm run {} --keep` first",
                self.paths.root.display(),
                charm_dir.display()
            )
            .into());
        }
        self.build(charm_dir)?;
        self.prepare_engine()?;
        self.recreate_containers()?;
        let model = self.model()?;
        set_config(&model, &self.opts.config, "--config")?;
        if self.opts.depose {
            match model.depose().map_err(RunError::Simulator)? {
                Some(run) => {
                    self.report(&model, run, "leader-settings-changed (deposed)".into())?
                }
                None => println!("\n==> deposed: another unit leads now (Juju runs no hook)"),
            }
        }
        let leader = model.state().map_err(RunError::Simulator)?.leader;
        if let Some(hook) = self.opts.hook.clone() {
            match hook.split_once("-relation-") {
                Some((endpoint, event)) => {
                    self.one_relation_hook(&model, &hook, endpoint, event)?
                }
                // Juju runs leader-elected when the unit is elected: elect a deposed unit.
                None if hook == "leader-elected" && !leader => {
                    let run = model.elect().map_err(RunError::Simulator)?;
                    self.report(&model, run, "leader-elected (elected)".into())?
                }
                None => self.hook(&model, &hook)?,
            }
        }
        if let Some(action) = self.opts.action.clone() {
            self.action(&model, &action)?;
        }
        Ok(())
    }

    /// `--hook <endpoint>-relation-<event>` on the kept relation of that endpoint.
    fn one_relation_hook(
        &mut self,
        model: &Model,
        hook: &str,
        endpoint: &str,
        event: &str,
    ) -> Result<(), RunError> {
        let event = RelationEvent::parse(event)
            .ok_or_else(|| format!("--hook {hook}: unknown relation event"))?;
        let state = model.state().map_err(RunError::Simulator)?;
        let (id, rel) = state
            .data
            .relations
            .iter()
            .find(|(_, r)| r.endpoint == endpoint)
            .ok_or_else(|| format!("--hook {hook}: the model has no {endpoint} relation"))?;
        let remote = rel.remote_units.keys().next().cloned();
        self.relation_hook(model, id, event, remote.as_deref())
    }

    /// Removes what an earlier run left: its daemon, its containers, its model.
    fn clear(&self) -> Result<(), RunError> {
        if self.paths.socket.exists() {
            self.stop_daemon();
        }
        if let Some(engine) = &self.engine {
            for name in engine.remove_containers(&self.unit)? {
                println!("Removed container {name} left by an earlier run");
            }
        }
        for dir in [&self.paths.model, &self.paths.data, &self.paths.bin] {
            if dir.exists() {
                std::fs::remove_dir_all(dir).map_err(|e| RunError::io("clear", dir, e))?;
            }
        }
        let _ = std::fs::remove_file(&self.paths.socket);
        Ok(())
    }

    fn prepare_engine(&self) -> Result<(), RunError> {
        match &self.engine {
            Some(engine) => engine.prepare(),
            None => Ok(()),
        }
    }

    /// The rebuild replaced the charm folder, so running containers mount a stale
    /// `container_scripts/`: remove them, the next hook creates them afresh.
    fn recreate_containers(&self) -> Result<(), RunError> {
        let Some(engine) = &self.engine else {
            return Ok(());
        };
        for name in engine.remove_containers(&self.unit)? {
            println!("Removed container {name}: the next hook creates it with the rebuilt charm");
        }
        Ok(())
    }

    fn create_model(&self) -> Result<Model, RunError> {
        let model = Model::create_on(
            self.opts.juju,
            &self.paths.model,
            &self.paths.charm,
            &self.unit,
            &self.lucky,
        )
        .map_err(RunError::Simulator)?;
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut env: Vec<(&str, String)> = vec![
            ("LUCKY_SOCKET", path(&self.paths.socket)),
            ("LUCKY_DATA_DIR", path(&self.paths.data)),
            ("LUCKY_INSTALL_DIR", path(&self.paths.bin)),
            ("LUCKY_NO_SYSTEMD", "1".into()),
            // The bundled lucky is the one just built, checked against the SHA256SUMS the
            // build wrote; there is no release key to sign it with.
            ("LUCKY_INSECURE_SKIP_SIGNATURE", "1".into()),
        ];
        if let Some(engine) = &self.engine {
            env.push(("DOCKER_HOST", engine.docker_host()));
        }
        if let Ok(level) = std::env::var("LUCKY_LOG_LEVEL") {
            env.push(("LUCKY_LOG_LEVEL", level));
        }
        for (k, v) in env {
            model.pass_env(k, v).map_err(RunError::Simulator)?;
        }
        model.set_leader(true).map_err(RunError::Simulator)?;
        println!(
            "Model for unit {} in {} (daemon socket {})",
            self.unit,
            self.paths.model.display(),
            self.paths.socket.display()
        );
        Ok(model)
    }

    /// One relation per metadata.yaml endpoint, each with one remote unit; returns
    /// (relation id, remote unit).
    fn relate(&self, model: &Model, meta: &Metadata) -> Result<Vec<(String, String)>, RunError> {
        // `given` is the option as typed, for the error.
        let known = |given: String, endpoint: &str| {
            if meta.relations.contains_key(endpoint) {
                Ok(())
            } else {
                Err(format!(
                    "{given}: the charm has no relation endpoint \"{endpoint}\""
                ))
            }
        };
        let mut remote_apps = BTreeMap::new();
        for r in &self.opts.relate {
            known(format!("--relate {}:{}", r.endpoint, r.app), &r.endpoint)?;
            remote_apps.insert(r.endpoint.as_str(), r.app.as_str());
        }
        let mut data: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for d in &self.opts.relation_data {
            let Setting { key, value } = &d.setting;
            known(
                format!("--relation-data {}:{key}={value}", d.endpoint),
                &d.endpoint,
            )?;
            data.entry(d.endpoint.as_str())
                .or_default()
                .push((key.as_str(), value.as_str()));
        }
        // (endpoint, key) → the fields of the one secret sent under that key.
        let mut secrets: BTreeMap<(&str, &str), Vec<(&str, &str)>> = BTreeMap::new();
        for s in &self.opts.relation_secrets {
            let Setting { key, value } = &s.field;
            known(
                format!("--relation-secret {}:{}:{key}={value}", s.endpoint, s.key),
                &s.endpoint,
            )?;
            secrets
                .entry((s.endpoint.as_str(), s.key.as_str()))
                .or_default()
                .push((key.as_str(), value.as_str()));
        }
        let state = model.state().map_err(RunError::Simulator)?;
        let mut out = Vec::new();
        for endpoint in meta.relations.keys() {
            let existing = state
                .data
                .relations
                .iter()
                .find(|(_, r)| &r.endpoint == endpoint);
            let id = match existing {
                Some((id, _)) => id.clone(),
                None => {
                    let app = remote_apps
                        .get(endpoint.as_str())
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| format!("{endpoint}-remote"));
                    model
                        .add_relation(endpoint, &app, 1)
                        .map_err(RunError::Simulator)?
                }
            };
            let rel = model.relation(&id).map_err(RunError::Simulator)?;
            let Some(remote_unit) = rel.remote_units.keys().next().cloned() else {
                continue;
            };
            let mut pairs: Vec<(&str, String)> = data
                .get(endpoint.as_str())
                .into_iter()
                .flatten()
                .map(|(k, v)| (*k, v.to_string()))
                .collect();
            for ((_, key), fields) in secrets.iter().filter(|((e, _), _)| e == endpoint) {
                let secret = model
                    .add_remote_secret(&rel.remote_app, fields)
                    .map_err(|e| format!("--relation-secret {endpoint}:{key}: {e:#}"))?;
                println!("{} shared {secret}, sent as {key}", rel.remote_app);
                pairs.push((key, secret));
            }
            if !pairs.is_empty() {
                let pairs: Vec<(&str, &str)> =
                    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                model
                    .set_remote_unit_data(&id, &remote_unit, &pairs)
                    .map_err(RunError::Simulator)?;
            }
            println!("Related {endpoint} ({id}) to {remote_unit}");
            out.push((id, remote_unit));
        }
        Ok(out)
    }
}

/// `--config` / `--then-config` values into the model, typed by config.yaml.
fn set_config(model: &Model, settings: &[Setting], flag: &str) -> Result<(), RunError> {
    for Setting { key, value } in settings {
        model
            .set_config_str(key, value)
            .map_err(|e| format!("{flag} {key}={value}: {e:#}"))?;
    }
    Ok(())
}
