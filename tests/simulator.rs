//! The Juju simulator driven through its Rust API, with charms whose hooks are plain shell
//! scripts calling the hook tools, run through the real `lucky` binary.

use lucky::simulator::{Model, RelationEvent};
use serde_json::{Map, Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const LUCKY: &str = env!("CARGO_BIN_EXE_lucky");

const CONFIG_YAML: &str = "\
options:
  name:
    type: string
    default: world
    description: who to greet
  port:
    type: int
    default: 8080
  debug:
    type: boolean
    default: false
  ratio:
    type: float
    default: 0.5
  nothing:
    type: string
";

const METADATA_YAML: &str = "\
name: app
provides:
  website:
    interface: http
requires:
  db:
    interface: pgsql
resources:
  payload:
    type: file
    filename: payload.tar
";

const ACTIONS_YAML: &str = "\
backup:
  description: back up
  params:
    target:
      type: string
      default: /backups
    compress:
      type: boolean
";

struct Sim {
    _tmp: TempDir,
    charm: PathBuf,
    model: Model,
}

/// A charm with config/metadata/actions yaml and the given executable files.
fn sim(files: &[(&str, &str)]) -> Sim {
    let tmp = TempDir::new().expect("tempdir");
    let charm = tmp.path().join("charm");
    write(&charm.join("config.yaml"), CONFIG_YAML);
    write(&charm.join("metadata.yaml"), METADATA_YAML);
    write(&charm.join("actions.yaml"), ACTIONS_YAML);
    for (path, text) in files {
        let p = charm.join(path);
        write(&p, text);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let model = Model::create(tmp.path().join("model"), &charm, "app/0", LUCKY).expect("create");
    Sim {
        _tmp: tmp,
        charm,
        model,
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn hook(body: &str) -> String {
    format!("#!/bin/sh\n{body}\n")
}

#[test]
fn config_status_and_leader_formats() {
    let s = sim(&[(
        "hooks/config-changed",
        &hook(
            r#"set -e
echo "name=$(config-get name)"
config-get port
config-get debug
config-get ratio
config-get nothing
config-get undeclared
echo ---
config-get
echo ---
config-get --format=json
config-get --all --format json
config-get nothing --format json
is-leader
is-leader --format json
status-set maintenance "installing things"
status-get
status-get --include-data --format json
status-get --format=json
unit-get private-address
echo end"#,
        ),
    )]);
    s.model
        .set_config("name", json!("lucky charm"))
        .expect("config");
    s.model.set_config_str("debug", "true").expect("config");
    let run = s.model.run_hook("config-changed").expect("run");
    assert_eq!(run.exit_code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        run.stdout,
        "name=lucky charm\n8080\nTrue\n0.5\n---\n\
         debug: true\nname: lucky charm\nport: 8080\nratio: 0.5\n---\n\
         {\"debug\":true,\"name\":\"lucky charm\",\"port\":8080,\"ratio\":0.5}\n\
         {\"debug\":true,\"name\":\"lucky charm\",\"nothing\":null,\"port\":8080,\"ratio\":0.5}\n\
         null\nFalse\nfalse\nmaintenance\n\
         {\"message\":\"installing things\",\"status\":\"maintenance\",\"status-data\":{}}\n\
         \"maintenance\"\n10.0.0.10\nend\n"
    );
    let status = s.model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("maintenance", "installing things")
    );
    // Bad config from the operator is refused like `juju config` does.
    assert!(s.model.set_config("port", json!("eighty")).is_err());
    assert!(s.model.set_config("bogus", json!("x")).is_err());
}

#[test]
fn relation_data_round_trip() {
    let s = sim(&[(
        "hooks/db-relation-changed",
        &hook(
            r#"set -e
echo "env=$JUJU_RELATION $JUJU_RELATION_ID $JUJU_REMOTE_UNIT $JUJU_REMOTE_APP"
relation-get host
relation-get - pg/1
relation-get --format json user
relation-get --app
relation-list
relation-list --app
relation-ids
relation-ids website
relation-set ready=yes user=
printf 'port: 5432\nname: x\n' > /tmp/sim-settings-$$
relation-set --file /tmp/sim-settings-$$ name=override
rm /tmp/sim-settings-$$
relation-get --format=json - app/0
relation-set --app shared=1 || echo "app-set refused: $?"
echo end"#,
        ),
    )]);
    let id = s.model.add_relation("db", "pg", 2).expect("relate");
    assert_eq!(id, "db:1");
    s.model
        .set_remote_unit_data(&id, "pg/0", &[("host", "db.example"), ("user", "admin")])
        .expect("data");
    s.model
        .set_remote_app_data(&id, &[("version", "16")])
        .expect("data");
    let run = s
        .model
        .run_relation_hook(&id, RelationEvent::Changed, Some("pg/0"))
        .expect("run");
    assert_eq!(run.exit_code, 0, "stderr: {}", run.stderr);
    let rel = s.model.relation(&id).expect("relation");
    // Juju pre-fills each unit's bag with its addresses.
    let pg1 = &rel.remote_units["pg/1"];
    let addr = &pg1["private-address"];
    let expected = format!(
        "env=db db:1 pg/0 pg\n\
         db.example\n\
         egress-subnets: {addr}/32\ningress-address: {addr}\nprivate-address: {addr}\n\
         \"admin\"\n\
         version: \"16\"\n\
         pg/0\npg/1\n\
         pg\n\
         db:1\n\
         {{\"egress-subnets\":\"10.0.0.10/32\",\"ingress-address\":\"10.0.0.10\",\"name\":\"override\",\"port\":\"5432\",\"private-address\":\"10.0.0.10\",\"ready\":\"yes\"}}\n\
         app-set refused: 1\nend\n"
    );
    assert_eq!(run.stdout, expected);
    assert!(
        run.stderr.contains(
            "ERROR cannot write application settings in relation db:1: this unit is not the leader"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        rel.local_unit_data.get("ready").map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        rel.local_unit_data.get("port").map(String::as_str),
        Some("5432")
    );
    assert!(!rel.local_unit_data.contains_key("user"));
}

#[test]
fn leader_ports_state_and_resources() {
    let s = sim(&[(
        "hooks/start",
        &hook(
            r#"set -e
leader-set password=secret mode=ha
leader-get password
leader-get --format json
open-port 80
open-port 8000-8010/udp
open-port icmp
open-port 443/tcp
close-port 443
opened-ports
opened-ports --format json
state-set seen=1
state-get seen
printf '%s|' "$(resource-get payload)"
echo
status-set --application active "app ok"
echo end"#,
        ),
    )]);
    s.model.set_leader(true).expect("leader");
    let payload = s.charm.join("payload.tar");
    write(&payload, "data");
    s.model
        .attach_resource("payload", &payload)
        .expect("attach");
    let run = s.model.run_hook("start").expect("run");
    assert_eq!(run.exit_code, 0, "stderr: {}", run.stderr);
    let payload = payload.canonicalize().expect("canon");
    assert_eq!(
        run.stdout,
        format!(
            "secret\n{{\"mode\":\"ha\",\"password\":\"secret\"}}\n80/tcp\n8000-8010/udp\nicmp\n\
             [\"80/tcp\",\"8000-8010/udp\",\"icmp\"]\n1\n{}|\nend\n",
            payload.display()
        )
    );
    assert_eq!(
        s.model.opened_ports().expect("ports"),
        ["80/tcp", "8000-8010/udp", "icmp"]
    );
    assert_eq!(s.model.leader_data().expect("leader")["mode"], "ha");
    assert_eq!(s.model.unit_state().expect("state")["seen"], "1");
    assert_eq!(
        s.model.application_status().expect("status").message,
        "app ok"
    );
}

/// Runs each command in a hook and prints `rc=<code>` after it, with stderr on stdout.
fn probe(s: &Sim, hook_name: &str, commands: &[&str]) -> String {
    let body: String = commands
        .iter()
        .map(|c| format!("{c} 2>&1; echo \"rc=$?\"\n"))
        .collect();
    write(&s.charm.join("hooks").join(hook_name), &hook(&body));
    std::fs::set_permissions(
        s.charm.join("hooks").join(hook_name),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let run = s.model.run_hook(hook_name).expect("run");
    assert_eq!(run.exit_code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn strict_like_juju() {
    let s = sim(&[]);
    s.model.add_relation("db", "pg", 1).expect("relate");
    let out = probe(
        &s,
        "install",
        &[
            "status-set --bogus active",
            "status-set error broken",
            "status-set unknown",
            "status-set active too many args",
            "config-get --format xml",
            "leader-set a=b",
            "relation-get -r db:99 - pg/0",
            "relation-get -r db:1 - pg/7",
            "relation-get -r db:1",
            "relation-ids",
            "open-port 70000",
            "open-port 80/sctp",
            "resource-get payload",
            "action-get",
            "unit-get bogus",
            "is-leader extra",
            "juju-log",
        ],
    );
    let blocks: Vec<&str> = out.split_inclusive("\n").collect();
    let expect = [
        ("ERROR flag provided but not defined: --bogus", 2),
        (
            "ERROR invalid status \"error\", expected one of [maintenance blocked waiting active]",
            2,
        ),
        ("ERROR invalid status \"unknown\"", 2),
        ("ERROR unrecognized args", 2),
        ("ERROR invalid value \"xml\" for option --format", 2),
        ("ERROR cannot write leadership settings", 1),
        (
            "ERROR invalid value \"db:99\" for option -r: relation not found",
            2,
        ),
        ("ERROR cannot read settings for unit \"pg/7\"", 1),
        ("ERROR no unit or application specified", 2),
        ("ERROR no endpoint name specified", 2),
        ("ERROR invalid port \"70000\"", 2),
        ("ERROR invalid protocol \"sctp\"", 2),
        ("ERROR could not download resource", 1),
        ("ERROR not running an action", 1),
        ("ERROR unknown setting \"bogus\"", 2),
        ("ERROR unrecognized args", 2),
        ("ERROR no message specified", 2),
    ];
    assert_eq!(blocks.len(), expect.len() * 2, "{out}");
    for (i, (msg, rc)) in expect.iter().enumerate() {
        assert!(
            blocks[2 * i].starts_with(msg),
            "call {i}: {} (want {msg})",
            blocks[2 * i]
        );
        assert_eq!(blocks[2 * i + 1], format!("rc={rc}\n"), "call {i}");
    }
    let calls = s.model.calls().expect("calls");
    assert_eq!(calls.len(), expect.len());
    assert!(
        calls
            .iter()
            .all(|c| c.hook == "install" && c.rejected.is_some())
    );
    assert_eq!(calls[0].args, ["--bogus", "active"]);
    assert_eq!(calls[0].exit_code, 2);
    // Nothing was changed by refused calls.
    assert_eq!(s.model.unit_status().expect("status").status, "waiting");
}

#[test]
fn stale_or_missing_context_is_refused() {
    let s = sim(&[
        (
            "hooks/install",
            &hook("echo \"$JUJU_CONTEXT_ID\" > \"$CHARM_DIR/saved-context\""),
        ),
        ("hooks/start", &hook("config-get name")),
    ]);
    let install = s.model.run_hook("install").expect("install");
    assert_eq!(install.exit_code, 0);
    let saved = std::fs::read_to_string(s.charm.join("saved-context")).expect("saved");
    assert_eq!(saved.trim(), install.context_id);
    let tool = s.model.tools_dir().join("config-get");
    let socket = s.model.dir().join("agent.socket");
    let call = |ctx: Option<&str>| {
        let mut c = std::process::Command::new(&tool);
        c.env_clear()
            .env("JUJU_AGENT_SOCKET_NETWORK", "unix")
            .env("JUJU_AGENT_SOCKET_ADDRESS", &socket)
            .arg("name");
        if let Some(ctx) = ctx {
            c.env("JUJU_CONTEXT_ID", ctx);
        }
        c.output().expect("tool")
    };
    // After its hook ended, the saved context is dead.
    let out = call(Some(saved.trim()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("ERROR "),
        "{out:?}"
    );
    assert!(out.stdout.is_empty());
    let out = call(None);
    assert_eq!(out.status.code(), Some(1));
    let calls = s.model.calls().expect("calls");
    let last_two = &calls[calls.len() - 2..];
    assert!(
        last_two
            .iter()
            .all(|c| c.hook == "-" && c.exit_code == 1 && c.rejected.is_some())
    );
    assert!(
        last_two[0]
            .rejected
            .as_deref()
            .is_some_and(|r| r.contains("not running"))
    );
    // The next hook's own context works.
    let start = s.model.run_hook("start").expect("start");
    assert_eq!(start.stdout, "world\n");
}

#[test]
fn a_background_process_outliving_its_hook_is_refused() {
    let s = sim(&[
        (
            "hooks/install",
            &hook(
                "(sleep 0.3; config-get name > \"$CHARM_DIR/late.out\" 2>&1; echo $? > \"$CHARM_DIR/late.rc\") >/dev/null 2>&1 &\nexit 0",
            ),
        ),
        ("hooks/start", &hook("sleep 1")),
    ]);
    s.model.run_hook("install").expect("install");
    s.model.run_hook("start").expect("start");
    let rc = std::fs::read_to_string(s.charm.join("late.rc")).expect("late rc");
    assert_eq!(rc.trim(), "1");
    let out = std::fs::read_to_string(s.charm.join("late.out")).expect("late out");
    assert!(out.starts_with("ERROR bad request: context"), "{out}");
}

#[test]
fn failed_hook_commits_nothing_but_statuses_and_logs() {
    let s = sim(&[(
        "hooks/db-relation-changed",
        &hook(
            "set -e\nrelation-set a=1\nleader-set k=v\nopen-port 80\nstate-set s=1\n\
             status-set blocked 'half way'\njuju-log -l WARNING about to fail\n\
             relation-get a app/0\nexit 3",
        ),
    )]);
    s.model.set_leader(true).expect("leader");
    let id = s.model.add_relation("db", "pg", 1).expect("relate");
    let before = s.model.state().expect("state").data;
    let run = s
        .model
        .run_relation_hook(&id, RelationEvent::Changed, Some("pg/0"))
        .expect("run");
    assert_eq!(run.exit_code, 3);
    // Within the hook its own writes were visible.
    assert_eq!(run.stdout, "1\n");
    let state = s.model.state().expect("state");
    assert_eq!(state.data, before);
    assert!(state.running.is_none());
    assert_eq!(state.unit_status.status, "blocked");
    assert_eq!(state.unit_status.message, "half way");
    let last = state.hooks.last().expect("hook record");
    assert!(!last.committed);
    assert_eq!(state.agent_status.status, "error");
    assert_eq!(
        state.agent_status.message,
        "hook failed: \"db-relation-changed\""
    );
    let log = s.model.debug_log().expect("log");
    assert!(
        log.contains("WARNING unit-app-0 juju-log[db-relation-changed]: db:1: about to fail"),
        "{log}"
    );
}

#[test]
fn dispatch_or_hook_files() {
    let with_dispatch = sim(&[(
        "dispatch",
        &hook("echo \"$JUJU_DISPATCH_PATH $JUJU_HOOK_NAME $(basename \"$0\")\""),
    )]);
    let run = with_dispatch.model.run_hook("install").expect("run");
    assert_eq!(run.stdout, "hooks/install install dispatch\n");
    let plain = sim(&[(
        "hooks/install",
        &hook("echo \"$JUJU_DISPATCH_PATH $(basename \"$0\")\""),
    )]);
    let run = plain.model.run_hook("install").expect("run");
    assert_eq!(run.stdout, "hooks/install install\n");
    // A hook the charm does not have is skipped, as Juju does.
    let run = plain.model.run_hook("start").expect("run");
    assert!(!run.ran && run.success());
    // --help needs no context.
    let help = std::process::Command::new(plain.model.tools_dir().join("status-set"))
        .arg("--help")
        .output()
        .expect("help");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("Usage: status-set "));
}

#[test]
fn hook_environment_is_jujus() {
    let s = sim(&[("hooks/install", &hook("env | sort"))]);
    s.model
        .pass_env("LUCKY_TEST_VAR", "passed")
        .expect("pass env");
    let run = s.model.run_hook("install").expect("run");
    let env: std::collections::BTreeMap<&str, &str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    for key in [
        "JUJU_CHARM_DIR",
        "CHARM_DIR",
        "JUJU_CONTEXT_ID",
        "JUJU_HOOK_NAME",
        "JUJU_UNIT_NAME",
        "JUJU_MODEL_UUID",
        "JUJU_MODEL_NAME",
        "JUJU_AGENT_SOCKET_ADDRESS",
        "JUJU_AGENT_SOCKET_NETWORK",
        "JUJU_API_ADDRESSES",
        "JUJU_MACHINE_ID",
        "JUJU_PRINCIPAL_UNIT",
        "JUJU_AVAILABILITY_ZONE",
        "JUJU_VERSION",
        "JUJU_CHARM_HTTP_PROXY",
        "JUJU_CHARM_HTTPS_PROXY",
        "JUJU_CHARM_NO_PROXY",
        "JUJU_DISPATCH_PATH",
        "PATH",
    ] {
        assert!(env.contains_key(key), "{key} missing: {env:?}");
    }
    assert_eq!(env["JUJU_UNIT_NAME"], "app/0");
    assert_eq!(env["JUJU_CONTEXT_ID"], run.context_id);
    assert!(env["JUJU_VERSION"].starts_with("3."));
    assert_eq!(env["LUCKY_TEST_VAR"], "passed");
    assert!(env["PATH"].starts_with(&format!("{}:", s.model.tools_dir().display())));
    assert!(
        !env.contains_key("HOME") && !env.contains_key("CARGO"),
        "{env:?}"
    );
}

#[test]
fn actions_round_trip() {
    let s = sim(&[(
        "actions/backup",
        &hook(
            "set -e\necho \"$JUJU_ACTION_NAME\"\naction-get target\naction-get --format json\n\
             action-log starting\naction-set result.size=10 done=yes\n\
             action-set Bad=1 2>&1 || echo rc=$?\naction-set stdout=x 2>&1 || echo rc=$?",
        ),
    )]);
    let mut params = Map::new();
    params.insert("compress".into(), Value::Bool(true));
    let run = s.model.run_action("backup", params).expect("action");
    assert_eq!(run.run.exit_code, 0, "{}", run.run.stderr);
    let lines: Vec<&str> = run.run.stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "backup",
            "/backups",
            "{\"compress\":true,\"target\":\"/backups\"}"
        ]
    );
    assert!(lines[3].starts_with("ERROR key \"Bad\" must start and end with lowercase"));
    assert_eq!(lines[4], "rc=2");
    assert_eq!(lines[5], "ERROR cannot set reserved action key \"stdout\"");
    assert_eq!(lines[6], "rc=2");
    assert_eq!(run.action.status, "completed");
    assert_eq!(
        Value::Object(run.action.results),
        json!({"done": "yes", "result": {"size": "10"}})
    );
    assert_eq!(run.action.logs, ["starting"]);
    assert!(s.model.run_action("restore", Map::new()).is_err());
}

#[test]
fn action_fail_marks_failed() {
    let s = sim(&[("actions/backup", &hook("action-fail 'disk full'"))]);
    let run = s.model.run_action("backup", Map::new()).expect("action");
    assert_eq!(run.run.exit_code, 0);
    assert_eq!(run.action.status, "failed");
    assert_eq!(run.action.message.as_deref(), Some("disk full"));
}

#[test]
fn two_hundred_concurrent_calls_all_succeed() {
    let s = sim(&[(
        "hooks/install",
        &hook(
            "d=\"$CHARM_DIR/out\"; mkdir -p \"$d\"\n\
             for i in $(seq 200); do (config-get name > \"$d/$i.out\" 2>&1; echo $? > \"$d/$i.rc\") & done\n\
             wait",
        ),
    )]);
    let run = s.model.run_hook("install").expect("run");
    assert_eq!(run.exit_code, 0);
    for i in 1..=200 {
        let dir = s.charm.join("out");
        let rc = std::fs::read_to_string(dir.join(format!("{i}.rc"))).expect("rc");
        let out = std::fs::read_to_string(dir.join(format!("{i}.out"))).expect("out");
        assert_eq!((rc.as_str(), out.as_str()), ("0\n", "world\n"), "call {i}");
    }
    let calls = s.model.calls().expect("calls");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.tool == "config-get" && c.exit_code == 0)
            .count(),
        200
    );
}

#[test]
fn play_a_units_life() {
    let s = sim(&[(
        "dispatch",
        &hook(
            "echo \"${JUJU_DISPATCH_PATH#hooks/} ${JUJU_REMOTE_UNIT:-} ${JUJU_DEPARTING_UNIT:-} $(relation-list 2>/dev/null | tr '\\n' ,)\" >> \"$CHARM_DIR/life.log\"",
        ),
    )]);
    s.model.set_leader(true).expect("leader");
    s.model.add_relation("db", "pg", 2).expect("relate");
    let runs = s.model.play_life().expect("life");
    assert!(runs.iter().all(|r| r.success()));
    let log = std::fs::read_to_string(s.charm.join("life.log")).expect("log");
    let expected = "install   \nleader-elected   \nconfig-changed   \nstart   \n\
        db-relation-created   pg/0,pg/1,\n\
        db-relation-joined pg/0  pg/0,pg/1,\ndb-relation-changed pg/0  pg/0,pg/1,\n\
        db-relation-joined pg/1  pg/0,pg/1,\ndb-relation-changed pg/1  pg/0,pg/1,\n\
        update-status   \n\
        db-relation-departed pg/0 pg/0 pg/1,\ndb-relation-departed pg/1 pg/1 \n\
        db-relation-broken   \nstop   \nremove   \n";
    assert_eq!(log, expected);
    assert!(s.model.state().expect("state").data.relations.is_empty());
}

#[test]
fn juju_exec_runs_in_a_fresh_context() {
    let s = sim(&[]);
    let out = std::process::Command::new(s.model.tools_dir().join("juju-exec"))
        .env_clear()
        .args(["app/0", "status-set active 'from cron' && config-get port"])
        .output()
        .expect("juju-exec");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "8080\n");
    assert_eq!(s.model.unit_status().expect("status").message, "from cron");
    let bad = std::process::Command::new(s.model.tools_dir().join("juju-exec"))
        .args(["other/0", "true"])
        .output()
        .expect("juju-exec");
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn sim_cli_drives_a_model() {
    let s = sim(&[(
        "hooks/db-relation-changed",
        &hook("status-set active \"hi $(config-get name)\"\nrelation-set x=1\nrelation-get host"),
    )]);
    let dir = s.model.dir().parent().expect("parent").join("cli-model");
    let lucky = |args: &[&str]| {
        std::process::Command::new(LUCKY)
            .arg("sim")
            .args(args)
            .output()
            .expect("lucky sim")
    };
    let d = dir.to_str().expect("utf8");
    let charm = s.charm.to_str().expect("utf8");
    let out = lucky(&[
        "init", d, "--charm", charm, "--unit", "app/0", "--config", "name=bob",
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = lucky(&["relate", d, "db", "pg", "--units", "1"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "db:1\n");
    let model = Model::open(&dir).expect("open");
    model
        .set_remote_unit_data("db:1", "pg/0", &[("host", "h1")])
        .expect("data");
    let out = lucky(&["hook", d, "db-relation-changed"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "h1\n");
    let out = lucky(&["config", d, "name=zed", "nope=1"]);
    assert_eq!(out.status.code(), Some(1));
    let out = lucky(&["show", d]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("  message: hi bob\n"), "{shown}");
    assert!(shown.contains("  name: bob\n"), "{shown}");
    assert!(shown.contains("      x: \"1\"\n"), "{shown}");
}
