//! Which hooks and actions a built charm answers to, and the checks that each one
//! lucky.yaml names is one Juju fires for this charm.

use crate::charm::error::CharmError;
use crate::charm::lucky_yaml::LuckyYaml;
use crate::charm::metadata::Metadata;

/// Hooks every machine charm gets.
const STANDARD_HOOKS: &[&str] = &[
    "install",
    "leader-elected",
    "leader-settings-changed",
    // Juju knows it but neither 3.6 nor 4.0 runs it yet; a script for it never runs.
    "leader-deposed",
    "config-changed",
    "start",
    "stop",
    "remove",
    "upgrade-charm",
    "update-status",
    "pre-series-upgrade",
    "post-series-upgrade",
    "secret-changed",
    "secret-expired",
    "secret-remove",
    "secret-rotate",
];
const RELATION_HOOK_SUFFIXES: &[&str] = &[
    "-relation-created",
    "-relation-joined",
    "-relation-changed",
    "-relation-departed",
    "-relation-broken",
];
const STORAGE_HOOK_SUFFIXES: &[&str] = &["-storage-attached", "-storage-detaching"];

/// Every hook the built charm answers to.
pub(super) fn hook_names(meta: &Metadata, has_metrics: bool) -> Vec<String> {
    let mut hooks: Vec<String> = STANDARD_HOOKS.iter().map(|s| s.to_string()).collect();
    if has_metrics {
        hooks.push("collect-metrics".into());
    }
    for endpoint in meta.relations.keys() {
        hooks.extend(
            RELATION_HOOK_SUFFIXES
                .iter()
                .map(|s| format!("{endpoint}{s}")),
        );
    }
    for storage in &meta.storage {
        hooks.extend(
            STORAGE_HOOK_SUFFIXES
                .iter()
                .map(|s| format!("{storage}{s}")),
        );
    }
    hooks
}

/// Each lucky.yaml hook must be one Juju fires for this charm.
pub(super) fn check_hooks(
    lucky: &LuckyYaml,
    meta: &Metadata,
    has_metrics: bool,
) -> Result<(), CharmError> {
    let known = hook_names(meta, has_metrics);
    let mut problems: Vec<(u64, String)> = Vec::new();
    for name in lucky.hooks.keys() {
        if known.contains(name) {
            continue;
        }
        let line = lucky.hook_lines.get(name).copied().unwrap_or(0);
        problems.push((line, hook_problem(name, meta)));
    }
    problems.sort();
    match problems.into_iter().next() {
        None => Ok(()),
        Some((line, message)) => Err(format!("{}:{line}: {message}", lucky.path.display()).into()),
    }
}

fn hook_problem(name: &str, meta: &Metadata) -> String {
    let list = |items: Vec<&String>| {
        if items.is_empty() {
            "it declares none".to_string()
        } else {
            format!(
                "it declares {}",
                items
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let metadata = meta.path.display();
    if let Some(endpoint) = RELATION_HOOK_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
    {
        return format!(
            "hook \"{name}\": {metadata} has no relation \"{endpoint}\" under provides, requires or peers ({})",
            list(meta.relations.keys().collect())
        );
    }
    if let Some(storage) = STORAGE_HOOK_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
    {
        return format!(
            "hook \"{name}\": {metadata} has no storage \"{storage}\" ({})",
            list(meta.storage.iter().collect())
        );
    }
    if name == "collect-metrics" {
        return "hook \"collect-metrics\": Juju fires it only for charms with a metrics.yaml, and this one has none".into();
    }
    format!(
        "hook \"{name}\" is not a Juju hook (standard hooks: {}; relation and storage hooks follow metadata.yaml; actions go under `actions:`)",
        STANDARD_HOOKS.join(", ")
    )
}

/// Juju's rule for action names: lowercase letters and hyphens, starting and ending with a
/// letter.
pub(super) fn check_actions(lucky: &LuckyYaml) -> Result<(), CharmError> {
    for name in lucky.actions.keys() {
        let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.ends_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        if !ok {
            let line = lucky.action_lines.get(name).copied().unwrap_or(0);
            return Err(format!(
                "{}:{line}: action \"{name}\": Juju action names are lowercase letters and hyphens, starting and ending with a letter",
                lucky.path.display()
            ).into());
        }
    }
    Ok(())
}
