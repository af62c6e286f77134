//! What a release is and where it lives, for everything that reads one (`lucky self-update`
//! and `lucky charm build`): the identity a release binary carries (its public key and
//! release URL, built in by release/build.sh), the two URL layouts a release is served
//! under, the rule for which URLs may be fetched, and the bounded, verified download.
//!
//! Layouts, told apart by the base URL:
//! - GitHub Releases (the base ends in `/releases`, e.g.
//!   `https://github.com/<owner>/<repo>/releases`): `<base>/latest/download/<asset>` for the
//!   newest release, `<base>/download/v<version>/<asset>` for one; GitHub answers both with
//!   a redirect to its asset host.
//! - A static mirror (anything else): `<base>/latest` and `<base>/<version>/<asset>`, the
//!   folder release/build.sh writes.
//!
//! Both hold `lucky-<version>-<target>` per target, `SHA256SUMS`, `SHA256SUMS.sig` and a
//! `latest` file naming the newest version (unsigned: a hint, never a reason to go back).

pub(crate) mod fetch;
pub(crate) mod verify;

use anyhow::{Result, bail};

/// The binary's dependency list in the format `cargo auditable` writes (zlib-compressed
/// JSON in a `.dep-v0` section), so vulnerability scanners can audit a unit's lucky as it
/// sits on the machine. release/build.sh makes it (release/deps.py) for each target.
#[cfg(lucky_audit)]
#[used]
#[unsafe(link_section = ".dep-v0")]
static DEPENDENCY_LIST: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/dep-v0.bin")).len()] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/dep-v0.bin"));

/// The size of the embedded dependency list, if this build has one. Reading it also keeps
/// the linker from dropping a section nothing else refers to.
pub(crate) fn dependency_list_len() -> Option<usize> {
    #[cfg(lucky_audit)]
    return Some(std::hint::black_box(&DEPENDENCY_LIST).len());
    #[cfg(not(lucky_audit))]
    None
}

/// The release URL built into this binary (`LUCKY_DEFAULT_RELEASE_URL` at build time).
pub(crate) const BUILT_IN_URL: Option<&str> = option_env!("LUCKY_DEFAULT_RELEASE_URL");

/// The URL a release binary names for its own releases, if it was built with one.
pub(crate) fn built_in_url() -> Option<&'static str> {
    BUILT_IN_URL.map(str::trim).filter(|u| !u.is_empty())
}

/// A release base URL and how assets are laid out under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReleaseUrl {
    base: String,
    github: bool,
}

impl ReleaseUrl {
    /// Checks the URL ([`check_url`]) and picks its layout.
    pub(crate) fn parse(url: &str) -> Result<ReleaseUrl> {
        check_url(url)?;
        let base = url.trim_end_matches('/').to_string();
        let github = base.ends_with("/releases");
        Ok(ReleaseUrl { base, github })
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Where the file naming the newest version is.
    pub(crate) fn latest(&self) -> String {
        if self.github {
            format!("{}/latest/download/latest", self.base)
        } else {
            format!("{}/latest", self.base)
        }
    }

    /// Where `asset` of `version` is.
    pub(crate) fn asset(&self, version: &str, asset: &str) -> String {
        if self.github {
            format!("{}/download/v{version}/{asset}", self.base)
        } else {
            format!("{}/{version}/{asset}", self.base)
        }
    }
}

/// A URL lucky may fetch a release file from (also every redirect on the way): https, or
/// plain http to loopback alone (traffic that never leaves the machine; tests serve
/// releases there). The host is parsed, so `http://127.0.0.1:x@evil/` is evil's, and a
/// URL with user info is refused outright: a release URL has no use for one.
pub(crate) fn check_url(url: &str) -> Result<()> {
    let refuse = |why: &str| -> Result<()> {
        bail!("refusing release URL {url:?}: {why} (it must be https://, or http:// on loopback)")
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return refuse("not a URL");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("it carries user info");
    }
    // The parser normalises the host (`LOCALHOST`, `127.1`, `0x7f.0.0.1` become
    // `localhost` and `127.0.0.1`), so the comparison sees what would be connected to.
    let Some(host) = parsed.host_str() else {
        return refuse("it has no host");
    };
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => refuse("plain http to a host that is not loopback"),
        _ => refuse("not http(s)"),
    }
}

/// A version used in a URL path: one safe component.
pub(crate) fn check_version_name(v: &str) -> Result<&str> {
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
            check_url(ok).unwrap();
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com/",
            "http://127.0.0.1:x@evil.com/",
            "http://127.0.0.1@evil.com/",
            "http://localhost:80@evil.com/lucky",
            "https://user:pw@example.com/",
            "http://127.0.0.2/",
            "ftp://x",
            "https://",
            "/tmp/x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layouts() {
        let gh = ReleaseUrl::parse("https://github.com/o/lucky/releases/").unwrap();
        assert_eq!(
            gh.latest(),
            "https://github.com/o/lucky/releases/latest/download/latest"
        );
        assert_eq!(
            gh.asset("1.2.0", "SHA256SUMS"),
            "https://github.com/o/lucky/releases/download/v1.2.0/SHA256SUMS"
        );
        let mirror = ReleaseUrl::parse("https://example.com/lucky").unwrap();
        assert_eq!(mirror.latest(), "https://example.com/lucky/latest");
        assert_eq!(
            mirror.asset("1.2.0", "SHA256SUMS"),
            "https://example.com/lucky/1.2.0/SHA256SUMS"
        );
    }

    #[test]
    fn version_names() {
        assert!(check_version_name("1.2.3-rc.1").is_ok());
        for bad in ["", "../x", "1/2", ".."] {
            assert!(check_version_name(bad).is_err(), "{bad}");
        }
    }
}
