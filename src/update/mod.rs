//! `lucky self-update`: find the newest (or a given) release for the running target,
//! verify it, replace the running binary, restart the unit daemon(s).
//!
//! Downloads use reqwest (blocking, rustls over ring) and versions compare as semver.
//! The `self_update` crate was tried first: its release backends (GitHub/GitLab/S3, or a
//! custom `ReleaseSource`) assume its own flow (asset selection, archive extraction, an
//! immediate `self_replace`), so only its download helper and version comparison fitted
//! our layout (`<base>/latest`, `<base>/<v>/lucky-<v>-<target>`, a signed `SHA256SUMS`)
//! and our order (signature, checksum, a smoke test of the new binary *before* it replaces
//! the old one, fsync, then the daemon restart). For those two it forced reqwest's HTTP/2
//! and JSON support into every unit's binary, about 6 % of its size, which the 5 MiB
//! budget could not carry.

mod install;
mod restart;
pub mod verify;

use anyhow::{Context, Result, bail};
use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where releases are published when neither `--release-url` nor `LUCKY_RELEASE_URL` says:
/// set at build time (`LUCKY_DEFAULT_RELEASE_URL`) by whoever publishes the releases, since
/// the project has no release host of its own yet.
pub const DEFAULT_RELEASE_URL: Option<&str> = option_env!("LUCKY_DEFAULT_RELEASE_URL");

pub const CURRENT_VERSION: &str = env!("LUCKY_BUILD_VERSION");
pub const TARGET: &str = env!("LUCKY_BUILD_TARGET");

/// Binaries are a few MiB; anything far larger is not one of ours.
const MAX_BINARY: u64 = 256 << 20;
const MAX_SMALL: u64 = 1 << 20;

pub struct Options {
    pub version: Option<String>,
    pub check: bool,
    pub allow_downgrade: bool,
    pub release_url: Option<String>,
}

/// Runs the update, reporting each step through `say` (one line each).
pub fn run(opts: Options, say: &mut dyn FnMut(String)) -> Result<()> {
    let started = Instant::now();
    // reqwest is built without a default crypto provider: install ring's, here only, so
    // no other command pays for it. Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let base = release_base(opts.release_url)?;
    let wanted = match opts.version {
        Some(v) => check_version_name(v.trim())?.to_string(),
        None => {
            let latest = fetch_text(&format!("{base}/latest"), "the latest release's version")?;
            check_version_name(latest.trim())
                .context(format!("{base}/latest"))?
                .to_string()
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
    let dir = format!("{base}/{wanted}");
    let asset = format!("lucky-{wanted}-{TARGET}");
    say(format!(
        "updating {} from {CURRENT_VERSION} to {wanted} ({TARGET}) from {dir}",
        exe.display()
    ));

    let sums = fetch(&format!("{dir}/SHA256SUMS"), "SHA256SUMS", MAX_SMALL)?;
    match &trust {
        verify::Trust::Key(key, source) => {
            let sig = fetch(
                &format!("{dir}/SHA256SUMS.sig"),
                "SHA256SUMS.sig",
                MAX_SMALL,
            )?;
            verify::verify_signature(key, &sums, &sig)
                .with_context(|| format!("{dir}/SHA256SUMS.sig, checked with {source}"))?;
            say(format!("verified: SHA256SUMS signature ({source})"));
        }
        verify::Trust::Insecure => say(
            "NOT verified: SHA256SUMS signature (LUCKY_INSECURE_SKIP_SIGNATURE=1, no key)".into(),
        ),
    }
    let sums = String::from_utf8(sums).context("SHA256SUMS is not text")?;
    let expected = verify::expected_sha256(&sums, &asset)?;

    let binary = fetch(&format!("{dir}/{asset}"), &asset, MAX_BINARY)?;
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
        if let Err(e) = restart::restart(daemon, &exe, &wanted, say) {
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

/// `--release-url`, else `LUCKY_RELEASE_URL`, else the default; https only, except plain
/// http on loopback (the installer's rule).
fn release_base(flag: Option<String>) -> Result<String> {
    let url = flag
        .filter(|u| !u.is_empty())
        .or_else(|| {
            std::env::var("LUCKY_RELEASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
        })
        .or_else(|| DEFAULT_RELEASE_URL.filter(|u| !u.is_empty()).map(String::from))
        .context(
            "no release URL: pass --release-url or set LUCKY_RELEASE_URL (this build has no default)",
        )?;
    check_release_url(&url)?;
    Ok(url.trim_end_matches('/').to_string())
}

pub fn check_release_url(url: &str) -> Result<()> {
    if url.starts_with("https://") && url.len() > "https://".len() {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            if let Some(after) = rest.strip_prefix(host)
                && (after.is_empty() || after.starts_with(':') || after.starts_with('/'))
            {
                return Ok(());
            }
        }
    }
    bail!("refusing release URL {url:?}: it must be https:// (plain http:// only on loopback)")
}

/// A version used in a URL path: one safe component.
fn check_version_name(v: &str) -> Result<&str> {
    if v.is_empty()
        || v.starts_with('.')
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
    {
        bail!("invalid release version {v:?}");
    }
    Ok(v)
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
    String::from_utf8(fetch(url, what, MAX_SMALL)?).with_context(|| format!("{what} is not text"))
}

fn compare_versions(a: &str, b: &str) -> Result<Ordering> {
    Ok(semver::Version::parse(a)?.cmp(&semver::Version::parse(b)?))
}

/// GETs `url` into memory (at most `limit` bytes), retrying transport failures (not HTTP
/// errors) twice.
fn fetch(url: &str, what: &str, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("cannot set up the HTTPS client")?;
    let mut attempt = 0;
    loop {
        match client.get(url).send().and_then(|r| r.error_for_status()) {
            Ok(response) => {
                let mut body = Vec::new();
                response
                    .take(limit + 1)
                    .read_to_end(&mut body)
                    .with_context(|| format!("cannot download {what} from {url}"))?;
                if body.len() as u64 > limit {
                    bail!(
                        "{what} from {url} is larger than {limit} bytes: not a lucky release file"
                    );
                }
                return Ok(body);
            }
            Err(e) if e.status().is_none() && attempt < 2 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(300 * attempt));
            }
            Err(e) => bail!("cannot download {what} from {url}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_urls() {
        for ok in [
            "https://example.com/lucky",
            "http://127.0.0.1:8000",
            "http://localhost/x",
            "http://[::1]:9/",
        ] {
            check_release_url(ok).unwrap();
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com/",
            "ftp://x",
            "https://",
            "/tmp/x",
        ] {
            assert!(check_release_url(bad).is_err(), "{bad}");
        }
    }

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

    #[test]
    fn version_names() {
        assert!(check_version_name("1.2.3-rc.1").is_ok());
        for bad in ["", "../x", "1/2", ".."] {
            assert!(check_version_name(bad).is_err(), "{bad}");
        }
    }
}
