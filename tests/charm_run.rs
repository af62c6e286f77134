//! `lucky charm run` against the real Docker engine (`tests/support/docker-engine.sh`):
//! the fresh template charm, the example charm's whole life with its page fetched over
//! loopback, and a failing hook.

mod support;

use lucky::simulator::Model;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use support::LUCKY;
use support::docker::{self, RunCleanup as Cleanup, docker_host, musl_lucky, runtime, text};

fn unit_name(app: &str, n: u32) -> String {
    format!("{app}/{}", std::process::id() % 100_000 * 10 + n)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `lucky ARGS` with the engine and the static lucky the containers need.
fn lucky(args: &[&str]) -> Output {
    Command::new(LUCKY)
        .args(args)
        .env("DOCKER_HOST", docker_host())
        .env_remove("LUCKY_SOCKET")
        .env_remove("LUCKY_DATA_DIR")
        .output()
        .expect("run lucky")
}

fn charm_run(dir: &Path, work: &Path, unit: &str, extra: &[&str]) -> Output {
    let musl = musl_lucky();
    let mut args = vec![
        "charm".to_string(),
        "run".into(),
        dir.display().to_string(),
        "--model-dir".into(),
        work.display().to_string(),
        "--unit".into(),
        unit.into(),
        "--lucky-binary".into(),
        musl.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lucky(&args)
}

fn ok(out: &Output, what: &str) -> String {
    let t = text(out);
    assert!(out.status.success(), "{what} failed:\n{t}");
    t
}

/// HTTP/1.0 GET / over loopback: (status line, body).
fn get(port: u16) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

fn containers(unit: &str) -> Vec<(String, String)> {
    let rt = runtime();
    let docker = docker::docker(&rt);
    let unit = unit.to_string();
    rt.block_on(async move {
        lucky::docker::unit_containers(&docker, &unit)
            .await
            .expect("list")
            .into_iter()
            .map(|c| {
                (
                    c.image.unwrap_or_default(),
                    c.state.map(|s| s.to_string()).unwrap_or_default(),
                )
            })
            .collect()
    })
}

/// The environment the engine gives the unit's one container.
fn container_env(unit: &str) -> Vec<String> {
    let rt = runtime();
    let docker = docker::docker(&rt);
    let unit = unit.to_string();
    rt.block_on(async move {
        let list = lucky::docker::unit_containers(&docker, &unit)
            .await
            .expect("list");
        let id = list
            .first()
            .and_then(|c| c.id.clone())
            .expect("one container");
        let info = docker.inspect_container(&id, None).await.expect("inspect");
        info.config.and_then(|c| c.env).unwrap_or_default()
    })
}

#[test]
fn fresh_template_charm_runs_as_it_is() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("hello");
    let work = tmp.path().join("run");
    let unit = unit_name("hello", 1);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    ok(
        &lucky(&[
            "charm",
            "create",
            &charm.display().to_string(),
            "--use-defaults",
        ]),
        "charm create",
    );
    ok(
        &lucky(&["charm", "build", "--dev", &charm.display().to_string()]),
        "charm build",
    );
    let port = free_port().to_string();
    let out = charm_run(&charm, &work, &unit, &["--config", &format!("port={port}")]);
    let t = ok(&out, "charm run");
    for hook in [
        "==> install",
        "==> leader-elected",
        "==> config-changed",
        "==> start",
        "==> website-relation-joined",
        "==> update-status",
        "==> action say-hello",
        "==> stop",
        "==> remove",
        "==> summary of",
    ] {
        assert!(t.contains(hook), "no {hook:?} in:\n{t}");
    }
    assert!(
        t.contains("result greeting = Hello from Lucky, world!"),
        "{t}"
    );
    assert!(
        t.contains(&format!("unit status: active (Serving on port {port})")),
        "{t}"
    );
    // The stop hook deleted the container; the daemon is stopped.
    assert!(containers(&unit).is_empty(), "{t}");
    assert!(
        !work.join("lucky.sock").exists() || {
            std::os::unix::net::UnixStream::connect(work.join("lucky.sock")).is_err()
        }
    );
}

#[test]
fn example_charm_life_serves_its_page() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("run");
    let unit = unit_name("webapp", 2);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webapp");
    let port = free_port();
    let out = charm_run(
        &example,
        &work,
        &unit,
        &[
            "--config",
            &format!("port={port}"),
            "--relation-data",
            "db:host=10.9.8.7",
            "--relation-data",
            "db:database=shop",
            "--relation-secret",
            "db:password-secret:password=ci-pass",
            "--relate",
            "website:proxy",
            "--action-param",
            "backup:label=ci",
            "--then-config",
            "page-text=Hello <ci> & friends",
            "--no-stop",
        ],
    );
    let t = ok(&out, "charm run");
    assert!(t.contains("stop, remove: skipped (--no-stop)"), "{t}");
    assert!(t.contains("--hook stop"), "says how to stop:\n{t}");

    let model = Model::open(work.join("model")).expect("model");
    let state = model.state().expect("state");
    assert_eq!(state.unit_status.status, "active", "{t}");
    assert_eq!(state.unit_status.message, format!("Serving on port {port}"));
    let website = state
        .data
        .relations
        .values()
        .find(|r| r.endpoint == "website")
        .expect("website relation");
    assert_eq!(website.remote_app, "proxy");
    assert_eq!(
        website.local_unit_data.get("hostname").map(String::as_str),
        Some("10.0.0.10")
    );
    assert_eq!(
        website.local_unit_data.get("port").cloned(),
        Some(port.to_string())
    );
    assert_eq!(state.data.opened_ports, vec![format!("{port}/tcp")]);
    let backup = state
        .actions
        .iter()
        .find(|a| a.name == "backup")
        .expect("backup ran");
    assert_eq!(backup.status, "completed");
    let file = backup
        .results
        .get("file")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    assert!(
        file.starts_with("/www/backups/") && file.ends_with("-ci.html"),
        "{file}"
    );

    let (status, body) = get(port);
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        body.contains("<h1>Hello &lt;ci&gt; &amp; friends</h1>"),
        "{body}"
    );
    // The page and its backup are on the unit's Juju storage (www-storage-attached ran
    // before install and mounted it on /www).
    let storage = model.storage().expect("storage");
    let www = storage.get("www/0").expect("www/0 attached at deploy");
    assert!(www.attached, "{www:?}");
    let on_storage = std::fs::read_to_string(Path::new(&www.location).join("index.html"))
        .expect("index.html on the storage");
    assert!(on_storage.contains("Hello &lt;ci&gt;"), "{on_storage}");
    assert!(
        Path::new(&www.location)
            .join(&file["/www/".len()..])
            .is_file(),
        "backup {file} on the storage"
    );
    // The db password came from the secret the database shared, not from relation data.
    let env = container_env(&unit);
    for want in ["DB_HOST=10.9.8.7", "DB_NAME=shop", "DB_PASSWORD=ci-pass"] {
        assert!(env.iter().any(|e| e == want), "{want} in {env:?}");
    }
    assert_eq!(
        containers(&unit),
        vec![(
            "lucky-example-httpd:latest".to_string(),
            "running".to_string()
        )]
    );

    // The kept model takes single hooks: stop removes the container, and the daemon goes.
    let t = ok(
        &charm_run(&example, &work, &unit, &["--hook", "stop"]),
        "--hook stop",
    );
    assert!(t.contains("==> stop"), "{t}");
    assert!(containers(&unit).is_empty(), "{t}");
}

#[test]
fn failing_hook_fails_the_run_and_names_the_hook() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("broken");
    let work = tmp.path().join("run");
    let unit = unit_name("broken", 3);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    ok(
        &lucky(&[
            "charm",
            "create",
            &charm.display().to_string(),
            "--use-defaults",
        ]),
        "charm create",
    );
    std::fs::write(
        charm.join("host_scripts/configure.sh"),
        "#!/bin/sh\necho 'the config is bad' >&2\nexit 3\n",
    )
    .expect("write");
    let port = free_port().to_string();
    let out = charm_run(&charm, &work, &unit, &["--config", &format!("port={port}")]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("hook config-changed failed") && stderr.contains("configure.sh"),
        "{stderr}"
    );
    // The hook's own output is shown under its header.
    assert!(
        t.contains("==> config-changed\n    the config is bad"),
        "{t}"
    );
    // Nothing after the failing hook ran.
    assert!(!t.contains("==> start"), "{t}");
}

#[test]
fn a_dynamic_lucky_says_which_static_binary_to_pass_or_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("hello");
    ok(
        &lucky(&[
            "charm",
            "create",
            &charm.display().to_string(),
            "--use-defaults",
        ]),
        "charm create",
    );
    // The test binary is the host's default (glibc) build: dynamically linked.
    let out = lucky(&[
        "charm",
        "run",
        &charm.display().to_string(),
        "--model-dir",
        &tmp.path().join("run").display().to_string(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("is dynamically linked")
            && stderr.contains("--lucky-binary")
            && stderr.contains("cargo build --release --target x86_64-unknown-linux-musl"),
        "{stderr}"
    );
    // Nothing was built or started.
    assert!(!tmp.path().join("run/charm").exists());
}

#[test]
fn a_malformed_option_is_one_line_naming_the_flag_and_value() {
    for (flag, value) in [
        ("--config", "port"),
        ("--relate", "website"),
        ("--relation-data", "db:host"),
        ("--relation-secret", "db:password=x"),
        ("--relation-secret", "db:key:password"),
        ("--action-param", "label=ci"),
    ] {
        let out = lucky(&["charm", "run", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("lucky: invalid value")
                && stderr.contains(flag)
                && stderr.contains(&format!("'{value}'")),
            "{stderr}"
        );
    }
}

/// `--depose` and `--hook leader-elected` on the kept model change the leadership as
/// `lucky sim depose` / `elect` do; the deposed unit's application status is refused.
/// Host scripts only: no container, no engine needed beyond the run's checks.
#[test]
fn charm_run_deposes_and_elects_the_kept_unit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let charm = tmp.path().join("leading");
    let work = tmp.path().join("run");
    let unit = unit_name("leading", 4);
    let _cleanup = Cleanup {
        unit: unit.clone(),
        work: work.clone(),
    };
    ok(
        &lucky(&[
            "charm",
            "create",
            &charm.display().to_string(),
            "--use-defaults",
        ]),
        "charm create",
    );
    let out = tmp.path().join("out");
    // The template's action has scripts in the lucky.yaml replaced here.
    std::fs::remove_file(charm.join("actions.yaml")).expect("actions.yaml");
    std::fs::write(
        charm.join("lucky.yaml"),
        "hooks:\n  leader-elected:\n    - host-script: leader.sh\n  leader-settings-changed:\n    - host-script: leader.sh\n  update-status:\n    - host-script: leader.sh\n",
    )
    .expect("lucky.yaml");
    let script = charm.join("host_scripts/leader.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nout={}\necho \"== $JUJU_HOOK_NAME leader=$(lucky leader is-leader)\" >> \"$out\"\nlucky set-status --application active \"set in $JUJU_HOOK_NAME\" 2>> \"$out\"; echo \"app-status rc=$?\" >> \"$out\"\n",
            out.display()
        ),
    )
    .expect("leader.sh");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    ok(
        &charm_run(&charm, &work, &unit, &["--keep", "--no-stop"]),
        "charm run",
    );
    std::fs::write(&out, "").expect("reset");
    let t = ok(
        &charm_run(
            &charm,
            &work,
            &unit,
            &["--keep", "--depose", "--hook", "update-status"],
        ),
        "charm run --depose",
    );
    assert!(t.contains("==> leader-settings-changed (deposed)\n"), "{t}");
    let refused = "lucky: cannot set the application status: this unit is not the leader (only the leader may; see `lucky leader is-leader`)\napp-status rc=1\n";
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        format!(
            "== leader-settings-changed leader=false\n{refused}== update-status leader=false\n{refused}"
        )
    );
    let model = Model::open(work.join("model")).expect("model");
    let state = model.state().expect("state");
    assert!(!state.leader);
    assert_eq!(state.application_status.message, "set in update-status");

    std::fs::write(&out, "").expect("reset");
    let t = ok(
        &charm_run(
            &charm,
            &work,
            &unit,
            &["--keep", "--hook", "leader-elected"],
        ),
        "charm run --hook leader-elected",
    );
    assert!(t.contains("==> leader-elected (elected)\n"), "{t}");
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        "== leader-elected leader=true\napp-status rc=0\n"
    );
    let state = model.state().expect("state");
    assert!(state.leader);
    assert_eq!(state.application_status.message, "set in leader-elected");
    // Deposed again: it caught up on leader data when first deposed and nothing changed
    // since, so Juju runs no hook.
    let t = ok(
        &charm_run(&charm, &work, &unit, &["--keep", "--depose"]),
        "charm run --depose again",
    );
    assert!(
        t.contains("\n==> deposed: another unit leads now (Juju runs no hook)\n"),
        "{t}"
    );
    assert!(!model.state().expect("state").leader);
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        "== leader-elected leader=true\napp-status rc=0\n"
    );
}
