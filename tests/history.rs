//! `lucky history`, through the real binary: each run recorded, kept across a daemon
//! restart, bounded, filtered, and bad input refused in one line.

mod support;

use serde_json::Value;
use support::{Unit, stderr, stdout};

fn json(unit: &Unit, args: &[&str]) -> Value {
    let out = unit.lucky(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)))
}

/// `hooks/<hook>` for the simulator: each runs `lucky hook <hook>`.
fn hooks_dir_with(unit: &Unit, hooks: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    let dir = unit.charm().join("hooks");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for hook in hooks {
        let path = dir.join(hook);
        std::fs::write(&path, format!("#!/bin/sh\nexec lucky hook {hook}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn ids(rows: &Value) -> Vec<u64> {
    rows.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].as_u64().expect("id"))
        .collect()
}

#[test]
fn each_run_is_recorded_whole_and_survives_a_daemon_restart() {
    let unit = Unit::new();
    unit.host_script(
        "setup.sh",
        r#"echo "installing"; echo "a warning" >&2; lucky set-status blocked "need a database""#,
    );
    unit.host_script("fail.sh", "echo failing; exit 3");
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: setup.sh\n    - inline-host-script: echo second\n  start:\n    - host-script: fail.sh\n",
    );
    hooks_dir_with(&unit, &["install", "start"]);
    // Through the simulator, so that `set-status` reaches a (simulated) Juju.
    let model = unit.model();
    let install = model.run_hook("install").expect("install");
    assert!(install.success(), "{}", install.stderr);
    assert!(!model.run_hook("start").expect("start").success());

    let rows = json(&unit, &["history", "--format", "json"]);
    assert_eq!(ids(&rows), [2, 1], "newest first: {rows}");
    assert_eq!(rows[0]["name"], "start");
    assert_eq!(rows[0]["failed"], true);
    assert_eq!(rows[1]["failed"], false);
    assert_eq!(rows[1]["scripts"], 2);

    let install = json(&unit, &["history", "show", "1", "--format", "json"]);
    assert_eq!(install["kind"], "hook");
    assert_eq!(install["trigger"], "juju");
    assert_eq!(install["status_before"]["status"], "Active");
    assert_eq!(install["status_after"]["status"], "Blocked");
    assert_eq!(install["status_after"]["message"], "need a database");
    let entries = install["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], "setup.sh");
    assert_eq!(entries[0]["exit_status"], 0);
    // Both streams, in the order they arrived (two pipes: either may come first).
    let tail = entries[0]["output_tail"].as_str().expect("tail");
    let mut lines: Vec<&str> = tail.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["a warning", "installing"], "{tail:?}");
    assert_eq!(entries[1]["output_tail"], "second\n");
    assert!(install["containers"].is_null(), "no container: {install}");

    let show = unit.lucky(&["history", "show", "2"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(
        text.starts_with("run 2: hook start (trigger: juju)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "result:     failed: host script fail.sh (lucky.yaml line 6) exited with status 3\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  fail.sh (lucky.yaml line 6): exit status 3, "),
        "{text}"
    );
    assert!(text.contains("    | failing\n"), "{text}");

    // A new daemon (what a self-update also starts) finds the same history.
    let start_run = json(&unit, &["history", "show", "2", "--format", "json"]);
    let old_daemon = unit.daemon_pid().expect("a daemon");
    let stop = unit.lucky(&["daemon", "stop"]);
    assert!(stop.status.success(), "{}", stderr(&stop));
    assert!(model.run_hook("install").expect("install").success());
    let new_daemon = unit.daemon_pid().expect("a daemon");
    assert_ne!(new_daemon, old_daemon, "the hook started a new daemon");
    let rows = json(&unit, &["history", "--format", "json"]);
    assert_eq!(ids(&rows), [3, 2, 1], "{rows}");
    assert_eq!(
        json(&unit, &["history", "show", "2", "--format", "json"]),
        start_run
    );
    let list = stdout(&unit.lucky(&["history"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 4, "{list}");
    assert!(
        lines[0].contains("ID") && lines[0].contains("RESULT"),
        "{list}"
    );
    assert!(
        lines[2].contains(" failed ") && lines[2].ends_with("hook start: fail.sh"),
        "{list}"
    );
}

#[test]
fn filters_select_by_hook_failure_and_count() {
    let unit = Unit::new();
    // config-changed fails while the flag file exists.
    unit.host_script("maybe.sh", r#"[ ! -e "$LUCKY_TEST_DIR/fail" ] || exit 4"#);
    unit.lucky_yaml(
        "hooks:\n  install: []\n  config-changed:\n    - host-script: maybe.sh\n  start: []\n",
    );
    assert!(unit.hook("install").status.success());
    assert!(unit.hook("config-changed").status.success());
    std::fs::write(unit.path("fail"), "").expect("flag");
    assert_eq!(unit.hook("config-changed").status.code(), Some(1));
    std::fs::remove_file(unit.path("fail")).expect("flag");
    assert!(unit.hook("start").status.success());

    let list = |args: &[&str]| {
        let mut all = vec!["history", "--format", "json"];
        all.extend_from_slice(args);
        ids(&json(&unit, &all))
    };
    assert_eq!(list(&[]), [4, 3, 2, 1]);
    assert_eq!(list(&["-n", "2"]), [4, 3]);
    assert_eq!(list(&["--hook", "config-changed"]), [3, 2]);
    assert_eq!(list(&["--failed"]), [3]);
    assert_eq!(list(&["--hook", "start", "--failed"]), Vec::<u64>::new());
    assert_eq!(list(&["--hook", "no-such-hook"]), Vec::<u64>::new());
    let failed = json(&unit, &["history", "show", "3", "--format", "json"]);
    assert_eq!(failed["entries"][0]["exit_status"], 4);
    assert_eq!(
        stdout(&unit.lucky(&["history", "--hook", "nope"])),
        "no runs recorded\n"
    );
}

#[test]
fn the_history_keeps_the_newest_thousand_runs() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks:\n  update-status: []\n");
    for _ in 0..1003 {
        let out = unit.hook("update-status");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let rows = json(&unit, &["history", "-n", "5000", "--format", "json"]);
    let kept = ids(&rows);
    assert_eq!(kept.len(), 1000);
    assert_eq!((kept[0], kept[999]), (1003, 4));
    let files = std::fs::read_dir(unit.data_dir().join("state/history"))
        .expect("history folder")
        .count();
    assert_eq!(files, 1000);
    let dropped = unit.lucky(&["history", "show", "3"]);
    assert_eq!(dropped.status.code(), Some(2));
}

#[test]
fn an_unknown_or_malformed_id_is_one_line_and_fails() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks:\n  install: []\n");
    assert!(unit.hook("install").status.success());
    let out = unit.lucky(&["history", "show", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "lucky: cannot show run 99: the history has no such run (`lucky history` lists the kept ones)\n"
    );
    assert_eq!(stdout(&out), "");
    let out = unit.lucky(&["history", "show", "one"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'one'"),
        "{}",
        stderr(&out)
    );
    let out = unit.lucky(&["history", "-n", "-3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Nothing was lost.
    assert_eq!(ids(&json(&unit, &["history", "--format", "json"])), [1]);
}
