//! The parts of a charm's metadata.yaml (and actions.yaml) that `charm build` checks
//! lucky.yaml against. Unknown keys are Juju's business and are ignored here.

use super::error::CharmError;

use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    /// Relation endpoint → `provides`, `requires` or `peers`.
    pub(crate) relations: BTreeMap<String, &'static str>,
    pub(crate) storage: Vec<String>,
    pub(crate) resources: Vec<String>,
    /// The 2020 way of naming what a charm runs on (`series: [focal]`). Juju 4 refuses it,
    /// so `charm build` turns it into bases and leaves it out of the built metadata.yaml.
    pub(crate) series: Vec<String>,
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
    resources: Option<BTreeMap<String, RawResource>>,
    /// A list of names, or one name; read as the one value type the binary carries.
    #[serde(default)]
    series: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    filename: Option<String>,
}

/// Reads `<charm>/metadata.yaml`; errors are one line naming the file (and line).
pub(crate) fn load(charm_dir: &Path) -> Result<Metadata, CharmError> {
    let path = charm_dir.join("metadata.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| CharmError::io("read", &path, e))?;
    parse(&text, &path)
}

pub(crate) fn parse(text: &str, path: &Path) -> Result<Metadata, CharmError> {
    let raw: RawMetadata = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
    let name = raw
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| format!("{}: no `name`: Juju needs the charm's name", path.display()))?;
    let series = match raw.series {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(one)) => vec![one],
        Some(serde_json::Value::Array(list)) => list
            .into_iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| not_series(text, path))?,
        Some(_) => return Err(not_series(text, path).into()),
    };
    let mut relations = BTreeMap::new();
    for (kind, map) in [
        ("provides", raw.provides),
        ("requires", raw.requires),
        ("peers", raw.peers),
    ] {
        for endpoint in map.unwrap_or_default().into_keys() {
            check_juju_name(&endpoint, &format!("relation under `{kind}`"), path, text)?;
            if let Some(other) = relations.insert(endpoint.clone(), kind) {
                return Err(format!(
                    "{}: relation \"{endpoint}\" is declared under both `{other}` and `{kind}`",
                    path.display()
                )
                .into());
            }
        }
    }
    let storage: Vec<String> = raw.storage.unwrap_or_default().into_keys().collect();
    for name in &storage {
        check_juju_name(name, "storage", path, text)?;
    }
    let resources = raw.resources.unwrap_or_default();
    for (name, resource) in &resources {
        check_juju_name(name, "resource", path, text)?;
        if let Some(file) = &resource.filename {
            check_file_name(file).map_err(|why| {
                format!(
                    "{}: resource \"{name}\": filename {file:?} {why}: Juju stores the resource under that name in the unit's resource folder",
                    path.display()
                )
            })?;
        }
    }
    Ok(Metadata {
        path: path.to_path_buf(),
        name,
        relations,
        storage,
        resources: resources.into_keys().collect(),
        series,
    })
}

fn not_series(text: &str, path: &Path) -> String {
    let line = top_level_key_line(text, "series").unwrap_or(1);
    format!(
        "{}:{line}: `series` is not a list of Ubuntu release names (e.g. [focal, jammy])",
        path.display()
    )
}

/// `text` without top-level key `key` and the lines that belong to it (indented or list
/// items), comments elsewhere kept. For a key written in block or flow style on its line.
pub(crate) fn without_top_level_key(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for line in text.lines() {
        if is_top_level_key(line, key) {
            skipping = true;
            continue;
        }
        if skipping && (line.starts_with([' ', '\t', '-']) || line.trim().is_empty()) {
            continue;
        }
        skipping = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A relation, storage or resource name becomes a file name (`hooks/<name>-relation-joined`,
/// `hooks/<name>-storage-attached`) and a hook-tool argument, so it must be a plain word:
/// lowercase letters, digits, `-` and `_`, starting with a letter and ending with a letter
/// or digit — the shape Juju's own names take. That rules out `/`, `..`, a leading `-`
/// and anything a shell or a path would read specially.
pub(crate) fn is_juju_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check_juju_name(name: &str, what: &str, path: &Path, text: &str) -> Result<(), CharmError> {
    if is_juju_name(name) {
        return Ok(());
    }
    let line = text
        .lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches(['"', '\'']);
            t.starts_with(name) && l.starts_with(' ')
        })
        .map(|i| format!(":{}", i + 1))
        .unwrap_or_default();
    Err(format!(
        "{}{line}: {what} name {name:?} is not valid: use lowercase letters, digits, '-' and '_', starting with a letter (Juju makes hook file names from it)",
        path.display()
    ).into())
}

/// A single file name: not empty, no `/`, not `.` or `..`, no NUL.
fn check_file_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err("must be a plain file name (no '/', not '.' or '..')");
    }
    Ok(())
}

/// `<file>:<line>: <message>` for a YAML parse error, on one line.
pub(crate) fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> String {
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
pub(crate) fn action_names(text: &str, path: &Path) -> Result<Vec<String>, CharmError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    // The one YAML value type the binary carries (each type parsed adds a parser copy).
    match serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))? {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Object(map) => Ok(map.into_iter().map(|(k, _)| k).collect()),
        _ => Err(format!("{}: expected a mapping of action names", path.display()).into()),
    }
}

/// The 1-based line of top-level key `key` in a YAML text, if written in block style.
pub(crate) fn top_level_key_line(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .position(|l| is_top_level_key(l, key))
        .map(|i| i as u64 + 1)
}

pub(crate) fn is_top_level_key(line: &str, key: &str) -> bool {
    [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ]
    .iter()
    .any(|k| line.starts_with(k.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_is_read_in_each_spelling_and_can_be_left_out() {
        let path = Path::new("metadata.yaml");
        let block = "name: a\n# kept\nseries:\n  - focal\n  - jammy\nrequires:\n  db:\n    interface: pgsql\n";
        assert_eq!(parse(block, path).unwrap().series, ["focal", "jammy"]);
        assert_eq!(
            parse("name: a\nseries: focal\n", path).unwrap().series,
            ["focal"]
        );
        let stripped = without_top_level_key(block, "series");
        assert_eq!(
            stripped,
            "name: a\n# kept\nrequires:\n  db:\n    interface: pgsql\n"
        );
        let m = parse(&stripped, path).unwrap();
        assert!(m.series.is_empty());
        assert_eq!(m.relations.get("db"), Some(&"requires"));
        let flow = without_top_level_key("name: a\nseries: [focal]\n", "series");
        assert_eq!(flow, "name: a\n");
        let e = parse("name: a\nseries: {focal: 1}\n", path)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "metadata.yaml:2: `series` is not a list of Ubuntu release names (e.g. [focal, jammy])"
        );
    }
}
