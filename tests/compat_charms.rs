//! Charms shaped like the 2020 Lucky's own template (its lucky.yaml uncommented as its
//! comments say) and like the CodiMD charm of its book: written here to the same shape
//! (scripts committed without the executable bit, the same sequence of `lucky` calls,
//! the same lucky.yaml features), built with `lucky charm build` and driven through their
//! lives by `lucky charm run` (the simulator) against the real engine.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use support::LUCKY;
use support::docker::{
    self, RunCleanup as Cleanup, TEST_IMAGE, docker_host, musl_lucky, runtime, text,
};

/// Writes a file as committed without the executable bit (mode 0644).
fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

fn lucky(args: &[&str]) -> Output {
    Command::new(LUCKY)
        .args(args)
        .env("DOCKER_HOST", docker_host())
        .env_remove("LUCKY_SOCKET")
        .env_remove("LUCKY_DATA_DIR")
        .output()
        .expect("run lucky")
}

fn ok(out: &Output, what: &str) -> String {
    let t = text(out);
    assert!(out.status.success(), "{what} failed:\n{t}");
    t
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `lucky charm build DIR`, then `lucky charm run DIR … --no-stop` (the containers stay
/// for the test to inspect; `Cleanup` removes them).
fn build_and_run(charm: &Path, work: &Path, unit: &str, extra: &[String]) -> String {
    let built = ok(
        &lucky(&["charm", "build", "--dev", &charm.display().to_string()]),
        "build",
    );
    assert!(built.contains("lucky: note: made executable: "), "{built}");
    // `series: [focal]` (as in 2020) became the charm's base; Juju 4 would refuse the key.
    assert!(
        built.contains("`series` became the bases ubuntu 20.04"),
        "{built}"
    );
    let name = charm.file_name().expect("name").to_string_lossy();
    let build = charm.join("build").join(name.as_ref());
    let metadata = std::fs::read_to_string(build.join("metadata.yaml")).expect("metadata");
    assert!(!metadata.contains("series"), "{metadata}");
    let manifest = std::fs::read_to_string(build.join("manifest.yaml")).expect("manifest");
    assert!(manifest.contains("channel: '20.04'"), "{manifest}");
    let musl = musl_lucky();
    let mut args: Vec<String> = ["charm", "run"].map(String::from).to_vec();
    args.push(charm.display().to_string());
    for (flag, value) in [
        ("--model-dir", work.display().to_string()),
        ("--unit", unit.to_string()),
        ("--lucky-binary", musl.display().to_string()),
    ] {
        args.push(flag.into());
        args.push(value);
    }
    args.push("--no-stop".into());
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&lucky(&args), "charm run")
}

/// The unit's one container: (env, init, host ports bound).
fn container(unit: &str) -> (Vec<String>, Option<bool>, Vec<String>) {
    let rt = runtime();
    let engine = docker::docker(&rt);
    rt.block_on(async {
        let list = lucky::docker::unit_containers(&engine, unit)
            .await
            .expect("list");
        assert_eq!(list.len(), 1, "{list:?}");
        let id = list[0].id.clone().expect("id");
        let info = engine.inspect_container(&id, None).await.expect("inspect");
        let env = info.config.and_then(|c| c.env).unwrap_or_default();
        let host = info.host_config.expect("host config");
        let ports = host
            .port_bindings
            .unwrap_or_default()
            .into_values()
            .flatten()
            .flatten()
            .filter_map(|b| b.host_port)
            .collect();
        (env, host.init, ports)
    })
}

#[test]
fn a_charm_shaped_like_the_2020_template_lives_its_life() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("tmpl");
    let work = tmp.path().join("run");
    let unit = format!("tmpl/{}", std::process::id() % 100_000);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    let port = free_port();
    write(
        &charm.join("metadata.yaml"),
        "name: tmpl\nsummary: A template-shaped charm\ndescription: Shaped like the 2020 template.\nseries: [focal]\n",
    );
    write(
        &charm.join("config.yaml"),
        &format!(
            "options:\n  name:\n    type: string\n    default: Lucky\n  port:\n    type: int\n    default: {port}\n"
        ),
    );
    // The 2020 template's lucky.yaml, its examples uncommented: a host script, an inline
    // host script, a container script that may find no container, an inline container
    // script; an async host script, args, a shell-command; a cron job.
    write(
        &charm.join("lucky.yaml"),
        r#"use-docker: true
hooks:
  install:
    - host-script: install.sh
    - inline-host-script: |
        lucky set-status maintenance "Pretending to do something"
        lucky set-status active
    - container-script: configure.sh
      ignore-missing-container: true
    - inline-container-script: |
        lucky set-status maintenance "Hello from inline container script"
        echo "inline container script ran"
        lucky set-status active
  config-changed:
    - host-script: update-config.sh
      async: true
    - container-script: configure.sh
    - container-script: update-container-config.sh
      args: [ "arg1", "arg2" ]
    - inline-host-script: |
        lucky set-status maintenance "Running inline host script in /bin/sh"
        lucky set-status active
      shell-command: ["/bin/sh", "-c"]
cron-jobs:
  "0 * * * * *":
    - inline-host-script: |
        lucky set-status maintenance "Hello from a cron job"
        lucky set-status active
"#,
    );
    write(
        &charm.join("host_scripts/install.sh"),
        r#"#!/bin/bash
set -e
lucky set-status maintenance 'Running "install.sh" host script.'
lucky container image set lucky-test-base:latest
lucky container set-command sleep 100000
lucky container port add "$(lucky get-config port):80"
lucky port open "$(lucky get-config port)"
lucky set-status active
"#,
    );
    write(
        &charm.join("host_scripts/update-config.sh"),
        r#"#!/bin/bash
set -e
name="$(lucky get-config name)"
lucky set-status maintenance "Config has been changed! Name: $name"
lucky container env set "NAME=$name"
lucky set-status active
"#,
    );
    // Container scripts run in the busybox-only test image: sh, not bash.
    write(
        &charm.join("container_scripts/configure.sh"),
        r#"#!/bin/sh
set -e
lucky set-status maintenance 'Running "configure.sh" container script'
hostname=$(hostname)
echo "configure.sh ran in container $hostname"
lucky set-status active "Container hostname: $hostname"
lucky set-status active
"#,
    );
    write(
        &charm.join("container_scripts/update-container-config.sh"),
        r#"#!/bin/sh
set -e
lucky set-status maintenance "Updating stuff in container"
echo "update-container-config.sh got $1 $2"
lucky set-status active
"#,
    );
    assert!(TEST_IMAGE == "lucky-test-base:latest");
    docker::ensure_test_image();

    let out = build_and_run(&charm, &work, &unit, &[]);
    // The container script after the host script that set the image found the
    // container (2020 applied after every script): it ran in install, not skipped.
    let install = out
        .split("==> leader-elected")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(install.contains("configure.sh ran in container "), "{out}");
    assert!(install.contains("inline container script ran"), "{out}");
    assert!(!install.contains("ignore-missing-container"), "{out}");
    assert!(
        out.contains("update-container-config.sh got arg1 arg2"),
        "{out}"
    );
    assert!(out.contains("unit status: active"), "{out}");
    let (env, init, ports) = container(&unit);
    assert!(env.contains(&"NAME=Lucky".to_string()), "{env:?}");
    assert_eq!(
        init,
        Some(false),
        "no init unless the charm asks (Docker's default)"
    );
    assert_eq!(ports, vec![port.to_string()]);
}

#[test]
fn a_charm_shaped_like_the_2020_codimd_example_lives_its_life() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("codi");
    let work = tmp.path().join("run");
    let unit = format!("codi/{}", std::process::id() % 100_000);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    let port = free_port();
    write(
        &charm.join("metadata.yaml"),
        "name: codi\nsummary: A CodiMD-shaped charm\ndescription: Shaped like the 2020 book's CodiMD.\nseries: [focal]\nprovides:\n  website:\n    interface: http\nrequires:\n  database:\n    interface: pgsql\n",
    );
    write(
        &charm.join("config.yaml"),
        &format!(
            "options:\n  domain:\n    type: string\n    default: localhost\n  url-path:\n    type: string\n    default: \"\"\n  https:\n    type: boolean\n    default: false\n  add-port-to-domain:\n    type: boolean\n    default: false\n  port:\n    type: int\n    default: {port}\n"
        ),
    );
    write(
        &charm.join("lucky.yaml"),
        r#"hooks:
  install:
    - host-script: install.sh
  config-changed:
    - host-script: configure.sh
    - host-script: handle-website-relation.sh
      args: ["update"]
  website-relation-joined:
    - host-script : handle-website-relation.sh
      args: ["join"]
  database-relation-joined:
    - host-script: handle-database-relation.sh
      args: ["join"]
  database-relation-changed:
    - host-script: handle-database-relation.sh
      args: ["update"]
  database-relation-departed:
    - host-script: handle-database-relation.sh
      args: ["leave"]
"#,
    );
    write(
        &charm.join("host_scripts/install.sh"),
        r#"#!/bin/bash
set -e
lucky set-status maintenance "Starting the notes server"
lucky container image set lucky-test-base:latest
lucky container set-command sleep 100000
lucky set-status --name db-state blocked "Waiting for database connection"
lucky set-status active
"#,
    );
    write(
        &charm.join("host_scripts/configure.sh"),
        r#"#!/bin/bash
set -e
lucky set-status maintenance "Configuring the notes server"
domain="$(lucky get-config domain)"
url_path="$(lucky get-config url-path)"
https="$(lucky get-config https)"
port="$(lucky get-config port)"
lucky container env set \
    "CMD_DOMAIN=$domain" \
    "CMD_URL_PATH=$url_path" \
    "CMD_PORT=$port" \
    "CMD_PROTOCOL_USESSL=$https" \
    "CMD_URL_ADDPORT=false"
lucky container port remove --all
lucky container port add "$port:$port"
lucky port close --all
lucky port open $port
lucky set-status active
"#,
    );
    write(
        &charm.join("host_scripts/handle-database-relation.sh"),
        r#"#!/bin/bash
set -e
db_name=notes
if [ "$1" = "join" ]; then
    lucky set-status --name db-state maintenance "Connecting to database"
    lucky relation set "database=$db_name"
elif [ "$1" = "update" ]; then
    lucky set-status --name db-state maintenance "Updating database connection"
    dbhost="$(lucky relation get host)"
    dbport="$(lucky relation get port)"
    dbuser="$(lucky relation get user)"
    dbpassword="$(lucky relation get password)"
    if [ "$dbhost" = "" -o "$dbport" = "" -o "$dbuser" = "" -o "$dbpassword" = "" ]; then
        exit 0
    fi
    lucky container env set "CMD_DB_URL=postgres://$dbuser:$dbpassword@$dbhost:$dbport/$db_name"
    lucky set-status --name db-state active
elif [ "$1" = "leave" ]; then
    lucky set-status --name db-state maintenance "Disconnecting from database"
    lucky container env set "CMD_DB_URL="
    lucky set-status --name db-state blocked "Waiting for database connection"
fi
"#,
    );
    write(
        &charm.join("host_scripts/handle-website-relation.sh"),
        r#"#!/bin/bash
set -e
if [ "$1" = "join" ]; then
    lucky relation set "hostname=$(lucky private-address)" "port=$(lucky get-config port)"
elif [ "$1" = "update" ]; then
    for relation_id in $(lucky relation list-ids --relation-name website); do
        lucky relation set --relation-id $relation_id "port=$(lucky get-config port)"
    done
fi
"#,
    );
    docker::ensure_test_image();

    // Related to a database that has not answered yet: the named "Connecting to
    // database" status (maintenance) stays after its hook, so the unit does not show
    // active while unconfigured.
    let waiting = build_and_run(
        &charm,
        &work,
        &unit,
        &["--relate".into(), "database:postgres".into()],
    );
    assert!(
        waiting.contains("unit status: maintenance (Updating database connection)"),
        "{waiting}"
    );
    let (env, _, ports) = container(&unit);
    assert!(env.contains(&format!("CMD_PORT={port}")), "{env:?}");
    assert!(!env.iter().any(|e| e.starts_with("CMD_DB_URL=")), "{env:?}");
    assert_eq!(ports, vec![port.to_string()]);
    drop(_cleanup);

    // The database answers: the container gets its URL and the unit is active.
    let work = tmp.path().join("run2");
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    let mut extra = vec!["--relate".to_string(), "database:postgres".into()];
    for kv in ["host=db.internal", "port=5432", "user=notes", "password=pw"] {
        extra.push("--relation-data".into());
        extra.push(format!("database:{kv}"));
    }
    let ready = build_and_run(&charm, &work, &unit, &extra);
    assert!(ready.contains("unit status: active"), "{ready}");
    let (env, _, _) = container(&unit);
    assert!(
        env.contains(&"CMD_DB_URL=postgres://notes:pw@db.internal:5432/notes".to_string()),
        "{env:?}"
    );
}

/// Inline container scripts run in bash where the image has it (as in 2020), else in sh:
/// the same script, in the busybox-only image and in one with bash added.
#[test]
fn inline_container_scripts_run_in_bash_where_the_image_has_it_else_sh() {
    docker::ensure_bash_test_image();
    let run = |image: &str| {
        let yaml = format!(
            r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {image} --no-pull
        lucky container set-command -- sleep 100000
      shell-command: ["/bin/sh", "-c"]
    - inline-container-script: |
        echo "shell=$(busybox readlink /proc/$$/exe) bash=${{BASH_VERSION:-none}}"
  start:
    - inline-container-script: |
        words=(an array in bash)
        echo "${{#words[@]}} words: ${{words[*]}}"
"#
        );
        let unit = docker::Unit::new(&yaml, &[]);
        let install = unit.hook_ok("install");
        let start = unit.lucky(&["hook", "start"]);
        (install, start)
    };

    let (install, start) = run(docker::BASH_TEST_IMAGE);
    assert!(install.contains("shell=/bin/bash bash=5."), "{install}");
    let start_text = text(&start);
    assert!(start.status.success(), "{start_text}");
    assert!(
        start_text.contains("4 words: an array in bash"),
        "{start_text}"
    );

    let (install, start) = run(TEST_IMAGE);
    assert!(
        install.contains("shell=/bin/busybox bash=none"),
        "{install}"
    );
    // sh has no arrays: the bash-only script fails there.
    let start_text = text(&start);
    assert!(!start.status.success(), "{start_text}");
    assert!(
        !start_text.contains("words: an array in bash"),
        "{start_text}"
    );
}
