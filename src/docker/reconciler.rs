//! The reconciler: the only code that changes the Docker engine. It makes the unit's
//! containers match the desired state, and does nothing when they already do.
//!
//! Each container carries labels naming its unit and container, and a hash of the full
//! configuration it was created from. A container whose hash matches and which runs is
//! left alone (a no-op apply is one list call, no mutating call); a changed one is
//! removed and created again; one no longer desired is removed.
//!
//! `images` pulls the images containers are created from; `tests` checks the plan and
//! the create body without an engine.

mod images;

use super::spec::{ContainerSpec, ContainerSpecs, split_port};
use super::{
    CONTAINER_LUCKY_BIN, CONTAINER_SCRIPTS, CONTAINER_SOCKET, CONTAINER_SOCKET_DIR, EngineError,
    LABEL_CONTAINER, LABEL_HASH, LABEL_UNIT, describe, docker_name, volume_dir,
};
use crate::protocol::container::ReconcileReport;
use crate::script::OutputSink;
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, ContainerSummaryStateEnum, HostConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use images::{ensure_image, pull, refresh_images};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Bumped when the way containers are created changes, so old ones are recreated.
const CREATE_SCHEME: u32 = 3;

/// Host facts that go into every container besides its spec.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HostMounts {
    pub(crate) unit: String,
    pub(crate) data_dir: PathBuf,
    /// The running lucky binary, bind-mounted at /usr/bin/lucky.
    pub(crate) lucky_binary: PathBuf,
    /// Folder holding the container socket.
    pub(crate) socket_dir: PathBuf,
    /// `$CHARM_DIR/container_scripts`, when the charm has one.
    pub(crate) container_scripts: Option<PathBuf>,
}

impl HostMounts {
    pub(crate) fn new(
        unit: &str,
        data_dir: &Path,
        charm_dir: Option<&Path>,
    ) -> Result<Self, EngineError> {
        let lucky_binary = std::env::current_exe()
            .map_err(|e| EngineError(format!("cannot find the lucky binary to mount: {e}")))?;
        let container_scripts = charm_dir
            .map(|d| d.join(crate::script::CONTAINER_SCRIPTS_DIR))
            .filter(|d| d.is_dir());
        Ok(Self {
            unit: unit.to_string(),
            data_dir: data_dir.to_path_buf(),
            lucky_binary,
            socket_dir: super::container_socket_dir(data_dir),
            container_scripts,
        })
    }
}

/// Counts calls so a no-op apply can be shown to mutate nothing.
struct Calls<'a> {
    report: &'a mut ReconcileReport,
}

impl Calls<'_> {
    fn read(&mut self) {
        self.report.api_calls += 1;
    }
    fn mutate(&mut self) {
        self.report.api_calls += 1;
        self.report.mutating_calls += 1;
    }
}

/// Makes the engine match `specs`. Every container is tried even when another fails;
/// the error then names each failed container and its cause.
///
/// With `refresh` (the `upgrade-charm` hook), each wanted image whose pull policy is not
/// `never` is pulled afresh first, as the 2020 Lucky did on every recreate, and a
/// container whose image tag now names another image is recreated. A pull that fails
/// (no registry reachable) is a note: the engine's copy stays in use.
pub(crate) async fn reconcile(
    docker: &Docker,
    specs: &ContainerSpecs,
    host: &HostMounts,
    out: &OutputSink,
    refresh: bool,
) -> Result<ReconcileReport, (ReconcileReport, EngineError)> {
    let mut report = ReconcileReport::default();
    let existing = match list(
        docker,
        &host.unit,
        &mut Calls {
            report: &mut report,
        },
    )
    .await
    {
        Ok(e) => e,
        Err(e) => return Err((report, e)),
    };
    let (current, pulled) = if refresh {
        refresh_images(docker, specs, host, &existing, out, &mut report).await
    } else {
        Default::default()
    };
    let mut failures: Vec<String> = Vec::new();
    for step in plan(specs, host, &existing, &current) {
        let name = docker_name(&host.unit, step.key());
        match step {
            Step::Remove { id, .. } => {
                remove_noting(docker, name, id, &mut report, &mut failures).await;
            }
            Step::Keep { .. } => report.unchanged.push(name),
            Step::Start { id, spec, .. } => {
                let mut calls = Calls {
                    report: &mut report,
                };
                match start(docker, id, &mut calls).await {
                    Ok(()) => report.started.push(name),
                    Err(EngineError(cause)) => failures.push(failure(&name, spec, &cause)),
                }
            }
            Step::Create {
                key,
                spec,
                replaces,
                hash,
            } => {
                let mut calls = Calls {
                    report: &mut report,
                };
                let pulled = spec.image.as_ref().is_some_and(|i| pulled.contains(i));
                let created = create(
                    docker, key, spec, replaces, &hash, host, out, pulled, &mut calls,
                );
                match created.await {
                    Ok(()) => report.created.push(name),
                    Err(EngineError(cause)) => failures.push(failure(&name, spec, &cause)),
                }
            }
        }
    }
    tracing::info!(
        created = ?report.created,
        started = ?report.started,
        removed = ?report.removed,
        unchanged = report.unchanged.len(),
        api_calls = report.api_calls,
        mutating_calls = report.mutating_calls,
        "containers reconciled"
    );
    if failures.is_empty() {
        Ok(report)
    } else {
        Err((report, EngineError(failures.join("; "))))
    }
}

/// Stops and removes every container of the unit (the `stop` hook). Desired state is
/// kept: a later hook that applies creates them again.
pub(crate) async fn remove_all(
    docker: &Docker,
    unit: &str,
) -> Result<ReconcileReport, EngineError> {
    let mut report = ReconcileReport::default();
    let existing = list(
        docker,
        unit,
        &mut Calls {
            report: &mut report,
        },
    )
    .await?;
    let mut failures = Vec::new();
    for (key, found) in &existing {
        let name = docker_name(unit, key);
        remove_noting(docker, name, &found.id, &mut report, &mut failures).await;
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(EngineError(failures.join("; ")))
    }
}

/// One thing the reconciler will do to make the engine match the desired state.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    /// A container we made that is no longer wanted (deleted, or its image unset).
    Remove { key: &'a str, id: &'a str },
    /// Ours, current and running: nothing to do, and no Docker call that changes anything.
    Keep { key: &'a str },
    /// Ours and current, but stopped (or never started: a port that was in use).
    Start {
        key: &'a str,
        id: &'a str,
        spec: &'a ContainerSpec,
    },
    /// Missing, made from another configuration, or from an image its tag no longer
    /// names (`replaces` is then removed first).
    Create {
        key: &'a str,
        spec: &'a ContainerSpec,
        replaces: Option<&'a str>,
        hash: String,
    },
}

impl Step<'_> {
    fn key(&self) -> &str {
        match self {
            Step::Remove { key, .. }
            | Step::Keep { key }
            | Step::Start { key, .. }
            | Step::Create { key, .. } => key,
        }
    }
}

/// What to change, computed from the desired state and what the engine has, apart from
/// doing it: removals first, then each wanted container in name order. `current` is the
/// image id each refreshed tag names now (empty unless images were refreshed).
fn plan<'a>(
    specs: &'a ContainerSpecs,
    host: &HostMounts,
    existing: &'a BTreeMap<String, Found>,
    current: &HashMap<String, String>,
) -> Vec<Step<'a>> {
    let mut steps: Vec<Step<'a>> = existing
        .iter()
        .filter(|(key, _)| specs.containers.get(*key).is_none_or(|s| s.image.is_none()))
        .map(|(key, found)| Step::Remove { key, id: &found.id })
        .collect();
    for (key, spec) in &specs.containers {
        if spec.image.is_none() {
            continue;
        }
        let hash = config_hash(key, spec, host);
        let moved = |f: &Found| {
            spec.image
                .as_ref()
                .and_then(|image| current.get(image))
                .is_some_and(|id| *id != f.image_id)
        };
        steps.push(match existing.get(key) {
            Some(f) if f.hash == hash && !moved(f) && f.running => Step::Keep { key },
            Some(f) if f.hash == hash && !moved(f) => Step::Start {
                key,
                id: &f.id,
                spec,
            },
            other => Step::Create {
                key,
                spec,
                replaces: other.map(|f| f.id.as_str()),
                hash,
            },
        });
    }
    steps
}

fn failure(name: &str, spec: &ContainerSpec, cause: &str) -> String {
    let image = spec.image.as_deref().unwrap_or_default();
    format!("container {name} (image {image}): {cause}")
}

/// Creates and starts `key`'s container, removing the one it replaces first.
#[allow(clippy::too_many_arguments)]
async fn create(
    docker: &Docker,
    key: &str,
    spec: &ContainerSpec,
    replaces: Option<&str>,
    hash: &str,
    host: &HostMounts,
    out: &OutputSink,
    pulled: bool,
    calls: &mut Calls<'_>,
) -> Result<(), EngineError> {
    let name = docker_name(&host.unit, key);
    let image = spec.image.as_deref().unwrap_or_default();
    if let Some(id) = replaces {
        remove(docker, id, calls).await?;
    }
    // `pulled`: this apply pulled it already (upgrade-charm).
    if spec.always_pull && !pulled {
        pull(docker, image, &name, out, calls).await?;
    } else {
        ensure_image(docker, image, spec.no_pull, &name, out, calls).await?;
    }
    prepare_volumes(spec, host)?;
    let body = create_body(key, spec, host, hash);
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    calls.mutate();
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| EngineError(format!("cannot create it from {image}: {}", describe(&e))))?;
    start(docker, &created.id, calls).await
}

struct Found {
    id: String,
    hash: String,
    running: bool,
    /// The image it was created from.
    image_id: String,
}

/// The unit's containers by container name, found by label (one API call).
async fn list(
    docker: &Docker,
    unit: &str,
    calls: &mut Calls<'_>,
) -> Result<BTreeMap<String, Found>, EngineError> {
    calls.read();
    let summaries = super::unit_containers(docker, unit).await.map_err(|e| {
        EngineError(format!(
            "cannot list the containers of unit {unit}: {}",
            describe(&e)
        ))
    })?;
    let mut found = BTreeMap::new();
    for s in summaries {
        let labels = s.labels.unwrap_or_default();
        let (Some(id), Some(key)) = (s.id, labels.get(LABEL_CONTAINER)) else {
            continue;
        };
        found.insert(
            key.clone(),
            Found {
                id,
                hash: labels.get(LABEL_HASH).cloned().unwrap_or_default(),
                image_id: s.image_id.unwrap_or_default(),
                running: matches!(
                    s.state,
                    Some(
                        ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::RESTARTING
                    )
                ),
            },
        );
    }
    Ok(found)
}

/// Removes one of the unit's containers, noting it as removed or as a failure.
async fn remove_noting(
    docker: &Docker,
    name: String,
    id: &str,
    report: &mut ReconcileReport,
    failures: &mut Vec<String>,
) {
    let result = remove(docker, id, &mut Calls { report }).await;
    match result {
        Ok(()) => report.removed.push(name),
        Err(e) => failures.push(format!("container {name}: cannot remove it: {e}")),
    }
}

async fn remove(docker: &Docker, id: &str, calls: &mut Calls<'_>) -> Result<(), EngineError> {
    // force: kill and remove in one call, init or not.
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    calls.mutate();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        // Already gone is what we wanted.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(EngineError(format!("cannot remove it: {}", describe(&e)))),
    }
}

async fn start(docker: &Docker, id: &str, calls: &mut Calls<'_>) -> Result<(), EngineError> {
    calls.mutate();
    docker
        .start_container(id, None)
        .await
        .map_err(|e| EngineError(format!("cannot start it: {}", describe(&e))))
}

/// Named volumes live under the unit's data dir; create their folders before Docker
/// does (it would create them root-owned with default mode anyway, but a missing parent
/// makes the error less clear).
fn prepare_volumes(spec: &ContainerSpec, host: &HostMounts) -> Result<(), EngineError> {
    for source in spec.volumes.values() {
        if !source.starts_with('/') {
            let dir = volume_dir(&host.data_dir, source);
            std::fs::create_dir_all(&dir).map_err(|e| {
                EngineError(format!(
                    "cannot create the folder {} of volume {source}: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// What a container is created from, in a stable order (BTreeMaps): its hash is the
/// container's identity in the `lucky.config-hash` label.
#[derive(Serialize)]
struct HashInput<'a> {
    scheme: u32,
    container: &'a str,
    spec: &'a ContainerSpec,
    host: &'a HostMounts,
}

pub(crate) fn config_hash(key: &str, spec: &ContainerSpec, host: &HostMounts) -> String {
    let input = HashInput {
        scheme: CREATE_SCHEME,
        container: key,
        spec,
        host,
    };
    // Serialising plain strings and maps cannot fail; an empty input would only cause
    // an extra recreate, never a wrong container.
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    format!("{:016x}", fnv1a(&bytes))
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not), and
/// plenty to tell configurations apart; nothing here needs collision resistance.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn create_body(
    key: &str,
    spec: &ContainerSpec,
    host: &HostMounts,
    hash: &str,
) -> ContainerCreateBody {
    let mut binds = vec![
        format!("{}:{CONTAINER_LUCKY_BIN}:ro", host.lucky_binary.display()),
        // Read-only: the container reaches the socket (connect needs no write access to
        // the folder) but cannot replace it, or anything else the daemon creates there.
        format!("{}:{CONTAINER_SOCKET_DIR}:ro", host.socket_dir.display()),
    ];
    if let Some(scripts) = &host.container_scripts {
        binds.push(format!("{}:{CONTAINER_SCRIPTS}:ro", scripts.display()));
    }
    for (target, source) in &spec.volumes {
        let source = if source.starts_with('/') {
            PathBuf::from(source)
        } else {
            volume_dir(&host.data_dir, source)
        };
        binds.push(format!("{}:{target}", source.display()));
    }
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    let mut exposed = Vec::new();
    for binding in &spec.ports {
        let Some((host_port, container_port, proto)) = split_port(binding) else {
            continue;
        };
        let port = format!("{container_port}/{proto}");
        exposed.push(port.clone());
        port_bindings
            .entry(port)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: None,
                host_port: Some(host_port.to_string()),
            });
    }
    let mut env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    env.push(format!("LUCKY_SOCKET={CONTAINER_SOCKET}"));
    env.push(format!("JUJU_UNIT_NAME={}", host.unit));
    let labels = HashMap::from([
        (LABEL_UNIT.to_string(), host.unit.clone()),
        (LABEL_CONTAINER.to_string(), key.to_string()),
        (LABEL_HASH.to_string(), hash.to_string()),
    ]);
    ContainerCreateBody {
        image: spec.image.clone(),
        env: Some(env),
        entrypoint: spec.entrypoint.clone().map(|e| vec![e]),
        cmd: spec.command.clone(),
        labels: Some(labels),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            init: Some(spec.init),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            binds: Some(binds),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            network_mode: spec.network.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
