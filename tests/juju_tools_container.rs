//! The hook tools a container script reaches through `lucky`, end to end: a script in a
//! real container (needs the private engine: `tests/support/docker-engine.sh start` and
//! DOCKER_HOST=unix:///run/lucky-test-docker.sock) calls secrets, storage, network,
//! statuses, Juju-stored state and goal-state while the Juju simulator runs the hook; what
//! it printed and the simulated model afterwards are checked exactly.

mod support;

use lucky::simulator::state::{Secret, StorageInstance};
use lucky::simulator::{Model, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::docker::{TEST_IMAGE, Unit};

const METADATA: &str = "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  website:\n    interface: http\nstorage:\n  data:\n    type: filesystem\n";

/// A unit whose install hook starts a container and runs `script` in it, and the model
/// of that unit, created (not yet run) with the daemon's settings passed to its hooks.
fn unit_and_model(script: &str) -> (Unit, Model) {
    let yaml = format!(
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- /bin/sh -c "exec sleep 100000"
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
    - container-script: probe.sh
"#
    );
    let unit = Unit::new(&yaml, &[("probe.sh", script)]);
    let charm = unit.charm_dir();
    std::fs::write(charm.join("metadata.yaml"), METADATA).expect("metadata.yaml");
    let dispatch = charm.join("dispatch");
    std::fs::write(
        &dispatch,
        "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
    )
    .expect("dispatch");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let model = Model::create(
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
    (unit, model)
}

/// `OUT name rc=N output` lines: each call's exit status and output (stderr included,
/// its lines joined with `|`).
const PROBE: &str = r#"#!/bin/sh
out() { name=$1; shift; v=$(lucky "$@" 2>&1); rc=$?; echo "OUT $name rc=$rc $(printf %s "$v" | tr '\n' '|')"; }
id=$(lucky secret add --owner unit --label ct-pass --description "from the container" password=s3cret user=admin 2>&1)
echo "OUT add rc=$? ${id%%:*}"
out get secret get "$id" password
out get-all secret get --label ct-pass
out set secret set "$id" password=n3w user=admin
out tracked secret get "$id" password
out peek secret get "$id" password --peek
out refresh secret get "$id" password --refresh
out info secret info-get --label ct-pass --format json
out ids secret ids
out storage-location storage get -s data/0 location
out storage-kind storage get -s data/0 kind
out storage-list storage list
out storage-list-data storage list data --format json
out bind network get website --bind-address
out net-two network get website --ingress-address --egress-subnets --format json
out net-cmr network get website -r website:1 --ingress-address --egress-subnets --format json
out set-status set-status --name main active served from the container
out set-app-status set-status --application active all good
out get-status get-status --include-data --format json
out get-app-status get-status --application --format json
out state-set state set a=1 "b=two words" c=3
out state-delete state delete c
out state-get state get a
out state-all state get --format json
out goal goal-state --format json
"#;

#[test]
fn a_container_script_reaches_every_hook_tool_and_the_model_shows_it() {
    let (unit, model) = unit_and_model(PROBE);
    model.set_leader(true).expect("leader");
    let rel = model.add_relation("website", "proxy", 1).expect("relate");
    assert_eq!(rel, "website:1");
    // The remote application lives in another model: network-get -r answers with the
    // addresses that model reaches the unit on.
    model
        .set_remote_model(&rel, "ffffffff-0000-4000-8000-000000000001")
        .expect("cross-model");
    // Juju attaches storage before install; the hook has no scripts here.
    let (storage_id, attached) = model.attach_storage("data").expect("attach");
    assert!(attached.success(), "{}{}", attached.stdout, attached.stderr);
    assert_eq!(storage_id, "data/0");
    let before = model.state().expect("state");

    let run = model.run_hook("install").expect("install");
    assert!(
        run.success(),
        "install ({}):\n{}{}",
        run.exit_code,
        run.stdout,
        run.stderr
    );
    let text = format!("{}{}", run.stdout, run.stderr);
    let out: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("OUT "))
        .collect();

    let state = model.state().expect("state");
    assert_eq!(state.data.secrets.len(), 1, "{:?}", state.data.secrets);
    let (id, secret) = state.data.secrets.iter().next().expect("one secret");
    let location = model.dir().join("storage/data/0");
    let loc = location.to_string_lossy();

    // The goal state's times are Juju's `since` (checked in tests/juju_tools.rs).
    let (goal_line, rest) = out.split_last().expect("lines");
    let goal_json = goal_line.strip_prefix("goal rc=0 ").expect("goal line");
    let mut goal: Value = serde_json::from_str(goal_json).expect("goal json");
    for path in ["/units", "/relations/website"] {
        let section = goal.pointer_mut(path).expect(path);
        for entry in section.as_object_mut().expect("map").values_mut() {
            assert!(
                entry
                    .as_object_mut()
                    .and_then(|e| e.remove("since"))
                    .is_some()
            );
        }
    }
    assert_eq!(
        goal,
        json!({
            "units": {unit.name.clone(): {"status": "active"}},
            "relations": {"website": {
                "proxy": {"status": "joined"},
                "proxy/0": {"status": "active"},
            }}
        })
    );

    let expected = [
        "add rc=0 secret".to_string(),
        "get rc=0 s3cret".into(),
        "get-all rc=0 password=s3cret|user=admin".into(),
        "set rc=0 ".into(),
        // The unit tracks the revision it first read until it refreshes.
        "tracked rc=0 s3cret".into(),
        "peek rc=0 n3w".into(),
        "refresh rc=0 n3w".into(),
        format!(
            "info rc=0 {}",
            json!({id: {"revision": 2, "label": "ct-pass", "owner": "unit", "description": "from the container"}})
        ),
        format!("ids rc=0 {id}"),
        format!("storage-location rc=0 {loc}"),
        "storage-kind rc=0 filesystem".into(),
        "storage-list rc=0 data/0".into(),
        "storage-list-data rc=0 [\"data/0\"]".into(),
        "bind rc=0 10.0.0.10".into(),
        format!(
            "net-two rc=0 {}",
            json!({"egress-subnets": "10.0.0.10/32", "ingress-address": "10.0.0.10"})
        ),
        format!(
            "net-cmr rc=0 {}",
            json!({"egress-subnets": "203.0.113.10/32", "ingress-address": "203.0.113.10"})
        ),
        "set-status rc=0 ".into(),
        "set-app-status rc=0 ".into(),
        format!(
            "get-status rc=0 {}",
            json!({"status": "active", "message": "served from the container", "status-data": {}})
        ),
        format!(
            "get-app-status rc=0 {}",
            json!({"application-status": {
                "status": "active", "message": "all good", "status-data": {},
                "units": {unit.name.clone(): {"status": "active", "message": "served from the container", "status-data": {}}}
            }})
        ),
        "state-set rc=0 ".into(),
        "state-delete rc=0 ".into(),
        "state-get rc=0 1".into(),
        "state-all rc=0 {\"a\":\"1\",\"b\":\"two words\"}".into(),
    ];
    assert_eq!(rest.join("\n"), expected.join("\n"), "{text}");

    // The final model: exactly what the calls asked for, committed with the hook.
    let b64 = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        *secret,
        Secret {
            owner: "unit".into(),
            owner_id: unit.name.clone(),
            label: "ct-pass".into(),
            description: "from the container".into(),
            rotate: None,
            expire: None,
            revisions: BTreeMap::from([
                (1, b64(&[("password", "czNjcmV0"), ("user", "YWRtaW4=")])),
                (2, b64(&[("password", "bjN3"), ("user", "YWRtaW4=")])),
            ]),
            tracked: Some(2),
            grants: Vec::new(),
        }
    );
    assert_eq!(
        state.data.storage,
        BTreeMap::from([(
            "data/0".to_string(),
            StorageInstance {
                kind: "filesystem".into(),
                location: loc.into_owned(),
                attached: true,
            }
        )])
    );
    assert_eq!(
        state.data.unit_state,
        b64(&[("a", "1"), ("b", "two words")])
    );
    assert_eq!(
        state.unit_status,
        Status {
            status: "active".into(),
            message: "served from the container".into()
        }
    );
    assert_eq!(
        state.application_status,
        Status {
            status: "active".into(),
            message: "all good".into()
        }
    );
    // Reading touched nothing else: relations, leader data and ports are as before.
    assert_eq!(state.data.relations, before.data.relations);
    assert!(state.data.leader_data.is_empty());
    assert!(state.data.opened_ports.is_empty());
    let app_statuses: Vec<(&str, &str)> = state
        .status_history
        .iter()
        .filter(|s| s.target == "application")
        .map(|s| (s.status.as_str(), s.message.as_str()))
        .collect();
    assert_eq!(app_statuses, vec![("active", "all good")]);
    let hooks: Vec<(&str, i32, bool)> = state
        .hooks
        .iter()
        .map(|h| (h.hook.as_str(), h.exit_code, h.committed))
        .collect();
    assert_eq!(
        hooks,
        vec![("data-storage-attached", 0, true), ("install", 0, true)]
    );
}

/// Bad input from a container script: one line naming it, the exit status Juju's own tool
/// gives (or Lucky's, for what it checks itself), and nothing changed.
const REFUSED: &str = r#"#!/bin/sh
out() { name=$1; shift; v=$(lucky "$@" 2>&1); rc=$?; echo "OUT $name rc=$rc $(printf %s "$v" | tr '\n' '|')"; }
out wrong-id secret get secret:aaaaaaaaaaaaaaaaaaaa
out bad-key secret add --owner unit Password=x
out undeclared storage list nope
out leader-set leader set k=v
out app-status set-status --application active mine
out app-data relation set -r website:1 --app k=v
"#;

#[test]
fn bad_input_from_a_container_script_exits_as_juju_does_and_changes_nothing() {
    let (_unit, model) = unit_and_model(REFUSED);
    let rel = model.add_relation("website", "proxy", 1).expect("relate");
    let before = model.state().expect("state");
    let run = model.run_hook("install").expect("install");
    assert!(run.success(), "{}{}", run.stdout, run.stderr);
    let text = format!("{}{}", run.stdout, run.stderr);
    let out: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("OUT "))
        .collect();
    assert_eq!(
        out,
        vec![
            "wrong-id rc=1 lucky: secret-get: secret \"aaaaaaaaaaaaaaaaaaaa\" not found",
            "bad-key rc=2 lucky: invalid secret key \"Password\": use 3 or more lowercase letters and digits, starting with a letter, single '-' between them (e.g. db-password)",
            "undeclared rc=2 lucky: cannot list storage \"nope\": metadata.yaml declares no such storage (it declares data)",
            "leader-set rc=1 lucky: leader-set: cannot write leadership settings: cannot write settings: not the leader",
            "app-status rc=1 lucky: cannot set the application status: this unit is not the leader (only the leader may; see `lucky leader is-leader`)",
            "app-data rc=1 lucky: relation-set: cannot write application settings in relation website:1: this unit is not the leader",
        ],
        "{text}"
    );
    let state = model.state().expect("state");
    assert!(state.data.secrets.is_empty());
    assert!(state.data.leader_data.is_empty());
    assert!(state.data.storage.is_empty());
    assert_eq!(state.data.relations, before.data.relations);
    assert!(
        state.data.relations[&rel].local_app_data.is_empty(),
        "{:?}",
        state.data.relations[&rel]
    );
    assert_eq!(state.application_status, before.application_status);
}
