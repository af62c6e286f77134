//! `lucky history` and `lucky history show ID`: the kept record of each run.

use crate::daemon::Daemon;
use crate::protocol::{ErrorKind, ErrorReply, Response};
use crate::state::history::HistoryFilter;
use std::sync::Arc;

/// The newest runs the filter selects, as summary rows (newest first).
pub(crate) async fn list(
    daemon: &Arc<Daemon>,
    limit: u32,
    name: Option<String>,
    failed_only: bool,
) -> Result<Response, ErrorReply> {
    let filter = HistoryFilter {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        name,
        failed_only,
    };
    let store = daemon.history.written().await;
    // Reads up to every kept record's file: off the async threads.
    let rows = tokio::task::spawn_blocking(move || store.list(&filter))
        .await
        .map_err(|e| {
            ErrorReply::new(ErrorKind::Internal, format!("cannot list the history: {e}"))
        })?;
    to_value(&rows)
}

pub(crate) async fn show(daemon: &Daemon, id: u64) -> Result<Response, ErrorReply> {
    match daemon.history.written().await.get(id) {
        Some(record) => to_value(&record),
        None => Err(ErrorReply::new(
            ErrorKind::BadRequest,
            format!(
                "cannot show run {id}: the history has no such run (`lucky history` lists the kept ones)"
            ),
        )),
    }
}

fn to_value(v: &impl serde::Serialize) -> Result<Response, ErrorReply> {
    serde_json::to_value(v).map(Response::Value).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Internal,
            format!("cannot encode the history: {e}"),
        )
    })
}
