//! `lucky secret …` requests: Juju secrets through the unit's hook tools.

use serde::{Deserialize, Serialize};

/// The metadata secret-add and secret-set take; `None` leaves it as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecretMeta {
    pub(crate) label: Option<String>,
    pub(crate) description: Option<String>,
    /// A duration (`24h`) or an RFC 3339 time.
    pub(crate) expire: Option<String>,
    /// never, hourly, daily, weekly, monthly, quarterly or yearly.
    pub(crate) rotate: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum SecretRequest {
    /// Content as key → value (`key#base64` for a value already in base64).
    Add {
        content: Vec<(String, String)>,
        /// Owned by the unit rather than the application (which only the leader may).
        unit_owned: bool,
        meta: SecretMeta,
    },
    Get {
        id: Option<String>,
        label: Option<String>,
        key: Option<String>,
        peek: bool,
        refresh: bool,
    },
    /// New content (a new revision) and/or metadata.
    Set {
        id: String,
        content: Vec<(String, String)>,
        meta: SecretMeta,
    },
    Ids,
    InfoGet {
        id: Option<String>,
        label: Option<String>,
    },
    Grant {
        id: String,
        relation_id: Option<String>,
        unit: Option<String>,
    },
    Revoke {
        id: String,
        relation_id: Option<String>,
        app: Option<String>,
        unit: Option<String>,
    },
    Remove {
        id: String,
        revision: Option<u32>,
    },
}

impl SecretRequest {
    /// The `lucky secret` subcommand, for messages.
    pub(crate) fn command(&self) -> &'static str {
        match self {
            SecretRequest::Add { .. } => "secret add",
            SecretRequest::Get { .. } => "secret get",
            SecretRequest::Set { .. } => "secret set",
            SecretRequest::Ids => "secret ids",
            SecretRequest::InfoGet { .. } => "secret info-get",
            SecretRequest::Grant { .. } => "secret grant",
            SecretRequest::Revoke { .. } => "secret revoke",
            SecretRequest::Remove { .. } => "secret remove",
        }
    }
}
