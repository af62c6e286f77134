//! The rest of Juju 3.6's hook tools from scripts: credential-get (trusted applications
//! only), juju-reboot (after the hook, or at once killing it), relation-model-get, and the
//! options of the tools wrapped earlier (relation set --file, list-units --app, list-ids
//! defaulting to the hook's endpoint, port --endpoints and protocols in any case, every
//! juju-log level). Each runs from a host script of a charm the Juju simulator drives, and
//! the final model is checked.

mod support;

use lucky::simulator::state::RebootRecord;
use lucky::simulator::{Model, RelationEvent};
use serde_json::{Value, json};
use support::Unit;

/// A charm with a `website` endpoint, an `admin` extra binding and a `reboot` action,
/// whose hooks run `lucky_yaml`; a model of its unit demo/0.
fn charm(unit: &mut Unit, lucky_yaml: &str) -> Model {
    unit.name = "demo/0".into();
    unit.dispatching_charm(
        "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  website:\n    interface: http\nextra-bindings:\n  admin:\n",
        lucky_yaml,
    );
    std::fs::write(
        unit.charm().join("actions.yaml"),
        "reboot:\n  description: reboot\n",
    )
    .expect("actions.yaml");
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
fn credential_get_answers_only_once_the_application_is_trusted() {
    let mut unit = Unit::new();
    let mut script = String::from("hooks:\n  install:\n    - inline-host-script: |\n");
    script += &probe("untrusted", "lucky credential-get");
    script += "  config-changed:\n    - inline-host-script: |\n        set -e\n";
    script += "        lucky credential-get --format json > \"$LUCKY_TEST_DIR/json\"\n";
    script += "        lucky credential-get > \"$LUCKY_TEST_DIR/smart\"\n";
    script += "        lucky credential-get --format yaml > \"$LUCKY_TEST_DIR/yaml\"\n";
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    assert_eq!(
        probed(&unit, "untrusted"),
        (
            "1".into(),
            "lucky: credential-get: cannot access cloud credentials: permission denied\n".into()
        )
    );

    // `lucky sim trust` is `juju trust`.
    let out = std::process::Command::new(support::LUCKY)
        .args(["sim", "trust"])
        .arg(model.dir())
        .output()
        .expect("lucky sim trust");
    assert!(out.status.success(), "{out:?}");
    assert!(model.state().expect("state").machine.trusted);
    let show = std::process::Command::new(support::LUCKY)
        .args(["sim", "show"])
        .arg(model.dir())
        .output()
        .expect("lucky sim show");
    assert!(
        support::stdout(&show).contains("\ntrusted: true\n"),
        "{}",
        support::stdout(&show)
    );
    ok(&model.run_hook("config-changed").expect("config-changed"));
    let spec: Value = serde_json::from_str(&unit.read("json")).expect("json");
    assert_eq!(
        spec,
        json!({
            "type": "lxd",
            "name": "localhost",
            "region": "localhost",
            "endpoint": "https://10.0.0.1:8443",
            "credential": {"auth-type": "certificate", "attrs": {
                "client-cert": "simulated-client-cert",
                "client-key": "simulated-client-key",
                "server-cert": "simulated-server-cert"
            }},
            "is-controller-cloud": true
        })
    );
    let yaml = "credential:\n  attrs:\n    client-cert: simulated-client-cert\n    client-key: simulated-client-key\n    server-cert: simulated-server-cert\n  auth-type: certificate\nendpoint: https://10.0.0.1:8443\nis-controller-cloud: true\nname: localhost\nregion: localhost\ntype: lxd\n";
    assert_eq!(unit.read("smart"), yaml);
    assert_eq!(unit.read("yaml"), yaml);

    let out = std::process::Command::new(support::LUCKY)
        .args(["sim", "trust", "--remove"])
        .arg(model.dir())
        .output()
        .expect("lucky sim trust --remove");
    assert!(out.status.success(), "{out:?}");
    assert!(!model.state().expect("state").machine.trusted);
}

#[test]
fn juju_reboot_reboots_after_a_hook_that_succeeds_only() {
    let mut unit = Unit::new();
    let mut script = String::from(
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky juju-reboot
        lucky state set installed=yes
  config-changed:
    - inline-host-script: |
        lucky juju-reboot
        exit 1
actions:
  reboot:
    - inline-host-script: |
"#,
    );
    script += &probe("in-action", "lucky juju-reboot");
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    let state = model.state().expect("state");
    assert_eq!(
        state.machine.reboots,
        vec![RebootRecord {
            hook: "install".into(),
            now: false
        }]
    );
    assert_eq!(state.agent_status.status, "rebooting");
    assert_eq!(
        state.data.unit_state.get("installed").map(String::as_str),
        Some("yes"),
        "the hook's changes are committed before the reboot"
    );

    let failed = model.run_hook("config-changed").expect("config-changed");
    assert_eq!(failed.exit_code, 1);
    assert_eq!(
        model.reboots().expect("reboots").len(),
        1,
        "a failed hook's reboot request is dropped"
    );
    assert_eq!(model.state().expect("state").agent_status.status, "error");

    let action = model
        .run_action("reboot", serde_json::Map::new())
        .expect("action");
    ok(&action.run);
    assert_eq!(
        probed(&unit, "in-action"),
        (
            "1".into(),
            "lucky: juju-reboot: juju-reboot is not supported when running an action.\n".into()
        )
    );
    assert_eq!(model.reboots().expect("reboots").len(), 1);
}

#[test]
fn juju_reboot_now_kills_the_hook_and_drops_what_it_changed() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky state set before=1
        lucky port open 80
        lucky juju-reboot --now
        echo "$?" > "$LUCKY_TEST_DIR/reboot.rc"
"#,
    );
    let run = model.run_hook("install").expect("install");
    assert_eq!(run.exit_code, 128 + 9, "Juju kills the hook process");
    let state = model.state().expect("state");
    assert_eq!(
        state.machine.reboots,
        vec![RebootRecord {
            hook: "install".into(),
            now: true
        }]
    );
    assert_eq!(state.agent_status.status, "rebooting");
    assert!(
        state.data.unit_state.is_empty(),
        "{:?}",
        state.data.unit_state
    );
    assert!(state.data.opened_ports.is_empty());
    let last = state.hooks.last().expect("a hook record");
    assert_eq!((last.hook.as_str(), last.committed), ("install", false));
    // The request itself succeeded (Juju answers it before the machine goes down).
    support::wait_for(
        "the script to go on",
        std::time::Duration::from_secs(10),
        || !unit.read("reboot.rc").is_empty(),
    );
    assert_eq!(unit.read("reboot.rc"), "0\n");
}

#[test]
fn relation_model_get_list_ids_list_units_app_and_set_from_a_file() {
    let mut unit = Unit::new();
    let script = r#"hooks:
  website-relation-changed:
    - inline-host-script: |
        set -e
        lucky relation model-get > "$LUCKY_TEST_DIR/remote-model"
        lucky relation model-get -r website:2 --format json > "$LUCKY_TEST_DIR/model-2"
        lucky relation list-ids > "$LUCKY_TEST_DIR/ids"
        lucky relation list-units --app > "$LUCKY_TEST_DIR/app"
        lucky relation list-units -r website:2 --app --format json > "$LUCKY_TEST_DIR/app-2"
        printf 'a: 1\nb: from-file\nflag: true\nprivate-address: null\nempty: ""\n' > "$LUCKY_TEST_DIR/settings.yaml"
        lucky relation set --file "$LUCKY_TEST_DIR/settings.yaml" b=override
        printf 'c: piped\n' | lucky relation set -r website:2 --file -
        : > "$LUCKY_TEST_DIR/empty.yaml"
        lucky relation set -r website:2 --file "$LUCKY_TEST_DIR/empty.yaml"
"#;
    let model = charm(&mut unit, script);
    let one = model.add_relation("website", "proxy", 2).expect("relate");
    let two = model.add_relation("website", "cache", 1).expect("relate");
    assert_eq!((one.as_str(), two.as_str()), ("website:1", "website:2"));
    let remote = "7b1a6a2e-3c1f-4d5e-9f00-0123456789ab";
    model.set_remote_model(&one, remote).expect("cross-model");
    ok(&model
        .run_relation_hook(&one, RelationEvent::Changed, Some("proxy/0"))
        .expect("changed"));
    assert_eq!(unit.read("remote-model"), format!("{remote}\n"));
    let own = model.state().expect("state").model_uuid;
    assert_eq!(unit.read("model-2"), format!("\"{own}\"\n"));
    assert_eq!(unit.read("ids"), "website:1\nwebsite:2\n");
    assert_eq!(unit.read("app"), "proxy\n");
    assert_eq!(unit.read("app-2"), "\"cache\"\n");

    let data = |id: &str| {
        model
            .relation(id)
            .expect("relation")
            .local_unit_data
            .into_iter()
            .collect::<Vec<_>>()
    };
    let s = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        data(&one),
        vec![
            s("a", "1"),
            s("b", "override"),
            s("egress-subnets", "10.0.0.10/32"),
            s("flag", "true"),
            s("ingress-address", "10.0.0.10"),
        ],
        "null and \"\" in the file delete the key; the command line wins"
    );
    assert_eq!(
        data(&two),
        vec![
            s("c", "piped"),
            s("egress-subnets", "10.0.0.10/32"),
            s("ingress-address", "10.0.0.10"),
            s("private-address", "10.0.0.10"),
        ]
    );
}

#[test]
fn bad_relation_requests_are_one_line_errors_and_change_nothing() {
    let mut unit = Unit::new();
    let mut script = String::from("hooks:\n  install:\n    - inline-host-script: |\n");
    script += "        printf -- '- a\\n- b\\n' > \"$LUCKY_TEST_DIR/list.yaml\"\n";
    script += "        printf 'a: [1, 2]\\n' > \"$LUCKY_TEST_DIR/nested.yaml\"\n";
    script += &probe("unknown-id", "lucky relation set -r website:99 a=b");
    script += &probe("unknown-id-model", "lucky relation model-get -r website:99");
    script += &probe("flag-id", "lucky relation list-units -r=--output=/x");
    script += &probe(
        "missing-file",
        "lucky relation set -r website:1 --file /nonexistent/s.yaml",
    );
    script += &probe(
        "list-file",
        "lucky relation set -r website:1 --file \"$LUCKY_TEST_DIR/list.yaml\"",
    );
    script += &probe(
        "nested-file",
        "lucky relation set -r website:1 --file \"$LUCKY_TEST_DIR/nested.yaml\" ok=1",
    );
    script += &probe("no-pairs", "lucky relation set -r website:1");
    script += &probe("ids-outside", "lucky relation list-ids");
    script += &probe("model-outside", "lucky relation model-get");
    let model = charm(&mut unit, &script);
    let id = model.add_relation("website", "proxy", 1).expect("relate");
    let before = model.relation(&id).expect("relation");
    ok(&model.run_hook("install").expect("install"));

    let expect = |name: &str, rc: &str, err: &str| {
        let (got_rc, got_err) = probed(&unit, name);
        assert_eq!((got_rc.as_str(), got_err.as_str()), (rc, err), "{name}");
    };
    expect(
        "unknown-id",
        "2",
        "lucky: relation-set: invalid value \"website:99\" for option -r: relation not found\n",
    );
    expect(
        "unknown-id-model",
        "2",
        "lucky: relation-model-get: invalid value \"website:99\" for option -r: relation not found\n",
    );
    expect(
        "missing-file",
        "2",
        "lucky: cannot read --file /nonexistent/s.yaml: No such file or directory (os error 2)\n",
    );
    expect(
        "list-file",
        "2",
        "lucky: cannot set relation data from --file: expected a YAML map of keys to values\n",
    );
    expect(
        "nested-file",
        "2",
        "lucky: cannot set relation data from --file: the value of \"a\" is a list or map; relation data values are strings\n",
    );
    expect(
        "ids-outside",
        "2",
        "lucky: cannot list relation ids in hook install: it is not a relation hook; name the endpoint with -n NAME\n",
    );
    expect(
        "model-outside",
        "2",
        "lucky: cannot get the remote model in hook install: it is not a relation hook; name the relation with -r ID\n",
    );
    let (rc, err) = probed(&unit, "flag-id");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: invalid relation id \"--output=/x\"") && err.lines().count() == 1,
        "{err}"
    );
    let (rc, err) = probed(&unit, "no-pairs");
    assert_eq!(rc, "2");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(model.relation(&id).expect("relation"), before);
}

#[test]
fn ports_for_some_endpoints_and_protocols_in_any_case() {
    let mut unit = Unit::new();
    let mut script = String::from(
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky port open 80/TCP --endpoints website,admin
        lucky port open 53/UDP
        lucky port open ICMP
        lucky port open 8000-8010/Udp --endpoints admin
        lucky port close 80/tcp --endpoints admin
        lucky port close 8000-8010/udp --endpoints=admin
        opened-ports --endpoints > "$LUCKY_TEST_DIR/opened"
  update-status:
    - inline-host-script: |
"#,
    );
    script += &probe("sctp", "lucky port open 80/sctp");
    script += &probe("zero", "lucky port open 0");
    script += &probe("range", "lucky port open 90-80");
    script += &probe("endpoint", "lucky port open 81 --endpoints nope");
    script += &probe(
        "endpoint-flag",
        "lucky port open 81 --endpoints=--output=/x",
    );
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    assert_eq!(
        unit.read("opened"),
        "53/udp (*)\n80/tcp (website)\nicmp (*)\n"
    );
    let state = model.state().expect("state");
    assert_eq!(state.data.opened_ports, vec!["53/udp", "80/tcp", "icmp"]);
    assert_eq!(
        state.data.port_endpoints.into_iter().collect::<Vec<_>>(),
        vec![("80/tcp".to_string(), vec!["website".to_string()])]
    );

    ok(&model.run_hook("update-status").expect("update-status"));
    for name in ["sctp", "zero", "range"] {
        let (rc, err) = probed(&unit, name);
        assert_eq!(rc, "2", "{name}");
        assert!(err.starts_with("lucky: invalid port"), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
    }
    assert_eq!(
        probed(&unit, "endpoint"),
        (
            "1".into(),
            "lucky: open-port: open port range: endpoint \"nope\" for unit \"demo/0\" not found\n"
                .into()
        )
    );
    let (rc, err) = probed(&unit, "endpoint-flag");
    assert_eq!(rc, "2");
    assert!(
        err.starts_with("lucky: invalid binding \"--output=/x\""),
        "{err}"
    );
    assert_eq!(
        model.opened_ports().expect("ports"),
        vec!["53/udp", "80/tcp", "icmp"],
        "nothing changed"
    );
}

#[test]
fn every_juju_log_level_in_any_case_and_a_bad_one_refused() {
    let mut unit = Unit::new();
    let mut script = String::from(
        r#"hooks:
  install:
    - inline-host-script: |
        lucky log -l trace "at trace"
        lucky log -l Debug "at debug"
        lucky log "at info"
        lucky log -l warn "at warn"
        lucky log --level WARNING "at warning"
        lucky log -l error "at error"
        lucky log -l CRITICAL "at critical"
"#,
    );
    script += &probe("loud", "lucky log -l LOUD \"never logged\"");
    let model = charm(&mut unit, &script);
    ok(&model.run_hook("install").expect("install"));
    let log = model.debug_log().expect("log");
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest))
        .collect();
    assert_eq!(
        lines,
        vec![
            "TRACE unit-demo-0 juju-log[install]: at trace",
            "DEBUG unit-demo-0 juju-log[install]: at debug",
            "INFO unit-demo-0 juju-log[install]: at info",
            "WARNING unit-demo-0 juju-log[install]: at warn",
            "WARNING unit-demo-0 juju-log[install]: at warning",
            "ERROR unit-demo-0 juju-log[install]: at error",
            "CRITICAL unit-demo-0 juju-log[install]: at critical",
        ]
    );
    let (rc, err) = probed(&unit, "loud");
    assert_eq!(rc, "2");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown log level \"LOUD\""), "{err}");
}

#[test]
fn the_container_policy_rows_of_the_new_requests() {
    use lucky::daemon::handlers::policy::{Access, container_access};
    use lucky::protocol::Request;
    assert!(matches!(
        container_access(&Request::CredentialGet),
        Access::Denied(_)
    ));
    assert!(matches!(
        container_access(&Request::JujuReboot { now: false }),
        Access::Denied(_)
    ));
    assert_eq!(
        container_access(&Request::RelationModelGet { relation_id: None }),
        Access::ScriptToken
    );
}

/// From a real container (needs the private engine: DOCKER_HOST=unix:///run/lucky-test-docker.sock):
/// `relation set --file` reads the file inside the container and sends its content (the
/// path exists only there); rebooting the machine and reading the cloud credential are
/// denied (exit 6) before any tool runs. The hooks run under the simulator.
#[test]
fn a_container_script_sets_relation_data_from_its_own_file_and_cannot_reboot() {
    use support::docker::{TEST_IMAGE, Unit as ContainerUnit};
    let yaml = format!(
        r#"
hooks:
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
    let probe = r#"#!/bin/sh
printf 'from: container\nanswer: 42\n' > /tmp/only-in-the-container.yaml
lucky relation set -r website:1 --file /tmp/only-in-the-container.yaml answer=43
echo "set rc=$?"
try() { name=$1; shift; err=$(lucky "$@" 2>&1 >/dev/null); echo "$name rc=$? $err"; }
try reboot juju-reboot
try reboot-now juju-reboot --now
try credential credential-get
echo "model $(lucky relation model-get -r website:1) rc=$?"
"#;
    let unit = ContainerUnit::new(&yaml, &[("probe.sh", probe)]);
    let charm = unit.charm_dir();
    std::fs::write(
        charm.join("metadata.yaml"),
        "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  website:\n    interface: http\n",
    )
    .expect("metadata.yaml");
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
    assert!(
        !std::path::Path::new("/tmp/only-in-the-container.yaml").exists(),
        "the host must not have the container's file"
    );
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
    model.set_trust(true).expect("trust");
    let id = model.add_relation("website", "proxy", 1).expect("relate");
    assert_eq!(id, "website:1");
    let run = model.run_hook("install").expect("install");
    ok(&run);
    let out = &run.stdout;
    assert!(out.contains("set rc=0\n"), "{out}");
    assert!(
        out.contains("reboot rc=6 lucky: `lucky juju-reboot` is not allowed from inside a container: only host scripts may reboot the machine\n"),
        "{out}"
    );
    assert!(
        out.contains("reboot-now rc=6 lucky: `lucky juju-reboot`"),
        "{out}"
    );
    assert!(
        out.contains(
            "credential rc=6 lucky: `lucky credential-get` is not allowed from inside a container"
        ),
        "{out}"
    );
    let own = model.state().expect("state").model_uuid;
    assert!(out.contains(&format!("model {own} rc=0\n")), "{out}");
    let data = model.relation(&id).expect("relation").local_unit_data;
    assert_eq!(data.get("from").map(String::as_str), Some("container"));
    assert_eq!(data.get("answer").map(String::as_str), Some("43"));
    let state = model.state().expect("state");
    assert!(
        state.machine.reboots.is_empty(),
        "{:?}",
        state.machine.reboots
    );
    assert_eq!(state.agent_status.status, "idle");
}
