//! The layer rule of `src/lib.rs`: a module imports only modules of a lower layer, and
//! inside the daemon only the routing (connection, server) reaches the handlers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level module → layer (higher imports lower, never the other way).
const LAYERS: &[(&str, u8)] = &[
    ("cli", 6),
    ("daemon", 5),
    ("run", 5),
    ("update", 5),
    ("charm", 4),
    ("client", 4),
    ("simulator", 4),
    ("docker", 3),
    ("juju", 3),
    ("release", 3),
    ("http", 2),
    ("script", 2),
    ("state", 2),
    ("zone", 2),
    ("alloc", 1),
    ("calendar", 1),
    ("elf", 1),
    ("entry", 1),
    ("executable", 1),
    ("protocol", 1),
    ("unit", 1),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module names a path starting at `rest` begins with: `a::…` or `{a, b::c}`.
fn names_at(rest: &str) -> Vec<String> {
    let ident = |item: &str| -> String {
        item.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let names = match rest.strip_prefix('{') {
        Some(group) => group[..group.find('}').unwrap_or(group.len())]
            .split(',')
            .map(ident)
            .collect(),
        None => vec![ident(rest)],
    };
    names.into_iter().filter(|n| !n.is_empty()).collect()
}

/// Every module named after `crate::` in `text`, including `crate::{a, b::c}` groups.
fn crate_refs(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .flat_map(|(i, _)| names_at(&text[i + "crate::".len()..]))
        .collect()
}

/// Every top-level module reached through enough `super::`s to climb out of a file
/// `depth` modules below the crate root (`daemon/cron.rs` is 2, `zone.rs` 1).
fn super_refs(text: &str, depth: usize) -> Vec<String> {
    let mut refs = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("super::") {
        let start = at + found;
        let preceded_by_path = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c == ':' || c.is_ascii_alphanumeric() || c == '_');
        let mut rest = &text[start..];
        let mut climbs = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = after;
        }
        if !preceded_by_path && climbs >= depth {
            refs.extend(names_at(rest));
        }
        at = text.len() - rest.len();
    }
    refs
}

/// How many modules below the crate root a file's own module is.
fn module_depth(relative: &Path) -> usize {
    let parts = relative.components().count();
    if relative.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

fn sources() -> BTreeMap<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("source file is readable");
            (f.strip_prefix(&src).expect("under src").to_path_buf(), text)
        })
        .collect()
}

fn top_module(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    // The binaries (main.rs, bin/) sit above every layer.
    (name != "lib" && name != "main" && name != "bin").then(|| name.to_string())
}

#[test]
fn modules_import_only_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut violations = Vec::new();
    for (file, text) in sources() {
        let Some(module) = top_module(&file) else {
            continue;
        };
        let Some(&own) = layers.get(module.as_str()) else {
            violations.push(format!(
                "src/{}: module `{module}` has no layer: add it to tests/layers.rs and lib.rs's map",
                file.display()
            ));
            continue;
        };
        let used_modules = crate_refs(&text)
            .into_iter()
            // An inline `mod tests` climbs one more: only names of top-level modules count.
            .chain(
                super_refs(&text, module_depth(&file))
                    .into_iter()
                    .filter(|name| layers.contains_key(name.as_str())),
            );
        for used in used_modules {
            if used == module {
                continue;
            }
            match layers.get(used.as_str()) {
                Some(&layer) if layer < own => {}
                Some(&layer) => violations.push(format!(
                    "src/{}: `{module}` (layer {own}) imports `{used}` (layer {layer})",
                    file.display()
                )),
                None => violations.push(format!(
                    "src/{}: imports `crate::{used}`, which has no layer",
                    file.display()
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn only_the_daemon_routing_reaches_its_handlers() {
    let routing = ["daemon/connection.rs", "daemon/server.rs", "daemon/mod.rs"];
    let mut violations = Vec::new();
    for (file, text) in sources() {
        let path = file.to_string_lossy().into_owned();
        if !path.starts_with("daemon/")
            || path.starts_with("daemon/handlers/")
            || routing.contains(&path.as_str())
        {
            continue;
        }
        if text.contains("handlers::") || text.contains("handlers;") {
            violations.push(format!(
                "src/{path} uses daemon::handlers: handlers call down, nothing calls them"
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_check_sees_grouped_and_nested_paths() {
    assert_eq!(
        crate_refs("use crate::{docker::spec, state};\nlet x = crate::juju::exec;"),
        vec!["docker", "state", "juju"]
    );
}

#[test]
fn the_check_sees_super_paths_that_climb_to_the_crate_root() {
    let text = "use super::super::{daemon, cli::x};\nuse super::hook_runner;\nuse super::super::super::run;";
    // From daemon/handlers/hook.rs (depth 3) two climbs stay inside `daemon`.
    assert_eq!(super_refs(text, 3), vec!["run"]);
    // From docker/spec.rs (depth 2) they reach the root.
    assert_eq!(super_refs(text, 2), vec!["daemon", "cli", "run"]);
    assert_eq!(module_depth(Path::new("daemon/mod.rs")), 1);
    assert_eq!(module_depth(Path::new("daemon/handlers/hook.rs")), 3);
}
