//! `lxd-profile.yaml`: what Juju applies to the LXD container a unit runs in. Docker inside
//! LXD needs nesting, the mknod/setxattr syscall interceptions (image layers create
//! device nodes and set extended attributes, which an unprivileged container may not) and
//! the kernel modules its networking and storage driver use, loaded on the host.
//!
//! Juju accepts only part of LXD's profile in a charm: config keys outside `boot.*`,
//! `limits.*` and `migration.*`, and devices of type unix-char, unix-block, gpu or usb.
//! An author's own profile is kept as it is, after the same check Juju makes at deploy,
//! so a bad one fails at build time.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE: &str = "lxd-profile.yaml";

/// The profile `charm build` writes for a charm that uses Docker and ships none.
pub const DOCKER_PROFILE: &str = r#"# Written by `lucky charm build`: what the Docker engine needs when Juju puts this unit
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

#[derive(Deserialize)]
struct RawProfile {
    #[serde(default)]
    config: Option<BTreeMap<String, String>>,
    #[serde(default)]
    devices: Option<BTreeMap<String, BTreeMap<String, String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// Checks a profile text the way Juju does when the charm is deployed.
pub fn check(text: &str, path: &Path) -> Result<(), String> {
    let raw: Option<RawProfile> =
        serde_saphyr::from_str(text).map_err(|e| super::metadata::yaml_error(path, &e))?;
    let Some(raw) = raw else { return Ok(()) };
    for key in raw.config.unwrap_or_default().keys() {
        if REFUSED_CONFIG_PREFIXES.iter().any(|p| key.starts_with(p)) {
            return Err(format!(
                "{}: config key {key:?}: Juju refuses boot.*, limits.* and migration.* keys in a charm's LXD profile",
                path.display()
            ));
        }
    }
    for (name, device) in raw.devices.unwrap_or_default() {
        if let Some(kind) = device.get("type")
            && !ALLOWED_DEVICE_TYPES.contains(&kind.as_str())
        {
            return Err(format!(
                "{}: device {name:?} has type {kind:?}: Juju allows only {} in a charm's LXD profile",
                path.display(),
                ALLOWED_DEVICE_TYPES.join(", ")
            ));
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
            let e = check(text, Path::new(FILE)).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
    }
}
