//! The daemon's lucky.yaml cache: one parse while the file is unchanged, a new one for
//! an edited or replaced file, errors (a parse's or a script's) exactly as
//! `lucky_yaml::load` gives them, and never kept.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn charm() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("host_scripts");
    std::fs::create_dir(&scripts).expect("mkdir");
    for name in ["a.sh", "b.sh"] {
        let p = scripts.join(name);
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("lucky.yaml"), text).expect("write lucky.yaml");
}

/// Writes `text` to a new file and renames it over lucky.yaml, as an upgrade would.
fn replace(dir: &Path, text: &str) {
    let new = dir.join("lucky.yaml.new");
    std::fs::write(&new, text).expect("write");
    std::fs::rename(&new, dir.join("lucky.yaml")).expect("rename");
}

/// A time by which every file written by the test has settled.
fn later() -> SystemTime {
    SystemTime::now() + SETTLE * 5
}

/// The script the `install` hook runs first, as the cache gives lucky.yaml at `now`.
fn first_script(cache: &LuckyYamlCache, dir: &Path, now: SystemTime) -> String {
    let yaml = cache.load_at(dir, now).expect("load");
    match &yaml.hooks["install"][0].kind {
        crate::script::ScriptKind::Host { name, .. } => name.clone(),
        other => panic!("not a host script: {other:?}"),
    }
}

const A: &str = "hooks:\n  install:\n    - host-script: a.sh\n";
const B: &str = "hooks:\n  install:\n    - host-script: b.sh\n";

#[test]
fn an_unchanged_file_is_parsed_once() {
    let dir = charm();
    write(dir.path(), A);
    let cache = LuckyYamlCache::default();
    // A hook, then the cron and check re-plans, while the file is still fresh (its
    // text compared) and once it has settled (its identity alone).
    let first = cache.load(dir.path()).expect("load");
    for _ in 0..2 {
        assert_eq!(*cache.load(dir.path()).expect("load"), *first);
    }
    for _ in 0..3 {
        assert_eq!(*cache.load_at(dir.path(), later()).expect("load"), *first);
    }
    assert_eq!(cache.parses(), 1);
    assert_eq!(*first, lucky_yaml::load(dir.path()).expect("load"));
}

#[test]
fn a_same_size_edit_is_seen_at_once() {
    let dir = charm();
    write(dir.path(), A);
    let cache = LuckyYamlCache::default();
    assert_eq!(first_script(&cache, dir.path(), SystemTime::now()), "a.sh");
    // Within the same clock tick, maybe: the text is what tells.
    write(dir.path(), B);
    assert_eq!(first_script(&cache, dir.path(), SystemTime::now()), "b.sh");
    assert_eq!(cache.parses(), 2);
}

#[test]
fn a_same_size_edit_of_a_settled_file_is_seen() {
    let dir = charm();
    write(dir.path(), A);
    let cache = LuckyYamlCache::default();
    assert_eq!(first_script(&cache, dir.path(), later()), "a.sh");
    // Past a clock tick, so the change time moves (as it has, SETTLE after the read).
    std::thread::sleep(Duration::from_millis(50));
    write(dir.path(), B);
    assert_eq!(first_script(&cache, dir.path(), later()), "b.sh");
    assert_eq!(cache.parses(), 2);
}

#[test]
fn a_file_renamed_over_lucky_yaml_is_seen() {
    let dir = charm();
    write(dir.path(), A);
    let cache = LuckyYamlCache::default();
    assert_eq!(first_script(&cache, dir.path(), later()), "a.sh");
    replace(dir.path(), B);
    assert_eq!(first_script(&cache, dir.path(), later()), "b.sh");
    replace(dir.path(), A);
    assert_eq!(first_script(&cache, dir.path(), SystemTime::now()), "a.sh");
    assert_eq!(cache.parses(), 3);
}

#[test]
fn a_broken_file_gives_load_s_error_and_is_not_kept() {
    let dir = charm();
    let cache = LuckyYamlCache::default();
    let missing = cache.load(dir.path()).expect_err("no lucky.yaml");
    assert_eq!(
        missing,
        lucky_yaml::load(dir.path()).expect_err("no lucky.yaml")
    );
    write(dir.path(), A);
    cache.load_at(dir.path(), later()).expect("load");
    let broken = "hooks:\n  install:\n    - host-script: a.sh\n      colour: red\n";
    for _ in 0..2 {
        replace(dir.path(), broken);
        for now in [SystemTime::now(), later()] {
            let e = cache.load_at(dir.path(), now).expect_err("broken");
            assert_eq!(e, lucky_yaml::load(dir.path()).expect_err("broken"));
            assert_eq!(e.to_string().lines().count(), 1, "{e}");
        }
        // The good text again, with the parse before the error forgotten.
        replace(dir.path(), A);
        assert_eq!(first_script(&cache, dir.path(), SystemTime::now()), "a.sh");
    }
    // Each broken lookup parsed; each good text after one parsed again.
    assert_eq!(cache.parses(), 1 + 2 * (2 + 1));
}

#[test]
fn a_script_removed_or_chmodded_after_the_parse_is_reported() {
    let dir = charm();
    write(dir.path(), A);
    let cache = LuckyYamlCache::default();
    cache.load(dir.path()).expect("load");
    let script = dir.path().join("host_scripts/a.sh");
    for now in [SystemTime::now(), later()] {
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = cache.load_at(dir.path(), now).expect_err("not executable");
        assert_eq!(e, lucky_yaml::load(dir.path()).expect_err("not executable"));
        assert!(e.to_string().ends_with(
            "lucky.yaml:3: hook \"install\": key `host-script`: host_scripts/a.sh is not executable (chmod +x it)"
        ), "{e}");
        std::fs::remove_file(&script).expect("rm");
        let e = cache.load_at(dir.path(), now).expect_err("removed");
        assert_eq!(e, lucky_yaml::load(dir.path()).expect_err("removed"));
        assert!(
            e.to_string().ends_with("host_scripts/a.sh does not exist"),
            "{e}"
        );
        std::fs::write(&script, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        cache.load_at(dir.path(), now).expect("back");
    }
    // The script checks ran outside the cache: lucky.yaml itself was parsed once.
    assert_eq!(cache.parses(), 1);
}
