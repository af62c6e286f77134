//! `lucky sim …`: run a charm's hooks and actions on a laptop against a simulated model.

use super::{CliResult, Failure};
use crate::simulator::{HookRun, Juju, Model, OwnerSecretEvent, RelationEvent, format};
use clap::Subcommand;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(crate) enum SimCommand {
    /// Create a model for one unit of a charm
    Init {
        model_dir: PathBuf,
        /// The charm's folder
        #[arg(long)]
        charm: PathBuf,
        /// The unit to simulate, e.g. app/0
        #[arg(long, default_value = "app/0")]
        unit: String,
        /// Config values, key=value (repeatable)
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// Make the unit its application's leader
        #[arg(long)]
        leader: bool,
        /// The Juju to stand in for: 3.6, or 4.0 (no leader-get/leader-set, no
        /// leader-settings-changed, refuses metadata.yaml `series`)
        #[arg(long, value_name = "VERSION", default_value = "3.6", value_parser = juju_arg)]
        juju: Juju,
    },
    /// Run one hook (relation hooks need --relation unless the endpoint has one relation)
    Hook {
        model_dir: PathBuf,
        hook: String,
        #[arg(long, value_name = "ID")]
        relation: Option<String>,
        #[arg(long, value_name = "UNIT")]
        remote_unit: Option<String>,
    },
    /// Run an action with key=value parameters
    Action {
        model_dir: PathBuf,
        name: String,
        #[arg(value_name = "KEY=VALUE")]
        params: Vec<String>,
    },
    /// Relate an endpoint to a remote application with N units (no hook runs)
    Relate {
        model_dir: PathBuf,
        endpoint: String,
        remote_app: String,
        #[arg(long, default_value_t = 1)]
        units: usize,
    },
    /// Set config values (key=value; key= resets to the default); no hook runs
    Config {
        model_dir: PathBuf,
        #[arg(value_name = "KEY=VALUE", required = true)]
        values: Vec<String>,
    },
    /// Print the model: statuses, config, relations, ports, hooks and calls
    Show { model_dir: PathBuf },
    /// Attach a new instance of storage NAME and run its -storage-attached hook; with
    /// --pending, attach what `storage add` asked for instead
    AttachStorage {
        model_dir: PathBuf,
        #[arg(required_unless_present = "pending", conflicts_with = "pending")]
        name: Option<String>,
        #[arg(long)]
        pending: bool,
    },
    /// Run storage ID's -storage-detaching hook; the instance goes when it succeeds
    DetachStorage { model_dir: PathBuf, id: String },
    /// Another application shares a new secret with the unit (no hook runs); prints its id
    SecretAdd {
        model_dir: PathBuf,
        /// The application that owns it
        owner_app: String,
        #[arg(value_name = "KEY=VALUE", required = true, value_parser = super::output::key_value)]
        content: Vec<(String, String)>,
    },
    /// The owner gives a secret new content (a new revision), then secret-changed runs
    SecretSet {
        model_dir: PathBuf,
        /// The secret's id (secret:…)
        id: String,
        #[arg(value_name = "KEY=VALUE", required = true, value_parser = super::output::key_value)]
        content: Vec<(String, String)>,
    },
    /// The rotate policy of a secret the unit owns falls due: secret-rotate runs
    SecretRotate { model_dir: PathBuf, id: String },
    /// A revision of a secret the unit owns expires (default the latest): secret-expired runs
    SecretExpire {
        model_dir: PathBuf,
        id: String,
        #[arg(long, value_name = "N")]
        revision: Option<u32>,
    },
    /// No consumer tracks an old revision of a secret the unit owns: secret-remove runs
    SecretObsolete {
        model_dir: PathBuf,
        id: String,
        #[arg(long, value_name = "N")]
        revision: u32,
    },
    /// The unit becomes its application's leader: leader-elected runs
    Elect { model_dir: PathBuf },
    /// Another unit becomes the leader. Juju runs no leader-deposed; on Juju 3.6 the unit
    /// then runs leader-settings-changed if leader data changed since it last ran it
    Depose { model_dir: PathBuf },
    /// The leader (another unit) sets leader data (KEY= deletes a key); the unit, not the
    /// leader, runs leader-settings-changed (3.6) or lucky-leader-relation-changed (4.0)
    LeaderSet {
        model_dir: PathBuf,
        #[arg(value_name = "KEY=VALUE", required = true)]
        values: Vec<String>,
    },
    /// Trust the application (`juju trust`): credential-get answers; --remove takes it back
    Trust {
        model_dir: PathBuf,
        #[arg(long)]
        remove: bool,
    },
}

/// `--juju 3.6|4.0`.
pub(super) fn juju_arg(s: &str) -> Result<Juju, String> {
    Juju::parse(s).ok_or_else(|| {
        format!(
            "unknown Juju version {s:?}: use {}",
            Juju::NAMES.join(" or ")
        )
    })
}

fn split_kv(s: &str) -> Result<(String, String), Failure> {
    super::output::key_value(s).map_err(|message| Failure { message, code: 2 })
}

/// Hooks get Juju's environment plus the Lucky and Docker settings of the caller.
fn open(dir: &PathBuf) -> Result<Model, Failure> {
    let model = Model::open(dir)?;
    for (k, v) in std::env::vars() {
        if k.starts_with("LUCKY_") || k == "DOCKER_HOST" {
            model.pass_env(k, v)?;
        }
    }
    Ok(model)
}

fn finish(run: &HookRun) -> CliResult {
    let _ = std::io::stdout().write_all(run.stdout.as_bytes());
    let _ = std::io::stderr().write_all(run.stderr.as_bytes());
    if !run.ran {
        eprintln!("lucky: the charm has no {} hook; skipped", run.hook);
    }
    if run.success() {
        return Ok(());
    }
    Err(Failure {
        message: format!("{} exited with {}", run.hook, run.exit_code),
        code: u8::try_from(run.exit_code).unwrap_or(1).max(1),
    })
}

pub(crate) fn run(cmd: SimCommand) -> CliResult {
    match cmd {
        SimCommand::Init {
            model_dir,
            charm,
            unit,
            config,
            leader,
            juju,
        } => sim_init(model_dir, charm, unit, config, leader, juju),
        SimCommand::Hook {
            model_dir,
            hook,
            relation,
            remote_unit,
        } => sim_hook(model_dir, hook, relation, remote_unit),
        SimCommand::Action {
            model_dir,
            name,
            params,
        } => sim_action(model_dir, name, params),
        SimCommand::Relate {
            model_dir,
            endpoint,
            remote_app,
            units,
        } => {
            let model = open(&model_dir)?;
            let id = model.add_relation(&endpoint, &remote_app, units)?;
            println!("{id}");
            Ok(())
        }
        SimCommand::Config { model_dir, values } => sim_config(model_dir, values),
        SimCommand::AttachStorage {
            model_dir,
            name,
            pending,
        } => {
            let model = open(&model_dir)?;
            let runs = match name {
                Some(name) if !pending => vec![model.attach_storage(&name)?],
                _ => model.attach_pending_storage()?,
            };
            for (id, run) in &runs {
                println!("attached {id}");
                finish(run)?;
            }
            Ok(())
        }
        SimCommand::Elect { model_dir } => finish(&open(&model_dir)?.elect()?),
        SimCommand::Depose { model_dir } => match open(&model_dir)?.depose()? {
            Some(run) => finish(&run),
            None => Ok(()),
        },
        SimCommand::LeaderSet { model_dir, values } => {
            let model = open(&model_dir)?;
            let pairs = values
                .iter()
                .map(|kv| split_kv(kv))
                .collect::<Result<Vec<_>, _>>()?;
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            finish(&model.set_leader_data_as_leader(&pairs)?)
        }
        SimCommand::Trust { model_dir, remove } => {
            Model::open(&model_dir)?.set_trust(!remove)?;
            Ok(())
        }
        SimCommand::DetachStorage { model_dir, id } => {
            let model = open(&model_dir)?;
            finish(&model.detach_storage(&id)?)
        }
        SimCommand::Show { model_dir } => sim_show(model_dir),
        SimCommand::SecretAdd {
            model_dir,
            owner_app,
            content,
        } => {
            let model = open(&model_dir)?;
            let pairs = secret_content(&content);
            println!("{}", model.add_remote_secret(&owner_app, &pairs)?);
            Ok(())
        }
        SimCommand::SecretSet {
            model_dir,
            id,
            content,
        } => {
            let model = open(&model_dir)?;
            let pairs = secret_content(&content);
            model.set_secret_content(&id, &pairs)?;
            finish(&model.run_secret_hook("secret-changed", &id, None)?)
        }
        SimCommand::SecretRotate { model_dir, id } => {
            finish(&open(&model_dir)?.owner_secret_event(OwnerSecretEvent::Rotate, &id, None)?)
        }
        SimCommand::SecretExpire {
            model_dir,
            id,
            revision,
        } => finish(&open(&model_dir)?.owner_secret_event(
            OwnerSecretEvent::Expire,
            &id,
            revision,
        )?),
        SimCommand::SecretObsolete {
            model_dir,
            id,
            revision,
        } => finish(&open(&model_dir)?.owner_secret_event(
            OwnerSecretEvent::Obsolete,
            &id,
            Some(revision),
        )?),
    }
}

/// `lucky sim init`: a new model for one unit of `charm`.
fn sim_init(
    model_dir: PathBuf,
    charm: PathBuf,
    unit: String,
    config: Vec<String>,
    leader: bool,
    juju: Juju,
) -> CliResult {
    let exe = std::env::current_exe()?;
    let model = Model::create_on(juju, &model_dir, &charm, &unit, exe)?;
    for kv in &config {
        let (k, v) = split_kv(kv)?;
        model.set_config_str(&k, &v)?;
    }
    model.set_leader(leader)?;
    println!("model for {unit} created in {}", model.dir().display());
    Ok(())
}

/// `lucky sim hook`: a unit hook, or a relation hook on the (only, or given) relation of
/// its endpoint with a remote unit of it.
fn sim_hook(
    model_dir: PathBuf,
    hook: String,
    relation: Option<String>,
    remote_unit: Option<String>,
) -> CliResult {
    let model = open(&model_dir)?;
    let Some((endpoint, event)) = hook.split_once("-relation-") else {
        return finish(&model.run_hook(&hook)?);
    };
    let event = RelationEvent::parse(event).ok_or_else(|| Failure {
        message: format!("unknown relation event in {hook:?}"),
        code: 2,
    })?;
    let state = model.state()?;
    let id = match relation {
        Some(id) => id,
        // Juju creates a peer relation with the application itself.
        None if event == RelationEvent::Created
            && !state
                .data
                .relations
                .values()
                .any(|r| r.endpoint == endpoint)
            && model.peer_endpoints()?.iter().any(|p| p == endpoint) =>
        {
            model.add_peer_relation(endpoint)?
        }
        None => {
            let ids: Vec<&String> = state
                .data
                .relations
                .iter()
                .filter(|(_, r)| r.endpoint == endpoint)
                .map(|(id, _)| id)
                .collect();
            match ids.as_slice() {
                [one] => (*one).clone(),
                [] => return Err(format!("no relation on endpoint {endpoint}").into()),
                _ => {
                    return Err(format!("several relations on {endpoint}: pass --relation").into());
                }
            }
        }
    };
    let rel = model.relation(&id)?;
    let remote_unit = match (remote_unit, event) {
        (Some(u), _) => Some(u),
        (None, RelationEvent::Joined | RelationEvent::Changed | RelationEvent::Departed) => {
            rel.remote_units.keys().next().cloned()
        }
        (None, _) => None,
    };
    finish(&model.run_relation_hook(&id, event, remote_unit.as_deref())?)
}

/// `lucky sim action`: runs the action and prints how it ended.
fn sim_action(model_dir: PathBuf, name: String, params: Vec<String>) -> CliResult {
    let model = open(&model_dir)?;
    let mut map = Map::new();
    for kv in &params {
        let (k, v) = split_kv(kv)?;
        // Values read as YAML scalars, as `juju run` does (`n=3` is a number).
        let value: Value = serde_saphyr::from_str(&v).unwrap_or(Value::String(v));
        map.insert(k, value);
    }
    let run = model.run_action(&name, map)?;
    let summary = json!({
        "status": run.action.status,
        "message": run.action.message,
        "results": run.action.results,
        "log": run.action.logs,
    });
    let result = finish(&run.run);
    print!("{}", format::yaml(&summary));
    result
}

/// `lucky sim config`: all or nothing, as `juju config` is.
fn sim_config(model_dir: PathBuf, values: Vec<String>) -> CliResult {
    let model = open(&model_dir)?;
    let pairs = values
        .iter()
        .map(|kv| split_kv(kv))
        .collect::<Result<Vec<_>, _>>()?;
    // All or nothing: check every key before changing any.
    let declared = model.state()?.config_options;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !declared.contains_key(k)) {
        return Err(format!("unknown config option {k:?} (not in config.yaml)").into());
    }
    for (k, v) in pairs {
        model.set_config_str(&k, &v)?;
    }
    Ok(())
}

/// `lucky sim show`: the model as YAML.
fn sim_show(model_dir: PathBuf) -> CliResult {
    let model = open(&model_dir)?;
    let s = model.state()?;
    let relations: Map<String, Value> = s
        .data
        .relations
        .iter()
        .map(|(id, r)| (id.clone(), serde_json::to_value(r).unwrap_or(Value::Null)))
        .collect();
    let calls: Vec<Value> = model
        .calls()?
        .iter()
        .rev()
        .take(20)
        .rev()
        .map(|c| Value::String(c.to_line().trim_end().replace('\t', "  ")))
        .collect();
    let view = json!({
        "unit": s.unit,
        "juju-version": s.juju_version,
        "charm": s.charm_dir,
        "leader": s.leader,
        "unit-status": s.unit_status,
        "application-status": s.application_status,
        "application-version": s.application_version,
        "config": s.effective_config(),
        "relations": relations,
        "leader-data": s.data.leader_data,
        "secrets": s.data.secrets,
        "opened-ports": s.data.opened_ports,
        "unit-state": s.data.unit_state,
        "resources": s.resources,
        "storage": s.data.storage,
        "hooks": s.hooks.iter().map(|h| format!("{} exit={}{}", h.hook, h.exit_code, if h.committed { "" } else { " (not committed)" })).collect::<Vec<_>>(),
        "actions": s.actions,
        "last-calls": calls,
        "agent-status": s.agent_status,
        "trusted": s.machine.trusted,
        "reboots": s.machine.reboots.iter().map(|r| format!("after {}{}", r.hook, if r.now { " (--now: killed, runs again after the reboot)" } else { "" })).collect::<Vec<_>>(),
    });
    print!("{}", format::yaml(&view));
    Ok(())
}

fn secret_content(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}
