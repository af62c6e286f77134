//! Charms written for the 2020 Lucky (0.1): the differences issue 13 asked us to accept,
//! each through the real binary. Engine-backed lifecycles are in `tests/compat_charms.rs`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn lucky() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucky"));
    cmd.stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(path: &Path, contents: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn build_makes_declared_scripts_executable_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("plain");
    write(
        &dir.join("metadata.yaml"),
        "name: plain\nsummary: s\ndescription: d\n",
        0o644,
    );
    write(
        &dir.join("lucky.yaml"),
        "hooks:\n  install:\n    - host-script: setup.sh\n    - container-script: probe.sh\n  start:\n    - host-script: ready.sh\n",
        0o644,
    );
    // Committed without the bit, as several 2020 charms were.
    write(&dir.join("host_scripts/setup.sh"), "#!/bin/sh\n", 0o644);
    write(
        &dir.join("container_scripts/probe.sh"),
        "#!/bin/sh\n",
        0o644,
    );
    write(&dir.join("host_scripts/ready.sh"), "#!/bin/sh\n", 0o755);
    write(&dir.join("host_scripts/notes.txt"), "not a script\n", 0o644);

    // A source charm's lucky.yaml is not valid at hook time without the bit ...
    let refused = lucky::charm::lucky_yaml::load(&dir).expect_err("not executable");
    assert!(refused.to_string().contains("not executable"), "{refused}");

    let out = lucky()
        .args(["charm", "build", "--dev"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(
            "lucky: note: made executable: container_scripts/probe.sh, host_scripts/setup.sh"
        ),
        "{}",
        text(&out)
    );
    let built = dir.join("build/plain");
    assert_eq!(mode(&built.join("host_scripts/setup.sh")), 0o755);
    assert_eq!(mode(&built.join("container_scripts/probe.sh")), 0o755);
    assert_eq!(mode(&built.join("host_scripts/ready.sh")), 0o755);
    // Only declared scripts, and only in the build: the source stays as committed.
    assert_eq!(mode(&built.join("host_scripts/notes.txt")), 0o644);
    assert_eq!(mode(&dir.join("host_scripts/setup.sh")), 0o644);
    // ... and the built one is.
    lucky::charm::lucky_yaml::load(&built).expect("the built charm validates");

    // Nothing to change: no note.
    write(&dir.join("host_scripts/setup.sh"), "#!/bin/sh\n", 0o755);
    write(
        &dir.join("container_scripts/probe.sh"),
        "#!/bin/sh\n",
        0o755,
    );
    let again = lucky()
        .args(["charm", "build", "--dev"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !text(&again).contains("made executable"),
        "{}",
        text(&again)
    );
}

/// A simulated model of `unit`'s charm (with a `dispatch` that runs `lucky hook`).
fn model(unit: &support::Unit, metadata: &str) -> lucky::simulator::Model {
    write(&unit.charm().join("metadata.yaml"), metadata, 0o644);
    write(
        &unit.charm().join("dispatch"),
        "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
        0o755,
    );
    unit.model()
}

fn run_hook(model: &lucky::simulator::Model, hook: &str) {
    let run = model.run_hook(hook).expect("run hook");
    assert!(
        run.success(),
        "{hook} failed ({}):\n{}\n{}",
        run.exit_code,
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_named_maintenance_status_stays_after_its_hook_and_names_take_any_case() {
    let unit = support::Unit::new();
    unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: install.sh\n  config-changed:\n    - host-script: configure.sh\n  start:\n    - host-script: start.sh\n",
    );
    unit.host_script(
        "install.sh",
        r#"set -e
lucky set-status Maintenance "Installing"
lucky set-status --name db MAINTENANCE "Waiting on the database""#,
    );
    unit.host_script("start.sh", "lucky set-status active Ready");
    unit.host_script("configure.sh", "lucky set-status --name db --clear");
    let model = model(&unit, "name: c\nsummary: s\ndescription: d\n");

    run_hook(&model, "install");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("maintenance", "Waiting on the database"),
        "the script's own maintenance status ended with install; the named one stays"
    );
    run_hook(&model, "start");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("maintenance", "Waiting on the database"),
        "a later hook does not end it either"
    );
    run_hook(&model, "config-changed");
    let status = model.unit_status().expect("status");
    assert_eq!(
        (status.status.as_str(), status.message.as_str()),
        ("active", "Ready"),
        "cleared, the unit shows what is left"
    );

    let bad = unit.lucky(&["set-status", "--name", "x", "Broken"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("unknown status \"Broken\""),
        "{}",
        text(&bad)
    );
}

#[test]
fn removing_what_is_absent_succeeds_with_a_note() {
    let unit = started_unit();
    for args in [
        &["container", "delete", "-c", "never"][..],
        &["container", "port", "remove", "8080:80"],
        &["container", "volume", "remove", "/data"],
    ] {
        let out = unit.lucky(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            support::stderr(&out).starts_with("lucky: note: container ")
                && support::stderr(&out).contains("nothing to"),
            "{args:?}: {}",
            text(&out)
        );
    }
    // Removing from a container that exists but lacks the thing: a note too.
    assert!(
        unit.lucky(&["container", "env", "set", "A=1"])
            .status
            .success()
    );
    let out = unit.lucky(&["container", "port", "remove", "9090:90"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("has no port binding 9090:90/tcp: nothing to remove"),
        "{}",
        text(&out)
    );
    // Bad input is still refused.
    let bad = unit.lucky(&["container", "port", "remove", "nope"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    // The removals made no container: the one set up is all there is.
    assert_eq!(
        support::stdout(&unit.lucky(&["container", "env", "get", "-c", "never"])),
        ""
    );
}

#[test]
fn set_command_takes_its_arguments_without_a_double_dash() {
    let unit = started_unit();
    let out = unit.lucky(&["container", "set-command", "/bin/sh", "-c", "echo -n hi"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = unit.lucky(&["container", "set-command", "--", "sleep", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = unit.lucky(&["container", "set-command"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn the_daemon_socket_is_found_through_lucky_daemon_socket_too() {
    let unit = started_unit();
    assert!(unit.lucky(&["kv", "set", "a=1"]).status.success());
    let out = unit
        .command(&["kv", "get", "a"])
        .env_remove("LUCKY_SOCKET")
        .env_remove("JUJU_UNIT_NAME")
        .env("LUCKY_DAEMON_SOCKET", unit.socket())
        .output()
        .expect("run");
    assert_eq!(support::stdout(&out), "1\n", "{}", text(&out));
}

#[test]
fn random_available_port_in_a_range_and_an_inclusive_integer_range() {
    let held = std::net::TcpListener::bind(("0.0.0.0", 0)).expect("bind");
    let busy = held.local_addr().expect("addr").port();
    let (low, high) = (busy.saturating_sub(1).max(1), busy.saturating_add(1));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let out = lucky()
            .args(["random", "-p", "-r", &low.to_string(), &high.to_string()])
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", text(&out));
        let port: u16 = support::stdout(&out).trim().parse().expect("a port");
        assert!((low..=high).contains(&port) && port != busy, "{port}");
        seen.insert(port);
    }
    assert!(seen.len() >= 2 || low == 1, "{seen:?}");
    // Only the busy port: none free.
    let out = lucky()
        .args(["random", "-p", "-r", &busy.to_string(), &busy.to_string()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot find a free port"),
        "{}",
        text(&out)
    );

    // Integers: both ends come up (the 2020 docs said "0 and 10 inclusive").
    let mut ends = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let out = lucky()
            .args(["random", "-r", "0", "2"])
            .output()
            .expect("run");
        ends.insert(support::stdout(&out).trim().to_string());
    }
    assert_eq!(
        ends.into_iter().collect::<Vec<_>>(),
        vec!["0", "1", "2"],
        "0..=2"
    );
}

#[test]
fn every_command_shows_its_page_with_dash_capital_h() {
    for (args, heading) in [
        (&["-H"][..], "## `lucky`"),
        (&["random", "-H"], "## `lucky random`"),
        (
            &["container", "set-command", "--doc"],
            "## `lucky container set-command`",
        ),
        (&["set-status", "-H"], "## `lucky set-status`"),
        (&["charm", "build", "-H"], "## `lucky charm build`"),
    ] {
        let out = lucky().args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let page = support::stdout(&out);
        assert!(page.starts_with(heading), "{args:?}: {page}");
        assert!(page.contains("Usage: "), "{args:?}: {page}");
    }
    // A page is what docs/commands.md holds for that command.
    let reference =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"))
            .expect("docs/commands.md");
    let out = lucky().args(["kv", "get", "-H"]).output().expect("run");
    assert!(
        reference.contains(support::stdout(&out).trim()),
        "{}",
        text(&out)
    );
}

#[test]
fn the_2020_short_flags_of_charm_create_and_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("made");
    let out = lucky()
        .args([
            "charm",
            "create",
            "-D",
            "-n",
            "shorty",
            "-d",
            "Shorty",
            "-s",
            "A short one",
        ])
        .args(["-m", "Jane Doe <jane@example.com>"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let metadata = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata");
    assert!(
        metadata.contains("name: shorty")
            && metadata.contains("A short one")
            && metadata.contains("Jane Doe <jane@example.com>"),
        "{metadata}"
    );
    let built = tmp.path().join("out");
    let out = lucky()
        .args(["charm", "build", "--dev", "-b"])
        .arg(&built)
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(built.join("dispatch").is_file());
}

/// `charm build -l` bundles the running lucky (static, so only the musl build may) and
/// makes a development charm; `-L LEVEL` makes the built charm's daemon log at LEVEL.
#[test]
fn charm_build_l_bundles_this_lucky_and_capital_l_sets_the_daemons_log_level() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("loud");
    write(
        &dir.join("metadata.yaml"),
        "name: loud\nsummary: s\ndescription: d\n",
        0o644,
    );
    write(
        &dir.join("lucky.yaml"),
        "hooks:\n  install:\n    - inline-host-script: echo installed\n",
        0o644,
    );
    let built = tmp.path().join("out");

    // The test build of lucky is dynamically linked: it cannot be bundled.
    let out = lucky()
        .args(["charm", "build", "-l", "-b"])
        .arg(&built)
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", text(&out));
    let err = support::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot bundle") && err.contains("dynamically linked"),
        "{err}"
    );
    assert!(!built.exists(), "a refused build writes nothing");

    // A level the daemon would not take is refused at build time.
    let out = lucky()
        .args(["charm", "build", "--dev", "-L", "loudest"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", text(&out));
    let err = support::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot build with --log-level \"loudest\"")
            && err.contains("trace, debug, info, warn, error, off"),
        "{err}"
    );

    // -l bundles another source too? No: one or the other.
    let out = lucky()
        .args(["charm", "build", "-l", "--bundle-lucky", "x86_64"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // The static build bundles itself, unsigned: a development charm, said so.
    let musl = support::docker::musl_lucky();
    let out = Command::new(&musl)
        .args(["charm", "build", "-l", "-L", "DEBUG", "-b"])
        .arg(&built)
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "lucky: note: --use-local-lucky (-l) bundled {} unsigned: this is a development charm (as with --dev)",
            musl.canonicalize().expect("musl path").display()
        )),
        "{}",
        text(&out)
    );
    let version = std::fs::read_to_string(built.join("lucky/version")).expect("version");
    let name = format!("lucky-{}-x86_64-unknown-linux-musl", version.trim());
    assert!(
        text(&out).contains(&format!(", bundled {name})")),
        "{}",
        text(&out)
    );
    let bundled = std::fs::read(built.join("lucky").join(&name)).expect("bundled binary");
    assert_eq!(bundled, std::fs::read(&musl).expect("musl lucky"));
    assert_eq!(mode(&built.join("lucky").join(&name)), 0o755);
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(&bundled)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sums = std::fs::read_to_string(built.join("lucky/SHA256SUMS")).expect("sums");
    assert_eq!(sums, format!("{hex}  {name}\n"));
    assert!(
        built.join("lucky/dev").is_file(),
        "marked a development charm"
    );
    assert_eq!(
        std::fs::read_to_string(built.join("lucky/log-level")).expect("log level"),
        "debug\n"
    );

    // The built charm's install hook (its dispatch and installer, as Juju runs them)
    // installs the bundled lucky and starts a daemon that logs at debug.
    let root = tmp.path();
    let (data, socket, bin) = (root.join("data"), root.join("lucky.sock"), root.join("bin"));
    let model = lucky::simulator::Model::create(root.join("model"), &built, "loud/0", &musl)
        .expect("model");
    for (k, v) in [
        ("LUCKY_SOCKET", socket.display().to_string()),
        ("LUCKY_DATA_DIR", data.display().to_string()),
        ("LUCKY_INSTALL_DIR", bin.display().to_string()),
        ("LUCKY_NO_SYSTEMD", "1".into()),
        ("LUCKY_INSECURE_SKIP_SIGNATURE", "1".into()),
    ] {
        model.pass_env(k, v).expect("pass env");
    }
    let install = model.run_hook("install").expect("install");
    let stop = || {
        Command::new(&musl)
            .args(["daemon", "stop"])
            .env("JUJU_UNIT_NAME", "loud/0")
            .env("LUCKY_SOCKET", &socket)
            .env("LUCKY_DATA_DIR", &data)
            .output()
            .expect("daemon stop")
    };
    if !install.success() {
        stop();
        panic!("install failed:\n{}{}", install.stdout, install.stderr);
    }
    assert_eq!(
        std::fs::read(bin.join("lucky")).expect("installed"),
        bundled
    );
    let log = std::fs::read_to_string(data.join("lucky.log")).expect("daemon log");
    stop();
    assert!(
        log.lines().any(|l| l.contains(" DEBUG ")),
        "the daemon logs at debug:\n{log}"
    );
    assert!(install.stdout.contains("installed"), "{}", install.stdout);
}

/// A unit with an empty charm whose daemon a first hook has started.
fn started_unit() -> support::Unit {
    let unit = support::Unit::new();
    unit.lucky_yaml("");
    let out = unit.hook("install");
    assert!(out.status.success(), "{}", text(&out));
    unit
}

#[test]
fn port_add_refuses_a_host_port_another_container_binds() {
    let unit = started_unit();
    let add = |args: &[&str]| unit.lucky(&[&["container", "port", "add"][..], args].concat());
    assert!(add(&["8080:80"]).status.success());
    let clash = add(&["8080:80", "-c", "worker"]);
    assert_eq!(clash.status.code(), Some(2), "{}", text(&clash));
    let err = support::stderr(&clash);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot bind host port 8080/tcp for container worker: container default already binds it"),
        "{err}"
    );
    let listed = unit.lucky(&["container", "port", "list", "-c", "worker"]);
    assert!(listed.status.success(), "{}", text(&listed));
    assert_eq!(
        support::stdout(&listed),
        "",
        "the refused binding was not stored"
    );
}
