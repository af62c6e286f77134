//! What an operator changes between hooks: config (checked against config.yaml),
//! leadership and attached resources.

use super::Model;
use crate::simulator::state::ConfigOption;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::path::Path;

fn check_config_value(key: &str, opt: &ConfigOption, value: &Value) -> Result<()> {
    let ok = match (opt.kind.as_str(), value) {
        (_, Value::Null) => true,
        ("string" | "secret", Value::String(_)) => true,
        ("int", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("float", Value::Number(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        _ => false,
    };
    if !ok {
        bail!(
            "config option {key:?} expects type {}, got {value}",
            opt.kind
        );
    }
    Ok(())
}

impl Model {
    /// `juju config app key=value`, checked against config.yaml's declared type.
    /// Null resets the option to its default.
    pub fn set_config(&self, key: &str, value: Value) -> Result<()> {
        self.update(|s| {
            let opt = s
                .config_options
                .get(key)
                .ok_or_else(|| anyhow!("unknown config option {key:?} (not in config.yaml)"))?;
            check_config_value(key, opt, &value)?;
            if value.is_null() {
                s.config.remove(key);
            } else {
                s.config.insert(key.to_string(), value);
            }
            Ok(())
        })
    }

    /// Like [`set_config`](Self::set_config) with the value given as text, as on the
    /// `juju config` command line; an empty text resets to the default.
    pub fn set_config_str(&self, key: &str, text: &str) -> Result<()> {
        let state = self.state()?;
        let opt = state
            .config_options
            .get(key)
            .ok_or_else(|| anyhow!("unknown config option {key:?} (not in config.yaml)"))?;
        let value =
            if text.is_empty() {
                Value::Null
            } else {
                match opt.kind.as_str() {
                    "int" => Value::from(text.parse::<i64>().with_context(|| {
                        format!("config option {key:?}: {text:?} is not an int")
                    })?),
                    "float" => Value::from(text.parse::<f64>().with_context(|| {
                        format!("config option {key:?}: {text:?} is not a float")
                    })?),
                    "boolean" => Value::Bool(match text {
                        "true" | "True" => true,
                        "false" | "False" => false,
                        _ => bail!("config option {key:?}: {text:?} is not a boolean"),
                    }),
                    _ => Value::String(text.to_string()),
                }
            };
        self.set_config(key, value)
    }

    /// Make the unit leader or not, without running a hook (as Juju decides it before
    /// a unit's first hooks).
    pub fn set_leader(&self, leader: bool) -> Result<()> {
        self.update(|s| {
            s.leader = leader;
            Ok(())
        })
    }

    /// Attach (upload) a resource: resource-get will print `path`.
    pub fn attach_resource(&self, name: &str, path: impl AsRef<Path>) -> Result<()> {
        let path = path
            .as_ref()
            .canonicalize()
            .with_context(|| format!("resource file {} not found", path.as_ref().display()))?;
        self.update(|s| {
            if !s.declared_resources.is_empty() && !s.declared_resources.iter().any(|r| r == name) {
                bail!("resource {name:?} is not declared in metadata.yaml");
            }
            s.resources.insert(name.to_string(), path);
            Ok(())
        })
    }
}
