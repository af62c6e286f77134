//! Wire types of the `lucky container …` requests.

use serde::{Deserialize, Serialize};

/// A change to one container's desired configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ContainerEdit {
    SetImage {
        image: String,
        no_pull: bool,
        /// Pull afresh whenever the container is (re)created, as the 2020 Lucky did, so
        /// a moving tag such as `:latest` is followed.
        #[serde(default)]
        always_pull: bool,
    },
    /// `K=V` sets, `K=` deletes.
    SetEnv(Vec<(String, String)>),
    AddVolume {
        source: String,
        target: String,
    },
    RemoveVolume {
        target: String,
        delete_data: bool,
    },
    AddPort(String),
    RemovePort(String),
    RemoveAllPorts,
    SetEntrypoint(Option<String>),
    SetCommand(Option<Vec<String>>),
    SetNetwork(Option<String>),
    /// Run an init (tini) as PID 1, or not (the default, as Docker's and the 2020 Lucky's).
    SetInit(bool),
    /// Forget the container; the next apply removes it.
    Delete,
}

impl ContainerEdit {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ContainerEdit::SetImage { .. } => "image set",
            ContainerEdit::SetEnv(_) => "env set",
            ContainerEdit::AddVolume { .. } => "volume add",
            ContainerEdit::RemoveVolume { .. } => "volume remove",
            ContainerEdit::AddPort(_) => "port add",
            ContainerEdit::RemovePort(_) | ContainerEdit::RemoveAllPorts => "port remove",
            ContainerEdit::SetEntrypoint(_) => "set-entrypoint",
            ContainerEdit::SetCommand(_) => "set-command",
            ContainerEdit::SetNetwork(_) => "set-network",
            ContainerEdit::SetInit(_) => "set-init",
            ContainerEdit::Delete => "delete",
        }
    }
}

/// A read of one container's desired configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ContainerQuery {
    Image,
    Env(Option<String>),
    Volumes(Option<String>),
    Ports,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ContainerAnswer {
    /// Lines to print, each without its newline.
    Lines(Vec<String>),
    Applied(ReconcileReport),
    /// Done, with something the caller should know (printed as a note on stderr).
    Note(String),
}

/// What one reconcile did. `mutating_calls` counts Docker API calls that change the
/// engine (create, start, stop, remove, pull): 0 when nothing changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReconcileReport {
    pub(crate) created: Vec<String>,
    pub(crate) started: Vec<String>,
    pub(crate) removed: Vec<String>,
    pub(crate) unchanged: Vec<String>,
    pub(crate) api_calls: u32,
    pub(crate) mutating_calls: u32,
}
