//! One charm, unchanged, on the simulator's Juju 3.6 and Juju 4.0: `lucky leader get/set`
//! give the same answers and leave the same leader data (leader-get/leader-set on 3.6, the
//! `lucky-leader` peer relation's application data on 4.0); 4.0 has no leader-get for
//! scripts, fires no leader-settings-changed and refuses metadata.yaml `series`.

mod support;

use lucky::simulator::{Juju, Model, RelationEvent};
use std::collections::BTreeMap;
use support::{LUCKY, Unit};

const METADATA: &str =
    "name: app\nsummary: s\ndescription: d\npeers:\n  lucky-leader:\n    interface: lucky-leader\n";

const LUCKY_YAML: &str = r#"hooks:
  install:
    - host-script: leader.sh
  lucky-leader-relation-created:
    - host-script: leader.sh
  leader-elected:
    - host-script: leader.sh
  leader-settings-changed:
    - host-script: leader.sh
  config-changed:
    - host-script: leader.sh
  update-status:
    - host-script: leader.sh
"#;

/// Reads leader data in every hook, writes it in leader-elected and config-changed.
const LEADER_SH: &str = r#"out="$LUCKY_TEST_DIR/out"
echo "== $JUJU_HOOK_NAME" >> "$out"
lucky leader get >> "$out" 2>&1; echo "get rc=$?" >> "$out"
lucky leader get greeting >> "$out" 2>&1; echo "get greeting rc=$?" >> "$out"
case "$JUJU_HOOK_NAME" in
leader-elected)
    lucky leader set greeting=hello count=1 gone=soon >> "$out" 2>&1; echo "set rc=$?" >> "$out"
    lucky leader set gone= >> "$out" 2>&1; echo "delete rc=$?" >> "$out"
    ;;
config-changed)
    lucky leader set count=2 'motto=two words' >> "$out" 2>&1; echo "set rc=$?" >> "$out"
    ;;
esac
lucky leader get --format json >> "$out" 2>&1; echo "json rc=$?" >> "$out"
if command -v leader-get > /dev/null; then echo "leader-get: on PATH" > "$LUCKY_TEST_DIR/tools"; else echo "leader-get: not found" > "$LUCKY_TEST_DIR/tools"; fi
"#;

fn model(unit: &Unit, juju: Juju) -> Model {
    let model =
        Model::create_on(juju, unit.path("model"), unit.charm(), &unit.name, LUCKY).expect("model");
    for (key, value) in [
        ("LUCKY_SOCKET", unit.socket()),
        ("LUCKY_DATA_DIR", unit.data_dir()),
        ("LUCKY_TEST_DIR", unit.dir.path().to_path_buf()),
    ] {
        model
            .pass_env(key, value.to_string_lossy())
            .expect("pass env");
    }
    model
}

fn charm(juju: Juju) -> (Unit, Model) {
    let unit = Unit::new();
    unit.dispatching_charm(METADATA, LUCKY_YAML);
    unit.host_script("leader.sh", LEADER_SH);
    let model = model(&unit, juju);
    (unit, model)
}

/// The leader data where this Juju keeps it: leader settings, or the peer app bag.
fn stored(model: &Model, juju: Juju) -> BTreeMap<String, String> {
    let state = model.state().expect("state");
    match juju {
        Juju::V3_6 => state.data.leader_data,
        Juju::V4_0 => {
            assert!(
                state.data.leader_data.is_empty(),
                "4.0 has no leader settings"
            );
            let (_, peer) = state
                .data
                .relations
                .iter()
                .find(|(_, r)| r.endpoint == "lucky-leader")
                .expect("the lucky-leader peer relation");
            assert_eq!(
                peer.remote_app,
                state.app(),
                "a peer relation is with the app itself"
            );
            peer.local_app_data.clone()
        }
    }
}

#[test]
fn the_same_charm_leaves_the_same_leader_data_and_output_on_3_6_and_4_0() {
    let mut outputs = Vec::new();
    for juju in [Juju::V3_6, Juju::V4_0] {
        let (unit, model) = charm(juju);
        model.set_leader(true).expect("leader");
        let runs = model.play_life().expect("life");
        for run in &runs {
            assert!(run.success(), "{juju} {}: {}", run.hook, run.stderr);
        }
        let hooks: Vec<&str> = runs.iter().map(|r| r.hook.as_str()).collect();
        assert_eq!(
            hooks[..3],
            ["install", "lucky-leader-relation-created", "leader-elected"],
            "{juju}"
        );
        let data = stored(&model, juju);
        let expected: BTreeMap<String, String> = [
            ("count", "2"),
            ("greeting", "hello"),
            ("motto", "two words"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(data, expected, "{juju}");
        let tools = unit.read("tools");
        match juju {
            Juju::V3_6 => assert_eq!(tools, "leader-get: on PATH\n"),
            Juju::V4_0 => assert_eq!(tools, "leader-get: not found\n"),
        }
        outputs.push(unit.read("out"));
    }
    assert_eq!(outputs[0], outputs[1], "3.6 and 4.0 print the same");
    let out = &outputs[0];
    // Before anything is set: empty, not an error (install reads it too).
    assert!(
        out.starts_with("== install\nget rc=0\n\nget greeting rc=0\n{}\njson rc=0\n"),
        "{out}"
    );
    assert!(
        out.contains("== config-changed\ncount=1\ngreeting=hello\nget rc=0\nhello\nget greeting rc=0\nset rc=0\n"),
        "{out}"
    );
    assert!(out.contains("== update-status\n"), "{out}");
    assert!(
        out.ends_with(
            "== update-status\ncount=2\ngreeting=hello\nmotto=two words\nget rc=0\nhello\nget greeting rc=0\n{\"count\":\"2\",\"greeting\":\"hello\",\"motto\":\"two words\"}\njson rc=0\n"
        ),
        "{out}"
    );
    assert!(
        out.lines()
            .filter(|l| l.starts_with("set rc="))
            .all(|l| l == "set rc=0"),
        "{out}"
    );
    assert!(!out.contains("gone"), "{out}");
}

#[test]
fn a_script_on_4_0_cannot_run_leader_get_or_leader_set() {
    let (unit, model) = charm(Juju::V4_0);
    unit.host_script(
        "leader.sh",
        "leader-get 2> \"$LUCKY_TEST_DIR/err\"; echo \"get rc=$?\" > \"$LUCKY_TEST_DIR/rc\"; leader-set a=b 2>> \"$LUCKY_TEST_DIR/err\"; echo \"set rc=$?\" >> \"$LUCKY_TEST_DIR/rc\"
ln -s \"$(command -v lucky)\" \"$LUCKY_TEST_DIR/leader-get\"; \"$LUCKY_TEST_DIR/leader-get\" 2> \"$LUCKY_TEST_DIR/err2\"; echo \"linked rc=$?\" >> \"$LUCKY_TEST_DIR/rc\"",
    );
    assert!(!model.tools_dir().join("leader-get").exists());
    assert!(!model.tools_dir().join("leader-set").exists());
    assert!(model.tools_dir().join("is-leader").exists());
    model.set_leader(true).expect("leader");
    let run = model.run_hook("install").expect("install");
    assert!(run.success(), "{}", run.stderr);
    // sh's "command not found".
    assert_eq!(unit.read("rc"), "get rc=127\nset rc=127\nlinked rc=1\n");
    assert!(
        unit.read("err").contains("not found"),
        "{}",
        unit.read("err")
    );
    // Reached another way, the simulated agent has no such command either.
    assert_eq!(
        unit.read("err2"),
        "ERROR bad request: unknown hook command: leader-get\n"
    );
    assert!(model.leader_data().expect("data").is_empty());
}

#[test]
fn a_non_leader_set_fails_on_both_and_changes_nothing() {
    let mut reads = Vec::new();
    for juju in [Juju::V3_6, Juju::V4_0] {
        let (unit, model) = charm(juju);
        unit.host_script(
            "leader.sh",
            "lucky leader set k=v greeting=changed 2> \"$LUCKY_TEST_DIR/err\"; echo \"set rc=$?\" > \"$LUCKY_TEST_DIR/rc\"\nlucky leader get --format json > \"$LUCKY_TEST_DIR/read\"",
        );
        model.set_leader(false).expect("follower");
        let id = model.add_peer_relation("lucky-leader").expect("peer");
        // What the leader wrote earlier, where this Juju keeps it.
        model
            .update(|s| {
                let bag = match juju {
                    Juju::V3_6 => &mut s.data.leader_data,
                    Juju::V4_0 => &mut s.data.relations.get_mut(&id).expect("rel").local_app_data,
                };
                bag.insert("greeting".into(), "hello".into());
                Ok(())
            })
            .expect("seed");
        let run = model
            .run_relation_hook(&id, RelationEvent::Created, None)
            .expect("created");
        assert!(run.success(), "{juju}: {}", run.stderr);
        // leader-set's own refusal on 3.6; Lucky's in its place on 4.0, with its status.
        assert_eq!(unit.read("rc"), "set rc=1\n", "{juju}");
        let err = unit.read("err");
        assert_eq!(err.lines().count(), 1, "{juju}: {err}");
        assert!(
            err.starts_with("lucky: ") && err.contains("not the leader"),
            "{juju}: {err}"
        );
        let expected = BTreeMap::from([("greeting".to_string(), "hello".to_string())]);
        assert_eq!(stored(&model, juju), expected, "{juju}: nothing changed");
        reads.push(unit.read("read"));
    }
    // A follower reads the leader's data on both.
    assert_eq!(reads[0], "{\"greeting\":\"hello\"}\n");
    assert_eq!(reads[0], reads[1]);
}

#[test]
fn on_4_0_a_set_before_the_peer_relation_exists_fails_clearly() {
    let (unit, model) = charm(Juju::V4_0);
    unit.host_script(
        "leader.sh",
        "lucky leader get --format json > \"$LUCKY_TEST_DIR/read\"\nlucky leader set k=v 2> \"$LUCKY_TEST_DIR/err\"; echo \"set rc=$?\" > \"$LUCKY_TEST_DIR/rc\"",
    );
    model.set_leader(true).expect("leader");
    let run = model.run_hook("install").expect("install");
    assert!(run.success(), "{}", run.stderr);
    assert_eq!(unit.read("read"), "{}\n");
    assert_eq!(unit.read("rc"), "set rc=5\n");
    assert_eq!(
        unit.read("err"),
        "lucky: cannot set leader data yet: on Juju 4 it lives in the lucky-leader peer relation, which hooks see from its lucky-leader-relation-created hook on (Juju runs it right after install): set it there, in leader-elected or later\n"
    );
    assert!(model.state().expect("state").data.relations.is_empty());
}

#[test]
fn each_juju_fires_only_its_leadership_hooks() {
    for juju in [Juju::V3_6, Juju::V4_0] {
        let (_unit, model) = charm(juju);
        model.set_leader(false).expect("follower");
        let runs = model.play_life().expect("life");
        let hooks: Vec<&str> = runs.iter().map(|r| r.hook.as_str()).collect();
        let changed = hooks.contains(&"leader-settings-changed");
        assert_eq!(changed, juju == Juju::V3_6, "{juju}: {hooks:?}");
        assert!(!hooks.contains(&"leader-elected"), "{juju}: {hooks:?}");
        let deposed = model.run_hook("leader-deposed").expect_err("never fired");
        assert!(
            deposed.to_string().contains("never runs leader-deposed"),
            "{deposed}"
        );
        let settings = model.run_hook("leader-settings-changed");
        assert_eq!(settings.is_ok(), juju == Juju::V3_6, "{juju}");
    }
}

#[test]
fn juju_4_refuses_series_and_deploys_what_charm_build_writes() {
    let unit = Unit::new();
    unit.dispatching_charm(
        "name: old\nsummary: s\ndescription: d\nseries:\n  - jammy\n  - focal\n",
        "hooks:\n  install:\n    - host-script: ok.sh\n",
    );
    unit.host_script("ok.sh", "true");
    let err = Model::create_on(Juju::V4_0, unit.path("m4"), unit.charm(), "old/0", LUCKY)
        .expect_err("4.0 refuses series");
    assert!(err.to_string().contains("declares `series`"), "{err}");
    assert!(!unit.path("m4/model.json").exists());
    Model::create_on(Juju::V3_6, unit.path("m3"), unit.charm(), "old/0", LUCKY)
        .expect("3.6 reads series");

    let built = unit.path("built");
    let out = std::process::Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(unit.charm())
        .arg("--build-dir")
        .arg(&built)
        .output()
        .expect("build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::read_to_string(built.join("metadata.yaml")).expect("metadata");
    assert!(!meta.contains("series"), "{meta}");
    assert!(
        meta.contains("peers:\n  lucky-leader:\n    interface: lucky-leader\n"),
        "{meta}"
    );
    let manifest = std::fs::read_to_string(built.join("manifest.yaml")).expect("manifest");
    assert!(
        manifest.contains("22.04") && manifest.contains("20.04"),
        "{manifest}"
    );
    let model = Model::create_on(Juju::V4_0, unit.path("m4b"), &built, "old/0", LUCKY)
        .expect("4.0 deploys the built charm");
    assert_eq!(model.peer_endpoints().expect("peers"), ["lucky-leader"]);
    assert!(
        model
            .state()
            .expect("state")
            .juju_version
            .starts_with("4.0.")
    );
}

#[test]
fn charm_build_keeps_an_authors_own_lucky_leader_peer_and_refuses_it_elsewhere() {
    let unit = Unit::new();
    unit.dispatching_charm(
        "name: c\nsummary: s\ndescription: d\npeers:\n    cluster:\n        interface: c\n    lucky-leader:\n        interface: lucky-leader\n",
        "hooks: {}\n",
    );
    let built = unit.path("built");
    let build = |dir: &std::path::Path| {
        std::process::Command::new(LUCKY)
            .args(["charm", "build", "--dev"])
            .arg(unit.charm())
            .arg("--build-dir")
            .arg(dir)
            .output()
            .expect("build")
    };
    let out = build(&built);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::read_to_string(built.join("metadata.yaml")).expect("metadata");
    assert_eq!(meta.matches("lucky-leader:").count(), 1, "{meta}");

    std::fs::write(
        unit.charm().join("metadata.yaml"),
        "name: c\nsummary: s\ndescription: d\npeers:\n    cluster:\n        interface: c\n",
    )
    .expect("write");
    let out = build(&unit.path("built2"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::read_to_string(unit.path("built2/metadata.yaml")).expect("metadata");
    assert!(
        meta.contains("peers:\n    lucky-leader:\n      interface: lucky-leader\n    cluster:\n"),
        "{meta}"
    );

    std::fs::write(
        unit.charm().join("metadata.yaml"),
        "name: c\nsummary: s\ndescription: d\nrequires:\n  lucky-leader:\n    interface: x\n",
    )
    .expect("write");
    let out = build(&unit.path("built3"));
    assert_eq!(out.status.code(), Some(1), "the build refuses the charm");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("relation \"lucky-leader\" is declared under requires"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The same container script sets and reads leader data on both Jujus: through the
/// container socket to the daemon, then leader-set (3.6) or the peer relation (4.0).
#[test]
fn a_container_script_sets_and_reads_leader_data_alike_on_3_6_and_4_0() {
    use support::docker::{TEST_IMAGE, Unit as ContainerUnit};
    let yaml = format!(
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- /bin/sh -c "exec sleep 100000"
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
  leader-elected:
    - container-script: leader.sh
"#
    );
    let script = r#"#!/bin/sh
lucky leader set from=container n=1 2>&1; echo "OUT set rc=$?"
echo "OUT $(lucky leader get --format json 2>&1) rc=$?"
echo "OUT $(lucky leader get from 2>&1) rc=$?"
"#;
    let mut outputs = Vec::new();
    for juju in [Juju::V3_6, Juju::V4_0] {
        let unit = ContainerUnit::new(&yaml, &[("leader.sh", script)]);
        let charm = unit.charm_dir();
        std::fs::write(charm.join("metadata.yaml"), METADATA).expect("metadata");
        let dispatch = charm.join("dispatch");
        std::fs::write(
            &dispatch,
            "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
        )
        .expect("dispatch");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let model = Model::create_on(
            juju,
            unit.dir.path().join("model"),
            &charm,
            &unit.name,
            &unit.lucky,
        )
        .expect("model");
        for (key, value) in [
            ("LUCKY_SOCKET", unit.socket().to_string_lossy().into_owned()),
            (
                "LUCKY_DATA_DIR",
                unit.data_dir().to_string_lossy().into_owned(),
            ),
            ("DOCKER_HOST", unit.docker_host.clone()),
        ] {
            model.pass_env(key, value).expect("pass env");
        }
        model.set_leader(true).expect("leader");
        let install = model.run_hook("install").expect("install");
        assert!(
            install.success(),
            "{juju}: {}{}",
            install.stdout,
            install.stderr
        );
        let id = model.add_peer_relation("lucky-leader").expect("peer");
        let created = model
            .run_relation_hook(&id, RelationEvent::Created, None)
            .expect("created");
        assert!(created.success(), "{juju}: {}", created.stderr);
        let run = model.run_hook("leader-elected").expect("leader-elected");
        assert!(run.success(), "{juju}: {}{}", run.stdout, run.stderr);
        let text = format!("{}{}", run.stdout, run.stderr);
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("OUT ")).collect();
        outputs.push(lines.join("\n"));
        let expected = BTreeMap::from([
            ("from".to_string(), "container".to_string()),
            ("n".to_string(), "1".to_string()),
        ]);
        assert_eq!(stored(&model, juju), expected, "{juju}");
    }
    assert_eq!(
        outputs[0],
        "OUT set rc=0\nOUT {\"from\":\"container\",\"n\":\"1\"} rc=0\nOUT container rc=0"
    );
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn lucky_sim_takes_juju_4_0_and_creates_the_peer_relation_with_its_hook() {
    let unit = Unit::new();
    unit.dispatching_charm(METADATA, LUCKY_YAML);
    unit.host_script("leader.sh", LEADER_SH);
    let model_dir = unit.path("simmodel");
    let model_arg = model_dir.to_string_lossy().into_owned();
    let charm_arg = unit.charm().to_string_lossy().into_owned();
    let sim = |args: &[&str]| {
        let mut all = vec!["sim"];
        all.extend_from_slice(args);
        unit.lucky(&all)
    };
    let bad = sim(&["init", &model_arg, "--charm", &charm_arg, "--juju", "2.9"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        support::stderr(&bad).contains("unknown Juju version \"2.9\": use 3.6 or 4.0"),
        "{}",
        support::stderr(&bad)
    );
    let init = sim(&[
        "init", &model_arg, "--charm", &charm_arg, "--juju", "4.0", "--leader",
    ]);
    assert!(init.status.success(), "{}", support::stderr(&init));
    for hook in ["install", "lucky-leader-relation-created", "leader-elected"] {
        let out = sim(&["hook", &model_arg, hook]);
        assert!(out.status.success(), "{hook}: {}", support::stderr(&out));
    }
    let refused = sim(&["hook", &model_arg, "leader-settings-changed"]);
    assert!(!refused.status.success());
    assert!(
        support::stderr(&refused).contains("Juju 4.0 never runs leader-settings-changed"),
        "{}",
        support::stderr(&refused)
    );
    let model = Model::open(&model_dir).expect("open");
    assert_eq!(
        stored(&model, Juju::V4_0),
        BTreeMap::from([
            ("count".to_string(), "1".to_string()),
            ("greeting".to_string(), "hello".to_string()),
        ])
    );
}
