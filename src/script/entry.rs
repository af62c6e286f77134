//! A script entry of lucky.yaml, resolved: what runs, where, with which arguments.
//!
//! Low in the crate so the host runner, the container exec and the charm schema share
//! one definition without importing each other.

use std::path::PathBuf;

pub const HOST_SCRIPTS_DIR: &str = "host_scripts";
pub const CONTAINER_SCRIPTS_DIR: &str = "container_scripts";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEntry {
    /// Line of the entry in lucky.yaml, for messages.
    pub line: u64,
    /// Stable identity of the script: owns its status, shown in messages.
    pub id: String,
    pub kind: ScriptKind,
    pub args: Vec<String>,
    pub is_async: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptKind {
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
pub struct ContainerTarget {
    /// `None` is the default container.
    pub container_name: Option<String>,
    pub ignore_missing_container: bool,
}

impl ScriptKind {
    pub fn describe(&self) -> String {
        match self {
            ScriptKind::Host { name, .. } => format!("host script {name}"),
            ScriptKind::InlineHost { .. } => "inline host script".into(),
            ScriptKind::Container { name, .. } => format!("container script {name}"),
            ScriptKind::InlineContainer { .. } => "inline container script".into(),
        }
    }
}
