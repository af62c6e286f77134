//! The release identity a built charm carries, so that its installer verifies and installs
//! lucky on a unit with no environment variable (Juju hooks cannot be given any):
//!
//! - `lucky/release.pub`: the public key of the release, PEM (the one built into this lucky);
//! - `lucky/release-url`: where the release is published (built into this lucky);
//! - `lucky/SHA256SUMS` + `SHA256SUMS.sig`: that release's signed checksums, fetched and
//!   verified at build time, so a `lucky-binary` resource is checked on a unit that cannot
//!   reach the release host;
//! - `lucky/version` (written by the build).
//!
//! A build whose charm could not install anywhere is refused here, at build time: no key
//! built in and nothing bundled, no release URL, or a release whose checksums do not verify.
//! Debug builds (the test suite's and `cargo run`'s) are let through with a note: a charm
//! author runs a release-profile lucky, and nothing else is given to anyone.

use super::error::CharmError;

use crate::release::fetch::{self, MAX_SMALL};
use crate::release::{self, ReleaseUrl, verify};
use std::path::Path;

const BUNDLE: &str = "pass --bundle-lucky TARGETS --lucky-binaries DIR (a release folder)";

/// Writes the identity into `staging/lucky`; returns notes for the author.
pub fn write(staging: &Path, version: &str, bundled: &[String]) -> Result<Vec<String>, CharmError> {
    let dir = staging.join("lucky");
    let key = verify::built_in_key()
        .transpose()
        .map_err(|e| format!("cannot build the charm: {e:#}"))?;
    let url = release::built_in_url();
    let mut notes = Vec::new();
    if let Some(url) = url {
        ReleaseUrl::parse(url).map_err(|e| format!("cannot build the charm: {e:#}"))?;
        put(&dir.join("release-url"), format!("{url}\n").as_bytes())?;
    }
    if !bundled.is_empty() {
        // The bundle brought its folder's SHA256SUMS (and signature, if signed). The key
        // goes with it only when it is the key that signed them.
        let sig = std::fs::read(dir.join("SHA256SUMS.sig")).ok();
        let sums = std::fs::read(dir.join("SHA256SUMS")).ok();
        if let (Some(key), Some(sig), Some(sums)) = (key, sig, sums)
            && !dir.join("release.pub").exists()
        {
            if verify::verify_signature(&key, &sums, &sig).is_ok() {
                put(
                    &dir.join("release.pub"),
                    verify::public_key_pem(&key).as_bytes(),
                )?;
            } else {
                notes.push("the bundled SHA256SUMS.sig is not by the release key built into this lucky: lucky/release.pub not written".into());
            }
        }
        return Ok(notes);
    }
    let fix = format!("{BUNDLE}, or build with a released lucky (release/build.sh --release-url)");
    let Some(key) = key else {
        if cfg!(debug_assertions) {
            notes.push(format!("this development lucky has no release key or URL built in: the charm installs only where LUCKY_RELEASE_URL and LUCKY_RELEASE_PUBKEY are set ({fix})"));
            return Ok(notes);
        }
        return Err(format!(
            "cannot build an installable charm: this lucky has no release key built in and nothing is bundled; {fix}"
        ).into());
    };
    let Some(url) = url else {
        return Err(format!(
            "cannot build an installable charm: this lucky has no release URL built in and nothing is bundled; {fix}"
        ).into());
    };
    let release = ReleaseUrl::parse(url).map_err(|e| format!("cannot build the charm: {e:#}"))?;
    let get = |name: &str| {
        fetch::get(&release.asset(version, name), name, MAX_SMALL).map_err(|e| {
            format!("cannot build the charm: cannot fetch lucky {version}'s {name}, which units need to check a lucky-binary resource (publish the release first, or {BUNDLE}): {e:#}")
        })
    };
    let sums = get("SHA256SUMS")?;
    let sig = get("SHA256SUMS.sig")?;
    verify::verify_signature(&key, &sums, &sig).map_err(|e| {
        format!(
            "cannot build the charm: {}: {e:#} with the release key built into this lucky",
            release.asset(version, "SHA256SUMS.sig")
        )
    })?;
    let prefix = format!("lucky-{version}-");
    if !String::from_utf8_lossy(&sums).lines().any(|l| {
        l.split_whitespace()
            .nth(1)
            .is_some_and(|f| f.trim_start_matches('*').starts_with(&prefix))
    }) {
        return Err(format!(
            "cannot build the charm: {} lists no {prefix}<target> binary",
            release.asset(version, "SHA256SUMS")
        )
        .into());
    }
    put(&dir.join("SHA256SUMS"), &sums)?;
    put(&dir.join("SHA256SUMS.sig"), &sig)?;
    put(
        &dir.join("release.pub"),
        verify::public_key_pem(&key).as_bytes(),
    )?;
    Ok(notes)
}

fn put(path: &Path, bytes: &[u8]) -> Result<(), CharmError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| CharmError::io("write", path, e))
}
