//! Status aggregation: every script (or `--name`) owns a status; the unit shows the most
//! severe (blocked > maintenance > waiting > active), with the messages at that level.
//!
//! When statuses go away: an owner replaces its status by setting a new one, or removes it
//! with `lucky set-status --clear`. A script's own `maintenance` status (no `--name`) means
//! "work in progress" and is removed when the hook that set it ends, so it never outlives
//! its work; a named one ("waiting on the database") stays until replaced or cleared.

use crate::protocol::WorkloadStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct OwnedStatus {
    pub(crate) status: WorkloadStatus,
    pub(crate) message: String,
    /// The context that set a script's own `maintenance` status; it ends with that
    /// context. `None` for a named one, which stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) context: Option<String>,
}

/// Owner → status, as stored.
pub(crate) type Statuses = BTreeMap<String, OwnedStatus>;

/// The status the unit shows for `statuses`.
pub(crate) fn unit_status(statuses: &Statuses) -> (WorkloadStatus, String) {
    let Some(worst) = statuses.values().map(|s| s.status).max() else {
        return (WorkloadStatus::Active, String::new());
    };
    let message = statuses
        .values()
        .filter(|s| s.status == worst && !s.message.is_empty())
        .map(|s| s.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    (worst, message)
}

/// Drops `maintenance` statuses whose context is no longer live. One without a context
/// was named (`--name`) and stays until replaced or cleared.
pub(crate) fn end_maintenance(statuses: &mut Statuses, is_live: impl Fn(&str) -> bool) -> bool {
    let before = statuses.len();
    statuses.retain(|_, s| {
        s.status != WorkloadStatus::Maintenance || s.context.as_deref().is_none_or(&is_live)
    });
    statuses.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(status: WorkloadStatus, message: &str, context: Option<&str>) -> OwnedStatus {
        OwnedStatus {
            status,
            message: message.into(),
            context: context.map(Into::into),
        }
    }

    #[test]
    fn most_severe_wins() {
        let mut all = Statuses::new();
        assert_eq!(unit_status(&all), (WorkloadStatus::Active, String::new()));
        all.insert("a".into(), s(WorkloadStatus::Active, "ready", None));
        all.insert("b".into(), s(WorkloadStatus::Waiting, "for db", None));
        assert_eq!(
            unit_status(&all),
            (WorkloadStatus::Waiting, "for db".into())
        );
        all.insert(
            "c".into(),
            s(WorkloadStatus::Maintenance, "installing", Some("t1")),
        );
        all.insert("d".into(), s(WorkloadStatus::Blocked, "no db", None));
        all.insert("e".into(), s(WorkloadStatus::Blocked, "no config", None));
        assert_eq!(
            unit_status(&all),
            (WorkloadStatus::Blocked, "no db; no config".into())
        );
        assert!(end_maintenance(&mut all, |t| t == "t2"));
        assert!(!all.contains_key("c"));
    }
}
