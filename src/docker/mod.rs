//! Containers: the desired state scripts edit (`spec`), the one reconciler that makes the
//! engine match it (`reconciler`), and container scripts run through exec (`exec`).

pub(crate) mod exec;
pub mod image;
mod manager;
pub(crate) mod provision;
pub(crate) mod reconciler;
pub(crate) mod spec;

use crate::state::{Document, Store};
use bollard::Docker;
use spec::ContainerSpecs;
use std::path::{Path, PathBuf};

/// Where the engine listens when `DOCKER_HOST` says nothing.
pub(crate) const DEFAULT_ENGINE_SOCKET: &str = "/var/run/docker.sock";
/// The private engine `tests/support/docker-engine.sh` (and `examples/run.sh`) start, so
/// it does not disturb a system engine: used when `DOCKER_HOST` is unset and the default
/// socket is absent.
pub(crate) const PRIVATE_ENGINE_SOCKET: &str = "/run/lucky-test-docker.sock";

/// Seconds any one engine request may take (a pull of a big image included).
const DOCKER_TIMEOUT_SECS: u64 = 600;

/// Paths inside every container Lucky starts.
pub(crate) const CONTAINER_LUCKY_BIN: &str = "/usr/bin/lucky";
/// The folder holding the container socket. A folder, not the socket file, is
/// bind-mounted: a restarted daemon (self-update) binds a new socket inode, which a
/// file bind mount would never see, whereas a folder mount shows the new socket.
pub(crate) const CONTAINER_SOCKET_DIR: &str = "/run/lucky";
pub(crate) const CONTAINER_SOCKET: &str = "/run/lucky/lucky.sock";
pub(crate) const CONTAINER_SCRIPTS: &str = "/lucky/container_scripts";

/// Labels that identify our containers; the hash label says what config made them.
pub(crate) const LABEL_UNIT: &str = "lucky.unit";
pub(crate) const LABEL_CONTAINER: &str = "lucky.container";
pub(crate) const LABEL_HASH: &str = "lucky.config-hash";

/// Every container Lucky made for `unit` (found by its label), running or not.
pub async fn unit_containers(
    docker: &Docker,
    unit: &str,
) -> Result<Vec<bollard::models::ContainerSummary>, bollard::errors::Error> {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_UNIT}={unit}")],
    )]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker.list_containers(Some(options)).await
}

/// The daemon's container side: desired state and the engine connection.
pub(crate) struct DockerState {
    pub(crate) specs: Document<ContainerSpecs>,
    /// Reconciles run one at a time (a hook's and an operator's `apply-updates`); not the
    /// hook lock, because a script calls `apply-updates` while its hook holds that.
    pub(crate) reconcile_lock: tokio::sync::Mutex<()>,
    /// The negotiated client, kept between calls; dropped after a connection error so
    /// an engine that came back is found again.
    client: tokio::sync::Mutex<Option<Docker>>,
    /// The desired state the last successful apply made the engine match (`None` until
    /// one has run in this daemon), so a container script's pre-apply can skip the
    /// engine entirely when its hook has changed nothing.
    applied: std::sync::Mutex<Option<ContainerSpecs>>,
}

/// An engine problem, phrased for one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub(crate) String);

impl DockerState {
    pub(crate) fn open(store: &Store) -> Self {
        let (specs, problem) = Document::open(store, spec::DOCUMENT);
        if let Some(problem) = problem {
            tracing::warn!(%problem, "container state");
        }
        Self {
            specs,
            reconcile_lock: tokio::sync::Mutex::new(()),
            client: tokio::sync::Mutex::new(None),
            applied: std::sync::Mutex::new(None),
        }
    }

    /// The engine client, connecting and negotiating the API version on first use (the
    /// engine may be older than bollard's default version).
    pub(crate) async fn client(&self) -> Result<Docker, EngineError> {
        let mut cached = self.client.lock().await;
        if let Some(docker) = cached.as_ref() {
            return Ok(docker.clone());
        }
        let docker = connect(&engine_socket()?, DOCKER_TIMEOUT_SECS).await?;
        *cached = Some(docker.clone());
        Ok(docker)
    }

    /// Forgets the client after an error that may mean the engine went away.
    pub(crate) async fn reset_client(&self) {
        *self.client.lock().await = None;
    }
}

/// The engine's socket, the one way the daemon and `lucky charm run` find it:
/// `DOCKER_HOST` when set (`unix://PATH` or a bare path; the client speaks only over a
/// Unix socket), else the default socket, else the private engine's when only it exists.
pub(crate) fn engine_socket() -> Result<PathBuf, EngineError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    engine_socket_from(&host, |p| p.exists())
}

fn engine_socket_from(host: &str, exists: impl Fn(&Path) -> bool) -> Result<PathBuf, EngineError> {
    if !host.is_empty() {
        return match host.split_once("://") {
            Some(("unix", path)) => Ok(PathBuf::from(path)),
            None => Ok(PathBuf::from(host)),
            Some(_) => Err(EngineError(format!(
                "cannot use DOCKER_HOST={host}: Lucky reaches the Docker engine over a Unix socket only; set DOCKER_HOST=unix:///path/to/docker.sock"
            ))),
        };
    }
    let default = Path::new(DEFAULT_ENGINE_SOCKET);
    let private = Path::new(PRIVATE_ENGINE_SOCKET);
    Ok(if !exists(default) && exists(private) {
        private.to_path_buf()
    } else {
        default.to_path_buf()
    })
}

/// Connects to the engine at `socket` (see [`engine_socket`]) and negotiates the API
/// version (the engine may be older than bollard's default); an engine that does not
/// answer is an error here, not at the first request.
pub(crate) async fn connect(socket: &Path, timeout_secs: u64) -> Result<Docker, EngineError> {
    let unreachable = |e: &bollard::errors::Error| {
        EngineError(format!(
            "cannot reach the Docker engine at {}: {}",
            socket.display(),
            describe(e)
        ))
    };
    let path = socket.to_string_lossy();
    Docker::connect_with_unix(&path, timeout_secs, bollard::API_DEFAULT_VERSION)
        .map_err(|e| unreachable(&e))?
        .negotiate_version()
        .await
        .map_err(|e| unreachable(&e))
}

/// `lucky-<unit>` for the default container, `lucky-<unit>-<name>` for the others.
pub fn docker_name(unit: &str, container: &str) -> String {
    let unit = crate::unit::safe_unit_name(unit);
    if container == spec::DEFAULT_CONTAINER {
        format!("lucky-{unit}")
    } else {
        format!("lucky-{unit}-{container}")
    }
}

/// Folder on the host holding the container socket (mounted at [`CONTAINER_SOCKET_DIR`]).
pub(crate) fn container_socket_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("container-run")
}

pub(crate) fn container_socket(data_dir: &Path) -> PathBuf {
    container_socket_dir(data_dir).join("lucky.sock")
}

/// Folder on the host holding a named volume.
pub(crate) fn volume_dir(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("volumes").join(name)
}

/// Describes a bollard error without its Rust type names.
pub(crate) fn describe(error: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match error {
        E::DockerResponseServerError {
            status_code,
            message,
        } => format!("{} (HTTP {status_code})", message.trim()),
        E::DockerStreamError { error } => error.trim().to_string(),
        E::SocketNotFoundError(path) => {
            format!("the Docker engine is not running (no socket at {path})")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_socket_from_docker_host_default_or_private() {
        let none = |_: &Path| false;
        let only_private = |p: &Path| p == Path::new(PRIVATE_ENGINE_SOCKET);
        let both = |_: &Path| true;
        let found = |host: &str, exists: &dyn Fn(&Path) -> bool| {
            engine_socket_from(host, exists).map_err(|e| e.0)
        };
        assert_eq!(
            found("unix:///tmp/d.sock", &both),
            Ok(PathBuf::from("/tmp/d.sock"))
        );
        assert_eq!(
            found("/tmp/d.sock", &both),
            Ok(PathBuf::from("/tmp/d.sock"))
        );
        assert_eq!(found("", &both), Ok(PathBuf::from(DEFAULT_ENGINE_SOCKET)));
        assert_eq!(found("", &none), Ok(PathBuf::from(DEFAULT_ENGINE_SOCKET)));
        assert_eq!(
            found("", &only_private),
            Ok(PathBuf::from(PRIVATE_ENGINE_SOCKET))
        );
        let tcp = found("tcp://10.0.0.1:2375", &both).unwrap_err();
        assert!(
            tcp.starts_with("cannot use DOCKER_HOST=tcp://10.0.0.1:2375:") && !tcp.contains('\n'),
            "{tcp}"
        );
    }
}
