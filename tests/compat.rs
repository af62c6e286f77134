//! Charms written for the 2020 Lucky (0.1): the differences issue 13 asked us to accept,
//! each through the real binary. Engine-backed lifecycles are in `tests/compat_charms.rs`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn lucky() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucky"));
    cmd.stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(path: &Path, contents: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn build_makes_declared_scripts_executable_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("plain");
    write(
        &dir.join("metadata.yaml"),
        "name: plain\nsummary: s\ndescription: d\n",
        0o644,
    );
    write(
        &dir.join("lucky.yaml"),
        "hooks:\n  install:\n    - host-script: setup.sh\n    - container-script: probe.sh\n  start:\n    - host-script: ready.sh\n",
        0o644,
    );
    // Committed without the bit, as several 2020 charms were.
    write(&dir.join("host_scripts/setup.sh"), "#!/bin/sh\n", 0o644);
    write(
        &dir.join("container_scripts/probe.sh"),
        "#!/bin/sh\n",
        0o644,
    );
    write(&dir.join("host_scripts/ready.sh"), "#!/bin/sh\n", 0o755);
    write(&dir.join("host_scripts/notes.txt"), "not a script\n", 0o644);

    // A source charm's lucky.yaml is not valid at hook time without the bit ...
    let refused = lucky::charm::lucky_yaml::load(&dir).expect_err("not executable");
    assert!(refused.to_string().contains("not executable"), "{refused}");

    let out = lucky()
        .args(["charm", "build"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(
            "lucky: note: made executable: container_scripts/probe.sh, host_scripts/setup.sh"
        ),
        "{}",
        text(&out)
    );
    let built = dir.join("build/plain");
    assert_eq!(mode(&built.join("host_scripts/setup.sh")), 0o755);
    assert_eq!(mode(&built.join("container_scripts/probe.sh")), 0o755);
    assert_eq!(mode(&built.join("host_scripts/ready.sh")), 0o755);
    // Only declared scripts, and only in the build: the source stays as committed.
    assert_eq!(mode(&built.join("host_scripts/notes.txt")), 0o644);
    assert_eq!(mode(&dir.join("host_scripts/setup.sh")), 0o644);
    // ... and the built one is.
    lucky::charm::lucky_yaml::load(&built).expect("the built charm validates");

    // Nothing to change: no note.
    write(&dir.join("host_scripts/setup.sh"), "#!/bin/sh\n", 0o755);
    write(
        &dir.join("container_scripts/probe.sh"),
        "#!/bin/sh\n",
        0o755,
    );
    let again = lucky()
        .args(["charm", "build"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !text(&again).contains("made executable"),
        "{}",
        text(&again)
    );
}

/// A simulated model of `unit`'s charm (with a `dispatch` that runs `lucky hook`).
fn model(unit: &support::Unit, metadata: &str) -> lucky::simulator::Model {
    write(&unit.charm().join("metadata.yaml"), metadata, 0o644);
    write(
        &unit.charm().join("dispatch"),
        "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
        0o755,
    );
    unit.model()
}

fn run_hook(model: &lucky::simulator::Model, hook: &str) {
    let run = model.run_hook(hook).expect("run hook");
    assert!(
        run.success(),
        "{hook} failed ({}):\n{}\n{}",
        run.exit_code,
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_named_maintenance_status_stays_after_its_hook_and_names_take_any_case() {
    let unit = support::Unit::new();
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: install.sh\n  config-changed:\n    - host-script: configure.sh\n  start:\n    - host-script: start.sh\n",
    );
    unit.host_script(
        "install.sh",
        r#"set -e
lucky set-status Maintenance "Installing"
lucky set-status --name db MAINTENANCE "Waiting on the database""#,
    );
    unit.host_script("start.sh", "lucky set-status active Ready");
    unit.host_script("configure.sh", "lucky set-status --name db --clear");
    let model = model(&unit, "name: c\nsummary: s\ndescription: d\n");

    run_hook(&model, "install");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("maintenance", "Waiting on the database"),
        "the script's own maintenance status ended with install; the named one stays"
    );
    run_hook(&model, "start");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("maintenance", "Waiting on the database"),
        "a later hook does not end it either"
    );
    run_hook(&model, "config-changed");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("active", "Ready"),
        "cleared, the unit shows what is left"
    );

    let bad = unit.lucky(&["set-status", "--name", "x", "Broken"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("unknown status \"Broken\""),
        "{}",
        text(&bad)
    );
}
