//! The container boundary, attacked from inside a real container (the engine
//! `tests/support/docker-engine.sh start` runs): the socket folder cannot be changed from
//! inside, the daemon is reached again after a restart, container scripts carry a token
//! of their own that dies with them and none of the hook's secrets, and every row of the
//! container socket policy (docs/container-policy.md) holds.

mod support;

use lucky::protocol::frame;
use lucky::protocol::{ErrorKind, Hello, PROTOCOL_VERSION, Request, Response};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::Duration;
use support::docker::{TEST_IMAGE, Unit, text};

/// `lucky hook NAME` with what a real hook also has: the agent socket address and a
/// context id, which must stay on the host.
fn hook(unit: &Unit, name: &str) -> Output {
    hook_command(unit, name).output().expect("run lucky hook")
}

fn hook_command(unit: &Unit, name: &str) -> Command {
    let mut cmd = Command::new(&unit.lucky);
    cmd.args(["hook", name])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("JUJU_UNIT_NAME", &unit.name)
        .env("JUJU_CHARM_DIR", unit.charm_dir())
        .env("JUJU_CONTEXT_ID", "ctx-secret-42")
        .env("JUJU_AGENT_SOCKET_ADDRESS", "@/var/lib/juju/agent.socket")
        .env("JUJU_RELATION_ID", "db:7")
        .env("LUCKY_SOCKET", unit.socket())
        .env("LUCKY_DATA_DIR", unit.data_dir())
        .env("DOCKER_HOST", &unit.docker_host);
    cmd
}

fn hook_ok(unit: &Unit, name: &str) -> String {
    let out = hook(unit, name);
    let text = text(&out);
    assert!(out.status.success(), "hook {name} failed:\n{text}");
    text
}

/// Requests a container client may make with its script token, and the commands that
/// send them (rows of docs/container-policy.md marked "script token").
const TOKEN_ROWS: &[(&str, &str)] = &[
    ("kv-set", "lucky kv set stolen=1"),
    ("kv-get", "lucky kv get"),
    (
        "set-status",
        "lucky set-status --name forged blocked forged",
    ),
    ("get-config", "lucky get-config"),
    ("get-resource", "lucky get-resource img"),
    ("leader-get", "lucky leader get"),
    ("leader-set", "lucky leader set k=v"),
    ("is-leader", "lucky leader is-leader"),
    ("relation-get", "lucky relation get"),
    ("relation-set", "lucky relation set k=v"),
    ("relation-list-units", "lucky relation list-units"),
    ("relation-list-ids", "lucky relation list-ids -n db"),
    ("port-open", "lucky port open 80"),
    ("port-close", "lucky port close 80"),
    ("port-get-opened", "lucky port get-opened"),
    ("private-address", "lucky private-address"),
    ("public-address", "lucky public-address"),
    ("log", "lucky log forged-line"),
    ("action-get", "lucky action get"),
    ("action-set", "lucky action set k=v"),
    ("action-fail", "lucky action fail x"),
    ("action-log", "lucky action log x"),
    ("container-get", "lucky container env get"),
    ("storage-get", "lucky storage get -s data/0"),
    ("storage-list", "lucky storage list"),
    ("network-get", "lucky network get website"),
    ("status-get", "lucky get-status"),
    (
        "set-application-status",
        "lucky set-status --application active x",
    ),
    (
        "set-application-version",
        "lucky set-application-version 1.0",
    ),
    ("state-get", "lucky state get"),
    ("state-set", "lucky state set k=v"),
    ("goal-state", "lucky goal-state"),
    ("checks", "lucky check list"),
];

/// The rows of [`TOKEN_ROWS`] that run a Juju hook tool, and the tool each runs first.
const TOOL_ROWS: &[(&str, &str)] = &[
    ("set-status", "status-set"),
    ("get-config", "config-get"),
    ("get-resource", "resource-get"),
    ("leader-get", "leader-get"),
    ("leader-set", "leader-set"),
    ("is-leader", "is-leader"),
    ("relation-get", "relation-get"),
    ("relation-set", "relation-set"),
    ("relation-list-units", "relation-list"),
    ("relation-list-ids", "relation-ids"),
    ("port-open", "open-port"),
    ("port-close", "close-port"),
    ("port-get-opened", "opened-ports"),
    ("private-address", "unit-get"),
    ("public-address", "unit-get"),
    ("storage-get", "storage-get"),
    ("storage-list", "storage-list"),
    ("network-get", "network-get"),
    ("status-get", "status-get"),
    // Only the leader may: is-leader is asked first.
    ("set-application-status", "is-leader"),
    ("set-application-version", "application-version-set"),
    ("state-get", "state-get"),
    ("state-set", "state-set"),
    ("goal-state", "goal-state"),
];

/// Rows denied from a container, even to a container script.
const DENIED_ROWS: &[(&str, &str)] = &[
    ("daemon-stop", "lucky daemon stop"),
    ("hook", "lucky hook install"),
    ("container-edit", "lucky container env set X=1"),
    ("container-apply", "lucky container apply-updates"),
    ("history", "lucky history"),
    ("history-show", "lucky history show 1"),
    ("storage-add", "lucky storage add data"),
    ("check-report", "lucky check report --token x"),
];

const DENIED_WITHOUT_TOKEN: &str =
    "is only allowed inside a container from a container script while it runs";

fn probe_script() -> String {
    let mut probe = String::from(
        r#"#!/bin/sh
echo "token-differs=$([ "$LUCKY_CONTEXT" != "$(cat /data/hook-token)" ] && echo yes || echo no)"
# The socket folder is read-only inside: no file, no symlink swap, no rename.
touch /run/lucky/planted 2>/dev/null; echo "write exit=$?"
ln -sf /data/victim /run/lucky/lucky.sock 2>/dev/null; echo "symlink exit=$?"
rm -f /run/lucky/lucky.sock 2>/dev/null; echo "rm exit=$?"
# What the script sees of the hook.
echo "env-context-id=${JUJU_CONTEXT_ID:-none} agent=${JUJU_AGENT_SOCKET_ADDRESS:-none} charm-dir=${JUJU_CHARM_DIR:-none} unit=${JUJU_UNIT_NAME:-none} relation=${JUJU_RELATION_ID:-none}"
echo "main-process-token=$(tr '\0' '\n' < /proc/1/environ | grep -c LUCKY_CONTEXT)"
# The hook's own token, found in the container, is not accepted on the container socket.
LUCKY_CONTEXT="$(cat /data/hook-token)" lucky kv set stolen-with-hook-token=1 2>&1; echo "hook-token exit=$?"
"#,
    );
    for (row, cmd) in TOKEN_ROWS {
        probe.push_str(&format!(
            "{cmd} >/tmp/out 2>&1; echo \"with-token {row} exit=$? $(tr '\\n' ' ' </tmp/out)\"\n"
        ));
        probe.push_str(&format!(
            "LUCKY_CONTEXT= {cmd} >/tmp/out 2>&1; echo \"no-token {row} exit=$? $(tr '\\n' ' ' </tmp/out)\"\n"
        ));
    }
    for (row, cmd) in DENIED_ROWS {
        probe.push_str(&format!(
            "{cmd} >/tmp/out 2>&1; echo \"denied {row} exit=$? $(tr '\\n' ' ' </tmp/out)\"\n"
        ));
    }
    probe.push_str(
        r#"LUCKY_CONTEXT= lucky daemon status >/tmp/out 2>&1; echo "always daemon-status exit=$?"
# A process the script leaves behind keeps the token, which dies with the script.
token="$LUCKY_CONTEXT"
(sleep 1; LUCKY_CONTEXT="$token" lucky kv set late=1 >/data/late.out 2>&1; touch /data/late.done) </dev/null >/dev/null 2>&1 &
"#,
    );
    probe
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
}

#[test]
fn a_container_cannot_touch_the_socket_folder_steal_the_hook_or_pass_the_policy() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container volume add data /data
        lucky container set-command -- /bin/sh -c "exec sleep 100000"
        lucky container apply-updates
        echo "$LUCKY_CONTEXT" > "$LUCKY_DATA_DIR/volumes/data/hook-token"
        echo secret > "$LUCKY_DATA_DIR/volumes/data/victim"
        chmod 600 "$LUCKY_DATA_DIR/volumes/data/victim"
      shell-command: ["/bin/sh", "-c"]
    - container-script: probe.sh
  config-changed:
    - inline-host-script: lucky kv set from-host=yes
      shell-command: ["/bin/sh", "-c"]
    - container-script: after.sh
"#
    );
    let after = r#"#!/bin/sh
while [ ! -e /data/late.done ]; do sleep 0.1; done
echo "late: $(cat /data/late.out)"
echo "after-restart: $(lucky kv get from-host)"
"#;
    let unit = Unit::new(&yaml, &[("probe.sh", &probe_script()), ("after.sh", after)]);
    let out = hook_ok(&unit, "install");

    // Finding 1: the folder holding the container socket is read-only inside.
    for attack in ["write", "symlink", "rm"] {
        let l = line(&out, &format!("{attack} exit="));
        assert_ne!(l, format!("{attack} exit=0"), "{out}");
    }
    let data = unit.data_dir();
    assert!(!data.join("container-run/planted").exists());
    let mode = |p: &std::path::Path| {
        std::fs::symlink_metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    assert_eq!(mode(&data.join("container-run/lucky.sock")), 0o666);
    assert_eq!(mode(&unit.socket()), 0o600);

    // Finding 3: the script's token is its own; the hook's secrets stay on the host.
    assert!(out.contains("token-differs=yes"), "{out}");
    assert!(
        out.contains("env-context-id=none agent=none charm-dir=none unit="),
        "{out}"
    );
    assert!(
        out.contains(&format!("unit={} relation=db:7", unit.name)),
        "{out}"
    );
    assert!(out.contains("main-process-token=0"), "{out}");
    assert!(out.contains("hook-token exit=6"), "{out}");
    assert!(out.contains(DENIED_WITHOUT_TOKEN), "{out}");
    assert_eq!(
        text(&unit.lucky(&["kv", "get", "stolen-with-hook-token"])),
        "\n"
    );

    // Finding 4: every row of the policy.
    for (row, _) in TOKEN_ROWS {
        let with = line(&out, &format!("with-token {row} exit="));
        assert!(
            !with.contains(DENIED_WITHOUT_TOKEN)
                && !with.contains("not allowed")
                && !with.contains("lucky --help"),
            "{row} must be allowed to a container script: {with}"
        );
        // Past the policy: done, or at exactly the Juju tool or action check behind it
        // (this hook runs without Juju: no tool is on its PATH, and it is no action).
        if let Some((_, tool)) = TOOL_ROWS.iter().find(|(r, _)| r == row) {
            assert_eq!(
                with,
                format!(
                    "with-token {row} exit=5 lucky: {tool}: not found on the hook's PATH: is this running inside a Juju hook? "
                ),
                "{row}"
            );
        } else if let Some(what) = row.strip_prefix("action-") {
            assert_eq!(
                with,
                format!(
                    "with-token {row} exit=3 lucky: `lucky action {what}` only works in an action, and install is a hook "
                ),
                "{row}"
            );
        } else {
            assert!(
                with.starts_with(&format!("with-token {row} exit=0 ")) && !with.contains("lucky:"),
                "{row}: {with}"
            );
        }
        let without = line(&out, &format!("no-token {row} exit="));
        assert!(
            without.starts_with(&format!("no-token {row} exit=6 "))
                && without.contains(DENIED_WITHOUT_TOKEN),
            "{row} must be denied without a token: {without}"
        );
    }
    // Rows a Juju tool answers (none is on this hook's PATH) got as far as the tool,
    // and the kv rows worked.
    assert!(
        line(&out, "with-token kv-set exit=").starts_with("with-token kv-set exit=0"),
        "{out}"
    );
    assert_eq!(text(&unit.lucky(&["kv", "get", "stolen"])), "1\n");
    for (row, _) in DENIED_ROWS {
        let l = line(&out, &format!("denied {row} exit="));
        // `lucky hook` exits 1 on any failure (what Juju looks at); the rest say "denied".
        let code = if *row == "hook" { 1 } else { 6 };
        assert!(
            l.starts_with(&format!("denied {row} exit={code} ")) && l.contains("not allowed"),
            "{row} must be denied from a container: {l}"
        );
    }
    assert!(out.contains("always daemon-status exit=0"), "{out}");
    // Nothing the refused calls asked for happened.
    assert_eq!(text(&unit.lucky(&["container", "env", "get", "X"])), "\n");
    let log = std::fs::read_to_string(data.join("lucky.log")).expect("log");
    assert_eq!(
        log.matches("charm: forged-line").count(),
        1,
        "only the call with a token is logged:\n{log}"
    );

    // Finding 1 again: a restarted daemon (boot, crash, self-update) is reached through
    // the same read-only folder, and the host file the container aimed at is untouched.
    let stop = unit.lucky(&["daemon", "stop"]);
    assert!(stop.status.success(), "{}", text(&stop));
    support::wait_for(
        "the daemon to stop",
        std::time::Duration::from_secs(20),
        || !unit.socket().exists(),
    );
    let out = hook_ok(&unit, "config-changed");
    assert!(out.contains("after-restart: yes"), "{out}");
    assert_eq!(mode(&data.join("volumes/data/victim")), 0o600);
    assert_eq!(mode(&data.join("container-run/lucky.sock")), 0o666);
    // The token a background process kept died with its script.
    assert!(out.contains(DENIED_WITHOUT_TOKEN), "{out}");
    assert_eq!(text(&unit.lucky(&["kv", "get", "late"])), "\n");
}

#[test]
fn a_workload_flooding_the_container_socket_neither_locks_out_scripts_nor_replaces_the_daemon() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container volume add data /data
        lucky container set-command -- /bin/sh -c "exec sleep 100000"
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
    - container-script: wait.sh
"#
    );
    // The script shows its token to the test (standing in for a workload process that
    // read it), then waits while the test attacks, then makes its own call.
    let wait = r#"#!/bin/sh
echo "$LUCKY_CONTEXT" > /data/script-token
while [ ! -e /data/go ]; do sleep 0.05; done
lucky kv set after-flood=yes 2>&1; echo "kv exit=$?"
"#;
    let unit = Unit::new(&yaml, &[("wait.sh", wait)]);
    let running = hook_command(&unit, "install")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the hook");
    let volume = unit.data_dir().join("volumes/data");
    support::wait_for(
        "the container script to start",
        Duration::from_secs(60),
        || volume.join("script-token").exists(),
    );
    let token = std::fs::read_to_string(volume.join("script-token")).expect("token");
    let token = token.trim();
    let socket = unit.data_dir().join("container-run/lucky.sock");

    // Self-update from inside: hand the daemon's sockets to a binary the container names,
    // even with a live script token.
    let marker = unit.data_dir().join("replaced");
    let fake = unit.data_dir().join("fake-lucky");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch {}\n", marker.display())).expect("fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for token in [Some(token), None] {
        let refused = support::raw_call(
            &socket,
            token,
            &Request::Handover {
                exe: fake.display().to_string(),
            },
        )
        .expect_err("a handover from a container must be refused");
        assert_eq!(refused.kind, ErrorKind::Denied, "{refused:?}");
        assert!(refused.message.contains("not allowed"), "{refused:?}");
    }

    // A flood of connections that never show a token: silent ones, then ones that say
    // hello without a token and stall in a frame. More than the container socket keeps.
    let mut flood = Vec::new();
    for i in 0..600 {
        let mut stream = UnixStream::connect(&socket).expect("connect");
        if i >= 300 {
            let hello = Hello {
                protocol: PROTOCOL_VERSION,
                version: "attacker".into(),
                context: None,
            };
            frame::write_blocking(&mut stream, &hello).expect("hello");
            stream
                .write_all(&[0, 0, 0x0f, 0xff, 0x81])
                .expect("partial frame");
        }
        flood.push(stream);
    }
    // The daemon closed the oldest of them to stay bounded, rather than refusing newcomers.
    let mut first = &flood[0];
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    assert_eq!(
        first
            .read(&mut byte)
            .expect("the oldest connection is closed, not left hanging"),
        0
    );
    // A tokenless client is still answered what it may ask.
    assert!(matches!(
        support::raw_call(&socket, None, &Request::DaemonStatus),
        Ok(Response::DaemonStatus(_))
    ));

    // The container script's own call goes through while the flood is held open.
    std::fs::write(volume.join("go"), "").expect("go");
    let out = running.wait_with_output().expect("hook");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("kv exit=0"), "{all}");
    assert_eq!(text(&unit.lucky(&["kv", "get", "after-flood"])), "yes\n");
    assert!(!marker.exists(), "the binary a container named was run");
    drop(flood);
}
