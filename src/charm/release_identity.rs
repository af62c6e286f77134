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
//! A build whose charm could not install anywhere is refused here, at build time, with one
//! line saying why and what to pass: no key built in and nothing bundled, no release URL, a
//! release whose checksums do not verify, or a bundle whose `SHA256SUMS` is unsigned or not
//! signed by the key that goes with it. `--dev` (tests, `lucky charm run`) lets such a
//! build through with a note and the marker `lucky/dev`: that charm installs lucky only
//! where `LUCKY_RELEASE_URL` and `LUCKY_RELEASE_PUBKEY` (or, for an unsigned bundle,
//! `LUCKY_INSECURE_SKIP_SIGNATURE=1`) are set, as on the simulator.

use super::error::CharmError;

use crate::release::fetch::{self, MAX_SMALL};
use crate::release::{self, ReleaseUrl, verify};
use std::path::Path;

const BUNDLE: &str = "pass --bundle-lucky TARGETS --lucky-binaries DIR (a signed release folder)";
const DEV: &str = "or pass --dev for a charm that installs lucky only where LUCKY_RELEASE_URL and LUCKY_RELEASE_PUBKEY are set";

/// What `lucky/dev` says to whoever opens the charm (and the installer's refusal names).
pub(crate) const DEV_MARKER: &str = "built with `lucky charm build --dev`: lucky installs only where LUCKY_RELEASE_URL and LUCKY_RELEASE_PUBKEY (or, for an unsigned bundle, LUCKY_INSECURE_SKIP_SIGNATURE=1) are set\n";

/// Writes the identity into `staging/lucky`; returns notes for the author. With `dev`, a
/// refusal (not a failed file operation) is a note instead, and `lucky/dev` marks the charm.
pub(crate) fn write(
    staging: &Path,
    version: &str,
    bundled: &[String],
    dev: bool,
) -> Result<Vec<String>, CharmError> {
    let mut notes = Vec::new();
    match installable(staging, version, bundled) {
        Ok(()) => {}
        Err(Refusal::NotInstallable { why, .. }) if dev => {
            notes.push(format!("--dev: {why}: lucky/dev marks a development charm, which installs lucky only where LUCKY_RELEASE_URL and LUCKY_RELEASE_PUBKEY (or, for an unsigned bundle, LUCKY_INSECURE_SKIP_SIGNATURE=1) are set"));
            put(&staging.join("lucky").join("dev"), DEV_MARKER.as_bytes())?;
        }
        Err(Refusal::NotInstallable { why, fix }) => {
            return Err(format!("cannot build an installable charm: {why}; {fix}").into());
        }
        Err(Refusal::Failed(e)) => return Err(e),
    }
    Ok(notes)
}

/// Why the identity could not be written: the charm could not install lucky on a unit
/// (what `--dev` lets through), or a file operation failed (what nothing lets through).
enum Refusal {
    NotInstallable { why: String, fix: String },
    Failed(CharmError),
}

impl From<CharmError> for Refusal {
    fn from(e: CharmError) -> Self {
        Refusal::Failed(e)
    }
}

fn refuse(why: impl Into<String>, fix: impl Into<String>) -> Refusal {
    Refusal::NotInstallable {
        why: why.into(),
        fix: fix.into(),
    }
}

fn installable(staging: &Path, version: &str, bundled: &[String]) -> Result<(), Refusal> {
    let dir = staging.join("lucky");
    let built_in =
        "this lucky's built-in release identity is broken: build lucky again with release/build.sh";
    let key = verify::built_in_key()
        .transpose()
        .map_err(|e| refuse(format!("{e:#}"), built_in))?;
    let url = release::built_in_url();
    if let Some(url) = url {
        ReleaseUrl::parse(url).map_err(|e| refuse(format!("{e:#}"), built_in))?;
        put(&dir.join("release-url"), format!("{url}\n").as_bytes())?;
    }
    if !bundled.is_empty() {
        return bundle_signed(&dir, key);
    }
    let fix =
        format!("{BUNDLE}, build with a released lucky (release/build.sh --release-url), {DEV}");
    let Some(key) = key else {
        return Err(refuse(
            "this lucky has no release key built in and nothing is bundled",
            fix,
        ));
    };
    let Some(url) = url else {
        return Err(refuse(
            "this lucky has no release URL built in and nothing is bundled",
            fix,
        ));
    };
    let release = ReleaseUrl::parse(url).map_err(|e| refuse(format!("{e:#}"), built_in))?;
    let get = |name: &str| {
        fetch::get(&release.asset(version, name), name, MAX_SMALL).map_err(|e| {
            refuse(
                format!("cannot fetch lucky {version}'s {name}, which units need to check a lucky-binary resource: {e:#}"),
                format!("publish the release first, {BUNDLE}, {DEV}"),
            )
        })
    };
    let sums = get("SHA256SUMS")?;
    let sig = get("SHA256SUMS.sig")?;
    verify::verify_signature(&key, &sums, &sig).map_err(|e| {
        refuse(
            format!(
                "{}: {e:#} with the release key built into this lucky",
                release.asset(version, "SHA256SUMS.sig")
            ),
            "check that the release was signed with this lucky's key",
        )
    })?;
    let prefix = format!("lucky-{version}-");
    if !String::from_utf8_lossy(&sums).lines().any(|l| {
        l.split_whitespace()
            .nth(1)
            .is_some_and(|f| f.trim_start_matches('*').starts_with(&prefix))
    }) {
        return Err(refuse(
            format!(
                "{} lists no {prefix}<target> binary",
                release.asset(version, "SHA256SUMS")
            ),
            "publish this version's binaries in that release",
        ));
    }
    put(&dir.join("SHA256SUMS"), &sums)?;
    put(&dir.join("SHA256SUMS.sig"), &sig)?;
    put(
        &dir.join("release.pub"),
        verify::public_key_pem(&key).as_bytes(),
    )?;
    Ok(())
}

/// The bundle brought its folder's SHA256SUMS (and signature and key, if the folder has
/// them). The installer takes it only signed by a key the charm carries: the folder's own
/// `release.pub`, else the key built into this lucky when it is the one that signed.
fn bundle_signed(dir: &Path, key: Option<[u8; 32]>) -> Result<(), Refusal> {
    let fix = "bundle from a signed release folder (with SHA256SUMS.sig, and release.pub unless this lucky has the release key built in), or pass --dev for a charm that installs lucky only where LUCKY_RELEASE_PUBKEY or LUCKY_INSECURE_SKIP_SIGNATURE=1 is set";
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read(&sums_path).map_err(|e| CharmError::io("read", &sums_path, e))?;
    let Ok(sig) = std::fs::read(dir.join("SHA256SUMS.sig")) else {
        return Err(refuse(
            "the bundled lucky/SHA256SUMS is not signed (the --lucky-binaries folder has no SHA256SUMS.sig)",
            fix,
        ));
    };
    let pub_path = dir.join("release.pub");
    if pub_path.exists() {
        let text =
            std::fs::read_to_string(&pub_path).map_err(|e| CharmError::io("read", &pub_path, e))?;
        let folder_key = verify::parse_public_key(&text)
            .map_err(|e| refuse(format!("the bundled release.pub: {e:#}"), fix))?;
        return verify::verify_signature(&folder_key, &sums, &sig).map_err(|e| {
            refuse(
                format!("the bundled SHA256SUMS.sig does not verify with the bundled release.pub ({e:#})"),
                fix,
            )
        });
    }
    let Some(key) = key else {
        return Err(refuse(
            "the bundled SHA256SUMS.sig cannot be checked on a unit: the --lucky-binaries folder has no release.pub and this lucky has no release key built in",
            fix,
        ));
    };
    if verify::verify_signature(&key, &sums, &sig).is_err() {
        return Err(refuse(
            "the bundled SHA256SUMS.sig is not by the release key built into this lucky, and the --lucky-binaries folder has no release.pub",
            fix,
        ));
    }
    Ok(put(&pub_path, verify::public_key_pem(&key).as_bytes())?)
}

fn put(path: &Path, bytes: &[u8]) -> Result<(), CharmError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| CharmError::io("write", path, e))
}
