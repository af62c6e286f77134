//! The one error type of the local runner: the layer below that failed (the charm's
//! build, the simulator, the engine), a file operation, or a refusal of the runner's own.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(transparent)]
    Charm(#[from] crate::charm::error::CharmError),
    #[error(transparent)]
    Engine(#[from] crate::docker::EngineError),
    /// The simulated model refused or failed (its message carries the chain of causes).
    #[error("{0:#}")]
    Simulator(#[from] anyhow::Error),
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The runner's own refusal, naming the flag or file and what to do.
    #[error("{0}")]
    Invalid(String),
}

impl RunError {
    pub(crate) fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

impl From<String> for RunError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}
