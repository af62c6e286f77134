//! The release targets are named in Rust (`charm build --bundle-lucky`), in the installer
//! a charm ships, in the release build and in the README's first command. The Rust table
//! is the list; this test fails when another place says something else.

use lucky::charm::build::TARGETS;
use std::collections::BTreeMap;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect(rel)
}

/// `uname -m` names → target, from a shell `case` whose arms read
/// `x86_64 | amd64) <var>=x86_64-unknown-linux-musl ;;`.
fn case_arms(script: &str, var: &str) -> BTreeMap<String, String> {
    let mut arms = BTreeMap::new();
    for line in script.lines() {
        let Some((names, rest)) = line.trim().split_once(')') else {
            continue;
        };
        let Some(target) = rest.trim().strip_prefix(&format!("{var}=")) else {
            continue;
        };
        let target = target.trim_end_matches(";;").trim().to_string();
        for name in names.split('|') {
            arms.insert(name.trim().to_string(), target.clone());
        }
    }
    arms
}

fn table() -> BTreeMap<String, String> {
    TARGETS
        .iter()
        .flat_map(|(target, names)| names.iter().map(|n| (n.to_string(), target.to_string())))
        .collect()
}

#[test]
fn every_place_names_the_same_targets_and_architectures() {
    let expected = table();
    assert_eq!(expected.len(), 7, "{expected:?}");
    assert_eq!(
        case_arms(&read("installer/install.sh"), "TARGET"),
        expected,
        "installer/install.sh"
    );
    assert_eq!(
        case_arms(&read("examples/run.sh"), "target"),
        expected,
        "examples/run.sh"
    );
    let build = read("release/build.sh");
    let all = build
        .split("ALL_TARGETS=(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("release/build.sh's ALL_TARGETS");
    let listed: Vec<&str> = all.split_whitespace().collect();
    let targets: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
    assert_eq!(listed, targets, "release/build.sh ALL_TARGETS");
}
