//! A charm whose host scripts use every script-facing command, driven through its life
//! by the Juju simulator: the final model is exactly what the scripts asked for.

mod support;

use lucky::simulator::{Model, RelationEvent};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use support::Unit;

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// The charm plus a simulated model of unit demo/0 whose hooks reach `unit`'s daemon.
fn demo_charm(unit: &mut Unit) -> Model {
    unit.name = "demo/0".into();
    let charm = unit.charm();
    write(
        &charm.join("metadata.yaml"),
        "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  website:\n    interface: http\nrequires:\n  db:\n    interface: pgsql\nresources:\n  payload:\n    type: file\n    filename: payload.txt\n",
    );
    write(
        &charm.join("config.yaml"),
        "options:\n  port:\n    type: int\n    default: 8080\n  title:\n    type: string\n    default: Demo\n",
    );
    write(
        &charm.join("actions.yaml"),
        "backup:\n  description: Back up\n  params:\n    target:\n      type: string\n",
    );
    // Juju runs `dispatch` with JUJU_DISPATCH_PATH; old Jujus run hooks/<name> as $0.
    let dispatch = charm.join("dispatch");
    write(
        &dispatch,
        "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
    );
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    unit.lucky_yaml(
        r#"hooks:
  install:
    - host-script: install.sh
  leader-elected:
    - host-script: leader.sh
  config-changed:
    - host-script: configure.sh
  start:
    - host-script: start.sh
  website-relation-joined:
    - host-script: website.sh
  db-relation-changed:
    - host-script: db.sh
  update-status:
    - inline-host-script: |
        lucky public-address > "$LUCKY_TEST_DIR/public-address"
        lucky log -l WARNING "all good"
  stop:
    - host-script: stop.sh
actions:
  backup:
    - host-script: backup.sh
"#,
    );
    unit.host_script(
        "install.sh",
        r#"set -e
lucky set-status maintenance "Installing"
lucky log "installing demo"
lucky set-status --name db-state blocked "Waiting for database connection"
lucky kv set payload="$(cat "$(lucky get-resource payload)")""#,
    );
    unit.host_script(
        "leader.sh",
        r#"set -e
if [ "$(lucky leader is-leader)" = true ]; then lucky leader set shared-secret=s3cr3t temp=1; lucky leader set temp=; fi"#,
    );
    unit.host_script(
        "configure.sh",
        r#"set -e
port=$(lucky get-config port)
lucky port close --all
lucky port open "$port/tcp"
lucky kv set port="$port" title="$(lucky get-config title)"
lucky get-config --format json > "$LUCKY_TEST_DIR/config.json""#,
    );
    unit.host_script(
        "start.sh",
        r#"lucky set-status active "Serving $(lucky kv get title) on $(lucky kv get port)""#,
    );
    unit.host_script(
        "website.sh",
        r#"set -e
for id in $(lucky relation list-ids --relation-name website); do
  lucky relation set --relation-id $id "hostname=$(lucky private-address)" "port=$(lucky kv get port)"
done
lucky relation list-units > "$LUCKY_TEST_DIR/website-units""#,
    );
    unit.host_script(
        "db.sh",
        r#"set -e
host=$(lucky relation get host)
name=$(lucky relation get --app -u pg database)
if [ -n "$host" ]; then
  lucky kv set db="$name@$host"
  lucky set-status --name db-state --clear
fi"#,
    );
    unit.host_script(
        "stop.sh",
        r#"set -e
lucky port close --all
lucky port get-opened > "$LUCKY_TEST_DIR/ports-after-stop""#,
    );
    unit.host_script(
        "backup.sh",
        r#"set -e
target=$(lucky action get target)
lucky action log "backing up to $target"
lucky action set result=ok "path=$target/backup.tar""#,
    );

    let model = unit.model();
    let payload = unit.path("payload.txt");
    write(&payload, "payload-bytes");
    model
        .attach_resource("payload", &payload)
        .expect("resource");
    model
}

#[test]
fn a_charm_lives_its_whole_life_through_lucky() {
    let mut unit = Unit::new();
    let model = demo_charm(&mut unit);
    model.set_leader(true).expect("leader");

    let run = |hook: &str| {
        let run = model.run_hook(hook).expect("run hook");
        assert!(
            run.success(),
            "{hook} failed ({}):\n{}\n{}",
            run.exit_code,
            run.stdout,
            run.stderr
        );
    };
    run("install");
    assert_eq!(
        model.unit_status().expect("status").status,
        "blocked",
        "the maintenance status ended with install; the named blocked one stays"
    );
    run("leader-elected");
    run("config-changed");
    run("start");
    let website = model.add_relation("website", "proxy", 1).expect("relate");
    let joined = model
        .run_relation_hook(&website, RelationEvent::Joined, Some("proxy/0"))
        .expect("joined");
    assert!(joined.success(), "{}", joined.stderr);
    let db = model.add_relation("db", "pg", 1).expect("relate");
    model
        .set_remote_unit_data(&db, "pg/0", &[("host", "db.internal")])
        .expect("data");
    model
        .set_remote_app_data(&db, &[("database", "demo")])
        .expect("data");
    let changed = model
        .run_relation_hook(&db, RelationEvent::Changed, Some("pg/0"))
        .expect("changed");
    assert!(changed.success(), "{}", changed.stderr);
    run("update-status");
    model.set_config("port", json!(9090)).expect("config");
    run("config-changed");
    assert_eq!(model.opened_ports().expect("ports"), vec!["9090/tcp"]);
    let backup = model
        .run_action(
            "backup",
            serde_json::from_value(json!({"target": "/backups"})).expect("params"),
        )
        .expect("action");
    assert!(backup.run.success(), "{}", backup.run.stderr);
    run("stop");

    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("active", "Serving Demo on 8080")
    );
    let history: Vec<(String, String)> = model
        .state()
        .expect("state")
        .status_history
        .iter()
        .map(|s| (s.status.clone(), s.message.clone()))
        .collect();
    for expected in [
        ("maintenance", "Installing"),
        ("blocked", "Waiting for database connection"),
        ("active", "Serving Demo on 8080"),
    ] {
        assert!(
            history
                .iter()
                .any(|(s, m)| (s.as_str(), m.as_str()) == expected),
            "{expected:?} never shown: {history:?}"
        );
    }
    let website = model.relation(&website).expect("relation");
    assert_eq!(
        website.local_unit_data.get("hostname").map(String::as_str),
        Some("10.0.0.10")
    );
    assert_eq!(
        website.local_unit_data.get("port").map(String::as_str),
        Some("8080")
    );
    assert_eq!(unit.read("website-units"), "proxy/0\n");
    let leader = model.leader_data().expect("leader data");
    assert_eq!(
        leader.into_iter().collect::<Vec<_>>(),
        vec![("shared-secret".to_string(), "s3cr3t".to_string())]
    );
    assert!(model.opened_ports().expect("ports").is_empty());
    assert_eq!(unit.read("ports-after-stop"), "");
    assert_eq!(unit.read("public-address"), "203.0.113.10\n");
    let config: serde_json::Value =
        serde_json::from_str(&unit.read("config.json")).expect("config json");
    assert_eq!(config, json!({"port": 9090, "title": "Demo"}));
    assert_eq!(backup.action.status, "completed");
    assert_eq!(
        serde_json::Value::Object(backup.action.results.clone()),
        json!({"result": "ok", "path": "/backups/backup.tar"})
    );
    assert_eq!(backup.action.logs, vec!["backing up to /backups"]);
    let log = model.debug_log().expect("log");
    assert!(
        log.contains("INFO") && log.contains("installing demo"),
        "{log}"
    );
    assert!(log.contains("WARNING") && log.contains("all good"), "{log}");

    let kv = unit.lucky(&["kv", "get", "--format", "json"]);
    let kv: serde_json::Value = serde_json::from_slice(&kv.stdout).expect("kv json");
    assert_eq!(
        kv,
        json!({"payload": "payload-bytes", "port": "9090", "title": "Demo", "db": "demo@db.internal"})
    );
    let rejected: Vec<_> = model
        .calls()
        .expect("calls")
        .into_iter()
        .filter(|c| c.rejected.is_some())
        .collect();
    assert!(
        rejected.is_empty(),
        "rejected hook-tool calls: {rejected:?}"
    );
}

#[test]
fn juju_refusals_reach_the_script_as_one_line_errors() {
    let mut unit = Unit::new();
    let model = demo_charm(&mut unit);
    unit.lucky_yaml(
        r#"hooks:
  install:
    - inline-host-script: |
        lucky relation get -r db:99 host 2> "$LUCKY_TEST_DIR/relation.err"; echo "rc=$?" >> "$LUCKY_TEST_DIR/rcs"
        lucky leader set k=v 2> "$LUCKY_TEST_DIR/leader.err"; echo "rc=$?" >> "$LUCKY_TEST_DIR/rcs"
        lucky action get 2> "$LUCKY_TEST_DIR/action.err"; echo "rc=$?" >> "$LUCKY_TEST_DIR/rcs"
        lucky port open 99999 2> "$LUCKY_TEST_DIR/port.err"; echo "rc=$?" >> "$LUCKY_TEST_DIR/rcs"
"#,
    );
    let run = model.run_hook("install").expect("run");
    assert!(run.success(), "{}", run.stderr);
    // The documented exit statuses: the tool's own (relation-get's usage error for an
    // unknown -r, 2; leader-set's refusal of a non-leader, 1), no action running (3), bad
    // request (2).
    assert_eq!(unit.read("rcs"), "rc=2\nrc=1\nrc=3\nrc=2\n");
    for (file, needle) in [
        ("relation.err", "lucky: relation-get: "),
        ("leader.err", "lucky: leader-set: "),
        ("action.err", "only works in an action"),
        ("port.err", "invalid port \"99999\""),
    ] {
        let err = unit.read(file);
        assert!(err.contains(needle), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
    }
}

#[test]
fn a_failing_action_fails_the_action_not_the_unit() {
    let mut unit = Unit::new();
    let model = demo_charm(&mut unit);
    unit.host_script("backup.sh", "echo 'disk full' >&2; exit 5");
    let backup = model
        .run_action(
            "backup",
            serde_json::from_value(json!({"target": "/x"})).expect("params"),
        )
        .expect("action");
    assert!(
        backup.run.success(),
        "the action process itself must exit 0"
    );
    assert_eq!(backup.action.status, "failed");
    assert_eq!(
        backup.action.message.as_deref(),
        Some("host script backup.sh (lucky.yaml line 22) exited with status 5")
    );
    assert_ne!(model.state().expect("state").agent_status.status, "error");
}

#[test]
fn two_hundred_concurrent_get_config_calls_in_one_hook() {
    let mut unit = Unit::new();
    let model = demo_charm(&mut unit);
    unit.lucky_yaml(
        r#"hooks:
  config-changed:
    - inline-host-script: |
        i=0
        while [ $i -lt 200 ]; do
          (v=$(lucky get-config port) && [ "$v" = 8080 ] && echo ok >> "$LUCKY_TEST_DIR/oks") &
          i=$((i+1))
        done
        wait
"#,
    );
    let run = model.run_hook("config-changed").expect("run");
    assert!(run.success(), "{}", run.stderr);
    assert_eq!(unit.read("oks").lines().count(), 200);
    // One config-get reached Juju: the hook's config is fetched once and shared.
    let config_gets = model
        .calls()
        .expect("calls")
        .into_iter()
        .filter(|c| c.tool == "config-get")
        .count();
    assert_eq!(config_gets, 1);
}
