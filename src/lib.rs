//! Lucky: write Juju machine charms as plain scripts whose workload runs in Docker.
//!
//! One binary is both the per-unit daemon (`daemon`) and the CLI (`cli`) that hooks,
//! charm scripts and operators call; they talk over `protocol`.

pub mod calendar;
pub mod charm;
pub mod cli;
pub mod client;
pub mod daemon;
pub mod docker;
pub mod juju;
pub mod protocol;
pub mod release;
pub mod simulator;
pub mod state;
pub mod unit;
pub mod update;
