//! Attacks on the daemon from a client on the host socket: hostile strings that would be
//! flags to Juju's hook tools (recorded by fake tools that keep their argv), a script
//! that runs `lucky hook` inside its own hook, floods of stalled connections, and
//! oversized kv, status and log calls.

mod support;

use lucky::protocol::frame;
use lucky::protocol::{ErrorKind, ErrorReply, LogLevel, Reply, Request, Response, WorkloadStatus};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;
use support::{Unit, raw_call as call, stderr, wait_for};

fn bad_request(result: Result<Response, ErrorReply>, what: &str) -> String {
    match result {
        Err(e) if e.kind == ErrorKind::BadRequest => e.message,
        other => panic!("{what}: expected a bad-request refusal, got {other:?}"),
    }
}

const TOOLS: &[&str] = &[
    "relation-get",
    "relation-set",
    "relation-list",
    "relation-ids",
    "leader-get",
    "leader-set",
    "action-get",
    "action-set",
    "action-fail",
    "action-log",
    "juju-log",
    "status-set",
    "resource-get",
    "config-get",
    "unit-get",
];

/// Fake hook tools that append their name, each argument and (relation-set) their stdin
/// to `argv.log`, and print `{}` where JSON is expected. `juju-log` waits while the file
/// `hold-logs` exists.
fn fake_tools(unit: &Unit) -> PathBuf {
    let bin = unit.path("fakebin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = unit.path("argv.log");
    let hold = unit.path("hold-logs");
    for tool in TOOLS {
        let body = format!(
            r#"#!/bin/sh
if [ {tool} = juju-log ]; then while [ -e '{hold}' ]; do sleep 0.02; done; fi
{{
  echo "CALL {tool}"
  for a in "$@"; do printf 'ARG %s\n' "$a"; done
  if [ {tool} = relation-set ]; then printf 'STDIN %s\n' "$(cat)"; fi
}} >> '{log}'
case {tool} in *-get|relation-list|relation-ids) echo '{{}}' ;; esac
"#,
            hold = hold.display(),
            log = log.display()
        );
        let path = bin.join(tool);
        std::fs::write(&path, body).expect("write tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

/// The recorded calls: (tool, argv, stdin).
fn calls(unit: &Unit) -> Vec<(String, Vec<String>, String)> {
    let mut calls: Vec<(String, Vec<String>, String)> = Vec::new();
    for line in unit.read("argv.log").lines() {
        if let Some(tool) = line.strip_prefix("CALL ") {
            calls.push((tool.to_string(), Vec::new(), String::new()));
        } else if let (Some(arg), Some(last)) = (line.strip_prefix("ARG "), calls.last_mut()) {
            last.1.push(arg.to_string());
        } else if let (Some(input), Some(last)) = (line.strip_prefix("STDIN "), calls.last_mut()) {
            last.2 = input.to_string();
        }
    }
    calls
}

/// Starts hook `name` whose one host script hands the test its token and waits for
/// `go-on`; returns the hook process and the token.
fn hook_holding_its_token(unit: &Unit, bin: &Path, name: &str, action: bool) -> (Child, String) {
    let mut cmd = unit.command(&["hook", name]);
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    if action {
        cmd.env("JUJU_ACTION_NAME", name);
    }
    let _ = std::fs::remove_file(unit.path("token"));
    let _ = std::fs::remove_file(unit.path("go-on"));
    let child = cmd.spawn().expect("start hook");
    wait_for("the script's token", Duration::from_secs(30), || {
        unit.read("token").ends_with('\n')
    });
    (child, unit.read("token").trim().to_string())
}

fn finish(unit: &Unit, child: Child) -> std::process::Output {
    std::fs::write(unit.path("go-on"), "").expect("go on");
    child.wait_with_output().expect("hook")
}

const HOLDING_SCRIPT: &str = r#"echo "$LUCKY_CONTEXT" > "$LUCKY_TEST_DIR/token"
while [ ! -e "$LUCKY_TEST_DIR/go-on" ]; do sleep 0.02; done"#;

fn holding_unit() -> Unit {
    let unit = Unit::new();
    unit.host_script("hold.sh", HOLDING_SCRIPT);
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: hold.sh\n  config-changed:\n    - host-script: hold.sh\nactions:\n  backup:\n    - host-script: hold.sh\n",
    );
    unit
}

/// Our own flags and the values we put after them: the only words allowed before `--`.
fn own_word(word: &str) -> bool {
    matches!(
        word,
        "--format=json"
            | "-r"
            | "db:1"
            | "--app"
            | "--file"
            | "-"
            | "-l"
            | "INFO"
            | "ERROR"
            | "--all"
            | "private-address"
            | "public-address"
    )
}

#[test]
fn client_strings_never_reach_a_hook_tool_as_flags() {
    let unit = holding_unit();
    let bin = fake_tools(&unit);
    let (hook, token) = hook_holding_its_token(&unit, &bin, "install", false);
    let socket = unit.socket();
    let t = Some(token.as_str());
    let flag = "--output=/tmp/lucky-pwned".to_string();

    // Names are checked for what Juju accepts there.
    let hostile: Vec<(&str, Request)> = vec![
        (
            "relation id",
            Request::RelationGet {
                relation_id: Some(flag.clone()),
                remote: None,
                app: false,
                key: None,
            },
        ),
        (
            "unit",
            Request::RelationGet {
                relation_id: Some("db:1".into()),
                remote: Some("--file=/etc/shadow".into()),
                app: false,
                key: None,
            },
        ),
        (
            "key",
            Request::RelationGet {
                relation_id: None,
                remote: None,
                app: false,
                key: Some(flag.clone()),
            },
        ),
        (
            "key",
            Request::RelationSet {
                relation_id: None,
                app: false,
                pairs: vec![(flag.clone(), Some("x".into()))],
                file: None,
            },
        ),
        (
            "key",
            Request::RelationSet {
                relation_id: None,
                app: false,
                pairs: Vec::new(),
                file: Some(format!("{flag}: x\n")),
            },
        ),
        (
            "relation id",
            Request::RelationModelGet {
                relation_id: Some("-rdb:1".into()),
            },
        ),
        (
            "binding",
            Request::PortOpen {
                port: "80".into(),
                endpoints: vec![flag.clone()],
            },
        ),
        (
            "relation id",
            Request::RelationListUnits {
                relation_id: Some("-rdb:1".into()),
                app: false,
            },
        ),
        (
            "relation name",
            Request::RelationListIds {
                relation_name: Some(flag.clone()),
            },
        ),
        (
            "key",
            Request::LeaderGet {
                key: Some("-o/tmp/x".into()),
            },
        ),
        (
            "key",
            Request::LeaderSet {
                pairs: vec![("--file".into(), Some("/etc/shadow".into()))],
            },
        ),
        ("resource name", Request::GetResource { name: flag.clone() }),
        (
            "key",
            Request::KvSet {
                pairs: vec![("-x".into(), Some("1".into()))],
            },
        ),
    ];
    for (what, request) in &hostile {
        let message = bad_request(call(&socket, t, request), what);
        assert!(
            message.starts_with(&format!("invalid {what} ")),
            "{what}: {message}"
        );
    }

    // Values and free text are data: they reach the tool, never as a flag.
    let allowed = [
        Request::RelationSet {
            relation_id: Some("db:1".into()),
            app: true,
            pairs: vec![("url".into(), Some(flag.clone())), ("gone".into(), None)],
            file: None,
        },
        Request::RelationGet {
            relation_id: Some("db:1".into()),
            remote: Some("app/1".into()),
            app: false,
            key: Some("url".into()),
        },
        Request::LeaderSet {
            pairs: vec![("k".into(), Some(flag.clone()))],
        },
        Request::Log {
            level: LogLevel::Info,
            message: flag.clone(),
        },
        Request::SetStatus {
            owner: "x".into(),
            status: Some(WorkloadStatus::Blocked),
            message: flag.clone(),
            named: true,
        },
        Request::GetResource {
            name: "image".into(),
        },
        Request::RelationListIds {
            relation_name: Some("db".into()),
        },
    ];
    for request in &allowed {
        call(&socket, t, request).unwrap_or_else(|e| panic!("{request:?}: {e}"));
    }
    let out = finish(&unit, hook);
    assert!(out.status.success(), "{}", stderr(&out));

    // An action: its keys and messages too.
    let (hook, token) = hook_holding_its_token(&unit, &bin, "backup", true);
    let t = Some(token.as_str());
    for request in [
        Request::ActionGet {
            key: Some(flag.clone()),
        },
        Request::ActionSet {
            pairs: vec![(flag.clone(), "x".into())],
        },
    ] {
        let message = bad_request(call(&socket, t, &request), "action key");
        assert!(message.starts_with("invalid action key "), "{message}");
    }
    for request in [
        Request::ActionSet {
            pairs: vec![("result.url".into(), flag.clone())],
        },
        Request::ActionLog {
            message: flag.clone(),
        },
        Request::ActionFail {
            message: flag.clone(),
        },
    ] {
        call(&socket, t, &request).unwrap_or_else(|e| panic!("{request:?}: {e}"));
    }
    let out = finish(&unit, hook);
    assert!(out.status.success(), "{}", stderr(&out));

    let calls = calls(&unit);
    let tools: Vec<&str> = calls.iter().map(|(t, _, _)| t.as_str()).collect();
    for expected in [
        "relation-set",
        "relation-get",
        "leader-set",
        "juju-log",
        "status-set",
        "resource-get",
        "relation-ids",
        "action-set",
        "action-log",
        "action-fail",
    ] {
        assert!(
            tools.contains(&expected),
            "{expected} not called: {tools:?}"
        );
    }
    // The refused requests never ran a tool: every call is one of the allowed ones.
    assert!(!tools.contains(&"relation-list") && !tools.contains(&"leader-get"));
    assert!(!tools.contains(&"action-get"), "{tools:?}");
    for (tool, argv, input) in &calls {
        let split = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
        for word in &argv[..split] {
            assert!(own_word(word), "{tool} got {word:?} as a flag: {argv:?}");
        }
        if tool == "relation-set" {
            assert_eq!(argv, &["-r", "db:1", "--app", "--file", "-"]);
            assert_eq!(input, &format!(r#"{{"gone":"","url":"{flag}"}}"#));
        }
        if tool == "leader-set" {
            assert_eq!(argv, &["--".to_string(), format!("k={flag}")]);
        }
        if tool == "juju-log" {
            assert_eq!(argv, &["-l", "INFO", "--", flag.as_str()]);
        }
        if tool == "status-set" {
            assert_eq!(argv, &["--", "blocked", flag.as_str()]);
        }
    }
    assert!(!Path::new("/tmp/lucky-pwned").exists());
}

#[test]
fn lucky_hook_inside_its_own_hook_is_refused_at_once() {
    let unit = Unit::new();
    unit.host_script(
        "nested.sh",
        r#"timeout 20 lucky hook config-changed 2> "$LUCKY_TEST_DIR/nested.err"
echo "$?" > "$LUCKY_TEST_DIR/nested.exit""#,
    );
    unit.lucky_yaml("hooks:\n  install:\n    - host-script: nested.sh\n");
    let started = std::time::Instant::now();
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", stderr(&out));
    // Refused, not timed out (timeout(1) exits 124) and not run.
    assert_eq!(unit.read("nested.exit").trim(), "1");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the nested call waited"
    );
    let err = unit.read("nested.err");
    assert!(
        err.contains("cannot run hook \"config-changed\" from a script of the running install"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn stalled_connections_claiming_4_mib_each_cost_the_daemon_almost_nothing() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks: {}\n");
    assert!(unit.hook("install").status.success());
    let pid = unit.daemon_pid().expect("daemon pid");
    let before = support::status_kib(pid, "VmRSS:");
    // 400 clients (fewer than the 512 slots): hello, then a request header claiming the
    // 4 MiB maximum and a few bytes of it, then nothing.
    let mut held = Vec::new();
    for _ in 0..400 {
        let mut stream = support::connect_with_hello(&unit.socket(), None);
        use std::io::Write;
        let mut partial = frame::MAX_FRAME_LEN.to_be_bytes().to_vec();
        partial.extend_from_slice(&[0x81; 16]);
        stream.write_all(&partial).expect("partial frame");
        held.push(stream);
    }
    // Everyone else is still served while they stall.
    let status = unit.lucky(&["daemon", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let grown_mib = support::status_kib(pid, "VmRSS:").saturating_sub(before) / 1024;
    // Allocating the claimed lengths would be 1600 MiB.
    assert!(
        grown_mib < 100,
        "the daemon grew by {grown_mib} MiB for 400 stalled connections"
    );
    drop(held);
}

#[test]
fn kv_and_status_quotas_refuse_clearly_and_keep_what_is_stored() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks: {}\n");
    assert!(unit.hook("install").status.success());
    let socket = unit.socket();
    let big = "v".repeat(64 * 1024 + 1);
    let message = bad_request(
        call(
            &socket,
            None,
            &Request::KvSet {
                pairs: vec![("big".into(), Some(big))],
            },
        ),
        "kv value",
    );
    assert!(
        message.contains("cannot store kv key \"big\"") && message.contains("limit is 65536 bytes"),
        "{message}"
    );
    // Fill the store to its 1 MiB total: the write that would pass it is refused whole.
    let value = "v".repeat(60 * 1024);
    let mut stored = 0;
    let refusal = loop {
        let key = format!("k{stored}");
        match call(
            &socket,
            None,
            &Request::KvSet {
                pairs: vec![(key, Some(value.clone()))],
            },
        ) {
            Ok(_) => stored += 1,
            Err(e) => break e,
        }
        assert!(stored < 40, "no total limit");
    };
    assert_eq!(refusal.kind, ErrorKind::BadRequest);
    assert!(
        refusal
            .message
            .contains("the limit is 1048576 bytes; delete keys you no longer need"),
        "{}",
        refusal.message
    );
    assert_eq!(stored, 17);
    let out = unit.lucky(&["kv", "get", "k16"]);
    assert_eq!(support::stdout(&out).trim_end().len(), value.len());
    assert_eq!(support::stdout(&unit.lucky(&["kv", "get", "k17"])), "\n");

    // A 200 KiB status message is refused; the unit's status goes on working.
    let huge = bad_request(
        call(
            &socket,
            None,
            &Request::SetStatus {
                owner: "huge".into(),
                status: Some(WorkloadStatus::Blocked),
                message: "m".repeat(200 * 1024),
                named: true,
            },
        ),
        "status message",
    );
    assert!(
        huge.contains("cannot set a status message of 204800 bytes: the limit is 1024 bytes"),
        "{huge}"
    );
    let ok = unit.lucky(&["set-status", "--name", "db", "waiting", "for db"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn juju_log_calls_queue_boundedly_behind_a_slow_agent() {
    let unit = holding_unit();
    let bin = fake_tools(&unit);
    let (hook, token) = hook_holding_its_token(&unit, &bin, "install", false);
    // The agent takes no log line for now.
    std::fs::write(unit.path("hold-logs"), "").expect("hold");
    let line = "l".repeat(30 * 1024);
    // One call per connection, as `lucky log` makes them.
    let log_call = || {
        let mut stream = support::connect_with_hello(&unit.socket(), Some(&token));
        let log = Request::Log {
            level: LogLevel::Info,
            message: line.clone(),
        };
        frame::write_blocking(&mut stream, &log).expect("log");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        stream
    };
    let mut answered = 0;
    let mut waiting = None;
    for _ in 0..40 {
        let mut stream = log_call();
        match frame::read_blocking::<Reply>(&mut stream) {
            Ok(Reply::Done(Response::Ok)) => answered += 1,
            Ok(other) => panic!("{other:?}"),
            // The queue is full: the caller waits, holding nothing more in the daemon.
            Err(_) => {
                waiting = Some(stream);
                break;
            }
        }
    }
    assert!(
        (30..=33).contains(&answered),
        "{answered} log calls were queued"
    );
    let mut stream = waiting.expect("a log call waits for the agent");
    // The agent catches up: the waiting call returns, and the hook ends normally.
    std::fs::remove_file(unit.path("hold-logs")).expect("release");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    assert!(matches!(
        frame::read_blocking::<Reply>(&mut stream),
        Ok(Reply::Done(Response::Ok))
    ));
    drop(stream);
    let out = finish(&unit, hook);
    assert!(out.status.success(), "{}", stderr(&out));
    let logged = calls(&unit)
        .iter()
        .filter(|(t, _, _)| t == "juju-log")
        .count();
    assert_eq!(logged, answered + 1);
}

#[test]
fn a_data_dir_open_to_others_is_made_owner_only() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks: {}\n");
    std::fs::create_dir_all(unit.data_dir()).expect("mkdir");
    std::fs::set_permissions(unit.data_dir(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(unit.data_dir())
        .expect("data dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let socket_mode = std::fs::metadata(unit.socket())
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(socket_mode & 0o777, 0o600);
}

#[test]
fn a_client_that_never_reads_its_reply_is_dropped_and_stalls_no_one() {
    let unit = Unit::new();
    unit.lucky_yaml("hooks: {}\n");
    assert!(unit.hook("install").status.success());
    let socket = unit.socket();
    // Nearly 1 MiB of kv: a `kv get` of it all is far more than a socket buffer holds.
    let value = "v".repeat(60 * 1024);
    for i in 0..16 {
        call(
            &socket,
            None,
            &Request::KvSet {
                pairs: vec![(format!("k{i}"), Some(value.clone()))],
            },
        )
        .expect("kv set");
    }
    let mut stalled = support::connect_with_hello(&socket, None);
    frame::write_blocking(&mut stalled, &Request::KvGet { key: None }).expect("request");
    let asked = std::time::Instant::now();
    // Everyone else is served while the reply waits on a reader that never comes.
    std::thread::sleep(Duration::from_secs(1));
    assert!(matches!(
        call(&socket, None, &Request::DaemonStatus),
        Ok(Response::DaemonStatus(_))
    ));
    // Past the write timeout the daemon has dropped the connection with its reply.
    let timeout = lucky::daemon::connection::WRITE_TIMEOUT;
    std::thread::sleep(timeout.saturating_sub(asked.elapsed()) + Duration::from_secs(5));
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    use std::io::Read;
    let mut header = [0u8; 4];
    stalled
        .read_exact(&mut header)
        .expect("the start of the reply");
    let claimed = u32::from_be_bytes(header) as usize;
    let mut got = Vec::new();
    stalled
        .read_to_end(&mut got)
        .expect("the connection ends (closed by the daemon), not hangs");
    assert!(
        got.len() < claimed,
        "the daemon dropped the reply part-way: {} of {claimed} bytes",
        got.len()
    );
    assert!(
        claimed > 900 * 1024,
        "the reply was the whole store: {claimed}"
    );
}

/// One request per connection: after its answer the daemon closes the connection, so a
/// client cannot keep one (and its slot) by sending more, and the extra request is not run.
#[test]
fn a_connection_carries_one_request() {
    let unit = Unit::new();
    assert!(unit.lucky(&["daemon", "start"]).status.success());
    let mut stream = support::connect_with_hello(&unit.socket(), None);
    frame::write_blocking(&mut stream, &Request::KvGet { key: None }).expect("first");
    let second = Request::KvSet {
        pairs: vec![("k".into(), Some("v".into()))],
    };
    frame::write_blocking(&mut stream, &second).expect("second");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert!(matches!(
        frame::read_blocking::<Reply>(&mut stream),
        Ok(Reply::Done(Response::Value(_)))
    ));
    let mut rest = Vec::new();
    use std::io::Read;
    assert_eq!(
        stream
            .read_to_end(&mut rest)
            .expect("the daemon closes the connection, not leaves it open"),
        0
    );
    assert_eq!(
        support::stdout(&unit.lucky(&["kv", "get", "k"])),
        "\n",
        "the second request was run"
    );
}
