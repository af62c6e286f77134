//! What a script run needs, shared by the host runner (`daemon`), the container exec
//! (`docker`) and the hook-tool backend (`juju`): the hook context a script's calls are
//! tied to, where its output goes, the resolved lucky.yaml entry, and why it failed.
//!
//! It sits low in the crate (it imports only `protocol` and the standard library) so
//! those three never import each other, or the daemon, to share a type.

pub mod context;
pub mod entry;
pub mod failure;
pub mod output;

pub use context::{ContextGuard, Contexts, HookContext, new_token};
pub use entry::{
    CONTAINER_SCRIPTS_DIR, ContainerTarget, HOST_SCRIPTS_DIR, ScriptEntry, ScriptKind,
};
pub use failure::ScriptFailure;
pub use output::{OUTPUT_TAIL, OutputSink, OutputTail};
