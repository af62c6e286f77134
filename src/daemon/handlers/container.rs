//! `lucky container …`: edits and reads of the desired state, and applying it.

use super::{Caller, Origin};
use crate::daemon::Daemon;
use crate::docker::spec::{self, EditEffect};
use crate::docker::volume_dir;
use crate::protocol::container::{ContainerAnswer, ContainerEdit, ContainerQuery};
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::script::OutputSink;
use crate::state::UpdateError;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) async fn edit(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    container: Option<String>,
    edit: ContainerEdit,
) -> Result<Response, ErrorReply> {
    // Never reached from a container: see `policy`.
    debug_assert_eq!(caller.origin, Origin::Host);
    let key = spec::container_key(container.as_deref()).map_err(bad_request)?;
    let daemon = Arc::clone(daemon);
    // The write (two fsyncs), and any deletion of volume data, run off the daemon's event
    // loop: other clients go on. The reply waits for them, so it is sent once durable;
    // writers of the document take its lock in turn, so edits land in order.
    tokio::task::spawn_blocking(move || edit_blocking(&daemon, &key, &edit))
        .await
        .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("container edit failed: {e}")))?
}

fn edit_blocking(daemon: &Daemon, key: &str, edit: &ContainerEdit) -> Result<Response, ErrorReply> {
    let effect = daemon
        .docker
        .specs
        // A refused edit leaves the state as it was, on disk too; removing what is absent
        // changes nothing and writes nothing.
        .try_update_if(|specs| {
            spec::apply_edit(specs, key, edit).map(|effect| {
                let changed = !matches!(effect, EditEffect::Absent(_));
                (effect, changed)
            })
        })
        .map_err(|e| match e {
            UpdateError::Refused(e) => bad_request(e),
            UpdateError::State(e) => ErrorReply::new(
                ErrorKind::Internal,
                format!("cannot save the container state: {e}"),
            ),
        })?;
    if let EditEffect::Absent(note) = effect {
        return Ok(Response::Container(ContainerAnswer::Note(note)));
    }
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

pub(crate) fn get(
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
pub(crate) async fn apply_updates(
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
    daemon
        .docker
        .apply(&daemon.paths, charm_dir.as_deref(), out)
        .await
        .map(|report| Response::Container(ContainerAnswer::Applied(report)))
        .map_err(|e| ErrorReply::new(ErrorKind::Docker, e.0))
}

fn bad_request(e: spec::SpecError) -> ErrorReply {
    ErrorReply::new(ErrorKind::BadRequest, e.0)
}
