//! The bases a charm runs on, from its charmcraft.yaml, for the built charm's
//! `manifest.yaml`. Juju 4 knows bases only (no `series`); Juju 3.6 reads them from the
//! manifest of a charm folder as well as of a `.charm` file.
//!
//! charmcraft.yaml spells them two ways, both read here:
//! - `bases:` a list of `{name, channel, architectures}` or of `{build-on, run-on}` whose
//!   `run-on` entries are what the unit runs (charmcraft 2);
//! - `base: ubuntu@22.04` with `platforms:` keyed by architecture (charmcraft 3).

use super::error::CharmError;

use std::path::Path;

/// The architectures Lucky ships binaries for, as Juju names them.
pub(crate) const ARCHITECTURES: &[&str] = &["amd64", "arm64", "ppc64el", "s390x"];

/// What a charm without a charmcraft.yaml runs on: the Ubuntu LTS releases Juju 3.6 and
/// 4.0 both deploy to, on every architecture Lucky has a binary for.
pub(crate) const DEFAULT_CHANNELS: &[&str] = &["22.04", "24.04"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) name: String,
    pub(crate) channel: String,
    pub(crate) architectures: Vec<String>,
}

/// charmcraft.yaml is read as a plain value tree, not into derived structs: every type
/// serde-saphyr parses into gets its own copy of the parser in the binary (tens of KiB
/// each, and the release binary has a 5 MiB budget), while `serde_json::Value` already
/// has one.
type Tree = serde_json::Value;

/// A channel as text: `channel: 22.04` is a number to YAML, meant as "22.04".
fn channel_text(v: &Tree) -> Option<String> {
    match v {
        Tree::String(s) => Some(s.clone()),
        // Two decimals is how Ubuntu numbers its releases (24.10, not 24.1).
        Tree::Number(n) if n.is_f64() => n.as_f64().map(|f| format!("{f:.2}")),
        Tree::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Where a charm's bases came from: the build says so when it chose them itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Charmcraft,
    /// From metadata.yaml's 2020 `series`; the names Juju 3.6 and 4.0 no longer deploy to.
    Series {
        dropped: Vec<String>,
    },
    Default,
}

/// Ubuntu release names as the 2020 `series` spelled them, and their channels.
const SERIES: &[(&str, &str)] = &[
    ("trusty", "14.04"),
    ("xenial", "16.04"),
    ("bionic", "18.04"),
    ("focal", "20.04"),
    ("jammy", "22.04"),
    ("noble", "24.04"),
];

/// The oldest Ubuntu release both Juju 3.6 and 4.0 deploy machine charms to.
const OLDEST_DEPLOYABLE: &str = "20.04";

/// The charm's bases: from `<charm>/charmcraft.yaml`; else from metadata.yaml's
/// `series` (a 2020 charm, built unchanged); else [`DEFAULT_CHANNELS`].
pub(crate) fn load(charm_dir: &Path, series: &[String]) -> Result<(Vec<Base>, Origin), CharmError> {
    // Checked even when charmcraft.yaml decides: a misspelt release is a mistake either way.
    let from_metadata = from_series(series, &charm_dir.join("metadata.yaml"))?;
    let path = charm_dir.join("charmcraft.yaml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(from_metadata),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display()).into()),
    };
    parse(&text, &path).map(|b| (b, Origin::Charmcraft))
}

/// Bases for the `series` a 2020 metadata.yaml names: each release on every architecture
/// Lucky ships. Releases older than [`OLDEST_DEPLOYABLE`] are dropped (no Juju this
/// Lucky supports deploys there); when none is left, the defaults stand in.
fn from_series(series: &[String], metadata: &Path) -> Result<(Vec<Base>, Origin), CharmError> {
    if series.is_empty() {
        return Ok((defaults(), Origin::Default));
    }
    let mut bases = Vec::new();
    let mut dropped = Vec::new();
    for name in series {
        let channel = SERIES
            .iter()
            .find(|(s, _)| s == name)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                format!(
                    "{}: series {name:?} is not an Ubuntu release Lucky knows ({}): declare bases in a charmcraft.yaml instead",
                    metadata.display(),
                    SERIES.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ")
                )
            })?;
        if channel < OLDEST_DEPLOYABLE {
            dropped.push(name.clone());
        } else if !bases.iter().any(|b: &Base| b.channel == channel) {
            bases.push(Base {
                name: "ubuntu".into(),
                channel: channel.into(),
                architectures: ARCHITECTURES.iter().map(|a| a.to_string()).collect(),
            });
        }
    }
    if bases.is_empty() {
        bases = defaults();
    }
    Ok((bases, Origin::Series { dropped }))
}

fn defaults() -> Vec<Base> {
    DEFAULT_CHANNELS
        .iter()
        .map(|c| Base {
            name: "ubuntu".into(),
            channel: (*c).into(),
            architectures: ARCHITECTURES.iter().map(|a| a.to_string()).collect(),
        })
        .collect()
}

pub(crate) fn parse(text: &str, path: &Path) -> Result<Vec<Base>, CharmError> {
    let file = path.display();
    let raw: Tree =
        serde_saphyr::from_str(text).map_err(|e| super::metadata::yaml_error(path, &e))?;
    let raw = match raw {
        Tree::Null => return Ok(defaults()),
        Tree::Object(map) => map,
        _ => return Err(format!("{file}: not a mapping of keys").into()),
    };
    if raw.contains_key("series") {
        return Err(format!(
            "{file}: `series` is gone in Juju 4: declare `bases:` instead (e.g. `bases: [{{name: ubuntu, channel: \"22.04\"}}]`)"
        ).into());
    }
    let bases = match (raw.get("bases"), raw.get("base")) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{file}: both `bases` and `base` are set: keep one (charmcraft accepts only one)"
            )
            .into());
        }
        (Some(entries), None) => {
            let entries = entries
                .as_array()
                .ok_or_else(|| format!("{file}: `bases` is not a list"))?;
            let mut out = Vec::new();
            for entry in entries {
                match (entry.get("run-on"), entry.get("build-on")) {
                    (Some(run_on), _) => {
                        let run_on = run_on
                            .as_array()
                            .ok_or_else(|| format!("{file}: `run-on` is not a list"))?;
                        for r in run_on {
                            out.push(base_of(r, path)?);
                        }
                    }
                    (None, Some(_)) => {
                        return Err(format!(
                            "{file}: a `bases` entry with `build-on` needs `run-on`: the bases the unit runs"
                        ).into());
                    }
                    (None, None) => out.push(base_of(entry, path)?),
                }
            }
            out
        }
        (None, Some(base)) => {
            let base = base
                .as_str()
                .ok_or_else(|| format!("{file}: `base` is not text such as ubuntu@22.04"))?;
            let (name, channel) = base.split_once('@').ok_or_else(|| {
                format!("{file}: base {base:?} is not <name>@<channel> (e.g. ubuntu@22.04)")
            })?;
            let architectures = match raw.get("platforms").and_then(Tree::as_object) {
                Some(p) if !p.is_empty() => p.keys().cloned().collect(),
                _ => ARCHITECTURES.iter().map(|a| a.to_string()).collect(),
            };
            vec![checked(name.into(), channel.into(), architectures, path)?]
        }
        (None, None) => defaults(),
    };
    if bases.is_empty() {
        return Err(format!(
            "{file}: `bases` is empty: list at least one (e.g. {{name: ubuntu, channel: \"22.04\"}})"
        ).into());
    }
    Ok(bases)
}

fn base_of(entry: &Tree, path: &Path) -> Result<Base, CharmError> {
    let file = path.display();
    let name = entry
        .get("name")
        .and_then(Tree::as_str)
        .ok_or_else(|| format!("{file}: a base has no `name` (e.g. ubuntu)"))?
        .to_string();
    let channel = entry
        .get("channel")
        .and_then(channel_text)
        .ok_or_else(|| format!("{file}: base {name:?} has no `channel` (e.g. \"22.04\")"))?;
    let architectures = match entry.get("architectures") {
        None => ARCHITECTURES.iter().map(|a| a.to_string()).collect(),
        Some(list) => list
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|a| a.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .ok_or_else(|| format!("{file}: base {name:?}: `architectures` is not a list"))?,
    };
    checked(name, channel, architectures, path)
}

/// Juju's rules for a base: a known OS name, a `<track>[/<risk>]` channel, and
/// architectures it knows; plus Lucky's: an architecture it has a binary for.
fn checked(
    name: String,
    channel: String,
    architectures: Vec<String>,
    path: &Path,
) -> Result<Base, CharmError> {
    let file = path.display();
    if name != "ubuntu" && name != "centos" {
        return Err(format!(
            "{file}: base name {name:?} is not one Juju deploys machine charms to (ubuntu, centos)"
        )
        .into());
    }
    let (track, risk) = channel.split_once('/').unwrap_or((&channel, "stable"));
    let track_ok = !track.is_empty()
        && track
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let risk_ok = ["stable", "candidate", "beta", "edge"].contains(&risk);
    if !track_ok || !risk_ok {
        return Err(format!(
            "{file}: base channel {channel:?} is not a release such as \"22.04\" (optionally /stable, /candidate, /beta or /edge)"
        ).into());
    }
    if architectures.is_empty() {
        return Err(format!("{file}: base {name}@{channel} lists no architectures").into());
    }
    for arch in &architectures {
        if !ARCHITECTURES.contains(&arch.as_str()) {
            return Err(format!(
                "{file}: base {name}@{channel}: architecture {arch:?} has no lucky binary (Lucky ships {})",
                ARCHITECTURES.join(", ")
            ).into());
        }
    }
    Ok(Base {
        name,
        channel,
        architectures,
    })
}

/// The `manifest.yaml` charmcraft writes at the root of a packed charm: Juju reads the
/// charm's bases from it (the only place a Juju 4 looks for them).
pub(crate) fn manifest_yaml(bases: &[Base]) -> String {
    let mut out = String::from(
        "# Written by `lucky charm build` in the layout charmcraft packs: Juju reads the\n# charm's bases from here.\nbases:\n",
    );
    for b in bases {
        out.push_str(&format!(
            "- name: {}\n  channel: '{}'\n  architectures:\n",
            b.name, b.channel
        ));
        for a in &b.architectures {
            out.push_str(&format!("  - {a}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Base>, CharmError> {
        parse(text, Path::new("charmcraft.yaml"))
    }

    #[test]
    fn reads_every_spelling() {
        let short = p("type: charm\nbases:\n  - name: ubuntu\n    channel: 22.04\n    architectures: [amd64]\n").unwrap();
        assert_eq!(short[0].channel, "22.04");
        assert_eq!(short[0].architectures, ["amd64"]);
        let october = p("bases:\n  - name: ubuntu\n    channel: 24.10\n").unwrap();
        assert_eq!(october[0].channel, "24.10");
        let long = p("bases:\n  - build-on:\n      - name: ubuntu\n        channel: \"20.04\"\n    run-on:\n      - name: ubuntu\n        channel: \"22.04\"\n      - name: ubuntu\n        channel: \"24.04\"\n").unwrap();
        assert_eq!(
            long.iter().map(|b| b.channel.as_str()).collect::<Vec<_>>(),
            ["22.04", "24.04"]
        );
        let new = p("base: ubuntu@24.04\nplatforms:\n  amd64:\n  arm64:\n").unwrap();
        assert_eq!(new[0].channel, "24.04");
        assert_eq!(new[0].architectures, ["amd64", "arm64"]);
        assert_eq!(p("type: charm\n").unwrap().len(), DEFAULT_CHANNELS.len());
    }

    #[test]
    fn refuses_what_juju_or_lucky_cannot_run() {
        for (text, needle) in [
            ("series: [jammy]\n", "`series` is gone"),
            (
                "bases:\n  - name: windows\n    channel: \"10\"\n",
                "windows",
            ),
            (
                "bases:\n  - name: ubuntu\n    channel: jammy\n",
                "\"jammy\"",
            ),
            (
                "bases:\n  - name: ubuntu\n    channel: \"22.04\"\n    architectures: [riscv64]\n",
                "riscv64",
            ),
            ("bases: []\n", "empty"),
            ("base: ubuntu-22.04\n", "<name>@<channel>"),
        ] {
            let e = p(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn series_become_bases() {
        let meta = Path::new("metadata.yaml");
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (b, origin) = from_series(&names(&["focal", "jammy", "focal"]), meta).unwrap();
        assert_eq!(
            b.iter().map(|b| b.channel.as_str()).collect::<Vec<_>>(),
            ["20.04", "22.04"]
        );
        assert_eq!(b[0].architectures.len(), ARCHITECTURES.len());
        assert_eq!(origin, Origin::Series { dropped: vec![] });
        let (b, origin) = from_series(&names(&["xenial", "bionic"]), meta).unwrap();
        assert_eq!(b, defaults());
        assert_eq!(
            origin,
            Origin::Series {
                dropped: names(&["xenial", "bionic"])
            }
        );
        let e = from_series(&names(&["focal", "warty"]), meta)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("metadata.yaml: series \"warty\""), "{e}");
        assert!(!e.contains('\n'));
        assert_eq!(from_series(&[], meta).unwrap().1, Origin::Default);
    }

    #[test]
    fn manifest_lists_the_bases() {
        let text = manifest_yaml(&p("base: ubuntu@22.04\nplatforms:\n  amd64:\n").unwrap());
        assert!(
            text.contains(
                "bases:\n- name: ubuntu\n  channel: '22.04'\n  architectures:\n  - amd64\n"
            ),
            "{text}"
        );
    }
}
