//! The hook tools beyond the first half: storage, network-get, status-get and the
//! application's status and version, Juju-stored unit state. Each is called from a host
//! script of a charm run by the Juju simulator, and the final model is checked.

mod support;

use lucky::simulator::Model;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use support::Unit;

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// A charm declaring `data` (filesystem, up to 3) and `cache` (block, one) storage and a
/// `website` endpoint, whose hooks run `lucky.yaml`; a model of its unit demo/0.
fn charm(unit: &mut Unit, lucky_yaml: &str) -> Model {
    unit.name = "demo/0".into();
    unit.dispatching_charm(
        "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  website:\n    interface: http\nextra-bindings:\n  admin:\nstorage:\n  data:\n    type: filesystem\n    multiple:\n      range: 0-3\n  cache:\n    type: block\n",
        lucky_yaml,
    );
    unit.model()
}

fn ok(run: &lucky::simulator::HookRun) {
    assert!(
        run.success(),
        "{} failed ({}):\n{}\n{}",
        run.hook,
        run.exit_code,
        run.stdout,
        run.stderr
    );
}

#[test]
fn storage_from_host_scripts_through_its_hooks() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  data-storage-attached:
    - inline-host-script: |
        set -e
        out="$LUCKY_TEST_DIR/attached-$(echo "$JUJU_STORAGE_ID" | tr / -)"
        echo "$JUJU_STORAGE_ID $JUJU_STORAGE_KIND $JUJU_STORAGE_LOCATION" > "$out"
        lucky storage get kind >> "$out"
        lucky storage get location >> "$out"
        lucky storage get --format json >> "$out"
        lucky storage list data >> "$out"
        touch "$(lucky storage get location)/marker"
  install:
    - inline-host-script: |
        set -e
        lucky storage add data=2
        lucky storage list --format json > "$LUCKY_TEST_DIR/list-in-install"
  data-storage-detaching:
    - inline-host-script: |
        set -e
        lucky storage get -s "$JUJU_STORAGE_ID" location > "$LUCKY_TEST_DIR/detaching"
"#,
    );
    let (id, run) = model.attach_storage("data").expect("attach");
    ok(&run);
    assert_eq!(id, "data/0");
    let location = model.dir().join("storage/data/0");
    let loc = location.to_string_lossy();
    assert_eq!(
        unit.read("attached-data-0"),
        format!(
            "data/0 filesystem {loc}\nfilesystem\n{loc}\n{}\ndata/0\n",
            json!({"kind": "filesystem", "location": loc})
        )
    );
    assert!(
        location.join("marker").is_file(),
        "the location is a real directory"
    );

    // storage-add asks for more; they are attached once provisioned, not in the hook.
    ok(&model.run_hook("install").expect("install"));
    assert_eq!(unit.read("list-in-install"), "[\"data/0\"]\n");
    let pending: Vec<(String, bool)> = model
        .storage()
        .expect("storage")
        .into_iter()
        .map(|(id, s)| (id, s.attached))
        .collect();
    assert_eq!(
        pending,
        vec![
            ("data/0".into(), true),
            ("data/1".into(), false),
            ("data/2".into(), false)
        ]
    );
    let runs = model.attach_pending_storage().expect("attach pending");
    assert_eq!(runs.len(), 2);
    for (_, run) in &runs {
        ok(run);
    }
    assert!(
        unit.read("attached-data-2")
            .ends_with("data/0\ndata/1\ndata/2\n"),
        "{}",
        unit.read("attached-data-2")
    );

    ok(&model.detach_storage("data/1").expect("detach"));
    assert_eq!(
        unit.read("detaching"),
        format!("{}\n", model.dir().join("storage/data/1").display())
    );
    let fin: Vec<(String, String, bool)> = model
        .storage()
        .expect("storage")
        .into_iter()
        .map(|(id, s)| (id, s.kind, s.attached))
        .collect();
    assert_eq!(
        fin,
        vec![
            ("data/0".into(), "filesystem".into(), true),
            ("data/2".into(), "filesystem".into(), true)
        ]
    );
}

/// Runs `cmd` in a script, keeping its stderr and exit status in files named `name`.
fn probe(name: &str, cmd: &str) -> String {
    format!(
        "        {cmd} 2> \"$LUCKY_TEST_DIR/{name}.err\"; echo $? > \"$LUCKY_TEST_DIR/{name}.rc\"\n"
    )
}

fn probed(unit: &Unit, name: &str) -> (String, String) {
    (
        unit.read(&format!("{name}.rc")).trim().to_string(),
        unit.read(&format!("{name}.err")),
    )
}

#[test]
fn bad_storage_requests_are_one_line_errors_and_change_nothing() {
    let mut unit = Unit::new();
    let mut script = String::from("hooks:\n  install:\n    - inline-host-script: |\n");
    script += &probe("undeclared", "lucky storage add nope");
    script += &probe("list-undeclared", "lucky storage list nope");
    script += &probe("too-many", "lucky storage add data=3");
    script += &probe("bad-key", "lucky storage get -s data/0 size");
    script += &probe("bad-id", "lucky storage get --storage-id=--output=/etc/x");
    script += &probe("unknown-id", "lucky storage get -s data/7");
    script += &probe("not-storage-hook", "lucky storage get");
    let model = charm(&mut unit, &script);
    let (_, run) = model.attach_storage("data").expect("attach");
    ok(&run);
    ok(&model.run_hook("install").expect("install"));

    let (rc, err) = probed(&unit, "undeclared");
    assert_eq!(rc, "2");
    assert_eq!(
        err,
        "lucky: cannot add storage \"nope\": metadata.yaml declares no such storage (it declares cache, data)\n"
    );
    let (rc, err) = probed(&unit, "list-undeclared");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: cannot list storage \"nope\""),
        "{err}"
    );
    // Juju's own refusal (storage-add's exit status): the unit has data/0, and 1 + 3 is
    // over the range's 3.
    let (rc, err) = probed(&unit, "too-many");
    assert_eq!(rc, "1");
    assert_eq!(
        err,
        "lucky: storage-add: cannot add storage \"data\": the charm allows at most 3 instance(s) and the unit has 3\n"
    );
    let (rc, err) = probed(&unit, "bad-key");
    assert_eq!(
        (rc.as_str(), err.as_str()),
        (
            "2",
            "lucky: cannot get storage attribute \"size\": use kind or location\n"
        )
    );
    let (rc, err) = probed(&unit, "bad-id");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: invalid storage id \"--output=/etc/x\""),
        "{err}"
    );
    // storage-get's own usage error for an unknown -s, with its exit status.
    let (rc, err) = probed(&unit, "unknown-id");
    assert_eq!(rc, "2");
    assert_eq!(
        err,
        "lucky: storage-get: invalid value \"data/7\" for flag -s: storage \"data/7\" not found\n"
    );
    let (rc, err) = probed(&unit, "not-storage-hook");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: cannot get storage in hook install"),
        "{err}"
    );
    for name in ["undeclared", "too-many", "bad-key", "unknown-id"] {
        assert_eq!(probed(&unit, name).1.lines().count(), 1, "{name}");
    }
    // Nothing was added: only the one attached instance.
    assert_eq!(
        model.storage().expect("storage").keys().collect::<Vec<_>>(),
        vec!["data/0"]
    );
}

#[test]
fn statuses_version_and_network_from_the_leader() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky set-status --name main active "serving"
        lucky set-status --application active "all 1 units fine"
        lucky set-application-version "1.2.3-beta"
        lucky get-status > "$LUCKY_TEST_DIR/unit-status"
        lucky get-status --include-data --format json > "$LUCKY_TEST_DIR/unit-status-data"
        lucky get-status --application --format json > "$LUCKY_TEST_DIR/app-status"
        lucky network get website --bind-address > "$LUCKY_TEST_DIR/bind"
        lucky network get admin --ingress-address --egress-subnets --format json > "$LUCKY_TEST_DIR/two"
        lucky network get website --format json > "$LUCKY_TEST_DIR/whole"
"#,
    );
    model.set_leader(true).expect("leader");
    ok(&model.run_hook("install").expect("install"));
    let state = model.state().expect("state");
    assert_eq!(
        (
            state.application_status.status.as_str(),
            state.application_status.message.as_str()
        ),
        ("active", "all 1 units fine")
    );
    assert_eq!(state.application_version, "1.2.3-beta");
    assert_eq!(
        (
            state.unit_status.status.as_str(),
            state.unit_status.message.as_str()
        ),
        ("active", "serving")
    );
    assert_eq!(unit.read("unit-status"), "active\n");
    let parse = |f: &str| -> Value { serde_json::from_str(&unit.read(f)).expect(f) };
    assert_eq!(
        parse("unit-status-data"),
        json!({"status": "active", "message": "serving", "status-data": {}})
    );
    assert_eq!(
        parse("app-status"),
        json!({"application-status": {
            "status": "active", "message": "all 1 units fine", "status-data": {},
            "units": {"demo/0": {"status": "active", "message": "serving", "status-data": {}}}
        }})
    );
    assert_eq!(unit.read("bind"), "10.0.0.10\n");
    assert_eq!(
        parse("two"),
        json!({"ingress-address": "10.0.0.10", "egress-subnets": "10.0.0.10/32"})
    );
    let whole = parse("whole");
    assert_eq!(whole["ingress-addresses"], json!(["10.0.0.10"]));
    assert_eq!(whole["egress-subnets"], json!(["10.0.0.10/32"]));
    assert_eq!(
        whole["bind-addresses"][0]["addresses"][0]["value"],
        json!("10.0.0.10")
    );
}

#[test]
fn a_non_leader_cannot_set_the_application_status() {
    let mut unit = Unit::new();
    let mut script = String::from("hooks:\n  install:\n    - inline-host-script: |\n");
    script += &probe("app", "lucky set-status --application blocked nope");
    script += &probe("app-get", "lucky get-status --application");
    script += &probe("binding", "lucky network get nowhere");
    script += &probe("binding-flag", "lucky network get -- --output=/x");
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    let (rc, err) = probed(&unit, "app");
    assert_eq!(
        (rc.as_str(), err.as_str()),
        (
            "1",
            "lucky: cannot set the application status: this unit is not the leader (only the leader may; see `lucky leader is-leader`)\n"
        )
    );
    let (rc, err) = probed(&unit, "app-get");
    assert_eq!(
        (rc.as_str(), err.as_str()),
        (
            "1",
            "lucky: status-get: finding application status: this unit is not the leader\n"
        )
    );
    let (rc, err) = probed(&unit, "binding");
    assert_eq!(
        (rc.as_str(), err.as_str()),
        (
            "1",
            "lucky: network-get: no network config found for binding \"nowhere\"\n"
        )
    );
    let (rc, err) = probed(&unit, "binding-flag");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: invalid binding \"--output=/x\""),
        "{err}"
    );
    let state = model.state().expect("state");
    assert_eq!(state.application_status.status, "unknown");
    assert!(
        !state
            .status_history
            .iter()
            .any(|s| s.target == "application"),
        "no application status was set"
    );
}

#[test]
fn juju_state_is_committed_only_when_the_hook_succeeds() {
    let mut unit = Unit::new();
    let mut script = String::from(
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky state set a=1 "b=two words" c=3
        lucky state delete c
        lucky state set b=
        lucky state get a > "$LUCKY_TEST_DIR/a"
        lucky state get missing > "$LUCKY_TEST_DIR/missing"
        lucky state get --format json > "$LUCKY_TEST_DIR/all"
  config-changed:
    - inline-host-script: |
        lucky state set a=changed
        exit 1
  update-status:
    - inline-host-script: |
"#,
    );
    script += &probe("bad-key", "lucky state set 'a b=1'");
    script += &probe("bad-delete", "lucky state delete 'x=y'");
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    assert_eq!(unit.read("a"), "1\n");
    assert_eq!(unit.read("missing"), "\n");
    assert_eq!(unit.read("all"), "{\"a\":\"1\"}\n");
    let committed = |model: &Model| {
        model
            .unit_state()
            .expect("state")
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(committed(&model), vec![("a".into(), "1".into())]);

    let failed = model.run_hook("config-changed").expect("config-changed");
    assert!(!failed.success());
    assert_eq!(
        committed(&model),
        vec![("a".into(), "1".into())],
        "a failed hook's state-set is dropped"
    );

    ok(&model.run_hook("update-status").expect("update-status"));
    for name in ["bad-key", "bad-delete"] {
        let (rc, err) = probed(&unit, name);
        assert_eq!(rc, "2", "{name}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("lucky: invalid key"), "{name}: {err}");
    }
    assert_eq!(committed(&model), vec![("a".into(), "1".into())]);
}

#[test]
fn a_container_may_read_storage_but_not_add_it() {
    use lucky::daemon::handlers::policy::{Access, container_access};
    use lucky::protocol::Request;
    assert_eq!(
        container_access(&Request::StorageList { name: None }),
        Access::ScriptToken
    );
    assert!(matches!(
        container_access(&Request::StorageAdd {
            name: "data".into(),
            count: 1
        }),
        Access::Denied(_)
    ));
}

#[test]
fn lucky_sim_attaches_and_detaches_storage() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("charm");
    std::fs::create_dir_all(charm.join("hooks")).expect("mkdir");
    write(
        &charm.join("metadata.yaml"),
        "name: demo\nsummary: demo\ndescription: demo\nstorage:\n  data:\n    type: filesystem\n",
    );
    for hook in ["data-storage-attached", "data-storage-detaching"] {
        let path = charm.join("hooks").join(hook);
        write(
            &path,
            "#!/bin/sh\necho \"$JUJU_HOOK_NAME $JUJU_STORAGE_ID $JUJU_STORAGE_KIND $(storage-get location)\"\n",
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let dir = tmp.path().join("model");
    let sim = |args: &[&str]| {
        std::process::Command::new(support::LUCKY)
            .arg("sim")
            .args(args)
            .output()
            .expect("run lucky sim")
    };
    let d = dir.to_str().expect("utf-8");
    let c = charm.to_str().expect("utf-8");
    let out = sim(&["init", d, "--charm", c, "--unit", "demo/0"]);
    assert!(out.status.success(), "{out:?}");
    let out = sim(&["attach-storage", d, "data"]);
    assert!(out.status.success(), "{out:?}");
    let location = dir.canonicalize().expect("dir").join("storage/data/0");
    assert_eq!(
        support::stdout(&out),
        format!(
            "attached data/0\ndata-storage-attached data/0 filesystem {}\n",
            location.display()
        )
    );
    // One instance only (no `multiple`), and no storage the charm does not declare.
    for name in ["data", "logs"] {
        let out = sim(&["attach-storage", d, name]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_eq!(support::stderr(&out).lines().count(), 1, "{out:?}");
    }
    assert!(
        support::stdout(&sim(&["show", d])).contains("storage:\n  data/0:\n    attached: true\n"),
    );
    let out = sim(&["detach-storage", d, "data/0"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        support::stdout(&out),
        format!(
            "data-storage-detaching data/0 filesystem {}\n",
            location.display()
        )
    );
    assert!(support::stdout(&sim(&["show", d])).contains("storage: {}\n"));
}

#[test]
fn goal_state_names_the_unit_and_each_relations_units() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        "hooks:\n  install:\n    - inline-host-script: lucky goal-state --format json > \"$LUCKY_TEST_DIR/goal\"\n",
    );
    model.add_relation("website", "proxy", 2).expect("relate");
    ok(&model.run_hook("install").expect("install"));
    let mut goal: Value = serde_json::from_str(&unit.read("goal")).expect("json");
    // Every entry has a `since` time like Juju's (`2024-05-01 12:00:00Z`); the rest is exact.
    let mut times = Vec::new();
    let mut strip = |v: &mut Value| {
        for entry in v.as_object_mut().expect("map").values_mut() {
            let since = entry
                .as_object_mut()
                .and_then(|e| e.remove("since"))
                .expect("since");
            times.push(since.as_str().expect("string").to_string());
        }
    };
    strip(&mut goal["units"]);
    strip(&mut goal["relations"]["website"]);
    assert_eq!(
        goal,
        json!({
            "units": {"demo/0": {"status": "active"}},
            "relations": {"website": {
                "proxy": {"status": "joined"},
                "proxy/0": {"status": "active"},
                "proxy/1": {"status": "active"}
            }}
        })
    );
    for t in &times {
        assert!(
            t.len() == 20 && t.ends_with('Z') && &t[10..11] == " ",
            "{t}"
        );
    }
}

#[test]
fn network_get_over_a_relation_gives_the_addresses_that_relation_reaches() {
    let mut unit = Unit::new();
    let mut script = String::from(
        r#"hooks:
  website-relation-joined:
    - inline-host-script: |
        T="$LUCKY_TEST_DIR/$JUJU_RELATION_ID"
        lucky network get website --ingress-address > "$T-hook"
        lucky network get website -r website:1 --format json > "$T-local"
        lucky network get website -r website:2 --format json > "$T-cmr"
        lucky network get website -r 2 --ingress-address --bind-address --format json > "$T-cmr-two"
"#,
    );
    script += &probe("unknown", "lucky network get website -r website:9");
    script += &probe("bad", "lucky network get website -r website:x");
    let model = charm(&mut unit, &script);
    assert_eq!(
        model.add_relation("website", "proxy", 1).expect("relate"),
        "website:1"
    );
    let cmr = model.add_relation("website", "shop", 1).expect("relate");
    assert_eq!(cmr, "website:2");
    model
        .set_remote_model(&cmr, "ffffffff-0000-4000-8000-000000000002")
        .expect("cross-model");
    for (id, remote) in [("website:1", "proxy/0"), ("website:2", "shop/0")] {
        ok(&model
            .run_relation_hook(id, lucky::simulator::RelationEvent::Joined, Some(remote))
            .expect("joined"));
    }
    let whole = |ingress: &str| {
        json!({
            "bind-addresses": [{
                "mac-address": "",
                "interface-name": "eth0",
                "addresses": [{"hostname": "", "value": "10.0.0.10", "cidr": "10.0.0.0/24"}],
            }],
            "egress-subnets": [format!("{ingress}/32")],
            "ingress-addresses": [ingress],
        })
    };
    let parse = |f: &str| -> Value { serde_json::from_str(&unit.read(f)).expect(f) };
    // Without -r, the hook's own relation; a relation in this model reaches the unit on
    // its private address, one from another model on its public address.
    assert_eq!(unit.read("website:1-hook"), "10.0.0.10\n");
    assert_eq!(unit.read("website:2-hook"), "203.0.113.10\n");
    for hook in ["website:1", "website:2"] {
        assert_eq!(
            parse(&format!("{hook}-local")),
            whole("10.0.0.10"),
            "{hook}"
        );
        assert_eq!(
            parse(&format!("{hook}-cmr")),
            whole("203.0.113.10"),
            "{hook}"
        );
        assert_eq!(
            parse(&format!("{hook}-cmr-two")),
            json!({"bind-address": "10.0.0.10", "ingress-address": "203.0.113.10"}),
            "{hook}"
        );
    }
    // network-get's own usage error (an unknown -r), with its exit status.
    let (rc, err) = probed(&unit, "unknown");
    assert_eq!(
        (rc.as_str(), err.as_str()),
        (
            "2",
            "lucky: network-get: invalid value \"website:9\" for option -r: relation not found\n"
        )
    );
    let (rc, err) = probed(&unit, "bad");
    assert_eq!(rc, "2");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("lucky: invalid relation id \"website:x\""),
        "{err}"
    );
}
