//! Which unit this process serves, and where that unit's daemon keeps its socket and data.
//!
//! One daemon per unit: both paths derive from `JUJU_UNIT_NAME` unless `LUCKY_SOCKET` /
//! `LUCKY_DATA_DIR` say otherwise (tests and scripts inside containers use those).

use anyhow::{Result, bail};
use std::path::PathBuf;

/// The levels the unit's daemon logs at, as LUCKY_LOG_LEVEL (and `charm build -L`) take them.
pub(crate) const LOG_LEVELS: &str = "trace, debug, info, warn, error, off";

/// A daemon log level by name, in any case (`warning` is `warn`); None for another word.
pub(crate) fn log_level(name: &str) -> Option<tracing::level_filters::LevelFilter> {
    use tracing::level_filters::LevelFilter;
    match name.to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::TRACE),
        "debug" => Some(LevelFilter::DEBUG),
        "info" => Some(LevelFilter::INFO),
        "warn" | "warning" => Some(LevelFilter::WARN),
        "error" => Some(LevelFilter::ERROR),
        "off" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// The unit a process serves and where its daemon listens and keeps its data.
#[derive(Debug, Clone)]
pub struct UnitPaths {
    /// Juju unit name (`app/0`), or a name derived from the paths when unknown.
    pub unit: String,
    /// The daemon's host socket (`/run/lucky/<unit>.sock`).
    pub socket: PathBuf,
    /// The unit's durable state (`/var/lib/lucky/<unit>`).
    pub data_dir: PathBuf,
}

/// `app/0` → `app-0`: safe as one path component.
pub(crate) fn safe_unit_name(unit: &str) -> String {
    unit.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl UnitPaths {
    pub(crate) fn from_env() -> Result<Self> {
        Self::resolve(
            std::env::var("JUJU_UNIT_NAME")
                .ok()
                .filter(|s| !s.is_empty()),
            // LUCKY_DAEMON_SOCKET is the 2020 Lucky's name for it.
            ["LUCKY_SOCKET", "LUCKY_DAEMON_SOCKET"]
                .into_iter()
                .find_map(|name| std::env::var_os(name).filter(|v| !v.is_empty()))
                .map(PathBuf::from),
            std::env::var_os("LUCKY_DATA_DIR").map(PathBuf::from),
        )
    }

    /// The paths for `unit`, each unless given: without a unit, the one socket in
    /// /run/lucky names it.
    pub fn resolve(
        unit: Option<String>,
        socket: Option<PathBuf>,
        data_dir: Option<PathBuf>,
    ) -> Result<Self> {
        let safe = unit.as_deref().map(safe_unit_name);
        let socket = match (socket, &safe) {
            (Some(s), _) => s,
            (None, Some(name)) => PathBuf::from(format!("/run/lucky/{name}.sock")),
            (None, None) => match only_socket_in("/run/lucky") {
                Some(s) => s,
                None => bail!(
                    "no unit given: set JUJU_UNIT_NAME (e.g. app/0) or LUCKY_SOCKET to the daemon's socket"
                ),
            },
        };
        let data_dir = match (data_dir, &safe) {
            (Some(d), _) => d,
            (None, Some(name)) => PathBuf::from(format!("/var/lib/lucky/{name}")),
            (None, None) => {
                let stem = socket
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "lucky".into());
                PathBuf::from(format!("/var/lib/lucky/{stem}"))
            }
        };
        let unit = unit.unwrap_or_else(|| {
            data_dir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(Self {
            unit,
            socket,
            data_dir,
        })
    }
}

/// An operator on a machine with a single unit need not name it.
fn only_socket_in(dir: &str) -> Option<PathBuf> {
    let mut found = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sock"));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_derive_from_unit_name() {
        let p = UnitPaths::resolve(Some("my-app/12".into()), None, None).expect("resolve");
        assert_eq!(p.socket, PathBuf::from("/run/lucky/my-app-12.sock"));
        assert_eq!(p.data_dir, PathBuf::from("/var/lib/lucky/my-app-12"));
        assert_eq!(p.unit, "my-app/12");
        assert_eq!(safe_unit_name("../x/0"), "---x-0");
    }

    #[test]
    fn overrides_win() {
        let p = UnitPaths::resolve(
            Some("a/0".into()),
            Some("/tmp/s.sock".into()),
            Some("/tmp/d".into()),
        )
        .expect("resolve");
        assert_eq!(p.socket, PathBuf::from("/tmp/s.sock"));
        assert_eq!(p.data_dir, PathBuf::from("/tmp/d"));
    }
}
