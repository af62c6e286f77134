//! The runner's use of the Docker engine, all through `docker::`: the same way to find
//! and connect to it as the daemon, the example image, the unit's containers listed, and
//! their removal through the reconciler's own path.

use super::error::RunError;

use crate::docker::image::{BUSYBOX, BusyboxImage, EXAMPLE_IMAGE};
use crate::docker::{self, describe, reconciler};
use bollard::Docker;
use std::future::Future;
use std::path::PathBuf;

/// Seconds one engine request may take (building the example image included).
const ENGINE_TIMEOUT_SECS: u64 = 120;

/// The engine the unit's daemon will use.
pub(super) struct Engine {
    socket: PathBuf,
}

/// One of the unit's containers, for the summary.
pub(super) struct ContainerInfo {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) state: String,
    /// (host port, container port, protocol)
    pub(crate) ports: Vec<(u16, u16, String)>,
}

impl Engine {
    pub(crate) fn find() -> Result<Self, RunError> {
        let socket = docker::engine_socket().map_err(RunError::Engine)?;
        Ok(Self { socket })
    }

    /// `DOCKER_HOST` for the unit's hooks, so its daemon finds this same engine.
    pub(crate) fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Checks the engine answers and has the example image; true when it was built now.
    pub(crate) fn prepare(&self) -> Result<(), RunError> {
        let built = self.with(|docker| async move {
            BusyboxImage::example_httpd()
                .ensure(&docker)
                .await
                .map_err(RunError::Engine)
        })?;
        if built {
            println!("Built image {EXAMPLE_IMAGE} from {BUSYBOX}");
        }
        Ok(())
    }

    /// Removes every container of `unit`, as its `stop` hook would; returns their names.
    pub(crate) fn remove_containers(&self, unit: &str) -> Result<Vec<String>, RunError> {
        self.with(|docker| async move {
            reconciler::remove_all(&docker, unit)
                .await
                .map(|report| report.removed)
                .map_err(|e| {
                    RunError::Engine(docker::EngineError(format!(
                        "cannot remove the containers of {unit}: {}",
                        e.0
                    )))
                })
        })
    }

    /// The unit's containers, by name.
    pub(crate) fn containers(&self, unit: &str) -> Result<Vec<ContainerInfo>, RunError> {
        let found = self.with(|docker| async move {
            docker::unit_containers(&docker, unit).await.map_err(|e| {
                RunError::Engine(docker::EngineError(format!(
                    "cannot list the containers of {unit}: {}",
                    describe(&e)
                )))
            })
        })?;
        let mut out: Vec<ContainerInfo> = found.into_iter().map(ContainerInfo::from).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Runs `f` with a connected engine on a runtime of its own (the runner is not async).
    fn with<T, F, Fut>(&self, f: F) -> Result<T, RunError>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = Result<T, RunError>>,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        rt.block_on(async {
            let docker = docker::connect(&self.socket, ENGINE_TIMEOUT_SECS)
                .await
                .map_err(|e| {
                    format!(
                        "{}. The charm's workload runs in Docker: start Lucky's private engine \
                         with `tests/support/docker-engine.sh start` from Lucky's source (as \
                         examples/run.sh does), or point DOCKER_HOST at a running engine",
                        e.0
                    )
                })?;
            f(docker).await
        })
    }
}

impl From<bollard::models::ContainerSummary> for ContainerInfo {
    fn from(c: bollard::models::ContainerSummary) -> Self {
        let mut ports: Vec<(u16, u16, String)> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                Some((p.public_port?, p.private_port, proto))
            })
            .collect();
        // The engine lists a port once per address family.
        ports.sort();
        ports.dedup();
        Self {
            name: c
                .names
                .unwrap_or_default()
                .first()
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            image: c.image.unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            ports,
        }
    }
}
