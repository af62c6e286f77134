//! Why a script did not succeed, phrased for the hook's one-line error.

use super::entry::ScriptEntry;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{script} (lucky.yaml line {line}) {cause}")]
pub struct ScriptFailure {
    pub script: String,
    pub line: u64,
    pub cause: String,
    /// The script's exit status, when it exited by itself with one (for the history).
    pub exit_status: Option<i64>,
}

impl ScriptFailure {
    pub fn new(entry: &ScriptEntry, cause: impl Into<String>) -> Self {
        Self {
            script: entry.kind.describe(),
            line: entry.line,
            cause: cause.into(),
            exit_status: None,
        }
    }

    pub fn with_exit_status(self, code: i64) -> Self {
        Self {
            exit_status: Some(code),
            ..self
        }
    }
}
