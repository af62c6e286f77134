//! Giving Juju the unit's aggregated status (`state::status`), only when it changed.

use super::JujuError;
use crate::protocol::WorkloadStatus;
use crate::script::HookContext;
use crate::state::Document;
use crate::state::status::{Statuses, unit_status};
use std::sync::{Mutex, PoisonError};

/// Longest aggregated message given to `status-set` (many owners' messages joined could
/// be longer); it is cut, not refused, so the unit's status never freezes.
const MAX_UNIT_MESSAGE: usize = 16 * 1024;

/// Remembers the unit status last given to Juju, so it is only set again when it changes.
#[derive(Default)]
pub(crate) struct StatusReporter {
    pushed: Mutex<Option<(WorkloadStatus, String)>>,
}

impl StatusReporter {
    /// Gives Juju the unit's aggregated status if it changed since it was last given.
    pub(crate) async fn push(
        &self,
        statuses: &Document<Statuses>,
        ctx: &HookContext,
    ) -> Result<(), JujuError> {
        let wanted = statuses.read(unit_status);
        let nothing_reported = statuses.read(|all| all.is_empty());
        let unchanged = match &*self.pushed.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(pushed) => *pushed == wanted,
            // Juju shows its own status until the charm reports one.
            None => nothing_reported,
        };
        if unchanged {
            return Ok(());
        }
        let message = super::args::truncated(&wanted.1, MAX_UNIT_MESSAGE);
        super::exec(ctx, "status-set", &["--", wanted.0.as_str(), message]).await?;
        *self.pushed.lock().unwrap_or_else(PoisonError::into_inner) = Some(wanted);
        Ok(())
    }
}
