//! The unit's desired container state: what scripts asked for, stored durably. Only the
//! reconciler turns it into engine calls.

use crate::protocol::container::{ContainerEdit, ContainerQuery};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Name of the container scripts get when they pass no `-c NAME`.
pub(crate) const DEFAULT_CONTAINER: &str = "default";

/// Name of the state document.
pub(crate) const DOCUMENT: &str = "containers";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ContainerSpecs {
    /// By container name (`default` for the default container).
    pub(crate) containers: BTreeMap<String, ContainerSpec>,
    /// The charm folder the last hook ran from, so an apply outside a hook (an operator's
    /// `apply-updates`) mounts the same `container_scripts` and recreates nothing.
    #[serde(default)]
    pub(crate) charm_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct ContainerSpec {
    /// `None` until a script sets one: the container is then not created, but everything
    /// else set on it is kept for when it gets an image.
    pub(crate) image: Option<String>,
    pub(crate) no_pull: bool,
    /// Pull on every (re)create (`image set --pull always`).
    pub(crate) always_pull: bool,
    pub(crate) env: BTreeMap<String, String>,
    /// Container path → source (a volume name, or an absolute host path).
    pub(crate) volumes: BTreeMap<String, String>,
    /// `host:container/proto`, normalised.
    pub(crate) ports: BTreeSet<String>,
    pub(crate) entrypoint: Option<String>,
    pub(crate) command: Option<Vec<String>>,
    pub(crate) network: Option<String>,
    /// Docker's `--init`: off unless a script turns it on (`container set-init`).
    pub(crate) init: bool,
}

/// Why an edit or query was refused: one line naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SpecError(pub(crate) String);

fn bad(message: impl Into<String>) -> SpecError {
    SpecError(message.into())
}

/// `None` / `-c default` → the default container; other names must be usable in a
/// Docker container name.
pub(crate) fn container_key(name: Option<&str>) -> Result<String, SpecError> {
    let name = name.unwrap_or(DEFAULT_CONTAINER);
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(bad(format!(
            "invalid container name {name:?}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
        )))
    }
}

/// What an edit did to the stored volumes, so the caller can delete data after the
/// state change is durable.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EditEffect {
    Nothing,
    /// The named volume's folder should be deleted (`volume remove --delete-data`).
    DeleteVolumeData(String),
    /// Nothing to do, and the caller should hear why: removing what is absent succeeds
    /// (as in the 2020 Lucky), with this note.
    Absent(String),
}

/// Applies `edit` to the container `key` of `specs`. Validates before changing anything.
pub(crate) fn apply_edit(
    specs: &mut ContainerSpecs,
    key: &str,
    edit: &ContainerEdit,
) -> Result<EditEffect, SpecError> {
    if let ContainerEdit::Delete = edit {
        return Ok(match specs.containers.remove(key) {
            Some(_) => EditEffect::Nothing,
            None => {
                EditEffect::Absent(format!("container {key} does not exist: nothing to delete"))
            }
        });
    }
    let removal = matches!(
        edit,
        ContainerEdit::RemoveVolume { .. } | ContainerEdit::RemovePort(_)
    );
    if removal && !specs.containers.contains_key(key) {
        // Validate what was given, but never make a container just to remove from it.
        if let ContainerEdit::RemovePort(binding) = edit {
            parse_port(binding)?;
        }
        return Ok(EditEffect::Absent(format!(
            "container {key} does not exist: nothing to remove"
        )));
    }
    check_conflicts(specs, key, edit)?;
    let spec = specs.containers.entry(key.to_string()).or_default();
    match edit {
        ContainerEdit::SetImage {
            image,
            no_pull,
            always_pull,
        } => {
            check_image(image)?;
            spec.image = Some(image.clone());
            spec.no_pull = *no_pull;
            spec.always_pull = *always_pull && !*no_pull;
        }
        ContainerEdit::SetEnv(pairs) => {
            for (k, _) in pairs {
                if k.is_empty() || k.contains('=') || k.contains('\0') {
                    return Err(bad(format!("invalid environment variable name {k:?}")));
                }
            }
            for (k, v) in pairs {
                if v.is_empty() {
                    spec.env.remove(k);
                } else {
                    spec.env.insert(k.clone(), v.clone());
                }
            }
        }
        ContainerEdit::AddVolume { source, target } => {
            check_container_path(target)?;
            check_volume_source(source)?;
            spec.volumes.insert(target.clone(), source.clone());
        }
        ContainerEdit::RemoveVolume {
            target,
            delete_data,
        } => {
            let Some(source) = spec.volumes.remove(target) else {
                return Ok(EditEffect::Absent(format!(
                    "container {key} has no volume at {target}: nothing to remove"
                )));
            };
            if *delete_data {
                if source.starts_with('/') {
                    // Host paths belong to the machine, not to the charm.
                    return Err(bad(format!(
                        "refusing to delete host path {source} (volume {target} of container {key}); only named volumes have data Lucky owns"
                    )));
                }
                return Ok(EditEffect::DeleteVolumeData(source));
            }
        }
        ContainerEdit::AddPort(binding) => {
            spec.ports.insert(parse_port(binding)?);
        }
        ContainerEdit::RemovePort(binding) => {
            let normal = parse_port(binding)?;
            if !spec.ports.remove(&normal) {
                return Ok(EditEffect::Absent(format!(
                    "container {key} has no port binding {normal}: nothing to remove"
                )));
            }
        }
        ContainerEdit::RemoveAllPorts => spec.ports.clear(),
        ContainerEdit::SetEntrypoint(entrypoint) => {
            if entrypoint.as_deref() == Some("") {
                return Err(bad("empty entrypoint: give a program, or --unset"));
            }
            spec.entrypoint = entrypoint.clone();
        }
        ContainerEdit::SetCommand(command) => {
            if command.as_ref().is_some_and(Vec::is_empty) {
                return Err(bad(
                    "empty command: give at least one argument after --, or --unset",
                ));
            }
            spec.command = command.clone();
        }
        ContainerEdit::SetNetwork(network) => {
            if let Some(n) = network
                && (n.is_empty() || n.contains(char::is_whitespace))
            {
                return Err(bad(format!("invalid network name {n:?}")));
            }
            spec.network = network.clone();
        }
        ContainerEdit::SetInit(init) => spec.init = *init,
        ContainerEdit::Delete => {}
    }
    Ok(EditEffect::Nothing)
}

/// Refuses an edit that clashes with another container's settings, before any change:
/// a host port another binding holds (Docker would refuse it only at apply time, after
/// the hook), or deleting the data of a named volume another mount still uses.
fn check_conflicts(
    specs: &ContainerSpecs,
    key: &str,
    edit: &ContainerEdit,
) -> Result<(), SpecError> {
    match edit {
        ContainerEdit::AddPort(binding) => {
            let normal = parse_port(binding)?;
            let Some((host, _, proto)) = split_port(&normal) else {
                return Ok(());
            };
            for (other, spec) in &specs.containers {
                let taken = spec.ports.iter().find(|p| {
                    (other != key || **p != normal)
                        && split_port(p).is_some_and(|(h, _, pr)| h == host && pr == proto)
                });
                if let Some(taken) = taken {
                    return Err(bad(format!(
                        "cannot bind host port {host}/{proto} for container {key}: container {other} already binds it ({taken}); remove that binding first or pick another host port"
                    )));
                }
            }
        }
        ContainerEdit::RemoveVolume {
            target,
            delete_data: true,
        } => {
            let Some(source) = specs
                .containers
                .get(key)
                .and_then(|s| s.volumes.get(target))
            else {
                return Ok(());
            };
            let users: Vec<String> = specs
                .containers
                .iter()
                .flat_map(|(name, spec)| {
                    spec.volumes
                        .iter()
                        .filter(move |(path, src)| {
                            *src == source && !(name == key && *path == target)
                        })
                        .map(move |(path, _)| format!("{path} of container {name}"))
                })
                .collect();
            if !users.is_empty() && !source.starts_with('/') {
                return Err(bad(format!(
                    "cannot delete the data of volume {source}: it is still mounted at {}; remove those mounts first, or remove this one without --delete-data",
                    users.join(", ")
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Answers a query as lines to print. A container that was never configured reads as
/// empty, like a missing key.
pub(crate) fn answer(specs: &ContainerSpecs, key: &str, query: &ContainerQuery) -> Vec<String> {
    let empty = ContainerSpec::default();
    let spec = specs.containers.get(key).unwrap_or(&empty);
    match query {
        ContainerQuery::Image => vec![spec.image.clone().unwrap_or_default()],
        ContainerQuery::Env(Some(k)) => vec![spec.env.get(k).cloned().unwrap_or_default()],
        ContainerQuery::Env(None) => spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        ContainerQuery::Volumes(Some(target)) => {
            vec![spec.volumes.get(target).cloned().unwrap_or_default()]
        }
        ContainerQuery::Volumes(None) => spec
            .volumes
            .iter()
            .map(|(target, source)| format!("{source}:{target}"))
            .collect(),
        ContainerQuery::Ports => spec.ports.iter().cloned().collect(),
    }
}

fn check_image(image: &str) -> Result<(), SpecError> {
    if image.is_empty()
        || image.len() > 512
        || image.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(format!("invalid image reference {image:?}")));
    }
    Ok(())
}

fn check_container_path(path: &str) -> Result<(), SpecError> {
    if !path.starts_with('/') || path.contains(':') || path.contains('\0') {
        return Err(bad(format!(
            "invalid container path {path:?}: give an absolute path without ':'"
        )));
    }
    Ok(())
}

/// A volume source is a host path (absolute) or a name kept under the unit's data dir.
fn check_volume_source(source: &str) -> Result<(), SpecError> {
    if source.starts_with('/') {
        if source.contains(':') || source.contains('\0') {
            return Err(bad(format!(
                "invalid host path {source:?}: ':' is not allowed"
            )));
        }
        return Ok(());
    }
    let ok = !source.is_empty()
        && source != "."
        && source != ".."
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "invalid volume source {source:?}: give an absolute host path or a name of letters, digits, '-', '_' and '.'"
        )))
    }
}

/// `8080:80`, `8080:80/udp` → `8080:80/tcp`, `8080:80/udp`.
pub(crate) fn parse_port(binding: &str) -> Result<String, SpecError> {
    let invalid = || {
        bad(format!(
            "invalid port binding {binding:?}: use HOST:CONTAINER[/tcp|/udp], e.g. 8080:80"
        ))
    };
    let (ports, proto) = match binding.split_once('/') {
        Some((p, proto @ ("tcp" | "udp"))) => (p, proto),
        Some(_) => return Err(invalid()),
        None => (binding, "tcp"),
    };
    let (host, container) = ports.split_once(':').ok_or_else(invalid)?;
    let port = |s: &str| s.parse::<u16>().ok().filter(|p| *p != 0);
    let (host, container) = (
        port(host).ok_or_else(invalid)?,
        port(container).ok_or_else(invalid)?,
    );
    Ok(format!("{host}:{container}/{proto}"))
}

/// Splits a normalised binding into (host port, container port, proto).
pub(crate) fn split_port(binding: &str) -> Option<(u16, u16, &str)> {
    let (ports, proto) = binding.split_once('/')?;
    let (host, container) = ports.split_once(':')?;
    Some((host.parse().ok()?, container.parse().ok()?, proto))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_port_another_binding_holds_is_refused_at_port_add() {
        let mut specs = ContainerSpecs::default();
        let add = |specs: &mut ContainerSpecs, key: &str, binding: &str| {
            apply_edit(specs, key, &ContainerEdit::AddPort(binding.into()))
        };
        add(&mut specs, "default", "8080:80").expect("first");
        // The same binding again is no change; another protocol is another port.
        add(&mut specs, "default", "8080:80/tcp").expect("same");
        add(&mut specs, "worker", "8080:80/udp").expect("udp");
        let before = specs.clone();
        for (key, binding) in [("worker", "8080:81"), ("default", "8080:90")] {
            let err = add(&mut specs, key, binding).expect_err("conflict");
            assert!(
                err.0.contains("cannot bind host port 8080/tcp")
                    && err
                        .0
                        .contains("container default already binds it (8080:80/tcp)"),
                "{err}"
            );
        }
        assert_eq!(specs, before, "a refused edit changes nothing");
    }

    #[test]
    fn deleting_the_data_of_a_volume_another_mount_uses_is_refused() {
        let mut specs = ContainerSpecs::default();
        for (key, target) in [("default", "/data"), ("worker", "/shared")] {
            apply_edit(
                &mut specs,
                key,
                &ContainerEdit::AddVolume {
                    source: "data".into(),
                    target: target.into(),
                },
            )
            .expect("add");
        }
        let remove = |delete_data| ContainerEdit::RemoveVolume {
            target: "/data".into(),
            delete_data,
        };
        let err = apply_edit(&mut specs.clone(), "default", &remove(true)).expect_err("in use");
        assert!(
            err.0
                .contains("volume data: it is still mounted at /shared of container worker"),
            "{err}"
        );
        // Without --delete-data, or once the other mount is gone, it goes.
        apply_edit(&mut specs.clone(), "default", &remove(false)).expect("no data deleted");
        specs.containers.remove("worker");
        assert_eq!(
            apply_edit(&mut specs, "default", &remove(true)),
            Ok(EditEffect::DeleteVolumeData("data".into()))
        );
    }

    #[test]
    fn settings_without_image_are_kept() {
        let mut specs = ContainerSpecs::default();
        apply_edit(
            &mut specs,
            "default",
            &ContainerEdit::SetEnv(vec![("A".into(), "1".into())]),
        )
        .expect("env");
        assert_eq!(specs.containers["default"].env["A"], "1");
        assert!(specs.containers["default"].image.is_none());
        apply_edit(
            &mut specs,
            "default",
            &ContainerEdit::SetEnv(vec![("A".into(), String::new())]),
        )
        .expect("delete");
        assert!(specs.containers["default"].env.is_empty());
    }

    #[test]
    fn ports_are_normalised_and_checked() {
        assert_eq!(parse_port("8080:80").as_deref(), Ok("8080:80/tcp"));
        assert_eq!(parse_port("53:53/udp").as_deref(), Ok("53:53/udp"));
        assert!(parse_port("80").is_err());
        assert!(parse_port("0:80").is_err());
        assert!(parse_port("1:2/sctp").is_err());
    }

    #[test]
    fn bad_input_changes_nothing() {
        let mut specs = ContainerSpecs::default();
        let before = specs.clone();
        assert!(
            apply_edit(
                &mut specs,
                "default",
                &ContainerEdit::AddVolume {
                    source: "../x".into(),
                    target: "/data".into()
                }
            )
            .is_err()
        );
        // The entry may have been created empty, which reads the same as absent.
        assert_eq!(
            answer(&specs, "default", &ContainerQuery::Volumes(None)),
            answer(&before, "default", &ContainerQuery::Volumes(None))
        );
        assert!(container_key(Some("a/b")).is_err());
        assert_eq!(container_key(None).as_deref(), Ok("default"));
    }
}
