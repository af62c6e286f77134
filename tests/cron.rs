//! Cron jobs get a real hook context through `juju-exec` (the simulator's), never overlap
//! a hook, report failures under their own status, and catch up once after downtime.

mod support;

use lucky::simulator::Model;
use std::time::{Duration, Instant};
use support::{Unit, wait_for};

fn model_for(unit: &Unit) -> Model {
    std::fs::write(
        unit.charm().join("metadata.yaml"),
        "name: cronny\nsummary: s\ndescription: d\n",
    )
    .expect("metadata");
    unit.model()
}

fn hooks_dir_with(unit: &Unit, hooks: &[&str]) {
    let dir = unit.charm().join("hooks");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for hook in hooks {
        let path = dir.join(hook);
        std::fs::write(&path, format!("#!/bin/sh\nexec lucky hook {hook}\n")).expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn lines(unit: &Unit, file: &str) -> Vec<String> {
    unit.read(file).lines().map(str::to_string).collect()
}

#[test]
fn cron_jobs_run_in_hook_contexts_and_never_overlap_hooks() {
    let mut unit = Unit::new();
    unit.name = "cronny/0".into();
    hooks_dir_with(&unit, &["install", "config-changed", "stop"]);
    unit.host_script(
        "tick.sh",
        r#"set -e
lucky kv set last-tick="$LUCKY_HOOK"
lucky set-status --name ticker active "ticking"
echo tick >> "$LUCKY_TEST_DIR/events""#,
    );
    unit.host_script("broken.sh", "echo broken >&2; exit 3");
    unit.host_script(
        "long.sh",
        r#"echo hook-start >> "$LUCKY_TEST_DIR/events"; sleep 2.5; echo hook-end >> "$LUCKY_TEST_DIR/events""#,
    );
    unit.lucky_yaml(
        r#"hooks:
  install: []
  config-changed:
    - host-script: long.sh
cron-jobs:
  "* * * * * *":
    - host-script: tick.sh
  "*/2 * * * * *":
    - host-script: broken.sh
"#,
    );
    let model = model_for(&unit);
    assert!(model.run_hook("install").expect("install").success());
    wait_for("two cron runs", Duration::from_secs(10), || {
        lines(&unit, "events").len() >= 2
    });
    let hook = model.run_hook("config-changed").expect("config-changed");
    assert!(hook.success(), "{}", hook.stderr);
    wait_for("a cron run after the hook", Duration::from_secs(5), || {
        lines(&unit, "events").last().map(String::as_str) == Some("tick")
    });

    let events = lines(&unit, "events");
    let start = events
        .iter()
        .position(|e| e == "hook-start")
        .expect("start");
    assert_eq!(
        events[start + 1],
        "hook-end",
        "a cron run overlapped the hook: {events:?}"
    );
    let kv = unit.lucky(&["kv", "get", "last-tick"]);
    assert_eq!(support::stdout(&kv), "cron\n");

    let status = model.unit_status().expect("status");
    assert_eq!(status.status, "blocked", "{status:?}");
    assert_eq!(
        status.message,
        "cron job \"*/2 * * * * *\" failed: host script broken.sh (lucky.yaml line 9) exited with status 3"
    );
    assert!(model.debug_log().expect("log").contains("ERROR"));
    let rejected: Vec<_> = model
        .calls()
        .expect("calls")
        .into_iter()
        .filter(|c| c.rejected.is_some())
        .collect();
    assert!(rejected.is_empty(), "{rejected:?}");

    // The stop hook pauses the schedule.
    assert!(model.run_hook("stop").expect("stop").success());
    let after_stop = lines(&unit, "events").len();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        lines(&unit, "events").len(),
        after_stop,
        "cron ran after stop"
    );
}

#[test]
fn a_job_missed_while_the_daemon_was_down_runs_once() {
    let mut unit = Unit::new();
    unit.name = "cronny/0".into();
    hooks_dir_with(&unit, &["install"]);
    // A run takes 1.5 s and a job never overlaps itself: right after the restart, only
    // the catch-up run can have started.
    unit.host_script(
        "tick.sh",
        r#"echo tick >> "$LUCKY_TEST_DIR/ticks"; sleep 1.5"#,
    );
    unit.lucky_yaml(
        "hooks:\n  install: []\ncron-jobs:\n  \"* * * * * *\":\n    - host-script: tick.sh\n",
    );
    let model = model_for(&unit);
    assert!(model.run_hook("install").expect("install").success());
    wait_for("a first run", Duration::from_secs(10), || {
        !lines(&unit, "ticks").is_empty()
    });
    let stop = unit.lucky(&["daemon", "stop"]);
    assert!(stop.status.success(), "{}", support::stderr(&stop));
    let before = lines(&unit, "ticks").len();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(lines(&unit, "ticks").len(), before);

    let restarted = Instant::now();
    let start = unit.lucky(&["daemon", "start"]);
    assert!(start.status.success(), "{}", support::stderr(&start));
    wait_for("the catch-up run", Duration::from_secs(5), || {
        lines(&unit, "ticks").len() > before
    });
    std::thread::sleep(Duration::from_millis(1000).saturating_sub(restarted.elapsed()));
    assert_eq!(
        lines(&unit, "ticks").len(),
        before + 1,
        "missed runs were replayed"
    );
}
