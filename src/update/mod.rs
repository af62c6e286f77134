//! `lucky self-update`: find the newest (or a given) release for the running target,
//! verify it, replace the running binary, then hand the unit daemon(s) over to it in place
//! (`restart::hand_over`; stop and start with `--restart`, or for a daemon too old to know
//! the handover).
//!
//! Where releases are and how they are fetched and verified is `crate::release`'s (the
//! GitHub Releases layout and a static mirror; https on every redirect; size caps; the
//! ed25519 signature over `SHA256SUMS`). Versions compare as semver.
//!
//! Why not the `self_update` crate, though it is on the design card: it was tried first,
//! and re-weighed once releases moved to GitHub (its GitHub backend is its main feature).
//! That backend finds a release through the GitHub *API* (`api.github.com`, JSON, rate
//! limited to 60 unauthenticated requests an hour per address, which a model of many units
//! behind one NAT reaches), picks assets by name matching, and then replaces the binary at
//! once (`self_replace`) with no signature check and no chance to smoke-test the new binary
//! first; it cannot read a plain mirror at all. What we need from GitHub is two URLs that
//! need no API (`…/releases/latest/download/<asset>`, `…/releases/download/<tag>/<asset>`)
//! and one redirect, which `crate::release` already follows for the installer's rules. And
//! the crate downloads with reqwest, a TLS stack in every unit's binary: lucky carries none
//! (issue #16: reqwest and rustls were 967 KB of the x86_64 binary), and fetches
//! through the machine's curl or wget, as the installer does, which the crate cannot. So
//! it would add the API client, JSON and a TLS stack to do less than this module does.
//! Not taken.

mod install;
mod restart;

use crate::release::fetch::{self, MAX_BINARY, MAX_SMALL};
use crate::release::{ReleaseUrl, check_version_name, verify};
use anyhow::{Context, Result, bail};
use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::Instant;

pub(crate) const CURRENT_VERSION: &str = env!("LUCKY_BUILD_VERSION");
pub(crate) const TARGET: &str = env!("LUCKY_BUILD_TARGET");

pub(crate) struct Options {
    pub(crate) version: Option<String>,
    pub(crate) check: bool,
    pub(crate) allow_downgrade: bool,
    pub(crate) release_url: Option<String>,
    /// Stop and start the daemons instead of handing their sockets over.
    pub(crate) restart: bool,
}

/// Runs the update, reporting each step through `say` (one line each).
pub(crate) fn run(opts: Options, say: &mut dyn FnMut(String)) -> Result<()> {
    let started = Instant::now();
    let release = release_base(opts.release_url)?;
    let base = release.base().to_string();
    let wanted = match opts.version {
        Some(v) => check_version_name(v.trim())?.to_string(),
        None => {
            let url = release.latest();
            let latest = fetch_text(&url, "the latest release's version")?;
            check_version_name(latest.trim()).context(url)?.to_string()
        }
    };
    let order = compare_versions(&wanted, CURRENT_VERSION)
        .with_context(|| format!("cannot compare versions {wanted} and {CURRENT_VERSION}"))?;
    let verdict = match order {
        Ordering::Equal => Verdict::Same,
        Ordering::Greater => Verdict::Update,
        Ordering::Less if opts.allow_downgrade => Verdict::Update,
        Ordering::Less => Verdict::RefusedDowngrade,
    };
    if opts.check {
        say(format!("current: {CURRENT_VERSION} ({TARGET})"));
        say(format!("available: {wanted} (from {base})"));
        say(match verdict {
            Verdict::Same => "would update: no (already at this version)".into(),
            Verdict::Update => format!("would update: yes, {CURRENT_VERSION} -> {wanted}"),
            Verdict::RefusedDowngrade => format!(
                "would update: no, {wanted} is older than {CURRENT_VERSION} (--allow-downgrade to install it)"
            ),
        });
        return Ok(());
    }
    match verdict {
        Verdict::Same => {
            say(format!(
                "lucky {CURRENT_VERSION} is already installed: nothing to do"
            ));
            return Ok(());
        }
        Verdict::RefusedDowngrade => bail!(
            "refusing to downgrade from {CURRENT_VERSION} to {wanted} (pass --allow-downgrade to do it anyway)"
        ),
        Verdict::Update => {}
    }

    let exe = current_exe()?;
    let trust = verify::trusted_key()?;
    let asset = format!("lucky-{wanted}-{TARGET}");
    say(format!(
        "updating {} from {CURRENT_VERSION} to {wanted} ({TARGET}) from {}",
        exe.display(),
        release.asset(&wanted, "")
    ));

    let sums = fetch::get(
        &release.asset(&wanted, "SHA256SUMS"),
        "SHA256SUMS",
        MAX_SMALL,
    )?;
    match &trust {
        verify::Trust::Key(key, source) => {
            let sig_url = release.asset(&wanted, "SHA256SUMS.sig");
            let sig = fetch::get(&sig_url, "SHA256SUMS.sig", MAX_SMALL)?;
            verify::verify_signature(key, &sums, &sig)
                .with_context(|| format!("{sig_url}, checked with {source}"))?;
            say(format!("verified: SHA256SUMS signature ({source})"));
        }
        verify::Trust::Insecure => say(
            "NOT verified: SHA256SUMS signature (LUCKY_INSECURE_SKIP_SIGNATURE=1, no key)".into(),
        ),
    }
    let sums = String::from_utf8(sums).context("SHA256SUMS is not text")?;
    let expected = verify::expected_sha256(&sums, &asset)?;

    let binary = fetch::get(&release.asset(&wanted, &asset), &asset, MAX_BINARY)?;
    let actual = verify::sha256_hex(&binary);
    if actual != expected {
        bail!(
            "checksum mismatch for {asset}: SHA256SUMS says {expected}, the download is {actual}; nothing was changed"
        );
    }
    say(format!(
        "downloaded and verified: {asset} ({} bytes, sha256 {actual})",
        binary.len()
    ));

    // Which daemons run this binary: asked before it is replaced, while /proc/<pid>/exe
    // still names it.
    let daemons = restart::find_daemons(&exe, say);

    let staged = install::stage(&exe, &binary)?;
    let reported = install::smoke_test(&staged, &wanted, TARGET)
        .context("the downloaded binary failed its smoke test; nothing was changed")?;
    say(format!("smoke test: `--version` says {reported}"));
    install::install(staged, &exe)?;
    say(format!(
        "installed: {} is now lucky {wanted}",
        exe.display()
    ));

    let mut failures = Vec::new();
    for daemon in &daemons {
        let replaced = if opts.restart {
            Ok(restart::Replaced::TooOld)
        } else {
            restart::hand_over(daemon, &exe, &wanted, say)
        };
        let result = match replaced {
            Ok(restart::Replaced::Done) => Ok(()),
            Ok(restart::Replaced::TooOld) => {
                if !opts.restart {
                    say(format!(
                        "daemon for unit {}: lucky {} cannot hand over (too old): restarting it",
                        daemon.paths.unit, daemon.version
                    ));
                }
                restart::restart(daemon, &exe, &wanted, say).map(|_| ())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            failures.push(format!("{e:#}"));
        }
    }
    if !failures.is_empty() {
        bail!("lucky {wanted} is installed, but: {}", failures.join("; "));
    }
    say(format!("done in {} ms", started.elapsed().as_millis()));
    Ok(())
}

enum Verdict {
    Same,
    Update,
    RefusedDowngrade,
}

/// `--release-url`, else `LUCKY_RELEASE_URL`, else the one built in; https only, except
/// plain http on loopback (the installer's rule).
fn release_base(flag: Option<String>) -> Result<ReleaseUrl> {
    let url = flag
        .filter(|u| !u.is_empty())
        .or_else(|| {
            std::env::var("LUCKY_RELEASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
        })
        .or_else(|| crate::release::built_in_url().map(String::from))
        .context(
            "no release URL: pass --release-url or set LUCKY_RELEASE_URL (this build has no default)",
        )?;
    ReleaseUrl::parse(&url)
}

fn current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the running lucky binary")?;
    if exe.to_string_lossy().ends_with(" (deleted)") {
        bail!(
            "the running binary {} was already replaced or removed",
            exe.display()
        );
    }
    Ok(exe)
}

fn fetch_text(url: &str, what: &str) -> Result<String> {
    String::from_utf8(fetch::get(url, what, MAX_SMALL)?)
        .with_context(|| format!("{what} is not text"))
}

fn compare_versions(a: &str, b: &str) -> Result<Ordering> {
    Ok(semver::Version::parse(a)?.cmp(&semver::Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        assert_eq!(
            compare_versions("0.2.0", "0.1.9").ok(),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_versions("1.0.0-rc.1", "1.0.0").ok(),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_versions("0.1.0", "0.1.0").ok(),
            Some(Ordering::Equal)
        );
        assert!(compare_versions("one", "0.1.0").is_err());
    }
}
