//! A script entry of lucky.yaml, resolved: what runs, where, with which arguments.
//!
//! Low in the crate so the host runner, the container exec and the charm schema share
//! one definition without importing each other.

use std::path::PathBuf;

pub(crate) const HOST_SCRIPTS_DIR: &str = "host_scripts";
pub(crate) const CONTAINER_SCRIPTS_DIR: &str = "container_scripts";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptEntry {
    /// Line of the entry in lucky.yaml, for messages.
    pub(crate) line: u64,
    /// Stable identity of the script: owns its status, shown in messages.
    pub(crate) id: String,
    pub(crate) kind: ScriptKind,
    pub(crate) args: Vec<String>,
    pub(crate) is_async: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScriptKind {
    /// `host_scripts/<name>`, run on the host.
    Host { name: String, path: PathBuf },
    /// Script text run on the host by `shell`.
    InlineHost { script: String, shell: Vec<String> },
    /// `container_scripts/<name>`, run inside a container.
    Container {
        name: String,
        target: ContainerTarget,
    },
    /// Script text run inside a container by `shell`.
    InlineContainer {
        script: String,
        shell: Vec<String>,
        target: ContainerTarget,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerTarget {
    /// `None` is the default container.
    pub(crate) container_name: Option<String>,
    pub(crate) ignore_missing_container: bool,
}

impl ScriptKind {
    pub(crate) fn describe(&self) -> String {
        match self {
            ScriptKind::Host { name, .. } => format!("host script {name}"),
            ScriptKind::InlineHost { .. } => "inline host script".into(),
            ScriptKind::Container { name, .. } => format!("container script {name}"),
            ScriptKind::InlineContainer { .. } => "inline container script".into(),
        }
    }
}
