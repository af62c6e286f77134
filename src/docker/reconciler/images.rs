//! The images the reconciler creates containers from: pulled afresh on each apply (so a
//! moved tag recreates its containers), or only when missing, with progress in the hook's
//! output.

use super::{Calls, Found, HostMounts};
use crate::docker::spec::ContainerSpecs;
use crate::docker::{EngineError, describe, docker_name};
use crate::protocol::Stream;
use crate::protocol::container::ReconcileReport;
use crate::script::OutputSink;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};

/// Pulls each wanted image afresh (policy not `never`), once per image, and finds the
/// image each tag names now: image → its id, and the images pulled.
pub(super) async fn refresh_images(
    docker: &Docker,
    specs: &ContainerSpecs,
    host: &HostMounts,
    existing: &BTreeMap<String, Found>,
    out: &OutputSink,
    report: &mut ReconcileReport,
) -> (HashMap<String, String>, std::collections::HashSet<String>) {
    let mut current = HashMap::new();
    let mut pulled = std::collections::HashSet::new();
    for (key, spec) in &specs.containers {
        let Some(image) = spec.image.as_deref() else {
            continue;
        };
        if spec.no_pull || current.contains_key(image) {
            continue;
        }
        let name = docker_name(&host.unit, key);
        let mut calls = Calls {
            report: &mut *report,
        };
        match pull(docker, image, &name, out, &mut calls).await {
            Ok(()) => {
                pulled.insert(image.to_string());
            }
            Err(EngineError(cause)) => {
                let note = format!("lucky: note: {cause}; the engine's copy is kept");
                out.line(Stream::Stderr, note).await;
            }
        }
        calls.read();
        // Absent (never pulled, pull failed): creating the container says so.
        if let Ok(id) = docker
            .inspect_image(image)
            .await
            .map(|i| i.id.unwrap_or_default())
        {
            current.insert(image.to_string(), id);
        }
    }
    for (key, found) in existing {
        let image = specs.containers.get(key).and_then(|s| s.image.as_deref());
        if let Some((image, id)) = image.and_then(|i| Some((i, current.get(i)?)))
            && *id != found.image_id
        {
            let name = docker_name(&host.unit, key);
            let note = format!("lucky: {image} now names image {id}: recreating container {name}");
            out.line(Stream::Stdout, note).await;
        }
    }
    (current, pulled)
}

/// Pulls `image` unless it is present or pulling is off, showing progress in the hook
/// output (one line per layer status change, not every byte count).
pub(super) async fn ensure_image(
    docker: &Docker,
    image: &str,
    no_pull: bool,
    name: &str,
    out: &OutputSink,
    calls: &mut Calls<'_>,
) -> Result<(), EngineError> {
    calls.read();
    match docker.inspect_image(image).await {
        Ok(_) => return Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => {
            return Err(EngineError(format!(
                "cannot inspect image {image}: {}",
                describe(&e)
            )));
        }
    }
    if no_pull {
        return Err(EngineError(format!(
            "image {image} is not present and --no-pull is set"
        )));
    }
    pull(docker, image, name, out, calls).await
}

/// Pulls `image` from its registry, showing progress.
pub(super) async fn pull(
    docker: &Docker,
    image: &str,
    name: &str,
    out: &OutputSink,
    calls: &mut Calls<'_>,
) -> Result<(), EngineError> {
    out.line(
        Stream::Stdout,
        format!("lucky: pulling {image} for container {name}"),
    )
    .await;
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .build();
    calls.mutate();
    let mut progress = docker.create_image(Some(options), None, None);
    let mut last = String::new();
    while let Some(item) = progress.next().await {
        let info =
            item.map_err(|e| EngineError(format!("cannot pull image {image}: {}", describe(&e))))?;
        let line = match (info.id, info.status) {
            (Some(id), Some(status)) => format!("lucky: pull {image}: {id}: {status}"),
            (None, Some(status)) => format!("lucky: pull {image}: {status}"),
            _ => continue,
        };
        if line != last {
            out.line(Stream::Stdout, line.clone()).await;
            last = line;
        }
    }
    Ok(())
}
