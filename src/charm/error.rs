//! The one error type of the charm layer: what `charm create`, `charm build` and the
//! checks of a charm's files refuse, or the file operation that failed.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CharmError {
    /// Reading, writing or moving one of the charm's files (or the build's) failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A charm file, a flag or a release says something Juju or Lucky refuses: the
    /// message names the file (and line) or the flag, and what to do.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    LuckyYaml(#[from] super::lucky_yaml::LuckyYamlError),
}

impl CharmError {
    pub(crate) fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// A refusal written where it is found, as one line (`Err(format!(…))?`).
impl From<String> for CharmError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

/// A charm file the daemon read on a client's behalf (metadata.yaml, lucky.yaml).
impl From<CharmError> for crate::protocol::ErrorReply {
    fn from(e: CharmError) -> Self {
        Self::new(crate::protocol::ErrorKind::Charm, e.to_string())
    }
}
