//! What `lucky charm run` was asked to do, already parsed: the CLI's value parsers turn
//! `KEY=VALUE`, `endpoint:remote-app`, `endpoint:key=value`, `endpoint:key:field=value` and `action:key=value` into
//! these types, so nothing here splits a string again.

use std::path::PathBuf;

/// `KEY=VALUE`: a config value, a relation data item or an action parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// `--relate endpoint:remote-app`: the remote application of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteApp {
    pub endpoint: String,
    pub app: String,
}

/// `--relation-data endpoint:key=value`: what the endpoint's remote unit sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationData {
    pub endpoint: String,
    pub setting: Setting,
}

/// `--relation-secret endpoint:key:field=value`: the endpoint's remote application shares
/// a secret holding `field=value` (more fields with the same key) and sends its id as `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationSecret {
    pub endpoint: String,
    pub key: String,
    pub field: Setting,
}

/// `--action-param action:key=value`: one parameter of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionParam {
    pub action: String,
    pub setting: Setting,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// None: the embedded example charm.
    pub charm_dir: Option<PathBuf>,
    pub model_dir: Option<PathBuf>,
    pub unit: Option<String>,
    pub keep: bool,
    pub no_stop: bool,
    pub config: Vec<Setting>,
    /// Config changed after the actions, before stop.
    pub then_config: Vec<Setting>,
    pub relate: Vec<RemoteApp>,
    pub relation_data: Vec<RelationData>,
    pub relation_secrets: Vec<RelationSecret>,
    pub action_params: Vec<ActionParam>,
    /// Just this hook on the kept model.
    pub hook: Option<String>,
    /// Just this action on the kept model.
    pub action: Option<String>,
    /// On the kept model, another unit takes the leadership first.
    pub depose: bool,
    pub lucky_binary: Option<PathBuf>,
    /// The Juju the simulated model stands in for (3.6 unless asked).
    pub juju: crate::simulator::Juju,
}

impl RunOptions {
    /// One hook or action (or a leadership change) on the kept model, rather than the
    /// whole life.
    pub fn single(&self) -> bool {
        self.hook.is_some() || self.action.is_some() || self.depose
    }
}
