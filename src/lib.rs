//! Lucky: write Juju machine charms as plain scripts whose workload runs in Docker.
//!
//! One binary is both the per-unit daemon (`daemon`) and the CLI (`cli`) that hooks,
//! charm scripts and operators call; they talk over `protocol`.
//!
//! # Map of the crate, by layer
//!
//! A module imports only modules of a lower layer (`tests/layers.rs` checks it):
//!
//! | layer | modules | what |
//! | --- | --- | --- |
//! | 6 | [`cli`] | clap definitions, one file per command group; thin clients of the daemon |
//! | 5 | [`daemon`], `run`, `update` | the per-unit daemon; the local runner (`charm run`); self-update |
//! | 4 | [`client`], [`charm`], [`simulator`] | the socket client; lucky.yaml and `charm build`; the Juju simulator |
//! | 3 | [`docker`], `juju`, `release` | containers (desired state, reconciler, exec); Juju's hook tools; where releases live, fetched and verified |
//! | 2 | `script`, `state`, `zone`, `http` | what a script run needs (context, output, entry, failure); durable state; time zones (TZif); HTTP GETs (hyper for plain http, the machine's curl for TLS) |
//! | 1 | [`protocol`], [`unit`](mod@unit), `calendar`, `executable`, [`elf`], [`alloc`], [`entry`] | the wire; a unit's names and paths; dates; PATH search; static-binary check; the memory allocator; the process's start and command line |
//!
//! Only what the binaries, tests, benchmarks and fuzz targets use is public (linked above);
//! everything else is `pub(crate)`: `cargo doc --document-private-items` shows it all.
//!
//! Inside the daemon, `handlers/` (one file per request family) validate a request and
//! call down into the hook runner, `docker`, `juju` and `state`; nothing calls a handler
//! but the connection's routing.

pub mod alloc;
mod calendar;
pub mod charm;
pub mod cli;
pub mod client;
pub mod daemon;
pub mod docker;
pub mod elf;
pub mod entry;
mod executable;
mod http;
mod juju;
pub mod protocol;
mod release;
mod run;
mod script;
pub mod simulator;
mod state;
pub mod unit;
mod update;
mod zone;
