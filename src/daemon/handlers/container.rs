//! `lucky container …`: edits and reads of the desired state, and applying it.

use super::{Caller, Origin};
use crate::daemon::Daemon;
use crate::daemon::output::OutputSink;
use crate::docker::reconciler::{self, HostMounts};
use crate::docker::spec::{self, EditEffect};
use crate::docker::{EngineError, volume_dir};
use crate::protocol::container::{ContainerAnswer, ContainerEdit, ContainerQuery, ReconcileReport};
use crate::protocol::{ErrorKind, ErrorReply, Response};
use std::path::{Path, PathBuf};

pub fn edit(
    daemon: &Daemon,
    caller: &Caller,
    container: Option<String>,
    edit: ContainerEdit,
) -> Result<Response, ErrorReply> {
    // Never reached from a container: see `policy`.
    debug_assert_eq!(caller.origin, Origin::Host);
    let key = spec::container_key(container.as_deref()).map_err(bad_request)?;
    let effect = daemon
        .docker
        .specs
        .update(|specs| {
            // Work on a copy so a refused edit leaves the state exactly as it was.
            let mut next = specs.clone();
            let effect = spec::apply_edit(&mut next, &key, &edit)?;
            *specs = next;
            Ok::<_, spec::SpecError>(effect)
        })
        .map_err(|e| {
            ErrorReply::new(
                ErrorKind::Internal,
                format!("cannot save the container state: {e}"),
            )
        })?
        .map_err(bad_request)?;
    if let EditEffect::DeleteVolumeData(name) = effect {
        // Only after the state no longer names the volume: a crash here leaves a folder
        // behind, never a volume pointing at deleted data.
        let dir = volume_dir(&daemon.paths.data_dir, &name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ErrorReply::new(
                    ErrorKind::Internal,
                    format!(
                        "volume {name} was removed from container {key}, but its data {} could not be deleted: {e}",
                        dir.display()
                    ),
                ));
            }
        }
    }
    Ok(Response::Ok)
}

pub fn get(
    daemon: &Daemon,
    container: Option<String>,
    query: ContainerQuery,
) -> Result<Response, ErrorReply> {
    let key = spec::container_key(container.as_deref()).map_err(bad_request)?;
    let lines = daemon
        .docker
        .specs
        .read(|specs| spec::answer(specs, &key, &query));
    Ok(Response::Container(ContainerAnswer::Lines(lines)))
}

/// `lucky container apply-updates`.
pub async fn apply_updates(
    daemon: &Daemon,
    caller: &Caller,
    out: &OutputSink,
) -> Result<Response, ErrorReply> {
    // Never reached from a container: see `policy`.
    debug_assert_eq!(caller.origin, Origin::Host);
    let charm_dir = caller
        .context
        .as_ref()
        .and_then(|c| c.var("JUJU_CHARM_DIR").or_else(|| c.var("CHARM_DIR")))
        .map(PathBuf::from);
    apply(daemon, charm_dir.as_deref(), out)
        .await
        .map(|report| Response::Container(ContainerAnswer::Applied(report)))
        .map_err(|e| ErrorReply::new(ErrorKind::Docker, e.0))
}

/// Reconciles the unit's containers with the desired state.
pub async fn apply(
    daemon: &Daemon,
    charm_dir: Option<&Path>,
    out: &OutputSink,
) -> Result<ReconcileReport, EngineError> {
    let _one_at_a_time = daemon.docker.reconcile_lock.lock().await;
    if let Some(dir) = charm_dir
        && daemon
            .docker
            .specs
            .read(|s| s.charm_dir.as_deref() != Some(dir))
    {
        daemon
            .docker
            .specs
            .update(|s| s.charm_dir = Some(dir.to_path_buf()))
            .map_err(|e| EngineError(format!("cannot save the container state: {e}")))?;
    }
    let specs = daemon.docker.specs.read(Clone::clone);
    let host = HostMounts::new(
        &daemon.paths.unit,
        &daemon.paths.data_dir,
        specs.charm_dir.as_deref(),
    )?;
    let docker = daemon.docker.client().await?;
    match reconciler::reconcile(&docker, &specs, &host, out).await {
        Ok(report) => Ok(report),
        Err((report, error)) => {
            // Nothing listed means the engine did not answer: connect afresh next time.
            if report.api_calls <= 1 {
                daemon.docker.reset_client().await;
            }
            Err(error)
        }
    }
}

/// The `stop` hook: stop and remove the unit's containers (desired state is kept).
pub async fn remove_all(daemon: &Daemon) -> Result<ReconcileReport, EngineError> {
    let _one_at_a_time = daemon.docker.reconcile_lock.lock().await;
    let docker = daemon.docker.client().await?;
    let result = reconciler::remove_all(&docker, &daemon.paths.unit).await;
    if result.is_err() {
        daemon.docker.reset_client().await;
    }
    result
}

/// True when the unit has any container configured (so a charm without containers
/// never needs an engine).
pub fn has_desired_state(daemon: &Daemon) -> bool {
    daemon.docker.specs.read(|s| !s.containers.is_empty())
}

fn bad_request(e: spec::SpecError) -> ErrorReply {
    ErrorReply::new(ErrorKind::BadRequest, e.0)
}
