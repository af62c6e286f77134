//! The local runner, `lucky charm run`: build a charm and play a unit's life against the
//! Juju simulator and the real Docker engine, with a private daemon, printing what every
//! hook did.
//!
//! One concern per file: [`options`] (what was asked, already typed), `workdir` (the work
//! dir's parts), `lucky_binary` (the static lucky the unit gets), `bundle` (`charm build`
//! with it bundled), `engine` (the runner's use of `docker::`), `life` (the unit's life
//! and single hooks), `steps` (running and reporting one hook or action), `summary`,
//! `table` and `probe` (the end: tables, and the served pages fetched).
//!
//! Layer: `run` sits beside `daemon` and `client` under `cli`; it uses `charm`,
//! `simulator`, `docker`, `protocol`, `unit`, `elf`, and nothing below imports it.

use error::RunError;

mod bundle;
mod engine;
pub(crate) mod error;
mod life;
mod lucky_binary;
pub(crate) mod options;
mod probe;
mod steps;
mod summary;
mod table;
mod workdir;

pub(crate) use options::{
    ActionParam, RelationData, RelationSecret, RemoteApp, RunOptions, Setting,
};

use crate::charm::{example, lucky_yaml, metadata};
use crate::client::{self, ClientError};
use crate::protocol::Request;
use engine::Engine;
use std::path::{Path, PathBuf};
use steps::Step;
use workdir::Paths;

/// The relation data the embedded example's `db` relation gets unless told otherwise: a
/// database for it to talk to.
const EXAMPLE_DB: [(&str, &str); 3] = [
    ("host", "10.0.0.20"),
    ("port", "5432"),
    ("database", "webapp"),
];

/// And the database password, which it shares as a Juju secret: (relation key, secret
/// field, value).
const EXAMPLE_DB_SECRET: (&str, &str, &str) = ("password-secret", "password", "example-only");

/// One run: its options, work dir, unit, the lucky it installs, the engine (for a charm
/// that uses Docker) and the steps taken so far.
struct Runner {
    opts: RunOptions,
    paths: Paths,
    unit: String,
    lucky: PathBuf,
    engine: Option<Engine>,
    steps: Vec<Step>,
}

pub(crate) fn run(mut opts: RunOptions) -> Result<(), RunError> {
    let (charm_dir, embedded) = match &opts.charm_dir {
        Some(dir) => (
            dir.canonicalize()
                .map_err(|e| format!("charm folder {}: {e}", dir.display()))?,
            false,
        ),
        None => (unpack_example()?, true),
    };
    // The README's first command ends with the example's page served: its workload stays.
    if embedded && !opts.single() {
        opts.no_stop = true;
    }
    if embedded && opts.relation_secrets.is_empty() {
        opts.relation_secrets = vec![RelationSecret {
            endpoint: "db".into(),
            key: EXAMPLE_DB_SECRET.0.into(),
            field: Setting {
                key: EXAMPLE_DB_SECRET.1.into(),
                value: EXAMPLE_DB_SECRET.2.into(),
            },
        }];
    }
    if embedded && opts.relation_data.is_empty() {
        opts.relation_data = EXAMPLE_DB
            .iter()
            .map(|(key, value)| RelationData {
                endpoint: "db".into(),
                setting: Setting {
                    key: (*key).into(),
                    value: (*value).into(),
                },
            })
            .collect();
    }
    let meta = metadata::load(&charm_dir)?;
    let lucky_yaml = lucky_yaml::load_source(&charm_dir).map_err(|e| e.to_string())?;
    let paths = Paths::for_run(opts.model_dir.as_deref(), &charm_dir)?;
    let unit = opts
        .unit
        .clone()
        .unwrap_or_else(|| format!("{}/0", meta.name));
    let engine = if lucky_yaml.use_docker {
        Some(Engine::find()?)
    } else {
        None
    };
    let lucky = lucky_binary::choose(opts.lucky_binary.as_deref(), lucky_yaml.use_docker)?;
    let mut runner = Runner {
        opts,
        paths,
        unit,
        lucky,
        engine,
        steps: Vec::new(),
    };
    let result = if runner.opts.single() {
        runner.single(&charm_dir)
    } else {
        runner.life(&charm_dir, &meta, &lucky_yaml)
    };
    let summary = runner.summary();
    if !runner.opts.no_stop {
        runner.stop_daemon();
    } else if result.is_ok() {
        runner.print_how_to_stop(embedded);
    }
    result.and(summary)
}

/// The example charm built into lucky, unpacked into a temporary folder of its own.
fn unpack_example() -> Result<PathBuf, RunError> {
    let dir = std::env::temp_dir()
        .join("lucky-charm-run")
        .join(example::NAME);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::io("create", &dir, e))?;
    example::unpack(&dir)?;
    println!(
        "Running Lucky's example charm {} (unpacked into {})",
        example::NAME,
        dir.display()
    );
    Ok(dir)
}

impl Runner {
    /// Stops the private daemon, if one runs; a daemon already gone is what we wanted.
    /// Through the one client: the same request and bounded wait as `lucky daemon stop`.
    fn stop_daemon(&self) {
        let paths = crate::unit::UnitPaths {
            unit: self.unit.clone(),
            socket: self.paths.socket.clone(),
            data_dir: self.paths.data.clone(),
        };
        let stopped = match client::connect(&paths) {
            Err(ClientError::NotRunning { .. }) => return,
            Ok(stream) => client::call(stream, &Request::DaemonStop, |_, _| {})
                .and_then(|_| client::wait_until_gone(&paths, client::STOP_LIMIT)),
            Err(e) => Err(e),
        };
        if let Err(e) = stopped {
            eprintln!("lucky: note: stopping the private daemon: {e}");
        }
    }

    fn print_how_to_stop(&self, embedded: bool) {
        let dir = match (&self.opts.charm_dir, embedded) {
            (_, true) => String::new(),
            (dir, false) => format!(" {}", dir.as_deref().unwrap_or(Path::new(".")).display()),
        };
        let model = match &self.opts.model_dir {
            Some(d) => format!(" --model-dir {}", d.display()),
            None => String::new(),
        };
        let unit = match &self.opts.unit {
            Some(u) => format!(" --unit {u}"),
            None => String::new(),
        };
        let again = format!("lucky charm run{dir}{model}{unit}");
        println!(
            "\nThe workload and the daemon of {} keep running. Stop them with:\n  {again} --hook stop && {again} --hook remove",
            self.unit
        );
    }
}
