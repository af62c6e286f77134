//! Charms written for the 2020 Lucky (0.1): the differences issue 13 asked us to accept,
//! each through the real binary. Engine-backed lifecycles are in `tests/compat_charms.rs`.

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
