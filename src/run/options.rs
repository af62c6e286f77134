//! What `lucky charm run` was asked to do, already parsed: the CLI's value parsers turn
//! `KEY=VALUE`, `endpoint:remote-app`, `endpoint:key=value`, `endpoint:key:field=value` and `action:key=value` into
//! these types, so nothing here splits a string again.

use std::path::PathBuf;

/// `KEY=VALUE`: a config value, a relation data item or an action parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// `--relate endpoint:remote-app`: the remote application of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteApp {
    pub(crate) endpoint: String,
    pub(crate) app: String,
}

/// `--relation-data endpoint:key=value`: what the endpoint's remote unit sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelationData {
    pub(crate) endpoint: String,
    pub(crate) setting: Setting,
}

/// `--relation-secret endpoint:key:field=value`: the endpoint's remote application shares
/// a secret holding `field=value` (more fields with the same key) and sends its id as `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelationSecret {
    pub(crate) endpoint: String,
    pub(crate) key: String,
    pub(crate) field: Setting,
}

/// `--action-param action:key=value`: one parameter of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionParam {
    pub(crate) action: String,
    pub(crate) setting: Setting,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    /// None: the embedded example charm.
    pub(crate) charm_dir: Option<PathBuf>,
    pub(crate) model_dir: Option<PathBuf>,
    pub(crate) unit: Option<String>,
    pub(crate) keep: bool,
    pub(crate) no_stop: bool,
    pub(crate) config: Vec<Setting>,
    /// Config changed after the actions, before stop.
    pub(crate) then_config: Vec<Setting>,
    pub(crate) relate: Vec<RemoteApp>,
    pub(crate) relation_data: Vec<RelationData>,
    pub(crate) relation_secrets: Vec<RelationSecret>,
    pub(crate) action_params: Vec<ActionParam>,
    /// Just this hook on the kept model.
    pub(crate) hook: Option<String>,
    /// Just this action on the kept model.
    pub(crate) action: Option<String>,
    /// On the kept model, another unit takes the leadership first.
    pub(crate) depose: bool,
    pub(crate) lucky_binary: Option<PathBuf>,
    /// The Juju the simulated model stands in for (3.6 unless asked).
    pub(crate) juju: crate::simulator::Juju,
}

impl RunOptions {
    /// One hook or action (or a leadership change) on the kept model, rather than the
    /// whole life.
    pub(crate) fn single(&self) -> bool {
        self.hook.is_some() || self.action.is_some() || self.depose
    }
}
