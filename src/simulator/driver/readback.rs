//! Reading the model back after hooks ran: statuses, data bags, ports, the calls the
//! charm made and its log, for tests to assert on.

use super::Model;
use crate::simulator::state::{Bag, Status};
use crate::simulator::store::{self, CallRecord};
use anyhow::{Context, Result};

impl Model {
    /// The unit's workload status, as `juju status` shows it.
    pub fn unit_status(&self) -> Result<Status> {
        Ok(self.state()?.unit_status)
    }

    /// The application's status (set by the leader).
    pub fn application_status(&self) -> Result<Status> {
        Ok(self.state()?.application_status)
    }

    /// The application's leader data as committed.
    pub fn leader_data(&self) -> Result<Bag> {
        Ok(self.state()?.data.leader_data)
    }

    /// The ports the unit opened, as Juju prints them (`80/tcp`).
    pub fn opened_ports(&self) -> Result<Vec<String>> {
        Ok(self.state()?.data.opened_ports)
    }

    /// What the unit stored with `state-set` (Juju's, not Lucky's kv).
    pub fn unit_state(&self) -> Result<Bag> {
        Ok(self.state()?.data.unit_state)
    }

    /// Every hook-tool call so far, parsed from calls.log.
    pub fn calls(&self) -> Result<Vec<CallRecord>> {
        store::read_calls(&self.dir)
    }

    /// juju-debug.log as text (juju-log lines).
    pub fn debug_log(&self) -> Result<String> {
        match std::fs::read_to_string(self.dir.join(store::DEBUG_LOG)) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e).context("cannot read juju-debug.log"),
        }
    }
}
