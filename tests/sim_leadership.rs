//! Leadership changing hands after `sim init`, driven through `lucky sim elect`, `depose`
//! and `leader-set` on the simulator's Juju 3.6 and 4.0: leader-elected runs on election,
//! no leader-deposed ever runs, a deposed 3.6 unit catches up with leader-settings-changed
//! (4.0 has none; its leader data changes reach the unit as the peer relation's
//! relation-changed), and the deposed unit's leader-only calls are refused, changing
//! nothing.

mod support;

use lucky::simulator::{Juju, Model, RelationEvent, Status};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use support::{LUCKY, Unit};

const METADATA: &str =
    "name: app\nsummary: s\ndescription: d\npeers:\n  lucky-leader:\n    interface: lucky-leader\n";

const LUCKY_YAML: &str = r#"hooks:
  install:
    - host-script: leader.sh
  lucky-leader-relation-created:
    - host-script: leader.sh
  lucky-leader-relation-changed:
    - host-script: leader.sh
  leader-elected:
    - host-script: leader.sh
  leader-settings-changed:
    - host-script: leader.sh
  leader-deposed:
    - host-script: leader.sh
  update-status:
    - host-script: leader.sh
"#;

/// Says which hook ran, whether the unit leads and the leader data it reads; the leader
/// writes in leader-elected, and update-status tries every leader-only call.
const LEADER_SH: &str = r#"out="$LUCKY_TEST_DIR/out"
echo "== $JUJU_HOOK_NAME leader=$(lucky leader is-leader) data=$(lucky leader get --format json)" >> "$out"
try() { name=$1; shift; err=$(lucky "$@" 2>&1 >/dev/null); echo "$name rc=$? $err" >> "$out"; }
case "$JUJU_HOOK_NAME" in
leader-elected)
    try leader-set leader set "by=$JUJU_UNIT_NAME"
    try app-status set-status --application active led by me
    ;;
update-status)
    try leader-set leader set by=usurper
    try app-status set-status --application blocked not mine
    try app-secret secret add password=x
    ;;
esac
"#;

fn sim(args: &[&str]) -> Output {
    Command::new(LUCKY)
        .arg("sim")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run lucky sim")
}

fn leader_data(model: &Model, juju: Juju) -> BTreeMap<String, String> {
    let state = model.state().expect("state");
    match juju {
        Juju::V3_6 => state.data.leader_data,
        Juju::V4_0 => {
            assert!(
                state.data.leader_data.is_empty(),
                "4.0 has no leader settings"
            );
            state
                .data
                .relations
                .values()
                .find(|r| r.endpoint == "lucky-leader")
                .expect("the lucky-leader peer relation")
                .local_app_data
                .clone()
        }
    }
}

fn bag(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn lucky_sim_elects_and_deposes_the_unit_as_juju_does() {
    for juju in [Juju::V3_6, Juju::V4_0] {
        let unit = Unit::new();
        unit.dispatching_charm(METADATA, LUCKY_YAML);
        unit.host_script("leader.sh", LEADER_SH);
        let model = Model::create_on(juju, unit.path("model"), unit.charm(), &unit.name, LUCKY)
            .expect("model");
        for (key, value) in [
            ("LUCKY_SOCKET", unit.socket()),
            ("LUCKY_DATA_DIR", unit.data_dir()),
            ("LUCKY_TEST_DIR", unit.dir.path().to_path_buf()),
        ] {
            model
                .pass_env(key, value.to_string_lossy())
                .expect("pass env");
        }
        let dir = model.dir().to_string_lossy().into_owned();
        let install = model.run_hook("install").expect("install");
        assert!(install.success(), "{juju}: {}", install.stderr);
        let id = model.add_peer_relation("lucky-leader").expect("peer");
        let created = model
            .run_relation_hook(&id, RelationEvent::Created, None)
            .expect("created");
        assert!(created.success(), "{juju}: {}", created.stderr);

        // Elected: leader-elected runs and the leader writes.
        let out = sim(&["elect", &dir]);
        assert!(out.status.success(), "{juju}: {out:?}");
        assert_eq!(leader_data(&model, juju), bag(&[("by", "app/0")]), "{juju}");
        let led = Status {
            status: "active".into(),
            message: "led by me".into(),
        };
        assert_eq!(model.application_status().expect("status"), led, "{juju}");
        let again = sim(&["elect", &dir]);
        assert_eq!(again.status.code(), Some(1), "{juju}: {again:?}");
        assert_eq!(
            support::stderr(&again),
            "lucky: app/0 is already the leader of app\n",
            "{juju}"
        );

        // Deposed: no leader-deposed; on 3.6 the minion catches up on leader data.
        let out = sim(&["depose", &dir]);
        assert!(out.status.success(), "{juju}: {out:?}");
        assert!(!model.state().expect("state").leader, "{juju}");
        let again = sim(&["depose", &dir]);
        assert_eq!(again.status.code(), Some(1), "{juju}: {again:?}");
        assert_eq!(
            support::stderr(&again),
            "lucky: app/0 is not the leader of app\n",
            "{juju}"
        );

        // The deposed unit's leader-only calls are refused and change nothing.
        let run = model.run_hook("update-status").expect("update-status");
        assert!(run.success(), "{juju}: {}", run.stderr);
        assert_eq!(leader_data(&model, juju), bag(&[("by", "app/0")]), "{juju}");
        assert_eq!(model.application_status().expect("status"), led, "{juju}");
        assert!(model.secrets().expect("secrets").is_empty(), "{juju}");

        // The new leader (another unit) writes; the unit hears of it.
        let out = sim(&["leader-set", &dir, "by=app/1", "k=v"]);
        assert!(out.status.success(), "{juju}: {out:?}");
        assert_eq!(
            leader_data(&model, juju),
            bag(&[("by", "app/1"), ("k", "v")]),
            "{juju}"
        );
        // Elected again: leader-elected runs and writing works again.
        let out = sim(&["elect", &dir]);
        assert!(out.status.success(), "{juju}: {out:?}");
        assert_eq!(
            leader_data(&model, juju),
            bag(&[("by", "app/0"), ("k", "v")]),
            "{juju}"
        );
        let refused = sim(&["leader-set", &dir, "k=w"]);
        assert_eq!(refused.status.code(), Some(1), "{juju}: {refused:?}");
        assert_eq!(
            support::stderr(&refused),
            "lucky: app/0 is the leader: leader data changes from its own hooks (`lucky leader set`)\n",
            "{juju}"
        );

        let hooks: Vec<String> = model
            .state()
            .expect("state")
            .hooks
            .iter()
            .map(|h| format!("{} exit={}", h.hook, h.exit_code))
            .collect();
        let (deposed, changed) = match juju {
            Juju::V3_6 => (
                vec!["leader-settings-changed exit=0"],
                "leader-settings-changed exit=0",
            ),
            Juju::V4_0 => (vec![], "lucky-leader-relation-changed exit=0"),
        };
        let mut expected = vec![
            "install exit=0",
            "lucky-leader-relation-created exit=0",
            "leader-elected exit=0",
        ];
        expected.extend(deposed);
        expected.extend(["update-status exit=0", changed, "leader-elected exit=0"]);
        assert_eq!(hooks, expected, "{juju}");

        let deposed_out = match juju {
            Juju::V3_6 => "== leader-settings-changed leader=false data={\"by\":\"app/0\"}\n",
            Juju::V4_0 => "",
        };
        let not_leader = match juju {
            Juju::V3_6 => {
                "leader-set rc=1 lucky: leader-set: cannot write leadership settings: cannot write settings: not the leader\n"
            }
            Juju::V4_0 => {
                "leader-set rc=1 lucky: cannot set leader data: this unit is not the leader (only the leader may; see `lucky leader is-leader`)\n"
            }
        };
        assert_eq!(
            unit.read("out"),
            format!(
                "== install leader=false data={{}}\n\
                 == lucky-leader-relation-created leader=false data={{}}\n\
                 == leader-elected leader=true data={{}}\n\
                 leader-set rc=0 \n\
                 app-status rc=0 \n\
                 {deposed_out}\
                 == update-status leader=false data={{\"by\":\"app/0\"}}\n\
                 {not_leader}\
                 app-status rc=1 lucky: cannot set the application status: this unit is not the leader (only the leader may; see `lucky leader is-leader`)\n\
                 app-secret rc=1 lucky: secret-add: this unit is not the leader\n\
                 == {} leader=false data={{\"by\":\"app/1\",\"k\":\"v\"}}\n\
                 == leader-elected leader=true data={{\"by\":\"app/1\",\"k\":\"v\"}}\n\
                 leader-set rc=0 \n\
                 app-status rc=0 \n",
                changed.trim_end_matches(" exit=0")
            ),
            "{juju}"
        );
    }
}
