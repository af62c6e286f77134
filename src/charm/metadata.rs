//! The parts of a charm's metadata.yaml (and actions.yaml) that `charm build` checks
//! lucky.yaml against. Unknown keys are Juju's business and are ignored here.

use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Metadata {
    pub path: PathBuf,
    pub name: String,
    /// Relation endpoint → `provides`, `requires` or `peers`.
    pub relations: BTreeMap<String, &'static str>,
    pub storage: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMetadata {
    name: Option<String>,
    #[serde(default)]
    provides: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    requires: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    peers: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    storage: Option<BTreeMap<String, IgnoredAny>>,
    #[serde(default)]
    resources: Option<BTreeMap<String, IgnoredAny>>,
}

/// Reads `<charm>/metadata.yaml`; errors are one line naming the file (and line).
pub fn load(charm_dir: &Path) -> Result<Metadata, String> {
    let path = charm_dir.join("metadata.yaml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&text, &path)
}

pub fn parse(text: &str, path: &Path) -> Result<Metadata, String> {
    let raw: RawMetadata = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
    let name = raw
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| format!("{}: no `name`: Juju needs the charm's name", path.display()))?;
    let mut relations = BTreeMap::new();
    for (kind, map) in [
        ("provides", raw.provides),
        ("requires", raw.requires),
        ("peers", raw.peers),
    ] {
        for endpoint in map.unwrap_or_default().into_keys() {
            if let Some(other) = relations.insert(endpoint.clone(), kind) {
                return Err(format!(
                    "{}: relation \"{endpoint}\" is declared under both `{other}` and `{kind}`",
                    path.display()
                ));
            }
        }
    }
    Ok(Metadata {
        path: path.to_path_buf(),
        name,
        relations,
        storage: raw.storage.unwrap_or_default().into_keys().collect(),
        resources: raw.resources.unwrap_or_default().into_keys().collect(),
    })
}

/// `<file>:<line>: <message>` for a YAML parse error, on one line.
pub fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> String {
    let mut message = e
        .without_snippet()
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    match e.location() {
        Some(l) => format!("{}:{}: {message}", path.display(), l.line()),
        None => format!("{}: {message}", path.display()),
    }
}

/// The action names declared in an actions.yaml text.
pub fn action_names(text: &str, path: &Path) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let map: Option<BTreeMap<String, IgnoredAny>> =
        serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
    Ok(map.unwrap_or_default().into_keys().collect())
}

/// The 1-based line of top-level key `key` in a YAML text, if written in block style.
pub fn top_level_key_line(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .position(|l| is_top_level_key(l, key))
        .map(|i| i as u64 + 1)
}

pub fn is_top_level_key(line: &str, key: &str) -> bool {
    [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ]
    .iter()
    .any(|k| line.starts_with(k.as_str()))
}
