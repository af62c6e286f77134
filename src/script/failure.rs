//! Why a script did not succeed, phrased for the hook's one-line error.

use super::entry::ScriptEntry;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{script} (lucky.yaml line {line}) {cause}")]
pub(crate) struct ScriptFailure {
    pub(crate) script: String,
    pub(crate) line: u64,
    pub(crate) cause: String,
    /// The script's exit status, when it exited by itself with one (for the history).
    pub(crate) exit_status: Option<i64>,
}

impl ScriptFailure {
    pub(crate) fn new(entry: &ScriptEntry, cause: impl Into<String>) -> Self {
        Self {
            script: entry.kind.describe(),
            line: entry.line,
            cause: cause.into(),
            exit_status: None,
        }
    }

    pub(crate) fn with_exit_status(self, code: i64) -> Self {
        Self {
            exit_status: Some(code),
            ..self
        }
    }
}
