//! What a script run needs, shared by the host runner (`daemon`), the container exec
//! (`docker`) and the hook-tool backend (`juju`): the hook context a script's calls are
//! tied to, where its output goes, the resolved lucky.yaml entry, and why it failed.
//!
//! It sits low in the crate (it imports only `protocol` and the standard library) so
//! those three never import each other, or the daemon, to share a type.

pub(crate) mod context;
pub(crate) mod entry;
pub(crate) mod failure;
pub(crate) mod output;

pub(crate) use context::{Contexts, HookContext, new_token};
pub(crate) use entry::{CONTAINER_SCRIPTS_DIR, ContainerTarget, ScriptEntry, ScriptKind};
pub(crate) use failure::ScriptFailure;
pub(crate) use output::{OUTPUT_TAIL, OutputSink, OutputTail};
