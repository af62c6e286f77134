//! The spine, end to end through the real binary: `lucky hook` → daemon → scripts.

mod support;

use lucky::protocol::{self, ErrorKind, Hello, Reply, Request};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use support::{Unit, stderr, stdout, wait_for};

#[test]
fn hook_runs_scripts_in_order_with_args_env_and_output() {
    let unit = Unit::new();
    unit.host_script(
        "first.sh",
        r#"echo "first args=$# [$1] [$2]"; echo "first to stderr" >&2"#,
    );
    unit.host_script(
        "second.sh",
        r#"echo "second hook=$LUCKY_HOOK id=$LUCKY_SCRIPT_ID unit=$JUJU_UNIT_NAME ctx=${LUCKY_CONTEXT:+set} socket=$LUCKY_SOCKET charm=$CHARM_DIR pwd=$(pwd)""#,
    );
    unit.lucky_yaml(
        r#"hooks:
  install:
    - host-script: first.sh
      args: ["a b", "c"]
    - host-script: second.sh
    - inline-host-script: |
        echo "third $0 $1"; command -v lucky
      args: ["x"]
"#,
    );
    let out = unit.hook("install");
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let charm = unit.charm();
    let expected = format!(
        "first args=2 [a b] [c]\nsecond hook=install id=second.sh unit=app/0 ctx=set socket={} charm={} pwd={}\nthird install#inline-1 x\n{}\n",
        unit.socket().display(),
        charm.display(),
        charm.display(),
        unit.data_dir().join("bin/lucky").display()
    );
    assert_eq!(stdout(&out), expected);
    assert_eq!(stderr(&out), "first to stderr\n");
}

#[test]
fn failing_script_stops_the_hook_and_is_named() {
    let unit = Unit::new();
    unit.host_script("ok.sh", "echo ok");
    unit.host_script("fail.sh", "echo failing; exit 3");
    unit.host_script("never.sh", "touch \"$LUCKY_TEST_DIR/never-ran\"");
    unit.lucky_yaml(
        "hooks:\n  start:\n    - host-script: ok.sh\n    - host-script: fail.sh\n    - host-script: never.sh\n",
    );
    let out = unit.hook("start");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "ok\nfailing\n");
    assert_eq!(
        stderr(&out),
        "lucky: hook start failed: host script fail.sh (lucky.yaml line 4) exited with status 3\n"
    );
    assert!(!unit.path("never-ran").exists());
}

#[test]
fn async_scripts_overlap_and_are_joined() {
    let unit = Unit::new();
    // The async script can only finish once the next script has run: it proves overlap.
    unit.host_script(
        "slow.sh",
        r#"i=0; while [ ! -e "$LUCKY_TEST_DIR/b-done" ]; do i=$((i+1)); [ $i -gt 500 ] && exit 7; sleep 0.01; done
sleep 0.2; touch "$LUCKY_TEST_DIR/a-done""#,
    );
    unit.host_script("quick.sh", r#"touch "$LUCKY_TEST_DIR/b-done""#);
    unit.lucky_yaml(
        "hooks:\n  config-changed:\n    - host-script: slow.sh\n      async: true\n    - host-script: quick.sh\n",
    );
    let out = unit.hook("config-changed");
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(
        unit.path("a-done").exists(),
        "the hook returned before its async script finished"
    );
}

#[test]
fn failing_async_script_fails_the_hook() {
    let unit = Unit::new();
    unit.host_script("bad.sh", "sleep 0.1; exit 4");
    unit.host_script("good.sh", "echo good");
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: bad.sh\n      async: true\n    - host-script: good.sh\n",
    );
    let out = unit.hook("install");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("host script bad.sh (lucky.yaml line 3) exited with status 4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn concurrent_hooks_are_serialized() {
    let unit = Unit::new();
    unit.host_script(
        "log.sh",
        r#"echo "start $$" >> "$LUCKY_TEST_DIR/log"; sleep 0.02; echo "end $$" >> "$LUCKY_TEST_DIR/log""#,
    );
    unit.lucky_yaml("hooks:\n  update-status:\n    - host-script: log.sh\n");
    // Every `lucky hook` starts with no daemon: they race to start it, too.
    let children: Vec<_> = (0..20)
        .map(|_| {
            unit.command(&["hook", "update-status"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "stderr: {}", stderr(&out));
    }
    let log = unit.read("log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 40, "{log}");
    for pair in lines.chunks(2) {
        assert!(
            pair[0].strip_prefix("start ") == pair[1].strip_prefix("end "),
            "hooks overlapped:\n{log}"
        );
    }
}

#[test]
fn hook_starts_the_daemon_and_recovers_from_a_killed_one() {
    let unit = Unit::new();
    unit.host_script("hi.sh", "echo hi");
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: hi.sh\n");
    assert!(unit.daemon_pid().is_none());
    let out = unit.hook("install");
    assert_eq!(stdout(&out), "hi\n", "stderr: {}", stderr(&out));
    let pid = unit
        .daemon_pid()
        .expect("daemon running after the first hook");

    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    wait_for("the daemon to die", Duration::from_secs(5), || {
        !support::process_alive(pid)
    });
    assert!(
        unit.socket().exists(),
        "SIGKILL leaves the socket file behind"
    );

    let out = unit.hook("install");
    assert_eq!(stdout(&out), "hi\n", "stderr: {}", stderr(&out));
    let new_pid = unit.daemon_pid().expect("a new daemon");
    assert_ne!(new_pid, pid);
}

#[test]
fn one_daemon_per_unit() {
    let unit = Unit::new();
    let first = unit.lucky(&["daemon", "start"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("lucky daemon started for unit app/0"));
    let second = unit.lucky(&["daemon", "start"]);
    assert_eq!(second.status.code(), Some(1));
    let err = stderr(&second);
    assert!(
        err.starts_with("lucky: could not start the lucky daemon: a lucky daemon for unit app/0 is already running (pid "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let stop = unit.lucky(&["daemon", "stop"]);
    assert_eq!(stdout(&stop), "lucky daemon for unit app/0 stopped\n");
    assert!(!unit.socket().exists());
    let status = unit.lucky(&["daemon", "status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(stderr(&status).contains("no lucky daemon is running for unit app/0"));
}

#[test]
fn hook_without_scripts_succeeds_quietly() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks: {}\n");
    let out = unit.hook("leader-elected");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_script_can_call_the_daemon_during_its_hook() {
    let unit = Unit::new();
    unit.host_script("ask.sh", "lucky daemon status | grep hook");
    unit.lucky_yaml("hooks:\n  start:\n    - host-script: ask.sh\n");
    let out = unit.hook("start");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "hooks run: 1\nrunning hook: start\ncaller's hook: start\n"
    );
}

#[test]
fn bad_lucky_yaml_gives_one_line_errors() {
    let unit = Unit::new();
    unit.host_script("a.sh", "true");
    let yaml = unit.charm().join("lucky.yaml");
    let cases = [
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      colour: red\n",
            "4: unknown field `colour`",
        ),
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      inline-host-script: echo\n",
            "3: hook \"install\": entry has `host-script` and `inline-host-script`",
        ),
        ("hooks:\n  install: [\n", "2: "),
        (
            "hooks:\n  install:\n    - host-script: missing.sh\n",
            "3: hook \"install\": key `host-script`: host_scripts/missing.sh does not exist",
        ),
    ];
    for (text, expected) in cases {
        unit.lucky_yaml(text);
        let out = unit.hook("install");
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = stderr(&out);
        let prefix = format!("lucky: hook install failed: {}:{expected}", yaml.display());
        assert!(
            err.starts_with(&prefix),
            "{text:?}\n got: {err}\nwant: {prefix}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    std::fs::remove_file(&yaml).expect("rm");
    let out = unit.hook("install");
    assert!(
        stderr(&out).contains("lucky.yaml: not found"),
        "{}",
        stderr(&out)
    );
}

/// Runs `hook` with the daemon logging at debug level (when this call starts it).
fn debug_hook(unit: &Unit, hook: &str) -> std::process::Output {
    unit.command(&["hook", hook])
        .env("LUCKY_LOG_LEVEL", "debug")
        .output()
        .expect("run lucky")
}

/// What the daemon's log says of lucky.yaml: times parsed, times a parse was reused.
fn yaml_reads(unit: &Unit) -> (usize, usize) {
    let log = unit.read("data/lucky.log");
    (
        log.matches("lucky.yaml parsed").count(),
        log.matches("parse reused").count(),
    )
}

#[test]
fn lucky_yaml_is_parsed_once_for_hooks_and_the_replans_after_them() {
    let unit = Unit::new();
    unit.host_script("a.sh", "echo ran");
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: a.sh\n  config-changed:\n    - host-script: a.sh\n",
    );
    // Each hook reads lucky.yaml for its plan, then the cron scheduler and the check
    // supervisor re-plan once each: three reads per hook.
    for (hook, reads) in [("install", 3), ("config-changed", 6)] {
        let out = debug_hook(&unit, hook);
        assert!(out.status.success(), "{hook}: {}", stderr(&out));
        assert_eq!(stdout(&out), "ran\n");
        wait_for(
            &format!("the reads for {hook} and after it"),
            Duration::from_secs(10),
            || {
                let (parsed, reused) = yaml_reads(&unit);
                parsed + reused >= reads
            },
        );
    }
    assert_eq!(yaml_reads(&unit).0, 1, "{}", unit.read("data/lucky.log"));
}

#[test]
fn an_edited_or_replaced_lucky_yaml_is_read_by_the_next_hook() {
    let unit = Unit::new();
    let yaml = |word: &str| format!("hooks:\n  install:\n    - inline-host-script: echo {word}\n");
    let replace = |text: &str| {
        let new = unit.charm().join("lucky.yaml.new");
        std::fs::write(&new, text).expect("write");
        std::fs::rename(&new, unit.charm().join("lucky.yaml")).expect("rename");
    };
    let install = || {
        let out = debug_hook(&unit, "install");
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // A fresh file, rewritten maybe within one clock tick: same size, new text.
    unit.lucky_yaml(&yaml("one"));
    assert_eq!(install(), "one\n");
    unit.lucky_yaml(&yaml("two"));
    assert_eq!(install(), "two\n");
    replace(&yaml("six"));
    assert_eq!(install(), "six\n");
    // A file old enough that its size and times alone vouch for it (2 s), then edited in
    // place (same size) or replaced.
    let mut last = "six";
    for (in_place, word) in [(true, "ten"), (false, "bee")] {
        std::thread::sleep(Duration::from_millis(2500));
        let hits = || {
            unit.read("data/lucky.log")
                .matches("lucky.yaml unchanged")
                .count()
        };
        let before = hits();
        assert_eq!(install(), format!("{last}\n"));
        assert_eq!(install(), format!("{last}\n"));
        assert!(hits() > before, "{}", unit.read("data/lucky.log"));
        if in_place {
            unit.lucky_yaml(&yaml(word));
        } else {
            replace(&yaml(word));
        }
        assert_eq!(install(), format!("{word}\n"));
        last = word;
    }
}

#[test]
fn a_broken_lucky_yaml_fails_every_hook_alike_and_is_never_kept() {
    let unit = Unit::new();
    unit.host_script("a.sh", "echo ran");
    let good = "hooks:\n  install:\n    - host-script: a.sh\n";
    let broken = "hooks:\n  install:\n    - host-script: a.sh\n      colour: red\n";
    let prefix = format!(
        "lucky: hook install failed: {}:4: unknown field `colour`",
        unit.charm().join("lucky.yaml").display()
    );
    unit.lucky_yaml(good);
    assert_eq!(stdout(&debug_hook(&unit, "install")), "ran\n");
    for _ in 0..2 {
        unit.lucky_yaml(broken);
        let errors: Vec<String> = (0..2)
            .map(|_| {
                let out = debug_hook(&unit, "install");
                assert_eq!(out.status.code(), Some(1));
                assert_eq!(stdout(&out), "");
                stderr(&out)
            })
            .collect();
        assert!(errors[0].starts_with(&prefix), "{}", errors[0]);
        assert_eq!(errors[0].lines().count(), 1, "{}", errors[0]);
        assert_eq!(errors[0], errors[1]);
        // The text parsed before the error is parsed again, not taken from before.
        unit.lucky_yaml(good);
        assert_eq!(stdout(&debug_hook(&unit, "install")), "ran\n");
    }
}

#[test]
fn a_script_removed_or_chmodded_after_a_kept_parse_is_still_reported() {
    let unit = Unit::new();
    unit.host_script("a.sh", "echo ran");
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: a.sh\n");
    assert_eq!(stdout(&debug_hook(&unit, "install")), "ran\n");
    let script = unit.charm().join("host_scripts/a.sh");
    let prefix = format!(
        "lucky: hook install failed: {}:3: hook \"install\": key `host-script`: host_scripts/a.sh",
        unit.charm().join("lucky.yaml").display()
    );
    let fails_with = |what: &str| {
        let out = debug_hook(&unit, "install");
        assert_eq!(out.status.code(), Some(1), "{what}");
        let err = stderr(&out);
        assert!(err.starts_with(&format!("{prefix} {what}")), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    };
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    fails_with("is not executable (chmod +x it)");
    std::fs::remove_file(&script).expect("rm");
    fails_with("does not exist");
    unit.host_script("a.sh", "echo back");
    assert_eq!(stdout(&debug_hook(&unit, "install")), "back\n");
    // The scripts are checked at each hook; lucky.yaml itself was parsed once.
    assert_eq!(yaml_reads(&unit).0, 1, "{}", unit.read("data/lucky.log"));
}

/// Opens a raw connection to the unit's daemon, starting it first.
fn raw_connection(unit: &Unit) -> UnixStream {
    let out = unit.lucky(&["daemon", "start"]);
    assert!(out.status.success(), "{}", stderr(&out));
    UnixStream::connect(unit.socket()).expect("connect")
}

fn read_reply(stream: &mut UnixStream) -> Option<Reply> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    protocol::frame::read_blocking(stream).ok()
}

fn hello(protocol_version: u32) -> Vec<u8> {
    protocol::frame::encode(&Hello {
        protocol: protocol_version,
        version: "test".into(),
        context: None,
    })
    .expect("encode")
}

#[test]
fn bad_frames_are_refused_and_the_daemon_keeps_serving() {
    let unit = Unit::new();

    // Garbage where a hello should be.
    let mut s = raw_connection(&unit);
    s.write_all(&[0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1])
        .expect("write");
    match read_reply(&mut s) {
        Some(Reply::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::Protocol);
            assert!(
                e.message.starts_with("protocol error: undecodable frame"),
                "{}",
                e.message
            );
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }

    // A frame larger than the limit is refused from its header alone.
    let mut s = UnixStream::connect(unit.socket()).expect("connect");
    s.write_all(&u32::MAX.to_be_bytes()).expect("write");
    match read_reply(&mut s) {
        Some(Reply::Error(e)) => assert!(e.message.contains("exceeds the"), "{}", e.message),
        other => panic!("expected a size error, got {other:?}"),
    }

    // A truncated frame, then the client goes away.
    let mut s = UnixStream::connect(unit.socket()).expect("connect");
    s.write_all(&[0, 0, 0, 100, 1, 2, 3]).expect("write");
    drop(s);

    // A valid hello followed by a request of the wrong shape.
    let mut s = UnixStream::connect(unit.socket()).expect("connect");
    let mut bytes = hello(protocol::PROTOCOL_VERSION);
    protocol::frame::encode_into(&mut bytes, &("not", "a", "request")).expect("encode");
    s.write_all(&bytes).expect("write");
    assert!(matches!(read_reply(&mut s), Some(Reply::Error(e)) if e.kind == ErrorKind::Protocol));

    // Connect and close without a word.
    drop(UnixStream::connect(unit.socket()).expect("connect"));

    // Still serving.
    let status = unit.lucky(&["daemon", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(stdout(&status).contains("unit: app/0"));
}

#[test]
fn protocol_version_mismatch_is_a_clear_error() {
    let unit = Unit::new();
    let mut s = raw_connection(&unit);
    let mut bytes = hello(999);
    protocol::frame::encode_into(&mut bytes, &Request::DaemonStatus).expect("encode");
    s.write_all(&bytes).expect("write");
    match read_reply(&mut s) {
        Some(Reply::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::VersionMismatch);
            assert!(
                e.message.starts_with(
                    "version mismatch: this lucky CLI (test) speaks protocol 999 but the daemon"
                ),
                "{}",
                e.message
            );
        }
        other => panic!("expected a version error, got {other:?}"),
    }
    // The daemon closed the connection after refusing it.
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).ok(), Some(0));
}

#[test]
fn sigterm_waits_for_the_running_hook() {
    let unit = Unit::new();
    unit.host_script(
        "long.sh",
        r#"touch "$LUCKY_TEST_DIR/started"; sleep 0.5; lucky daemon status >/dev/null && echo finished"#,
    );
    unit.lucky_yaml("hooks:\n  stop:\n    - host-script: long.sh\n");
    let hook = unit
        .command(&["hook", "stop"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the script to start", Duration::from_secs(5), || {
        unit.path("started").exists()
    });
    let pid = unit.daemon_pid().expect("daemon");
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    let out = hook.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "finished\n");
    wait_for("the daemon to exit", Duration::from_secs(5), || {
        !support::process_alive(pid)
    });
    assert!(!unit.socket().exists(), "a clean stop removes the socket");
}

#[test]
fn unknown_flags_and_commands_are_usage_errors() {
    let unit = Unit::new();
    let out = unit.lucky(&["hook", "install", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--bogus"), "{}", stderr(&out));
    let out = unit.lucky(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = unit.lucky(&["hook", "bad/name"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid hook name \"bad/name\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hundreds_of_random_frames_never_take_the_daemon_down() {
    let unit = Unit::new();
    drop(raw_connection(&unit));
    // A fixed xorshift sequence: reproducible garbage of every size class.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut s = UnixStream::connect(unit.socket()).expect("connect");
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 {
            // A plausible header in front of the garbage.
            let claimed = (next() % 128) as u32;
            bytes.splice(0..0, claimed.to_be_bytes());
        }
        if round % 5 == 0 {
            // A valid hello, then garbage where the request should be.
            bytes.splice(0..0, hello(protocol::PROTOCOL_VERSION));
        }
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = read_reply(&mut s);
    }
    let status = unit.lucky(&["daemon", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
}

#[test]
fn a_flood_of_idle_connections_is_capped_and_the_daemon_recovers() {
    let unit = Unit::new();
    drop(raw_connection(&unit));
    let idle: Vec<UnixStream> = (0..lucky::daemon::MAX_HOST_CONNECTIONS)
        .map(|_| UnixStream::connect(unit.socket()).expect("connect"))
        .collect();
    // The daemon accepts asynchronously: wait until one more connection is refused.
    let mut refused = None;
    for _ in 0..200 {
        let mut s = UnixStream::connect(unit.socket()).expect("connect");
        match read_reply(&mut s) {
            Some(Reply::Error(e)) => {
                refused = Some(e.message);
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let refused = refused.expect("the connection over the cap was not refused");
    assert!(refused.contains("too many connections"), "{refused}");
    drop(idle);
    wait_for("the daemon to serve again", Duration::from_secs(5), || {
        unit.lucky(&["daemon", "status"]).status.success()
    });
}

#[test]
fn a_background_process_holding_the_output_does_not_hang_the_hook() {
    let unit = Unit::new();
    // Without a grace limit the hook would wait 60 s for `sleep` to close the pipes.
    unit.host_script("starts-daemon.sh", "(sleep 60; echo late) & echo started");
    unit.host_script("next.sh", "echo next");
    unit.lucky_yaml(
        "hooks:\n  start:\n    - host-script: starts-daemon.sh\n    - host-script: next.sh\n",
    );
    let started = std::time::Instant::now();
    let out = unit.hook("start");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "started\nnext\n");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the hook waited for the background process"
    );
}

#[test]
fn an_idle_daemon_gives_back_its_code_pages_and_serves_on() {
    let unit = Unit::new();
    unit.host_script("a.sh", "lucky kv set step=hook");
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: a.sh\n");
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", stderr(&out));
    let pid = unit.daemon_pid().expect("a running daemon");
    // Resident file-backed pages: the binary's code and constants.
    let busy = support::status_kib(pid, "RssFile:");
    assert!(busy > 0, "no RssFile for the daemon");
    // No client for the daemon's idle spell, `IDLE_AFTER` in src/daemon/idle.rs (3 s): the pages go.
    wait_for(
        "the idle daemon to give back its pages",
        Duration::from_secs(20),
        || support::status_kib(pid, "RssFile:") < busy / 4,
    );
    // And it serves on from the same binary, its state intact.
    let out = unit.lucky(&["kv", "get", "step"]);
    assert_eq!(stdout(&out).trim(), "hook", "{}", stderr(&out));
    assert_eq!(unit.daemon_pid(), Some(pid));
}
