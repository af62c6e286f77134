//! Containers against the real Docker engine (`tests/support/docker-engine.sh start`).
//! Each test is its own unit with its own daemon, so they run side by side.

mod support;

use support::docker::{EngineProxy, TEST_IMAGE, Unit, docker, runtime, text};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn install_runs_the_container_as_configured_and_its_scripts_reach_the_daemon() {
    let port = free_port();
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container env set GREETING=hello MODE=test
        lucky container port add {port}:8080
        lucky container volume add data /data
        lucky container set-command -- /bin/sh -c "echo up > /data/up; exec sleep 100000"
        lucky container set-init
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
    - container-script: probe.sh
      args: ["first arg"]
"#
    );
    let probe = r#"#!/bin/sh
echo "probe: $1 greeting=$GREETING hook=$LUCKY_HOOK script=$LUCKY_SCRIPT_ID socket=$LUCKY_SOCKET"
lucky daemon status | grep "caller's hook"
lucky kv set from-container="$GREETING" && echo "kv from inside: $(lucky kv get from-container)"
echo from-stderr >&2
lucky container volume add /etc /host-etc; echo "volume add exit=$?"
lucky container env set X=1; echo "env set exit=$?"
lucky daemon stop; echo "daemon stop exit=$?"
lucky container image get
"#;
    let unit = Unit::new(&yaml, &[("probe.sh", probe)]);
    let out = unit.hook_ok("install");

    // The script ran inside, with args and env, and reached the daemon in its hook.
    assert!(out.contains("probe: first arg greeting=hello hook=install script=probe.sh socket=/run/lucky/lucky.sock"), "{out}");
    assert!(out.contains("caller's hook: install"), "{out}");
    assert!(out.contains("kv from inside: hello"), "{out}");
    assert_eq!(
        text(&unit.lucky(&["kv", "get", "from-container"])),
        "hello\n"
    );
    assert!(out.contains("from-stderr"), "{out}");
    // Reads are allowed from the container; changes and daemon stop are refused.
    assert!(out.contains(TEST_IMAGE), "{out}");
    assert!(
        out.contains("volume add exit=6")
            && out.contains("env set exit=6")
            && out.contains("daemon stop exit=6"),
        "{out}"
    );
    assert!(
        out.contains("`lucky container volume add` is not allowed from inside a container"),
        "{out}"
    );
    assert!(
        out.contains("`lucky daemon stop` is not allowed from inside a container"),
        "{out}"
    );
    // The refused edits changed nothing, and the daemon still runs.
    assert_eq!(text(&unit.lucky(&["container", "env", "get", "X"])), "\n");
    assert!(unit.lucky(&["daemon", "status"]).status.success());
    assert_eq!(
        text(&unit.lucky(&["container", "volume", "get"])),
        "data:/data\n"
    );

    let rt = runtime();
    let docker = docker(&rt);
    let containers = unit.containers(&rt, &docker);
    let (id, _) = containers.get("default").expect("default container");
    let info = rt
        .block_on(docker.inspect_container(id, None))
        .expect("inspect");
    let config = info.config.expect("config");
    let env = config.env.unwrap_or_default();
    assert!(
        env.contains(&"GREETING=hello".to_string()) && env.contains(&"MODE=test".to_string()),
        "{env:?}"
    );
    assert!(
        env.contains(&"LUCKY_SOCKET=/run/lucky/lucky.sock".to_string()),
        "{env:?}"
    );
    let host = info.host_config.expect("host config");
    assert_eq!(host.init, Some(true));
    assert_eq!(
        host.restart_policy
            .and_then(|p| p.name)
            .map(|n| n.to_string()),
        Some("unless-stopped".into())
    );
    let binds = host.binds.unwrap_or_default();
    let data = unit.data_dir();
    assert!(
        binds.iter().any(|b| b.ends_with(":/usr/bin/lucky:ro")),
        "{binds:?}"
    );
    assert!(
        binds.contains(&format!("{}/container-run:/run/lucky:ro", data.display())),
        "{binds:?}"
    );
    assert!(
        binds.contains(&format!(
            "{}/container_scripts:/lucky/container_scripts:ro",
            unit.charm_dir().display()
        )),
        "{binds:?}"
    );
    assert!(
        binds.contains(&format!("{}/volumes/data:/data", data.display())),
        "{binds:?}"
    );
    let ports = host.port_bindings.unwrap_or_default();
    let bound = ports
        .get("8080/tcp")
        .cloned()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| b.host_port)
        .collect::<Vec<_>>();
    assert_eq!(bound, vec![port.to_string()]);
    // The volume is the host folder under the unit's data dir.
    let up = data.join("volumes/data/up");
    for _ in 0..100 {
        if up.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&up).unwrap_or_default(), "up\n");
}

#[test]
fn unchanged_config_recreates_nothing_and_one_env_change_recreates_one() {
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
      shell-command: ["/bin/sh", "-c"]
  config-changed:
    - inline-host-script: |
        set -e
        # Setting what is already set is no change.
        lucky container env set A=1 -c worker
        lucky container env set A=1 -c worker
      shell-command: ["/bin/sh", "-c"]
  update-status:
    - inline-host-script: lucky container env set A=2
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let unit = Unit::new(&yaml, &[]);
    let rt = runtime();
    let docker = docker(&rt);
    unit.hook_ok("install");
    unit.hook_ok("config-changed");
    let before = unit.containers(&rt, &docker);
    assert_eq!(before.len(), 2, "{before:?}");
    for _ in 0..3 {
        unit.hook_ok("config-changed");
    }
    assert_eq!(
        unit.containers(&rt, &docker),
        before,
        "no change must recreate nothing"
    );
    let applied = text(&unit.lucky(&["container", "apply-updates"]));
    assert!(
        applied.contains("created 0, started 0, removed 0, unchanged 2")
            && applied.contains("(mutating 0)"),
        "{applied}"
    );

    unit.hook_ok("update-status");
    let after = unit.containers(&rt, &docker);
    assert_ne!(
        after["default"].0, before["default"].0,
        "the changed container is recreated"
    );
    assert_eq!(
        after["worker"], before["worker"],
        "the other one is untouched"
    );

    // A deleted container is removed; stop removes the rest and keeps the desired state.
    assert!(
        unit.lucky(&["container", "delete", "-c", "worker"])
            .status
            .success()
    );
    let applied = text(&unit.lucky(&["container", "apply-updates"]));
    assert!(applied.contains("removed 1"), "{applied}");
    unit.hook_ok("stop");
    assert!(unit.containers(&rt, &docker).is_empty());
    assert_eq!(text(&unit.lucky(&["container", "env", "get", "A"])), "2\n");
}

#[test]
fn container_script_exit_codes_propagate_and_a_missing_container_fails() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- sleep 100000
      shell-command: ["/bin/sh", "-c"]
  start:
    - inline-container-script: exit 0
  leader-elected:
    - inline-container-script: echo failing; exit 1
  config-changed:
    - inline-container-script: exit 42
  update-status:
    - inline-container-script: echo never
      container-name: absent
  leader-settings-changed:
    - inline-container-script: echo never
      container-name: absent
      ignore-missing-container: true
    - inline-host-script: echo after-skip
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let unit = Unit::new(&yaml, &[]);
    unit.hook_ok("install");
    unit.hook_ok("start");
    let one = unit.lucky(&["hook", "leader-elected"]);
    assert_eq!(one.status.code(), Some(1), "{}", text(&one));
    assert!(
        text(&one).contains("exited with status 1"),
        "{}",
        text(&one)
    );
    let forty_two = unit.lucky(&["hook", "config-changed"]);
    assert!(!forty_two.status.success());
    assert!(
        text(&forty_two).contains("exited with status 42"),
        "{}",
        text(&forty_two)
    );
    let missing = unit.lucky(&["hook", "update-status"]);
    assert!(!missing.status.success());
    let msg = text(&missing);
    assert!(
        msg.contains("lucky-")
            && msg.contains("-absent")
            && msg.contains("does not exist or is not running"),
        "{msg}"
    );
    let skipped = unit.hook_ok("leader-settings-changed");
    assert!(
        skipped.contains("ignore-missing-container") && skipped.contains("after-skip"),
        "{skipped}"
    );
}

#[test]
fn engine_gone_fails_the_hook_keeps_the_state_and_the_next_hook_converges() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- sleep 100000
        lucky container env set V=1
      shell-command: ["/bin/sh", "-c"]
  config-changed:
    - inline-host-script: lucky container env set V=2
      shell-command: ["/bin/sh", "-c"]
  missing-image:
    - inline-host-script: lucky container image set lucky-test-absent:none -c other
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let mut unit = Unit::new(&yaml, &[]);
    let proxy = EngineProxy::start(unit.dir.path().join("engine.sock"));
    unit.docker_host = proxy.host();
    let rt = runtime();
    let docker = docker(&rt);
    unit.hook_ok("install");
    let first = unit.containers(&rt, &docker);

    proxy.down();
    let failed = unit.lucky(&["hook", "config-changed"]);
    assert!(!failed.status.success());
    let msg = text(&failed);
    assert!(
        msg.contains("cannot reach the Docker engine")
            || msg.contains("cannot list the containers"),
        "{msg}"
    );
    assert_eq!(msg.trim().lines().count(), 1, "one line: {msg}");
    assert_eq!(text(&unit.lucky(&["container", "env", "get", "V"])), "2\n");
    assert_eq!(
        unit.containers(&rt, &docker),
        first,
        "nothing changed while the engine was away"
    );

    proxy.up();
    unit.hook_ok("update-status");
    let now = unit.containers(&rt, &docker);
    assert_ne!(now["default"].0, first["default"].0, "converged to V=2");

    // An image that cannot be pulled names the container and the image; the rest stays.
    let failed = unit.lucky(&["hook", "missing-image"]);
    assert!(!failed.status.success());
    let msg = text(&failed);
    assert!(
        msg.contains("-other") && msg.contains("lucky-test-absent:none"),
        "{msg}"
    );
    assert_eq!(unit.containers(&rt, &docker)["default"], now["default"]);
}

#[test]
fn port_in_use_fails_with_one_line_then_converges_and_volume_data_is_deleted_on_request() {
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
        lucky container volume add store /store
        lucky container port add {port}:80
      shell-command: ["/bin/sh", "-c"]
  remove-store:
    - inline-host-script: lucky container volume remove /store --delete-data
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let unit = Unit::new(&yaml, &[]);
    let failed = unit.lucky(&["hook", "install"]);
    assert!(!failed.status.success());
    let msg = text(&failed);
    assert_eq!(msg.trim().lines().count(), 1, "one line: {msg}");
    assert!(
        msg.contains("container lucky-") && msg.contains("cannot start it"),
        "{msg}"
    );
    assert_eq!(
        text(&unit.lucky(&["container", "port", "list"])),
        format!("{port}:80/tcp\n")
    );

    drop(busy);
    unit.hook_ok("update-status");
    let rt = runtime();
    let docker = docker(&rt);
    assert_eq!(unit.containers(&rt, &docker).len(), 1);

    let store = unit.data_dir().join("volumes/store");
    std::fs::write(store.join("kept"), "x").expect("write into the volume");
    unit.hook_ok("remove-store");
    assert!(
        !store.exists(),
        "--delete-data removes the named volume's folder"
    );
}

/// The 2020 Lucky applied container changes after every script; ours applies what is
/// pending before each container script (and once after the scripts), so a host script
/// that sets the image is followed by a container script that finds the container.
#[test]
fn a_container_script_finds_the_container_its_hook_configured_so_far() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- sleep 100000
        lucky container env set STAGE=one
      shell-command: ["/bin/sh", "-c"]
    - inline-container-script: echo "first sees stage=$STAGE"
    - inline-host-script: lucky container env set STAGE=two
      shell-command: ["/bin/sh", "-c"]
    - container-script: show.sh
  config-changed:
    - inline-host-script: lucky container env set STAGE=two
      shell-command: ["/bin/sh", "-c"]
    - container-script: show.sh
"#
    );
    let show = "#!/bin/sh\necho \"show sees stage=$STAGE\"\n";
    let unit = Unit::new(&yaml, &[("show.sh", show)]);
    let rt = runtime();
    let docker = docker(&rt);
    let out = unit.hook_ok("install");
    assert!(out.contains("first sees stage=one"), "{out}");
    assert!(out.contains("show sees stage=two"), "{out}");
    let installed = unit.containers(&rt, &docker);
    assert_eq!(installed.len(), 1, "{installed:?}");

    // Nothing changed: the container script's pre-apply skips the engine, the final
    // apply writes nothing, and the container is the same one.
    let log = unit.data_dir().join("lucky.log");
    let reconciles = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("containers reconciled"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let before = reconciles();
    let out = unit.hook_ok("config-changed");
    assert!(out.contains("show sees stage=two"), "{out}");
    let during = reconciles()[before.len()..].to_vec();
    assert_eq!(during.len(), 1, "one apply, at the end: {during:?}");
    assert!(during[0].contains("mutating_calls=0"), "{during:?}");
    assert_eq!(unit.containers(&rt, &docker), installed);
}

/// A dynamically linked lucky is mounted into the container, where it cannot run: the
/// daemon says so when it creates the container, not the first container script.
#[test]
fn a_dynamic_lucky_is_named_when_containers_are_created() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command sleep 100000
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let mut unit = Unit::new(&yaml, &[]);
    unit.lucky = env!("CARGO_BIN_EXE_lucky").into();
    assert!(
        matches!(
            lucky::elf::linkage(&unit.lucky),
            Ok(lucky::elf::Linkage::Dynamic)
        ),
        "the test binary is the dynamic (glibc) build"
    );
    let out = unit.hook_ok("install");
    assert!(
        out.contains("is dynamically linked: `lucky` inside the containers (container scripts) needs the static build"),
        "{out}"
    );
    // Nothing created: no note.
    let again = unit.hook_ok("install");
    assert!(!again.contains("dynamically linked"), "{again}");
}

/// `image set --pull always` pulls on every (re)create even when the engine has the
/// image (the 2020 behaviour, so a moving tag is followed); here no registry answers,
/// so the pull is seen failing. `--pull never` is `--no-pull`.
#[test]
fn pull_always_pulls_even_a_present_image_and_never_does_not() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        lucky container image set {TEST_IMAGE} --pull always
        lucky container set-command sleep 100000
      shell-command: ["/bin/sh", "-c"]
  config-changed:
    - inline-host-script: lucky container image set {TEST_IMAGE} --pull never
      shell-command: ["/bin/sh", "-c"]
"#
    );
    let unit = Unit::new(&yaml, &[]);
    let out = unit.lucky(&["hook", "install"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains(&format!("lucky: pulling {TEST_IMAGE} for container"))
            && t.contains(&format!("cannot pull image {TEST_IMAGE}")),
        "{t}"
    );
    let out = unit.hook_ok("config-changed");
    assert!(!out.contains("pulling"), "{out}");
    let rt = runtime();
    assert_eq!(unit.containers(&rt, &docker(&rt)).len(), 1);
}

/// `upgrade-charm` pulls each image afresh (the 2020 Lucky pulled on every recreate, so a
/// moving tag was followed) and recreates a container whose tag now names another image.
/// No registry answers here, so the pull is seen failing (a note, the hook succeeds) and
/// the tag is moved locally, as a pull of a new `:latest` would move it. `--pull never`
/// neither pulls nor follows the tag.
#[test]
fn upgrade_charm_pulls_afresh_and_recreates_a_container_whose_tag_moved() {
    let moving = format!("lucky-test-moving:{}", std::process::id());
    let rt = runtime();
    let engine = docker(&rt);
    let import = |env: &str| {
        let mut image = lucky::docker::image::BusyboxImage::shell(&moving);
        image.changes.push(format!("ENV MOVED={env}"));
        rt.block_on(image.import(&engine))
            .unwrap_or_else(|e| panic!("cannot import {moving}: {e}"));
    };
    import("one");
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        lucky container image set {moving}
        lucky container set-command sleep 100000
      shell-command: ["/bin/sh", "-c"]
  config-changed:
    - inline-host-script: lucky container image set {moving} --pull never
      shell-command: ["/bin/sh", "-c"]
  upgrade-charm: []
  start: []
"#
    );
    let unit = Unit::new(&yaml, &[]);
    let install = unit.hook_ok("install");
    assert!(
        !install.contains("pulling"),
        "present, policy missing: {install}"
    );
    let env_of = |id: &str| -> Vec<String> {
        rt.block_on(engine.inspect_container(id, None))
            .expect("inspect")
            .config
            .and_then(|c| c.env)
            .unwrap_or_default()
    };
    let (first, _) = unit.containers(&rt, &engine)["default"].clone();
    assert!(env_of(&first).contains(&"MOVED=one".to_string()));

    // The tag did not move: pulled (and failing here), nothing recreated.
    let out = unit.hook_ok("upgrade-charm");
    assert!(
        out.contains(&format!("lucky: pulling {moving} for container")),
        "{out}"
    );
    assert!(
        out.contains(&format!("lucky: note: cannot pull image {moving}"))
            && out.contains("the engine's copy is kept"),
        "{out}"
    );
    assert!(!out.contains("recreating"), "{out}");
    assert_eq!(unit.containers(&rt, &engine)["default"].0, first);

    // The tag moved: the container is made again from the image it names now.
    import("two");
    let out = unit.hook_ok("upgrade-charm");
    assert!(
        out.contains(&format!("lucky: {moving} now names image sha256:")),
        "{out}"
    );
    let (second, _) = unit.containers(&rt, &engine)["default"].clone();
    assert_ne!(second, first, "{out}");
    assert!(env_of(&second).contains(&"MOVED=two".to_string()));
    // Another hook does not look at the tag.
    import("three");
    let out = unit.hook_ok("start");
    assert!(
        !out.contains("pulling") && !out.contains("recreating"),
        "{out}"
    );
    assert_eq!(unit.containers(&rt, &engine)["default"].0, second);

    // `--pull never`: upgrade-charm neither pulls nor follows the tag.
    unit.hook_ok("config-changed");
    let (third, _) = unit.containers(&rt, &engine)["default"].clone();
    import("four");
    let out = unit.hook_ok("upgrade-charm");
    assert!(
        !out.contains("pulling") && !out.contains("recreating"),
        "{out}"
    );
    assert_eq!(unit.containers(&rt, &engine)["default"].0, third);
    drop(unit);
    let _ = rt.block_on(engine.remove_image(
        &moving,
        None::<bollard::query_parameters::RemoveImageOptions>,
        None,
    ));
}
