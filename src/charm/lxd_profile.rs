//! `lxd-profile.yaml`: what Juju applies to the LXD container a unit runs in. Docker inside
//! LXD needs nesting, the mknod/setxattr syscall interceptions (image layers create
//! device nodes and set extended attributes, which an unprivileged container may not) and
//! the kernel modules its networking and storage driver use, loaded on the host.
//!
//! Juju accepts only part of LXD's profile in a charm: config keys outside `boot.*`,
//! `limits.*` and `migration.*`, and devices of type unix-char, unix-block, gpu or usb.
//! An author's own profile is kept as it is, after the same check Juju makes at deploy,
//! so a bad one fails at build time.

use super::error::CharmError;

use std::path::Path;

pub(crate) const FILE: &str = "lxd-profile.yaml";

/// The profile `charm build` writes for a charm that uses Docker and ships none.
pub(crate) const DOCKER_PROFILE: &str = r#"# Written by `lucky charm build`: what the Docker engine needs when Juju puts this unit
# in an LXD container. Ship your own lxd-profile.yaml in the charm to replace it.
description: Docker inside an LXD container, for a Lucky charm
config:
  security.nesting: "true"
  security.syscalls.intercept.mknod: "true"
  security.syscalls.intercept.setxattr: "true"
  linux.kernel_modules: overlay,br_netfilter,ip_tables,ip6_tables,iptable_nat,iptable_filter,nf_nat,xt_conntrack,xt_MASQUERADE,netlink_diag
devices: {}
"#;

const REFUSED_CONFIG_PREFIXES: &[&str] = &["boot", "limits", "migration"];
const ALLOWED_DEVICE_TYPES: &[&str] = &["unix-char", "unix-block", "gpu", "usb"];

/// Checks a profile text the way Juju does when the charm is deployed. Read as a plain
/// value tree (see `bases` for why not derived structs).
pub(crate) fn check(text: &str, path: &Path) -> Result<(), CharmError> {
    let raw: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| super::metadata::yaml_error(path, &e))?;
    if let Some(config) = raw.get("config").and_then(|c| c.as_object()) {
        for key in config.keys() {
            if REFUSED_CONFIG_PREFIXES.iter().any(|p| key.starts_with(p)) {
                return Err(format!(
                    "{}: config key {key:?}: Juju refuses boot.*, limits.* and migration.* keys in a charm's LXD profile",
                    path.display()
                ).into());
            }
        }
    }
    if let Some(devices) = raw.get("devices").and_then(|d| d.as_object()) {
        for (name, device) in devices {
            if let Some(kind) = device.get("type").and_then(|t| t.as_str())
                && !ALLOWED_DEVICE_TYPES.contains(&kind)
            {
                return Err(format!(
                    "{}: device {name:?} has type {kind:?}: Juju allows only {} in a charm's LXD profile",
                    path.display(),
                    ALLOWED_DEVICE_TYPES.join(", ")
                ).into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lucky_profile_passes_juju_rules_and_enables_nesting() {
        check(DOCKER_PROFILE, Path::new(FILE)).unwrap();
        assert!(DOCKER_PROFILE.contains("security.nesting: \"true\""));
    }

    #[test]
    fn refuses_keys_juju_refuses() {
        for (text, needle) in [
            ("config:\n  limits.cpu: \"2\"\n", "limits.cpu"),
            ("config:\n  boot.autostart: \"true\"\n", "boot.autostart"),
            (
                "devices:\n  d:\n    type: disk\n    source: /\n    path: /mnt\n",
                "\"disk\"",
            ),
        ] {
            let e = check(text, Path::new(FILE)).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
