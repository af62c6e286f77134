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
fn action_and_cron_runs_are_recorded_with_their_trigger() {
    let mut unit = Unit::new();
    unit.name = "histo/0".into();
    std::fs::write(
        unit.charm().join("metadata.yaml"),
        "name: histo\nsummary: s\ndescription: d\n",
    )
    .expect("metadata");
    std::fs::write(
        unit.charm().join("actions.yaml"),
        "backup:\n  params:\n    target:\n      type: string\n      default: /backups\n",
    )
    .expect("actions.yaml");
    hooks_dir_with(&unit, &["install"]);
    // An action reaches the charm through `actions/<name>`, as Juju runs it.
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = unit.charm().join("actions");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("backup");
        std::fs::write(&path, "#!/bin/sh\nexec lucky hook backup\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    unit.host_script(
        "backup.sh",
        r#"echo "backing up to $(action-get target)"; action-set done=yes"#,
    );
    unit.host_script(
        "tick.sh",
        r#"echo tick; echo tick >> "$LUCKY_TEST_DIR/ticks""#,
    );
    unit.host_script("broken.sh", "echo broken >&2; exit 5");
    unit.lucky_yaml(
        r#"hooks:
  install: []
actions:
  backup:
    - host-script: backup.sh
cron-jobs:
  "* * * * * *":
    - host-script: tick.sh
  "*/2 * * * * *":
    - host-script: broken.sh
"#,
    );
    let model = unit.model();
    let install = model.run_hook("install").expect("install");
    assert!(install.success(), "{}", install.stderr);
    let action = model
        .run_action("backup", serde_json::Map::new())
        .expect("action");
    assert!(action.run.success(), "{}", action.run.stderr);
    assert_eq!(action.action.status, "completed", "{:?}", action.action);

    // Both cron jobs have run at least once (and been recorded: a record is written
    // before the run's `lucky hook` answers, and the next run waits for the previous).
    support::wait_for(
        "a run of each cron job",
        std::time::Duration::from_secs(15),
        || {
            let rows = json(&unit, &["history", "--hook", "cron", "--format", "json"]);
            let failed = rows
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["failed"] == true));
            failed && unit.read("ticks").lines().count() >= 2
        },
    );

    let actions = json(&unit, &["history", "--hook", "backup", "--format", "json"]);
    let action_ids = ids(&actions);
    assert_eq!(action_ids.len(), 1, "{actions}");
    assert_eq!(actions[0]["kind"], "action");
    assert_eq!(actions[0]["failed"], false);
    let record = json(
        &unit,
        &[
            "history",
            "show",
            &action_ids[0].to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(record["kind"], "action");
    assert_eq!(record["name"], "backup");
    assert_eq!(
        record["trigger"],
        format!("juju action {}", action.action.uuid),
        "{record}"
    );
    assert_eq!(record["entries"][0]["id"], "backup.sh");
    assert_eq!(record["entries"][0]["exit_status"], 0);
    assert_eq!(
        record["entries"][0]["output_tail"],
        "backing up to /backups\n"
    );

    let crons = json(
        &unit,
        &["history", "-n", "100", "--hook", "cron", "--format", "json"],
    );
    let rows = crons.as_array().expect("a list");
    assert!(rows.iter().all(|r| r["kind"] == "cron"), "{crons}");
    let shown = |row: &Value| {
        let id = row["id"].as_u64().expect("id").to_string();
        json(&unit, &["history", "show", &id, "--format", "json"])
    };
    let ok = rows
        .iter()
        .find(|r| r["failed"] == false)
        .map(shown)
        .expect("a successful cron run");
    assert_eq!(ok["trigger"], "cron schedule \"* * * * * *\"", "{ok}");
    assert_eq!(ok["entries"][0]["id"], "tick.sh");
    assert_eq!(ok["entries"][0]["output_tail"], "tick\n");
    let failed = rows
        .iter()
        .find(|r| r["failed"] == true)
        .map(shown)
        .expect("a failed cron run");
    assert_eq!(
        failed["trigger"], "cron schedule \"*/2 * * * * *\"",
        "{failed}"
    );
    assert_eq!(failed["entries"][0]["id"], "broken.sh");
    assert_eq!(failed["entries"][0]["exit_status"], 5);
    assert_eq!(failed["entries"][0]["output_tail"], "broken\n");
    assert_eq!(
        failed["error"], "host script broken.sh (lucky.yaml line 10) exited with status 5",
        "{failed}"
    );
    // The plain listing names the kind.
    let list = stdout(&unit.lucky(&["history", "-n", "100"]));
    assert!(list.contains("action backup"), "{list}");
    assert!(list.contains("cron cron: broken.sh"), "{list}");
    assert!(model.run_hook("stop").is_ok());
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
    // One script with a line of output per run: what an update-status hook often is.
    unit.lucky_yaml(
        "hooks:\n  update-status:\n    - inline-host-script: echo \"workload answers on :8080\"\n",
    );
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
    let newest = json(&unit, &["history", "show", "1003", "--format", "json"]);
    assert_eq!(
        newest["entries"][0]["output_tail"],
        "workload answers on :8080\n"
    );
    // What the kept runs take on disk, for the design notes (not a bound: 1 000 runs of
    // one script are far below the 32 MiB one).
    let (mut bytes, mut allocated) = (0u64, 0u64);
    for entry in std::fs::read_dir(unit.data_dir().join("state/history")).expect("history") {
        use std::os::unix::fs::MetadataExt;
        let meta = entry.expect("entry").metadata().expect("metadata");
        bytes += meta.len();
        allocated += meta.blocks() * 512;
    }
    assert!(bytes < 32 * 1024 * 1024, "{bytes}");
    eprintln!(
        "history: 1000 kept runs of one script take {bytes} bytes of records ({} per run), {allocated} bytes allocated on this file system",
        bytes / 1000
    );
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

/// Against the real Docker engine (`tests/support/docker-engine.sh start`): each run
/// records what it changed in the containers, a run whose reconcile failed part-way
/// included.
#[test]
fn container_changes_are_recorded_even_when_the_reconcile_fails_part_way() {
    use support::docker::{TEST_IMAGE, Unit as DockerUnit, text};
    // The worker publishes a port something else holds: it cannot start.
    let busy = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- sleep 100000
        lucky container image set {TEST_IMAGE} --no-pull -c worker
        lucky container set-command -c worker -- sleep 100000
        lucky container port add {port}:80 -c worker
      shell-command: ["/bin/sh", "-c"]
  config-changed: []
  update-status:
    - inline-host-script: lucky container env set A=2
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let unit = DockerUnit::new(&yaml, &[]);
    let default = lucky::docker::docker_name(&unit.name, "default");
    let worker = lucky::docker::docker_name(&unit.name, "worker");
    let show = |id: u64| -> Value {
        let out = unit.lucky(&["history", "show", &id.to_string(), "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let changes = |record: &Value| -> [Vec<String>; 4] {
        ["created", "started", "removed", "unchanged"].map(|k| {
            let mut names: Vec<String> = record["containers"][k]
                .as_array()
                .unwrap_or_else(|| panic!("containers.{k}: {record}"))
                .iter()
                .map(|n| n.as_str().expect("a name").to_string())
                .collect();
            names.sort();
            names
        })
    };
    let none: Vec<String> = Vec::new();

    let failed = unit.lucky(&["hook", "install"]);
    assert!(!failed.status.success(), "{}", text(&failed));
    let install = show(1);
    assert_eq!(install["failed"], true);
    let error = install["error"].as_str().expect("error");
    assert!(
        error.starts_with("the containers could not be updated: ")
            && error.contains(&worker)
            && error.contains("cannot start it"),
        "{error}"
    );
    // The default container was made although the run failed.
    assert_eq!(
        changes(&install),
        [
            vec![default.clone()],
            none.clone(),
            none.clone(),
            none.clone()
        ],
        "{install}"
    );
    assert!(install["containers"]["mutating_calls"].as_u64() > Some(0));

    drop(busy);
    unit.hook_ok("config-changed");
    let converged = show(2);
    assert_eq!(converged["failed"], false, "{converged}");
    assert_eq!(
        changes(&converged),
        [
            none.clone(),
            vec![worker.clone()],
            none.clone(),
            vec![default.clone()]
        ],
        "{converged}"
    );

    unit.hook_ok("update-status");
    let recreated = show(3);
    assert_eq!(
        changes(&recreated),
        [
            vec![default.clone()],
            none.clone(),
            none.clone(),
            vec![worker.clone()]
        ],
        "{recreated}"
    );
    let plain = text(&unit.lucky(&["history", "show", "3"]));
    assert!(
        plain.contains(&format!(
            "containers: created [{default}], started [], removed [], unchanged [{worker}]\n"
        )),
        "{plain}"
    );

    unit.hook_ok("stop");
    let stop = show(4);
    let mut both = vec![default, worker];
    both.sort();
    assert_eq!(
        changes(&stop),
        [none.clone(), none.clone(), both, none.clone()],
        "{stop}"
    );
    let listed = text(&unit.lucky(&["history", "-n", "10"]));
    assert_eq!(listed.lines().count(), 5, "{listed}");
}
