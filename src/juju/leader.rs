//! Leader data on Juju 3.6 and 4.0: one key=value bucket per application that every unit
//! reads and only the leader writes.
//!
//! Juju 3.6 keeps it behind `leader-get` / `leader-set`. Juju 4.0 has no such tools;
//! there, Lucky keeps the same bucket in the application data of a peer relation that
//! `lucky charm build` declares, [`PEER_ENDPOINT`] (every unit of the application is in
//! it, every unit may read its application bag, only the leader may write it).

use super::{JujuError, exec, json};
use crate::script::HookContext;
use serde_json::{Map, Value};

/// The peer relation `lucky charm build` declares for leader data on Juju 4.
pub(crate) const PEER_ENDPOINT: &str = "lucky-leader";
/// Its interface name.
pub(crate) const PEER_INTERFACE: &str = "lucky-leader";

/// Where this unit's Juju keeps leader data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// `leader-get` / `leader-set` (Juju 3).
    Tools,
    /// The [`PEER_ENDPOINT`] relation's application data (Juju 4).
    Peer,
}

impl Store {
    /// Chosen by the `JUJU_VERSION` Juju gives every hook (and `juju-exec`), not by
    /// looking for `leader-get` on the PATH: the version is what Juju promises, while a
    /// stray `leader-get` elsewhere on the PATH (a charm helper, a copied tools dir)
    /// would pick the wrong store. No or an unreadable version means Juju 3's tools.
    pub(crate) fn of(ctx: &HookContext) -> Self {
        let major = ctx
            .var("JUJU_VERSION")
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        match major {
            Some(m) if m >= 4 => Self::Peer,
            _ => Self::Tools,
        }
    }
}

/// Why leader data could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum LeaderError {
    #[error(transparent)]
    Juju(#[from] JujuError),
    /// Juju 4, a non-leader writing: refused before anything is sent.
    #[error(
        "cannot set leader data: this unit is not the leader (only the leader may; see `lucky leader is-leader`)"
    )]
    NotLeader,
    /// Juju 4, before the peer relation exists (the install hook).
    #[error(
        "cannot set leader data yet: on Juju 4 it lives in the {PEER_ENDPOINT} peer relation, which hooks see from its {PEER_ENDPOINT}-relation-created hook on (Juju runs it right after install): set it there, in leader-elected or later"
    )]
    NoPeerRelation,
}

/// The application's name, from `JUJU_UNIT_NAME`.
fn app(ctx: &HookContext) -> &str {
    let unit = ctx.var("JUJU_UNIT_NAME").unwrap_or_default();
    unit.split('/').next().unwrap_or(unit)
}

/// The peer relation's id, if the hook can see it yet.
async fn peer_relation(ctx: &HookContext) -> Result<Option<String>, JujuError> {
    let ids = json(ctx, "relation-ids", &["--", PEER_ENDPOINT]).await?;
    Ok(ids
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// One value (`key`, null when unset) or, for `-`, every key as an object: what
/// `leader-get --format=json` prints, on either Juju. `key` is already checked.
pub(crate) async fn get(ctx: &HookContext, key: &str) -> Result<Value, LeaderError> {
    if Store::of(ctx) == Store::Tools {
        return Ok(json(ctx, "leader-get", &["--", key]).await?);
    }
    let Some(id) = peer_relation(ctx).await? else {
        // Nothing can have been written before the relation exists: empty, as
        // leader-get answers before the leader sets anything.
        return Ok(if key == "-" {
            Value::Object(Map::new())
        } else {
            Value::Null
        });
    };
    let value = json(
        ctx,
        "relation-get",
        &["--app", "-r", &id, "--", key, app(ctx)],
    )
    .await?;
    // An empty bag prints nothing in some formats; the answer is still "no keys".
    Ok(match value {
        Value::Null if key == "-" => Value::Object(Map::new()),
        v => v,
    })
}

/// Sets `KEY=VALUE` words (`KEY=` deletes), already checked.
pub(crate) async fn set(ctx: &HookContext, words: &[String]) -> Result<(), LeaderError> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if Store::of(ctx) == Store::Tools {
        let mut argv = vec!["--"];
        argv.extend(&words);
        return Ok(exec(ctx, "leader-set", &argv).await?);
    }
    // relation-set --app would refuse a non-leader too, naming a relation the script
    // never mentioned; say what leader-set means instead.
    if json(ctx, "is-leader", &[]).await?.as_bool() != Some(true) {
        return Err(LeaderError::NotLeader);
    }
    let id = peer_relation(ctx)
        .await?
        .ok_or(LeaderError::NoPeerRelation)?;
    let mut argv = vec!["--app", "-r", id.as_str(), "--"];
    argv.extend(&words);
    Ok(exec(ctx, "relation-set", &argv).await?)
}
