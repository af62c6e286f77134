//! The bases a charm runs on, from its charmcraft.yaml, for the built charm's
//! `manifest.yaml`. Juju 4 knows bases only (no `series`); Juju 3.6 reads them from the
//! manifest of a charm folder as well as of a `.charm` file.
//!
//! charmcraft.yaml spells them two ways, both read here:
//! - `bases:` a list of `{name, channel, architectures}` or of `{build-on, run-on}` whose
//!   `run-on` entries are what the unit runs (charmcraft 2);
//! - `base: ubuntu@22.04` with `platforms:` keyed by architecture (charmcraft 3).

use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::Path;

/// The architectures Lucky ships binaries for, as Juju names them.
pub const ARCHITECTURES: &[&str] = &["amd64", "arm64", "ppc64el", "s390x"];

/// What a charm without a charmcraft.yaml runs on: the Ubuntu LTS releases Juju 3.6 and
/// 4.0 both deploy to, on every architecture Lucky has a binary for.
pub const DEFAULT_CHANNELS: &[&str] = &["22.04", "24.04"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub name: String,
    pub channel: String,
    pub architectures: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawCharmcraft {
    #[serde(default)]
    bases: Option<Vec<RawBaseEntry>>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    platforms: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    series: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawBaseEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    channel: Option<ChannelText>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    run_on: Option<Vec<RawBaseEntry>>,
    #[serde(default)]
    build_on: Option<IgnoredAny>,
}

/// `channel: 22.04` is a float to YAML; accept it as the text it was meant to be. A
/// hand-written visitor rather than `#[serde(untagged)]`, whose buffering machinery
/// would be the only user of it in the binary.
struct ChannelText(String);

impl<'de> Deserialize<'de> for ChannelText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ChannelText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a channel such as \"22.04\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ChannelText, E> {
                Ok(ChannelText(v.to_string()))
            }
            // 22.04 → "22.04", 24.10 → "24.10": two decimals is how Ubuntu numbers them.
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ChannelText, E> {
                Ok(ChannelText(format!("{v:.2}")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ChannelText, E> {
                Ok(ChannelText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ChannelText, E> {
                Ok(ChannelText(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl ChannelText {
    fn into_text(self) -> String {
        self.0
    }
}

/// The charm's bases: from `<charm>/charmcraft.yaml`, else [`DEFAULT_CHANNELS`].
/// The bool says whether they are the defaults (the build reports it).
pub fn load(charm_dir: &Path) -> Result<(Vec<Base>, bool), String> {
    let path = charm_dir.join("charmcraft.yaml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((defaults(), true)),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    parse(&text, &path).map(|b| (b, false))
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

pub fn parse(text: &str, path: &Path) -> Result<Vec<Base>, String> {
    let raw: Option<RawCharmcraft> =
        serde_saphyr::from_str(text).map_err(|e| super::metadata::yaml_error(path, &e))?;
    let Some(raw) = raw else {
        return Ok(defaults());
    };
    let file = path.display();
    if raw.series.is_some() {
        return Err(format!(
            "{file}: `series` is gone in Juju 4: declare `bases:` instead (e.g. `bases: [{{name: ubuntu, channel: \"22.04\"}}]`)"
        ));
    }
    let bases = match (raw.bases, raw.base) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{file}: both `bases` and `base` are set: keep one (charmcraft accepts only one)"
            ));
        }
        (Some(entries), None) => {
            let mut out = Vec::new();
            for entry in entries {
                match entry.run_on {
                    Some(run_on) => {
                        for r in run_on {
                            out.push(base_of(r, path)?);
                        }
                    }
                    None if entry.build_on.is_some() => {
                        return Err(format!(
                            "{file}: a `bases` entry with `build-on` needs `run-on`: the bases the unit runs"
                        ));
                    }
                    None => out.push(base_of(entry, path)?),
                }
            }
            out
        }
        (None, Some(base)) => {
            let (name, channel) = base.split_once('@').ok_or_else(|| {
                format!("{file}: base {base:?} is not <name>@<channel> (e.g. ubuntu@22.04)")
            })?;
            let architectures = match raw.platforms {
                Some(p) if !p.is_empty() => p.into_keys().collect(),
                _ => ARCHITECTURES.iter().map(|a| a.to_string()).collect(),
            };
            vec![checked(name.into(), channel.into(), architectures, path)?]
        }
        (None, None) => defaults(),
    };
    if bases.is_empty() {
        return Err(format!(
            "{file}: `bases` is empty: list at least one (e.g. {{name: ubuntu, channel: \"22.04\"}})"
        ));
    }
    Ok(bases)
}

fn base_of(entry: RawBaseEntry, path: &Path) -> Result<Base, String> {
    let file = path.display();
    let name = entry
        .name
        .ok_or_else(|| format!("{file}: a base has no `name` (e.g. ubuntu)"))?;
    let channel = entry
        .channel
        .map(ChannelText::into_text)
        .ok_or_else(|| format!("{file}: base {name:?} has no `channel` (e.g. \"22.04\")"))?;
    let architectures = entry
        .architectures
        .unwrap_or_else(|| ARCHITECTURES.iter().map(|a| a.to_string()).collect());
    checked(name, channel, architectures, path)
}

/// Juju's rules for a base: a known OS name, a `<track>[/<risk>]` channel, and
/// architectures it knows; plus Lucky's: an architecture it has a binary for.
fn checked(
    name: String,
    channel: String,
    architectures: Vec<String>,
    path: &Path,
) -> Result<Base, String> {
    let file = path.display();
    if name != "ubuntu" && name != "centos" {
        return Err(format!(
            "{file}: base name {name:?} is not one Juju deploys machine charms to (ubuntu, centos)"
        ));
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
        ));
    }
    if architectures.is_empty() {
        return Err(format!(
            "{file}: base {name}@{channel} lists no architectures"
        ));
    }
    for arch in &architectures {
        if !ARCHITECTURES.contains(&arch.as_str()) {
            return Err(format!(
                "{file}: base {name}@{channel}: architecture {arch:?} has no lucky binary (Lucky ships {})",
                ARCHITECTURES.join(", ")
            ));
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
pub fn manifest_yaml(bases: &[Base]) -> String {
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

    fn p(text: &str) -> Result<Vec<Base>, String> {
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
            let e = p(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
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
