//! `lucky charm run`: build a charm and play a unit's life against the Juju simulator and
//! the real Docker engine, with a private daemon, printing what every hook did.
//!
//! Layout of the work dir (default `<charm>/build/lucky-run`, `--model-dir` to choose):
//! `charm/` the built charm (with a static lucky bundled, so the real installer runs),
//! `model/` the simulated model, `unit/` the daemon's data dir, `lucky.sock` its socket,
//! `bin/` where the installer puts lucky, `release/` what the build bundles.

use super::build::{self, BuildOptions};
use super::{example, lucky_yaml, metadata};
use crate::docker::describe;
use crate::docker::image::{BusyboxImage, EXAMPLE_IMAGE};
use crate::simulator::{HookRun, Model, RelationEvent};
use bollard::Docker;
use bollard::query_parameters::RemoveContainerOptionsBuilder;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where `tests/support/docker-engine.sh` runs its engine; tried when `DOCKER_HOST` is
/// unset and the default socket is absent.
const TEST_ENGINE_SOCKET: &str = "/run/lucky-test-docker.sock";
const DEFAULT_ENGINE_SOCKET: &str = "/var/run/docker.sock";
/// Unix socket paths longer than this do not fit `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// None: the embedded example charm.
    pub charm_dir: Option<PathBuf>,
    pub model_dir: Option<PathBuf>,
    pub unit: Option<String>,
    pub keep: bool,
    pub no_stop: bool,
    /// `key=value`
    pub config: Vec<String>,
    pub then_config: Vec<String>,
    /// `endpoint:remote-app`
    pub relate: Vec<String>,
    /// `endpoint:key=value`
    pub relation_data: Vec<String>,
    /// `action:key=value`
    pub action_params: Vec<String>,
    pub hook: Option<String>,
    pub action: Option<String>,
    pub lucky_binary: Option<PathBuf>,
}

/// The work dir's parts.
struct Paths {
    root: PathBuf,
    charm: PathBuf,
    model: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    bin: PathBuf,
    release: PathBuf,
}

impl Paths {
    fn new(root: PathBuf) -> Self {
        Self {
            charm: root.join("charm"),
            model: root.join("model"),
            data: root.join("unit"),
            socket: root.join("lucky.sock"),
            bin: root.join("bin"),
            release: root.join("release"),
            root,
        }
    }
}

/// A hook or action that ran, for the summary.
struct Step {
    name: String,
    exit_code: i32,
    status: String,
}

struct Runner {
    opts: RunOptions,
    paths: Paths,
    unit: String,
    lucky: PathBuf,
    docker_host: Option<String>,
    steps: Vec<Step>,
}

pub fn run(opts: RunOptions) -> Result<(), String> {
    let (charm_dir, embedded) = match &opts.charm_dir {
        Some(dir) => (
            dir.canonicalize()
                .map_err(|e| format!("charm folder {}: {e}", dir.display()))?,
            false,
        ),
        None => {
            let dir = std::env::temp_dir()
                .join("lucky-charm-run")
                .join(example::NAME);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            example::unpack(&dir)?;
            println!(
                "Running Lucky's example charm {} (unpacked into {})",
                example::NAME,
                dir.display()
            );
            (dir, true)
        }
    };
    let single = opts.hook.is_some() || opts.action.is_some();
    let mut opts = opts;
    // The README's first command ends with the example's page served: its workload stays.
    if embedded && !single {
        opts.no_stop = true;
    }
    // The example's db relation gets a database to talk to, unless told otherwise.
    if embedded && opts.relation_data.is_empty() {
        opts.relation_data = ["db:host=10.0.0.20", "db:port=5432", "db:database=webapp"]
            .map(String::from)
            .to_vec();
    }
    let meta = metadata::load(&charm_dir)?;
    let lucky_yaml = lucky_yaml::load(&charm_dir).map_err(|e| e.to_string())?;
    let root = match &opts.model_dir {
        Some(d) => absolute(d)?,
        None => charm_dir.join("build").join("lucky-run"),
    };
    let paths = Paths::new(root);
    let socket_len = paths.socket.as_os_str().len().max(
        crate::docker::container_socket(&paths.data)
            .as_os_str()
            .len(),
    );
    if socket_len > MAX_SOCKET_PATH {
        return Err(format!(
            "the work dir {} is too deep for the daemon's Unix sockets; choose a shorter one with --model-dir",
            paths.root.display()
        ));
    }
    let unit = opts
        .unit
        .clone()
        .unwrap_or_else(|| format!("{}/0", meta.name));
    let docker_host = if lucky_yaml.use_docker {
        Some(engine_host())
    } else {
        None
    };
    let lucky = static_lucky(&opts, lucky_yaml.use_docker)?;
    let mut runner = Runner {
        opts,
        paths,
        unit,
        lucky,
        docker_host,
        steps: Vec::new(),
    };
    let result = if single {
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

impl Runner {
    fn model(&self) -> Result<Model, String> {
        Model::open(&self.paths.model).map_err(|e| format!("{e:#}"))
    }

    /// The whole life on a fresh (or, with --keep, the kept) model.
    fn life(
        &mut self,
        charm_dir: &Path,
        meta: &metadata::Metadata,
        lucky_yaml: &lucky_yaml::LuckyYaml,
    ) -> Result<(), String> {
        let reuse = self.opts.keep && self.paths.model.join("model.json").exists();
        if !reuse {
            self.clear()?;
        }
        self.build(charm_dir)?;
        self.prepare_engine()?;
        if reuse {
            self.recreate_containers()?;
        }
        let model = if reuse {
            println!("Reusing the kept model in {}", self.paths.model.display());
            self.model()?
        } else {
            self.create_model()?
        };
        let model = &model;
        for kv in &self.opts.config {
            let (k, v) = split_kv(kv, "--config")?;
            model
                .set_config_str(k, v)
                .map_err(|e| format!("--config {kv}: {e:#}"))?;
        }
        let relations = self.relate(model, meta)?;

        self.hook(model, "install")?;
        self.hook(model, "leader-elected")?;
        self.hook(model, "config-changed")?;
        self.hook(model, "start")?;
        for (id, remote_unit) in &relations {
            self.relation_hook(model, id, RelationEvent::Created, None)?;
            self.relation_hook(model, id, RelationEvent::Joined, Some(remote_unit))?;
            self.relation_hook(model, id, RelationEvent::Changed, Some(remote_unit))?;
        }
        self.hook(model, "update-status")?;
        for action in lucky_yaml.actions.keys() {
            self.action(model, action)?;
        }
        for kv in &self.opts.then_config {
            let (k, v) = split_kv(kv, "--then-config")?;
            model
                .set_config_str(k, v)
                .map_err(|e| format!("--then-config {kv}: {e:#}"))?;
        }
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
    fn single(&mut self, charm_dir: &Path) -> Result<(), String> {
        if !self.paths.model.join("model.json").exists() {
            return Err(format!(
                "no kept model in {}: run `lucky charm run {} --keep` first",
                self.paths.root.display(),
                charm_dir.display()
            ));
        }
        self.build(charm_dir)?;
        self.prepare_engine()?;
        self.recreate_containers()?;
        let model = self.model()?;
        for kv in &self.opts.config {
            let (k, v) = split_kv(kv, "--config")?;
            model
                .set_config_str(k, v)
                .map_err(|e| format!("--config {kv}: {e:#}"))?;
        }
        if let Some(hook) = self.opts.hook.clone() {
            if let Some((endpoint, event)) = hook.split_once("-relation-") {
                let event = RelationEvent::parse(event)
                    .ok_or_else(|| format!("--hook {hook}: unknown relation event"))?;
                let state = model.state().map_err(|e| format!("{e:#}"))?;
                let (id, rel) = state
                    .data
                    .relations
                    .iter()
                    .find(|(_, r)| r.endpoint == endpoint)
                    .ok_or_else(|| {
                        format!("--hook {hook}: the model has no {endpoint} relation")
                    })?;
                let remote = rel.remote_units.keys().next().cloned();
                self.relation_hook(&model, id, event, remote.as_deref())?;
            } else {
                self.hook(&model, &hook)?;
            }
        }
        if let Some(action) = self.opts.action.clone() {
            self.action(&model, &action)?;
        }
        Ok(())
    }

    /// Removes what an earlier run left: its daemon, its containers, its model.
    fn clear(&self) -> Result<(), String> {
        if self.paths.socket.exists() {
            self.stop_daemon();
        }
        if let Some(host) = &self.docker_host {
            let removed = with_engine(host, |docker| {
                let unit = self.unit.clone();
                async move { remove_unit_containers(&docker, &unit).await }
            })?;
            for name in removed {
                println!("Removed container {name} left by an earlier run");
            }
        }
        for dir in [&self.paths.model, &self.paths.data, &self.paths.bin] {
            if dir.exists() {
                std::fs::remove_dir_all(dir)
                    .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
            }
        }
        let _ = std::fs::remove_file(&self.paths.socket);
        Ok(())
    }

    /// The rebuild replaced the charm folder, so running containers mount a stale
    /// `container_scripts/`: remove them, the next hook creates them afresh.
    fn recreate_containers(&self) -> Result<(), String> {
        let Some(host) = &self.docker_host else {
            return Ok(());
        };
        let removed = with_engine(host, |docker| {
            let unit = self.unit.clone();
            async move { remove_unit_containers(&docker, &unit).await }
        })?;
        for name in removed {
            println!("Removed container {name}: the next hook creates it with the rebuilt charm");
        }
        Ok(())
    }

    /// `charm build` into the work dir, bundling the static lucky so that the charm's
    /// real installer installs it in the install hook.
    fn build(&self, charm_dir: &Path) -> Result<(), String> {
        let version = env!("CARGO_PKG_VERSION");
        let target = host_target();
        std::fs::create_dir_all(&self.paths.release)
            .map_err(|e| format!("cannot create {}: {e}", self.paths.release.display()))?;
        let bundled = self.paths.release.join(format!("lucky-{version}-{target}"));
        let _ = std::fs::remove_file(&bundled);
        if std::fs::hard_link(&self.lucky, &bundled).is_err() {
            std::fs::copy(&self.lucky, &bundled)
                .map_err(|e| format!("cannot copy {}: {e}", self.lucky.display()))?;
        }
        let report = build::build(&BuildOptions {
            charm_dir: charm_dir.to_path_buf(),
            build_dir: Some(self.paths.charm.clone()),
            bundle_targets: vec![target],
            lucky_binaries: Some(self.paths.release.clone()),
            lucky_version: version.into(),
        })?;
        println!(
            "Built {} ({} hooks, {} actions) in {}",
            charm_dir.display(),
            report.hooks.len(),
            report.actions.len(),
            report.build_dir.display()
        );
        Ok(())
    }

    /// Checks the engine answers and has the example image (built when missing).
    fn prepare_engine(&self) -> Result<(), String> {
        let Some(host) = &self.docker_host else {
            return Ok(());
        };
        let built = with_engine(host, |docker| async move {
            BusyboxImage::example_httpd()
                .ensure(&docker)
                .await
                .map_err(|e| e.to_string())
        })?;
        if built {
            println!(
                "Built image {EXAMPLE_IMAGE} from {}",
                crate::docker::image::BUSYBOX
            );
        }
        Ok(())
    }

    fn create_model(&self) -> Result<Model, String> {
        let model = Model::create(
            &self.paths.model,
            &self.paths.charm,
            &self.unit,
            &self.lucky,
        )
        .map_err(|e| format!("{e:#}"))?;
        let mut env: Vec<(&str, String)> = vec![
            ("LUCKY_SOCKET", path_str(&self.paths.socket)),
            ("LUCKY_DATA_DIR", path_str(&self.paths.data)),
            ("LUCKY_INSTALL_DIR", path_str(&self.paths.bin)),
            ("LUCKY_NO_SYSTEMD", "1".into()),
            // The bundled lucky is the one just built, checked against the SHA256SUMS the
            // build wrote; there is no release key to sign it with.
            ("LUCKY_INSECURE_SKIP_SIGNATURE", "1".into()),
        ];
        if let Some(host) = &self.docker_host {
            env.push(("DOCKER_HOST", host.clone()));
        }
        if let Ok(level) = std::env::var("LUCKY_LOG_LEVEL") {
            env.push(("LUCKY_LOG_LEVEL", level));
        }
        for (k, v) in env {
            model.pass_env(k, v).map_err(|e| format!("{e:#}"))?;
        }
        model.set_leader(true).map_err(|e| format!("{e:#}"))?;
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
    fn relate(
        &self,
        model: &Model,
        meta: &metadata::Metadata,
    ) -> Result<Vec<(String, String)>, String> {
        let mut remote_apps = BTreeMap::new();
        for spec in &self.opts.relate {
            let (endpoint, app) = spec
                .split_once(':')
                .filter(|(e, a)| !e.is_empty() && !a.is_empty())
                .ok_or_else(|| format!("--relate {spec}: expected endpoint:remote-app"))?;
            if !meta.relations.contains_key(endpoint) {
                return Err(format!(
                    "--relate {spec}: the charm has no relation endpoint \"{endpoint}\""
                ));
            }
            remote_apps.insert(endpoint.to_string(), app.to_string());
        }
        let mut data: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for spec in &self.opts.relation_data {
            let (endpoint, kv) = spec
                .split_once(':')
                .ok_or_else(|| format!("--relation-data {spec}: expected endpoint:key=value"))?;
            if !meta.relations.contains_key(endpoint) {
                return Err(format!(
                    "--relation-data {spec}: the charm has no relation endpoint \"{endpoint}\""
                ));
            }
            let (k, v) = split_kv(kv, "--relation-data")?;
            data.entry(endpoint.into())
                .or_default()
                .push((k.into(), v.into()));
        }
        let state = model.state().map_err(|e| format!("{e:#}"))?;
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
                        .get(endpoint)
                        .cloned()
                        .unwrap_or_else(|| format!("{endpoint}-remote"));
                    model
                        .add_relation(endpoint, &app, 1)
                        .map_err(|e| format!("{e:#}"))?
                }
            };
            let rel = model.relation(&id).map_err(|e| format!("{e:#}"))?;
            let Some(remote_unit) = rel.remote_units.keys().next().cloned() else {
                continue;
            };
            if let Some(pairs) = data.get(endpoint) {
                let pairs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                model
                    .set_remote_unit_data(&id, &remote_unit, &pairs)
                    .map_err(|e| format!("{e:#}"))?;
            }
            println!("Related {endpoint} ({id}) to {remote_unit}");
            out.push((id, remote_unit));
        }
        Ok(out)
    }

    fn hook(&mut self, model: &Model, hook: &str) -> Result<(), String> {
        let run = model.run_hook(hook).map_err(|e| format!("{e:#}"))?;
        self.report(model, run, hook.to_string())
    }

    fn relation_hook(
        &mut self,
        model: &Model,
        id: &str,
        event: RelationEvent,
        remote_unit: Option<&str>,
    ) -> Result<(), String> {
        let run = model
            .run_relation_hook(id, event, remote_unit)
            .map_err(|e| format!("{e:#}"))?;
        let title = match remote_unit {
            Some(u) => format!("{} ({id}, {u})", run.hook),
            None => format!("{} ({id})", run.hook),
        };
        self.report(model, run, title)
    }

    fn action(&mut self, model: &Model, name: &str) -> Result<(), String> {
        let params = self.action_params(model, name)?;
        let run = model
            .run_action(name, params.clone())
            .map_err(|e| format!("action {name}: {e:#}"))?;
        let title = format!("action {name} {}", Value::Object(params));
        print_run(&run.run, &title);
        let a = &run.action;
        for log in &a.logs {
            println!("    log: {log}");
        }
        for (k, v) in &a.results {
            println!("    result {k} = {}", plain(v));
        }
        let status = match &a.message {
            Some(m) => format!("{} ({m})", a.status),
            None => a.status.clone(),
        };
        println!("    action: {status}");
        self.steps.push(Step {
            name: format!("action {name}"),
            exit_code: run.run.exit_code,
            status: format!("action {status}"),
        });
        if a.status != "completed" || !run.run.success() {
            return Err(failure(&format!("action {name}"), &run.run, &status));
        }
        Ok(())
    }

    /// `--action-param name:key=value` for `name`, typed by actions.yaml.
    fn action_params(&self, model: &Model, name: &str) -> Result<Map<String, Value>, String> {
        let charm = model.state().map_err(|e| format!("{e:#}"))?.charm_dir;
        let declared: Value = std::fs::read_to_string(charm.join("actions.yaml"))
            .ok()
            .and_then(|t| serde_saphyr::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let mut params = Map::new();
        for spec in &self.opts.action_params {
            let (action, kv) = spec
                .split_once(':')
                .ok_or_else(|| format!("--action-param {spec}: expected action:key=value"))?;
            if action != name {
                continue;
            }
            let (k, v) = split_kv(kv, "--action-param")?;
            let kind = declared
                .pointer(&format!("/{name}/params/{k}/type"))
                .and_then(Value::as_str)
                .unwrap_or("string");
            let value = match kind {
                "integer" | "number" | "boolean" => serde_json::from_str(v)
                    .map_err(|_| format!("--action-param {spec}: \"{v}\" is not of type {kind}"))?,
                _ => Value::String(v.into()),
            };
            params.insert(k.into(), value);
        }
        Ok(params)
    }

    fn report(&mut self, model: &Model, run: HookRun, title: String) -> Result<(), String> {
        print_run(&run, &title);
        let status = model
            .unit_status()
            .map(|s| status_text(&s.status, &s.message))
            .unwrap_or_else(|e| format!("unknown ({e:#})"));
        if run.ran {
            println!("    unit status: {status}");
        }
        self.steps.push(Step {
            name: run.hook.clone(),
            exit_code: run.exit_code,
            status: status.clone(),
        });
        if !run.success() {
            return Err(failure(&format!("hook {}", run.hook), &run, &status));
        }
        Ok(())
    }

    /// The table of hooks, then relations, ports, containers and the served pages.
    fn summary(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Ok(());
        }
        println!("\n==> summary of {}", self.unit);
        let mut rows = vec![vec![
            "step".to_string(),
            "exit".into(),
            "unit status after".into(),
        ]];
        for s in &self.steps {
            rows.push(vec![
                s.name.clone(),
                s.exit_code.to_string(),
                s.status.clone(),
            ]);
        }
        print_table(&rows);
        let Ok(model) = self.model() else {
            return Ok(());
        };
        let state = model.state().map_err(|e| format!("{e:#}"))?;
        println!();
        if state.data.relations.is_empty() {
            println!("  relations: none");
        }
        for (id, rel) in &state.data.relations {
            println!("  relation {id} ({} ↔ {})", rel.endpoint, rel.remote_app);
            println!(
                "    {} sends: {}",
                self.unit,
                bag_text(&rel.local_unit_data)
            );
            if !rel.local_app_data.is_empty() {
                println!("    app sends: {}", bag_text(&rel.local_app_data));
            }
            for (unit, bag) in &rel.remote_units {
                println!("    {unit} sends: {}", bag_text(bag));
            }
        }
        let ports = &state.data.opened_ports;
        println!(
            "  opened ports: {}",
            if ports.is_empty() {
                "none".into()
            } else {
                ports.join(", ")
            }
        );
        let Some(host) = &self.docker_host else {
            return Ok(());
        };
        let containers = with_engine(host, |docker| {
            let unit = self.unit.clone();
            async move { unit_containers(&docker, &unit).await }
        })?;
        if containers.is_empty() {
            println!("  containers: none");
            return Ok(());
        }
        let mut rows = vec![vec![
            "container".to_string(),
            "image".into(),
            "state".into(),
            "ports".into(),
        ]];
        for c in &containers {
            rows.push(vec![
                c.name.clone(),
                c.image.clone(),
                c.state.clone(),
                c.ports
                    .iter()
                    .map(|(h, p, proto)| format!("{h}->{p}/{proto}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
        println!();
        print_table(&rows);
        for c in containers.iter().filter(|c| c.state == "running") {
            for (host_port, _, proto) in &c.ports {
                if proto != "tcp" {
                    continue;
                }
                let url = format!("http://127.0.0.1:{host_port}/");
                match http_get(*host_port) {
                    Ok((status, body)) => println!("  {url}: {status}: {}", text_of(&body)),
                    Err(e) => println!("  {url}: no answer ({e})"),
                }
            }
        }
        Ok(())
    }

    fn stop_daemon(&self) {
        let out = Command::new(&self.lucky)
            .args(["daemon", "stop"])
            .env("JUJU_UNIT_NAME", &self.unit)
            .env("LUCKY_SOCKET", &self.paths.socket)
            .env("LUCKY_DATA_DIR", &self.paths.data)
            .output();
        if let Ok(out) = out
            && !out.status.success()
        {
            let text = String::from_utf8_lossy(&out.stderr);
            if !text.contains("not running") && !text.trim().is_empty() {
                eprintln!("lucky: note: stopping the private daemon: {}", text.trim());
            }
        }
    }

    fn print_how_to_stop(&self, embedded: bool) {
        let dir = if embedded {
            String::new()
        } else {
            format!(
                " {}",
                self.opts
                    .charm_dir
                    .as_deref()
                    .unwrap_or(Path::new("."))
                    .display()
            )
        };
        let model = match &self.opts.model_dir {
            Some(d) => format!(" --model-dir {}", d.display()),
            None => String::new(),
        };
        let unit = match &self.opts.unit {
            Some(u) => format!(" --unit {u}"),
            None => String::new(),
        };
        println!(
            "\nThe workload and the daemon of {} keep running. Stop them with:\n  lucky charm run{dir}{model}{unit} --hook stop && lucky charm run{dir}{model}{unit} --hook remove",
            self.unit
        );
    }
}

fn print_run(run: &HookRun, title: &str) {
    println!("\n==> {title}");
    if !run.ran {
        println!("    (the charm has no {} hook: Juju skips it)", run.hook);
        return;
    }
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        println!("    {line}");
    }
}

fn failure(what: &str, run: &HookRun, status: &str) -> String {
    let why = run
        .stderr
        .lines()
        .chain(run.stdout.lines())
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output");
    // The daemon's own last line repeats what failed; keep its reason.
    let why = why.strip_prefix("lucky: ").unwrap_or(why);
    let why = why.strip_prefix(&format!("{what} failed: ")).unwrap_or(why);
    format!(
        "{what} failed (exit code {}; unit status {status}): {why}",
        run.exit_code
    )
}

fn status_text(status: &str, message: &str) -> String {
    if message.is_empty() {
        status.to_string()
    } else {
        format!("{status} ({message})")
    }
}

fn bag_text(bag: &BTreeMap<String, String>) -> String {
    if bag.is_empty() {
        return "nothing".into();
    }
    bag.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        println!("  {}", line.join("  ").trim_end());
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            println!("  {}", rule.join("  "));
        }
    }
}

fn split_kv<'a>(kv: &'a str, flag: &str) -> Result<(&'a str, &'a str), String> {
    kv.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{flag} {kv}: expected key=value"))
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .map_err(|e| format!("cannot find the current folder: {e}"))?
            .join(p))
    }
}

fn host_target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

/// `DOCKER_HOST`, else the default socket, else the engine `tests/support/docker-engine.sh`
/// starts, as `unix://…`.
fn engine_host() -> String {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && !host.is_empty()
    {
        return if host.contains("://") {
            host
        } else {
            format!("unix://{host}")
        };
    }
    if !Path::new(DEFAULT_ENGINE_SOCKET).exists() && Path::new(TEST_ENGINE_SOCKET).exists() {
        return format!("unix://{TEST_ENGINE_SOCKET}");
    }
    format!("unix://{DEFAULT_ENGINE_SOCKET}")
}

/// Runs `f` with a connected engine on a runtime of its own.
fn with_engine<T, F, Fut>(host: &str, f: F) -> Result<T, String>
where
    F: FnOnce(Docker) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let socket = host.strip_prefix("unix://").unwrap_or(host).to_string();
    rt.block_on(async move {
        let connected = async {
            let docker = Docker::connect_with_unix(&socket, 120, bollard::API_DEFAULT_VERSION)?
                .negotiate_version()
                .await?;
            docker.ping().await?;
            Ok::<_, bollard::errors::Error>(docker)
        }
        .await;
        let docker = connected.map_err(|e| {
            format!(
                "no Docker engine answers at {host} ({}). The charm's workload runs in Docker: \
                 point DOCKER_HOST at a running engine (e.g. export DOCKER_HOST=unix://{TEST_ENGINE_SOCKET}), \
                 or start one with `tests/support/docker-engine.sh start` from Lucky's source",
                describe(&e)
            )
        })?;
        f(docker).await
    })
}

struct ContainerInfo {
    name: String,
    image: String,
    state: String,
    /// (host port, container port, protocol)
    ports: Vec<(u16, u16, String)>,
}

async fn list_unit(
    docker: &Docker,
    unit: &str,
) -> Result<Vec<bollard::models::ContainerSummary>, String> {
    crate::docker::unit_containers(docker, unit)
        .await
        .map_err(|e| format!("cannot list containers: {}", describe(&e)))
}

async fn unit_containers(docker: &Docker, unit: &str) -> Result<Vec<ContainerInfo>, String> {
    let mut out = Vec::new();
    for c in list_unit(docker, unit).await? {
        let mut ports: Vec<(u16, u16, String)> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                Some((
                    p.public_port?,
                    p.private_port,
                    p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
                ))
            })
            .collect();
        ports.sort();
        ports.dedup();
        out.push(ContainerInfo {
            name: c
                .names
                .unwrap_or_default()
                .first()
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            image: c.image.unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            ports,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn remove_unit_containers(docker: &Docker, unit: &str) -> Result<Vec<String>, String> {
    let mut removed = Vec::new();
    for c in list_unit(docker, unit).await? {
        let Some(id) = c.id else { continue };
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        docker
            .remove_container(&id, Some(options))
            .await
            .map_err(|e| format!("cannot remove container {id}: {}", describe(&e)))?;
        removed.push(
            c.names
                .unwrap_or_default()
                .first()
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or(id),
        );
    }
    Ok(removed)
}

/// `GET /` over loopback with HTTP/1.0: (status line, body). Retries for a few seconds
/// while the server starts.
pub fn http_get(port: u16) -> Result<(String, String), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_get(port) {
            Ok(answer) => return Ok(answer),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn try_get(port: u16) -> Result<(String, String), String> {
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP answer".to_string())?;
    let status = head.lines().next().unwrap_or_default().trim().to_string();
    Ok((status, body.to_string()))
}

/// The text of an HTML page, tags dropped, in one short line.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let body = html.split_once("<body>").map_or(html, |(_, b)| b);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = words.chars().take(80).collect();
    format!("\"{short}\"")
}

/// A lucky that runs inside any container (static), for the daemon to mount there.
fn static_lucky(opts: &RunOptions, uses_docker: bool) -> Result<PathBuf, String> {
    if let Some(bin) = &opts.lucky_binary {
        let bin = bin
            .canonicalize()
            .map_err(|e| format!("--lucky-binary {}: {e}", bin.display()))?;
        if uses_docker && !is_static(&bin) {
            return Err(format!(
                "--lucky-binary {}: not a static binary; containers need one (a release's lucky-<version>-<target>, or a --target *-linux-musl build)",
                bin.display()
            ));
        }
        return Ok(bin);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find lucky's own path: {e}"))?;
    if !uses_docker || is_static(&exe) {
        return Ok(exe);
    }
    // Built from source (`cargo run`): build the static one beside it, once.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join("Cargo.toml").is_file() && manifest.join("src/charm/run.rs").is_file() {
        let target = host_target();
        let target_dir = manifest.join("target").join("container-tests");
        let bin = target_dir.join(&target).join("debug").join("lucky");
        println!(
            "This lucky is dynamically linked; containers need a static one: cargo build --target {target}"
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--bin", "lucky", "--target", &target])
            .env("CARGO_TARGET_DIR", &target_dir)
            .current_dir(manifest)
            .status()
            .map_err(|e| format!("cannot run cargo to build a static lucky: {e}"))?;
        if !status.success() || !bin.is_file() {
            return Err(format!(
                "cannot build a static lucky (cargo build --target {target} failed): run `rustup target add {target}` and `apt-get install musl-tools`, or pass --lucky-binary with a release binary"
            ));
        }
        return Ok(bin);
    }
    Err(format!(
        "{} is dynamically linked and the charm's containers need a static lucky: pass --lucky-binary with a release binary (lucky-<version>-{})",
        exe.display(),
        host_target()
    ))
}

/// True for an ELF executable without an interpreter (statically linked).
fn is_static(path: &Path) -> bool {
    // The program headers follow the ELF header: the first 64 KiB hold them.
    let mut bytes = Vec::new();
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.take(64 * 1024).read_to_end(&mut bytes).is_err() {
        return false;
    }
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap_or([0; 8])) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        match bytes.get(at..at + 4) {
            Some(t) => u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != 3,
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_kv() {
        assert_eq!(
            text_of("<html><body><h1>Hi &amp; you</h1>\n</body></html>"),
            "\"Hi &amp; you\""
        );
        assert_eq!(split_kv("a=b=c", "--config").unwrap(), ("a", "b=c"));
        assert!(split_kv("=b", "--config").is_err());
        assert!(is_static(Path::new("/bin/busybox")));
        assert!(!is_static(Path::new("/bin/sh")));
    }
}
