//! Health checks (lucky.yaml `checks:`) against real listeners and processes: each goes
//! down after `threshold` failures and up again, and the status it feeds reaches Juju (the
//! simulator) between hooks through `juju-exec`.

mod support;

use lucky::simulator::Model;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use support::{Unit, wait_for};

fn model_for(unit: &Unit) -> Model {
    std::fs::write(
        unit.charm().join("metadata.yaml"),
        "name: checked\nsummary: s\ndescription: d\n",
    )
    .expect("metadata");
    let dir = unit.charm().join("hooks");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for hook in ["install", "stop"] {
        let path = dir.join(hook);
        std::fs::write(&path, format!("#!/bin/sh\nexec lucky hook {hook}\n")).expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    unit.model()
}

fn status(model: &Model) -> (String, String) {
    let s = model.unit_status().expect("status");
    (s.status, s.message)
}

fn check_show(unit: &Unit, name: &str) -> String {
    let out = unit.lucky(&["check", "show", name]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    support::stdout(&out)
}

fn state_of(unit: &Unit, name: &str) -> String {
    check_show(unit, name)
        .lines()
        .find_map(|l| l.strip_prefix("state:").map(|s| s.trim().to_string()))
        .unwrap_or_default()
}

/// Status-set calls made outside any hook: through the daemon's `juju-exec` contexts.
fn exec_status_sets(model: &Model) -> Vec<Vec<String>> {
    model
        .calls()
        .expect("calls")
        .into_iter()
        .filter(|c| c.tool == "status-set" && c.hook == "juju-exec")
        .map(|c| c.args)
        .collect()
}

#[test]
fn a_tcp_check_goes_down_and_up_and_its_status_reaches_juju_between_hooks() {
    let mut unit = Unit::new();
    unit.name = "checked/0".into();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    unit.lucky_yaml(&format!(
        "hooks:\n  install: []\nchecks:\n  db:\n    tcp: \"{address}\"\n    period: 200ms\n    timeout: 1s\n    threshold: 3\n    status: health\n"
    ));
    let model = model_for(&unit);
    assert!(model.run_hook("install").expect("install").success());
    wait_for("the check up", Duration::from_secs(10), || {
        state_of(&unit, "db") == "up"
    });
    wait_for("active pushed", Duration::from_secs(10), || {
        status(&model).0 == "active"
    });

    drop(listener);
    wait_for("the check down", Duration::from_secs(10), || {
        state_of(&unit, "db") == "down"
    });
    let shown = check_show(&unit, "db");
    assert!(
        shown.contains("failures:  3 in a row (down at 3)"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("cannot connect to {address}: Connection refused")),
        "{shown}"
    );
    wait_for("blocked pushed", Duration::from_secs(10), || {
        status(&model).0 == "blocked"
    });
    let (_, message) = status(&model);
    assert!(
        message.starts_with(&format!(
            "health check \"db\" failing: cannot connect to {address}: Connection refused"
        )),
        "{message}"
    );
    let log = model.debug_log().expect("log");
    assert!(
        log.contains("health check \"db\" is down after 3 failures"),
        "{log}"
    );
    // What an operator's `juju status` shows of it, through the simulator's `sim show`.
    let sim = std::process::Command::new(support::LUCKY)
        .args(["sim", "show"])
        .arg(model.dir())
        .output()
        .expect("lucky sim show");
    assert!(sim.status.success(), "{}", support::stderr(&sim));
    let sim = support::stdout(&sim);
    let unit_status: Vec<&str> = sim
        .lines()
        .skip_while(|l| !l.starts_with("unit-status:"))
        .take_while(|l| l.starts_with("unit-status:") || l.starts_with(' '))
        .collect();
    assert_eq!(unit_status.len(), 3, "{sim}");
    assert_eq!(unit_status[0], "unit-status:", "{sim}");
    assert!(
        unit_status[1].starts_with(&format!(
            r#"  message: "health check \"db\" failing: cannot connect to {address}: Connection refused"#
        )),
        "{sim}"
    );
    assert_eq!(unit_status[2], "  status: blocked", "{sim}");
    let unit_status = unit_status.join("\n");
    eprintln!("a failing check in `lucky sim show`:\n{unit_status}");

    let listener = TcpListener::bind(address).expect("rebind");
    wait_for("the check up again", Duration::from_secs(10), || {
        state_of(&unit, "db") == "up"
    });
    wait_for("active pushed again", Duration::from_secs(10), || {
        status(&model).0 == "active"
    });
    // Each change went to Juju once, from a juju-exec context, with no hook run (the
    // call is recorded a moment after the status it set).
    wait_for(
        "the third status-set recorded",
        Duration::from_secs(10),
        || exec_status_sets(&model).len() >= 3,
    );
    std::thread::sleep(Duration::from_millis(300));
    let sets = exec_status_sets(&model);
    let kinds: Vec<&str> = sets
        .iter()
        .filter_map(|a| a.get(1))
        .map(String::as_str)
        .collect();
    assert_eq!(kinds, ["active", "blocked", "active"], "{sets:?}");
    let list = support::stdout(&unit.lucky(&["check", "list"]));
    assert!(
        list.starts_with("NAME  STATE    FAILURES  KIND   LAST FAILURE\n"),
        "{list}"
    );
    assert!(list.contains("db    up            0/3  tcp    "), "{list}");
    drop(listener);
}

/// Answers each HTTP request with the status `code` holds.
fn http_responder(code: Arc<AtomicU16>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 {} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                code.load(Ordering::SeqCst)
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn an_http_check_wants_its_status_code() {
    let mut unit = Unit::new();
    unit.name = "checked/0".into();
    let code = Arc::new(AtomicU16::new(200));
    let port = http_responder(Arc::clone(&code));
    unit.lucky_yaml(&format!(
        "hooks:\n  install: []\nchecks:\n  web:\n    http: {{url: \"http://127.0.0.1:{port}/health\"}}\n    period: 200ms\n    threshold: 2\n    status: health\n"
    ));
    let model = model_for(&unit);
    assert!(model.run_hook("install").expect("install").success());
    wait_for("the check up", Duration::from_secs(10), || {
        state_of(&unit, "web") == "up"
    });
    code.store(503, Ordering::SeqCst);
    wait_for("blocked pushed", Duration::from_secs(10), || {
        status(&model).0 == "blocked"
    });
    assert_eq!(
        status(&model).1,
        format!(
            "health check \"web\" failing: GET http://127.0.0.1:{port}/health answered 503, expected 200"
        )
    );
    assert_eq!(state_of(&unit, "web"), "down");
    code.store(200, Ordering::SeqCst);
    wait_for("active pushed", Duration::from_secs(10), || {
        status(&model).0 == "active"
    });
    let json = support::stdout(&unit.lucky(&["check", "show", "web", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["state"], "up");
    assert_eq!(v["kind"], "http");
    assert!(
        v["last_failures"].as_array().is_some_and(|f| f.len() == 2),
        "{v}"
    );
}

#[test]
fn exec_checks_run_commands_with_a_timeout() {
    let mut unit = Unit::new();
    unit.name = "checked/0".into();
    let flag = unit.path("ok");
    std::fs::write(&flag, "").expect("flag");
    unit.lucky_yaml(&format!(
        r#"hooks:
  install: []
checks:
  file:
    exec: {{command: "[ -f '{}' ] || {{ echo no ok file; exit 1; }}"}}
    period: 200ms
    threshold: 2
    status: health
  slow:
    exec: {{command: ["sleep", "5"], in: host}}
    period: 200ms
    timeout: 300ms
    threshold: 1
"#,
        flag.display()
    ));
    let model = model_for(&unit);
    assert!(model.run_hook("install").expect("install").success());
    wait_for("the file check up", Duration::from_secs(10), || {
        state_of(&unit, "file") == "up"
    });
    wait_for("the slow check down", Duration::from_secs(10), || {
        state_of(&unit, "slow") == "down"
    });
    assert!(
        check_show(&unit, "slow").contains("no answer within the timeout (300ms)"),
        "{}",
        check_show(&unit, "slow")
    );
    std::fs::remove_file(&flag).expect("rm");
    wait_for("blocked pushed", Duration::from_secs(10), || {
        status(&model).0 == "blocked"
    });
    // The slow check feeds no status: only the file check's failure shows.
    assert_eq!(
        status(&model).1,
        "health check \"file\" failing: the command exited with status 1: no ok file"
    );
    std::fs::write(&flag, "").expect("flag");
    wait_for("active pushed", Duration::from_secs(10), || {
        status(&model).0 == "active"
    });

    let missing = unit.lucky(&["check", "show", "nope"]);
    assert!(!missing.status.success());
    let err = support::stderr(&missing);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot show check \"nope\": no such check"),
        "{err}"
    );
}

#[test]
fn charm_build_refuses_a_bad_check_with_its_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("app");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("metadata.yaml"),
        "name: app\nsummary: s\ndescription: d\n",
    )
    .expect("metadata");
    std::fs::write(
        dir.join("lucky.yaml"),
        "hooks:\n  install: []\nchecks:\n  web:\n    tcp: \"127.0.0.1:80\"\n    period: often\n",
    )
    .expect("lucky.yaml");
    let out = std::process::Command::new(support::LUCKY)
        .args(["charm", "build"])
        .arg(&dir)
        .output()
        .expect("build");
    assert_eq!(out.status.code(), Some(1));
    let err = support::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    let file = dir.canonicalize().expect("canonical").join("lucky.yaml");
    assert!(
        err.starts_with(&format!(
            "lucky: {}:6: check \"web\": key `period`: expected a duration",
            file.display()
        )),
        "{err}"
    );
    assert!(!dir.join("build").exists());
}

#[test]
fn an_exec_check_in_a_container_restarts_it_when_it_goes_down() {
    use support::docker::{TEST_IMAGE, docker, runtime};
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- sleep 100000
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
    - inline-container-script: touch /tmp/ok
  config-changed:
    - inline-container-script: rm /tmp/ok
checks:
  alive:
    exec: {{command: "[ -f /tmp/ok ] || {{ echo no /tmp/ok; exit 1; }}", in: container}}
    period: 300ms
    timeout: 2s
    threshold: 2
    restart-container: true
"#
    );
    let unit = support::docker::Unit::new(&yaml, &[]);
    let rt = runtime();
    let engine = docker(&rt);
    unit.hook_ok("install");
    let show = |name: &str| support::docker::text(&unit.lucky(&["check", "show", name]));
    wait_for("the check up", Duration::from_secs(20), || {
        show("alive").contains("state:     up")
    });
    let before = unit.containers(&rt, &engine)["default"].clone();
    unit.hook_ok("config-changed");
    wait_for("the check down", Duration::from_secs(20), || {
        show("alive").contains("state:     down")
    });
    // Wait on the engine, not on the check's log: a restart tried during install (the
    // check probes before the container exists) left the same line there already.
    wait_for("the restart", Duration::from_secs(40), || {
        unit.containers(&rt, &engine)["default"].1 != before.1
    });
    let after = unit.containers(&rt, &engine)["default"].clone();
    assert_eq!(
        after.0, before.0,
        "the same container, restarted, not recreated"
    );
    let shown = show("alive");
    assert!(shown.contains("restarted container default"), "{shown}");
    assert!(
        shown.contains("the command exited with status 1: no /tmp/ok"),
        "{shown}"
    );
}
