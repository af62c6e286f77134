//! A Juju simulator for one unit: hook tools, model state and a driver that runs hooks the
//! way Juju does, so charms can be tested without a controller.
//!
//! - [`Model`] (`driver/`): create a model dir, change it between hooks, run hooks and actions.
//! - [`tools`]: `lucky` acting as `status-set`, `config-get` … (multi-call binary).
//! - [`state`]: what `model.json` holds; `store`: lock, atomic writes, calls.log.

pub(crate) mod driver;
pub(crate) mod format;
pub(crate) mod juju;
mod leadership;
mod reboot;
mod secrets;
pub mod state;
pub(crate) mod storage;
pub(crate) mod store;
pub mod tools;

pub use driver::{ActionRun, HookRun, Model, RelationEvent};
pub use juju::Juju;
pub(crate) use secrets::OwnerSecretEvent;
pub use state::{ModelState, Relation, Status};
pub use store::CallRecord;
