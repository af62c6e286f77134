//! The wire between the `lucky` CLI and the daemon.
//!
//! Every message is one frame: a 4-byte big-endian length, then a MessagePack body
//! (`frame`). A connection carries one call: the client's [`Hello`] (protocol version and
//! the hook context it belongs to) and, right behind it without waiting, its one
//! [`Request`], so a script call costs one round trip. The daemon answers with zero or
//! more [`Reply::Output`] frames and then exactly one [`Reply::Done`] or [`Reply::Error`],
//! and closes the connection.

pub(crate) mod container;
pub mod frame;
pub(crate) mod message;
pub(crate) mod reply;
pub(crate) mod secret;

pub use message::*;
pub use reply::*;

/// Bumped whenever a message changes shape. CLI and daemon must agree exactly.
/// 2: `SetStatus.named`, `ContainerEdit::SetInit`, `SetImage.always_pull`, `ContainerAnswer::Note`.
pub const PROTOCOL_VERSION: u32 = 2;
