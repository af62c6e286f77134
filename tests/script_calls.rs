//! Script calls that need no Juju: the unit KV store, calls outside hooks, bad input.

mod support;

use std::time::Duration;
use support::{Unit, stderr, stdout, wait_for};

#[test]
fn kv_round_trip_from_scripts_and_outside_hooks() {
    let unit = Unit::new();
    unit.host_script(
        "kv.sh",
        r#"lucky kv set a=1 "b=two words" c=x && lucky kv set c= && lucky kv get b && lucky kv get missing && lucky kv get"#,
    );
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: kv.sh\n");
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "two words\n\na=1\nb=two words\n");
    // No hook needed to read it back, and JSON on request.
    let out = unit.lucky(&["kv", "get", "--format", "json"]);
    assert_eq!(stdout(&out), "{\"a\":\"1\",\"b\":\"two words\"}\n");
}

#[test]
fn kv_survives_sigkill_in_the_middle_of_a_hook() {
    let unit = Unit::new();
    unit.host_script(
        "writes.sh",
        r#"i=0; while [ $i -lt 1000 ]; do lucky kv set "k$i=v$i" || exit 1; echo $i >> "$LUCKY_TEST_DIR/acked"; i=$((i+1)); done"#,
    );
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: writes.sh\n");
    let hook = unit
        .command(&["hook", "install"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for("some acknowledged writes", Duration::from_secs(30), || {
        unit.read("acked").lines().count() >= 50
    });
    let pid = unit.daemon_pid().expect("daemon");
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    let out = hook.wait_with_output().expect("wait");
    assert!(
        !out.status.success(),
        "the hook cannot succeed without its daemon"
    );
    let acked: Vec<String> = unit.read("acked").lines().map(str::to_string).collect();
    assert!(
        acked.len() < 1000,
        "the daemon was killed too late to prove anything"
    );

    let start = unit.lucky(&["daemon", "start"]);
    assert!(start.status.success(), "{}", stderr(&start));
    let out = unit.lucky(&["kv", "get", "--format", "json"]);
    let kv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for i in &acked {
        assert_eq!(
            kv.get(format!("k{i}")).and_then(|v| v.as_str()),
            Some(format!("v{i}").as_str()),
            "acknowledged write k{i} lost"
        );
    }
    let status = unit.lucky(&["daemon", "status"]);
    assert!(!stdout(&status).contains("problem:"), "{}", stdout(&status));
}

#[test]
fn corrupt_kv_file_is_kept_aside_and_reported() {
    let unit = Unit::new();
    let state = unit.data_dir().join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("kv.json"), b"{\"a\": ").expect("write");
    let start = unit.lucky(&["daemon", "start"]);
    assert!(start.status.success(), "{}", stderr(&start));
    let status = stdout(&unit.lucky(&["daemon", "status"]));
    let problem = status
        .lines()
        .find(|l| l.starts_with("problem: "))
        .unwrap_or_else(|| panic!("no problem reported:\n{status}"));
    assert!(problem.contains("kv.json is corrupt"), "{problem}");
    let kept: Vec<_> = std::fs::read_dir(&state)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kv.json.corrupt-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(kept[0].path()).expect("read"), b"{\"a\": ");
}

#[test]
fn two_hundred_concurrent_calls_from_one_hook() {
    let unit = Unit::new();
    unit.host_script(
        "many.sh",
        r#"lucky kv set shared=yes || exit 1
i=0; while [ $i -lt 200 ]; do (v=$(lucky kv get shared) && [ "$v" = yes ] && echo ok >> "$LUCKY_TEST_DIR/oks") & i=$((i+1)); done; wait"#,
    );
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: many.sh\n");
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(unit.read("oks").lines().count(), 200);
}

#[test]
fn calls_after_the_hook_ended_or_from_nowhere_are_refused_clearly() {
    let unit = Unit::new();
    unit.host_script(
        "save.sh",
        r#"echo "$LUCKY_CONTEXT" > "$LUCKY_TEST_DIR/token""#,
    );
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: save.sh\n");
    assert!(unit.hook("install").status.success());
    let token = unit.read("token").trim().to_string();
    assert_eq!(token.len(), 32);

    let late = unit
        .command(&["relation", "list-ids", "-n", "db"])
        .env("LUCKY_CONTEXT", &token)
        .output()
        .expect("run");
    assert_eq!(late.status.code(), Some(3));
    assert_eq!(
        stderr(&late),
        "lucky: `lucky relation list-ids` needs a running hook, and the hook it belonged to has ended\n"
    );
    let nowhere = unit.lucky(&["leader", "is-leader"]);
    assert_eq!(
        stderr(&nowhere),
        "lucky: `lucky leader is-leader` needs a running hook, and it was not made from a hook's script (no LUCKY_CONTEXT)\n"
    );
    // What needs no hook still works from nowhere.
    let kv = unit.lucky(&["kv", "set", "x=1"]);
    assert!(kv.status.success(), "{}", stderr(&kv));
}

#[test]
fn bad_arguments_are_one_line_usage_errors() {
    let unit = Unit::new();
    let cases: [(&[&str], &str); 5] = [
        (
            &["set-status", "sleeping", "zzz"],
            "unknown status \"sleeping\"",
        ),
        (
            &["kv", "set", "novalue"],
            "expected KEY=VALUE, got \"novalue\"",
        ),
        (&["kv", "set", "=v"], "empty key"),
        (&["log", "-l", "LOUD", "x"], "unknown log level \"LOUD\""),
        (&["port", "close"], "required arguments were not provided"),
    ];
    for (args, needle) in cases {
        let out = unit.lucky(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("lucky: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn random_values() {
    let unit = Unit::new();
    let s = stdout(&unit.lucky(&["random", "-l", "40"]));
    assert_eq!(s.trim().len(), 40);
    assert!(s.trim().chars().all(|c| c.is_ascii_alphanumeric()));
    for _ in 0..20 {
        let n: i64 = stdout(&unit.lucky(&["random", "-r", "3", "5"]))
            .trim()
            .parse()
            .expect("int");
        assert!((3..=5).contains(&n));
    }
    let f: f64 = stdout(&unit.lucky(&["random", "-r", "0", "1", "-f"]))
        .trim()
        .parse()
        .expect("float");
    assert!((0.0..1.0).contains(&f));
    let port: u16 = stdout(&unit.lucky(&["random", "-p"]))
        .trim()
        .parse()
        .expect("port");
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
    let bad = unit.lucky(&["random", "-r", "5", "1"]);
    assert_eq!(bad.status.code(), Some(1));
}

/// Container edits are written (and fsynced) off the daemon's event loop, yet each one is
/// on disk before its caller gets its answer, and one client's edits land in its order
/// while fifty others write at the same time.
#[test]
fn concurrent_container_edits_are_durable_when_answered_and_land_in_order() {
    let unit = Unit::new();
    let start = unit.lucky(&["daemon", "start"]);
    assert!(start.status.success(), "{}", stderr(&start));
    let file = unit.data_dir().join("state/containers.json");
    let on_disk = |key: &str| -> Option<String> {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).ok()?).expect("containers.json is JSON");
        let env = doc.pointer("/containers/default/env")?;
        env.get(key)?.as_str().map(str::to_string)
    };
    std::thread::scope(|s| {
        for i in 0..50 {
            let (unit, on_disk) = (&unit, &on_disk);
            s.spawn(move || {
                let out = unit.lucky(&["container", "env", "set", &format!("K{i}=v{i}")]);
                assert!(out.status.success(), "{}", stderr(&out));
                // Answered: so already on disk.
                assert_eq!(
                    on_disk(&format!("K{i}")).as_deref(),
                    Some(format!("v{i}").as_str())
                );
            });
        }
        let (unit, on_disk) = (&unit, &on_disk);
        s.spawn(move || {
            for n in 0..20 {
                let out = unit.lucky(&["container", "env", "set", &format!("SEQ={n}")]);
                assert!(out.status.success(), "{}", stderr(&out));
                assert_eq!(on_disk("SEQ").as_deref(), Some(n.to_string().as_str()));
            }
        });
    });
    for i in 0..50 {
        assert_eq!(
            on_disk(&format!("K{i}")).as_deref(),
            Some(format!("v{i}").as_str())
        );
    }
    assert_eq!(on_disk("SEQ").as_deref(), Some("19"));
    let out = unit.lucky(&["container", "env", "get", "SEQ"]);
    assert_eq!(stdout(&out), "19\n");
}

/// `lucky` starts in its own `main`, without std's runtime start (src/entry.rs). What a
/// caller could see of that start is kept: standard streams the caller closed are opened
/// on /dev/null (so no file or socket lucky opens becomes its output, e.g. the daemon's
/// lock file receiving its log lines), and a reader that has gone is not death by SIGPIPE.
#[test]
fn closed_standard_streams_and_a_gone_reader_are_handled_as_std_does() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let unit = Unit::new();
    let mut daemon = unit.command(&["daemon", "start", "--foreground"]);
    // SAFETY: close(2) is async-signal-safe and touches no memory of the parent.
    unsafe {
        daemon.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let mut daemon = daemon.spawn().expect("spawn the daemon");
    wait_for("the daemon", Duration::from_secs(20), || {
        unit.lucky(&["daemon", "status"]).status.success()
    });
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{}/fd/{fd}", daemon.id()))
            .unwrap_or_else(|e| panic!("fd {fd} of the daemon: {e}"));
        assert_eq!(target, std::path::Path::new("/dev/null"), "fd {fd}");
    }
    assert!(unit.lucky(&["kv", "set", "k=v"]).status.success());
    // A script whose reader has gone: its output is lost, the call is not killed.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = unit
        .command(&["kv", "get", "k"])
        .stdout(writer)
        .status()
        .expect("run");
    assert_eq!(status.signal(), None, "{status:?}");
    assert!(status.success(), "{status:?}");
    assert!(unit.lucky(&["daemon", "stop"]).status.success());
    let stopped = daemon.wait().expect("wait");
    assert!(stopped.success(), "{stopped:?}");
}
