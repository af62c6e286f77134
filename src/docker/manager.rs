//! The container manager the daemon calls: make the engine match the desired state, or
//! remove the unit's containers. Handlers and the hook runner both come here, so the
//! reconcile lock and the engine client's reset are handled in one place.

use super::reconciler::{self, HostMounts};
use super::{DockerState, EngineError};
use crate::protocol::container::ReconcileReport;
use crate::script::OutputSink;
use crate::unit::UnitPaths;
use std::path::Path;

impl DockerState {
    /// Reconciles the unit's containers with the desired state. `charm_dir`, when given,
    /// is remembered as the folder container scripts are mounted from.
    pub async fn apply(
        &self,
        paths: &UnitPaths,
        charm_dir: Option<&Path>,
        out: &OutputSink,
    ) -> Result<ReconcileReport, EngineError> {
        let _one_at_a_time = self.reconcile_lock.lock().await;
        if let Some(dir) = charm_dir
            && self.specs.read(|s| s.charm_dir.as_deref() != Some(dir))
        {
            self.specs
                .update(|s| s.charm_dir = Some(dir.to_path_buf()))
                .map_err(|e| EngineError(format!("cannot save the container state: {e}")))?;
        }
        let specs = self.specs.read(Clone::clone);
        let host = HostMounts::new(&paths.unit, &paths.data_dir, specs.charm_dir.as_deref())?;
        let docker = self.client().await?;
        match reconciler::reconcile(&docker, &specs, &host, out).await {
            Ok(report) => Ok(report),
            Err((report, error)) => {
                // Nothing listed means the engine did not answer: connect afresh next time.
                if report.api_calls <= 1 {
                    self.reset_client().await;
                }
                Err(error)
            }
        }
    }

    /// The `stop` hook: stop and remove the unit's containers (desired state is kept).
    pub async fn remove_all(&self, unit: &str) -> Result<ReconcileReport, EngineError> {
        let _one_at_a_time = self.reconcile_lock.lock().await;
        let docker = self.client().await?;
        let result = reconciler::remove_all(&docker, unit).await;
        if result.is_err() {
            self.reset_client().await;
        }
        result
    }

    /// True when the unit has any container configured (so a charm without containers
    /// never needs an engine).
    pub fn has_desired_state(&self) -> bool {
        self.specs.read(|s| !s.containers.is_empty())
    }
}
