//! Why a script did not succeed, phrased for the hook's one-line error.

use super::entry::ScriptEntry;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{script} (lucky.yaml line {line}) {cause}")]
pub struct ScriptFailure {
    pub script: String,
    pub line: u64,
    pub cause: String,
}

impl ScriptFailure {
    pub fn new(entry: &ScriptEntry, cause: impl Into<String>) -> Self {
        Self {
            script: entry.kind.describe(),
            line: entry.line,
            cause: cause.into(),
        }
    }
}
