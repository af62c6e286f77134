//! The container manager the daemon calls: make the engine match the desired state, or
//! remove the unit's containers. Handlers and the hook runner both come here, so the
//! reconcile lock and the engine client's reset are handled in one place.

use super::reconciler::{self, HostMounts};
use super::{DockerState, EngineError};
use crate::protocol::container::ReconcileReport;
use crate::script::OutputSink;
use crate::unit::UnitPaths;
use std::path::Path;

/// A dynamically linked lucky, mounted at /usr/bin/lucky, cannot run in most images
/// ("lucky: not found"): say so when containers are created, before a container script
/// finds out.
async fn note_dynamic_lucky(lucky: &Path, out: &OutputSink) {
    if matches!(crate::elf::linkage(lucky), Ok(crate::elf::Linkage::Dynamic)) {
        let note = format!(
            "lucky: note: {} is dynamically linked: `lucky` inside the containers (container scripts) needs the static build (a lucky-<version>-<target>-musl release binary)",
            lucky.display()
        );
        tracing::warn!("{note}");
        out.line(crate::protocol::Stream::Stderr, note).await;
    }
}

impl DockerState {
    /// Reconciles the unit's containers with the desired state. `charm_dir`, when given,
    /// is remembered as the folder container scripts are mounted from.
    pub(crate) async fn apply(
        &self,
        paths: &UnitPaths,
        charm_dir: Option<&Path>,
        out: &OutputSink,
    ) -> Result<ReconcileReport, EngineError> {
        self.apply_refreshing(paths, charm_dir, out, false).await
    }

    /// As [`DockerState::apply`]; with `refresh` (the `upgrade-charm` hook) images are
    /// pulled afresh and a container whose tag moved is recreated (see `reconcile`).
    pub(crate) async fn apply_refreshing(
        &self,
        paths: &UnitPaths,
        charm_dir: Option<&Path>,
        out: &OutputSink,
        refresh: bool,
    ) -> Result<ReconcileReport, EngineError> {
        self.apply_reporting(paths, charm_dir, out, refresh)
            .await
            .map_err(|(_, e)| e)
    }

    /// As [`DockerState::apply_refreshing`]; a failure comes with what the reconcile did
    /// before it (containers created, started or removed before another one failed), for
    /// the hook history. Nothing done yet (no engine, bad mounts) is an empty report.
    pub(crate) async fn apply_reporting(
        &self,
        paths: &UnitPaths,
        charm_dir: Option<&Path>,
        out: &OutputSink,
        refresh: bool,
    ) -> Result<ReconcileReport, (ReconcileReport, EngineError)> {
        let nothing_done = |e: EngineError| (ReconcileReport::default(), e);
        let _one_at_a_time = self.reconcile_lock.lock().await;
        if let Some(dir) = charm_dir
            && self.specs.read(|s| s.charm_dir.as_deref() != Some(dir))
        {
            self.specs
                .update(|s| s.charm_dir = Some(dir.to_path_buf()))
                .map_err(|e| {
                    nothing_done(EngineError(format!("cannot save the container state: {e}")))
                })?;
        }
        let specs = self.specs.read(Clone::clone);
        let host = HostMounts::new(&paths.unit, &paths.data_dir, specs.charm_dir.as_deref())
            .map_err(nothing_done)?;
        let docker = self.client().await.map_err(nothing_done)?;
        match reconciler::reconcile(&docker, &specs, &host, out, refresh).await {
            Ok(report) => {
                *self.applied_lock() = Some(specs);
                if !report.created.is_empty() {
                    note_dynamic_lucky(&host.lucky_binary, out).await;
                }
                Ok(report)
            }
            Err((report, error)) => {
                // The engine may now match neither state: the next pre-apply looks again.
                *self.applied_lock() = None;
                // Nothing listed means the engine did not answer: connect afresh next time.
                if report.api_calls <= 1 {
                    self.reset_client().await;
                }
                Err((report, error))
            }
        }
    }

    /// Applies the desired state only when it differs from what the last apply made
    /// the engine match (what a container script needs: the container as its hook has
    /// configured it so far). `None` when nothing was pending: no engine call at all.
    pub(crate) async fn apply_pending(
        &self,
        paths: &UnitPaths,
        charm_dir: Option<&Path>,
        out: &OutputSink,
    ) -> Result<Option<ReconcileReport>, EngineError> {
        let pending = self.specs.read(|specs| {
            let mut wanted = specs.clone();
            if let Some(dir) = charm_dir {
                wanted.charm_dir = Some(dir.to_path_buf());
            }
            match self.applied_lock().as_ref() {
                Some(applied) => *applied != wanted,
                // Nothing applied yet in this daemon: only containers wanted need a look.
                None => !wanted.containers.is_empty(),
            }
        });
        if !pending {
            return Ok(None);
        }
        self.apply(paths, charm_dir, out).await.map(Some)
    }

    fn applied_lock(&self) -> std::sync::MutexGuard<'_, Option<super::spec::ContainerSpecs>> {
        // A poisoned lock only means a panic elsewhere; the snapshot itself is whole.
        self.applied.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `stop` hook: stop and remove the unit's containers (desired state is kept).
    pub(crate) async fn remove_all(&self, unit: &str) -> Result<ReconcileReport, EngineError> {
        let _one_at_a_time = self.reconcile_lock.lock().await;
        let docker = self.client().await?;
        let result = reconciler::remove_all(&docker, unit).await;
        // The containers are gone, so the desired state is pending again.
        *self.applied_lock() = None;
        if result.is_err() {
            self.reset_client().await;
        }
        result
    }

    /// True when the unit has any container configured (so a charm without containers
    /// never needs an engine).
    pub(crate) fn has_desired_state(&self) -> bool {
        self.specs.read(|s| !s.containers.is_empty())
    }
}
