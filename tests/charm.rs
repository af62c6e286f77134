//! `lucky charm create` / `lucky charm build` through the real binary, and what the built
//! charm's `dispatch` and `hooks/*` run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::release::{gen_key, sign};

mod support;

fn lucky() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucky"));
    cmd.stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run lucky")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
}

fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
}

fn write_exec(path: &Path, contents: &str) {
    write(path, contents);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A fresh charm from the template, created non-interactively.
fn created(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    ok(&run(lucky().args(["charm", "create"]).arg(&dir)));
    dir
}

fn build(dir: &Path) -> Output {
    run(lucky().args(["charm", "build", "--dev"]).arg(dir))
}

#[test]
fn create_then_build_works_out_of_the_box() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "my_New App");
    let meta = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata");
    assert!(meta.contains("name: my-new-app\n"), "{meta}");
    assert!(meta.contains("display-name: \"My New App\"\n"), "{meta}");
    assert!(!meta.contains("{{"), "{meta}");
    for script in ["host_scripts/install.sh", "container_scripts/report.sh"] {
        assert_eq!(mode(&dir.join(script)) & 0o111, 0o111, "{script}");
    }
    assert!(dir.join("icon.svg").is_file());

    let out = build(&dir);
    ok(&out);
    let built = dir.join("build/my-new-app");
    assert!(text(&out.stdout).contains(&built.display().to_string()));
    for file in [
        "dispatch",
        "hooks/install",
        "hooks/website-relation-joined",
        "hooks/update-status",
        "actions/say-hello",
        "lucky/install.sh",
        "host_scripts/configure.sh",
    ] {
        assert_eq!(mode(&built.join(file)) & 0o111, 0o111, "{file}");
    }
    assert_eq!(
        std::fs::read_to_string(built.join("lucky/version")).expect("version"),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    // The generated shell is shellcheck clean (where shellcheck is installed).
    if Command::new("shellcheck").arg("--version").output().is_ok() {
        ok(&run(Command::new("shellcheck").current_dir(&built).args([
            "dispatch",
            "hooks/install",
            "actions/say-hello",
            "lucky/install.sh",
        ])));
    }
    // A second build replaces the first, without copying the build folder into itself.
    std::fs::write(built.join("stale"), "x").expect("write");
    ok(&build(&dir));
    assert!(!built.join("stale").exists());
    assert!(!built.join("build").exists());
}

#[test]
fn create_takes_values_and_refuses_a_non_empty_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("c");
    ok(&run(lucky().args(["charm", "create"]).arg(&dir).args([
        "--name",
        "shop",
        "--display-name",
        "The Shop",
        "--summary",
        "Sells: \"things\" # cheap",
        "--maintainer",
        "Jo <jo@example.com>",
    ])));
    let meta = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata");
    assert!(
        meta.contains("summary: \"Sells: \\\"things\\\" # cheap\"\n"),
        "{meta}"
    );
    assert!(
        meta.contains("maintainer: \"Jo <jo@example.com>\"\n"),
        "{meta}"
    );
    // The quoted summary is still valid YAML: the charm builds.
    ok(&build(&dir));

    let out = run(lucky().args(["charm", "create"]).arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "lucky: refusing to create a charm in {}: the folder is not empty\n",
            dir.display()
        )
    );
    let out = run(lucky()
        .args(["charm", "create", "--name", "Bad_Name"])
        .arg(tmp.path().join("d")));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("invalid charm name \"Bad_Name\""));
    assert!(!tmp.path().join("d").exists());
}

/// A folder with a fake `lucky` that appends its arguments to `calls`.
fn fake_lucky(root: &Path) -> (PathBuf, PathBuf) {
    let bin = root.join("fakebin");
    let log = root.join("calls");
    write_exec(
        &bin.join("lucky"),
        &format!("#!/bin/sh\necho \"lucky $*\" >> '{}'\n", log.display()),
    );
    (bin, log)
}

fn take_calls(log: &Path) -> String {
    let calls = std::fs::read_to_string(log).unwrap_or_default();
    let _ = std::fs::remove_file(log);
    calls
}

/// `charm build -L LEVEL`: dispatch gives lucky (and the installer, which starts the
/// daemon) LUCKY_LOG_LEVEL from the charm, unless the environment sets it.
#[test]
fn dispatch_exports_the_built_log_level_unless_the_environment_sets_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "lvl");
    let log = tmp.path().join("calls");
    let bin = tmp.path().join("fakebin");
    write_exec(
        &bin.join("lucky"),
        &format!(
            "#!/bin/sh\necho \"lucky $* level=${{LUCKY_LOG_LEVEL:-unset}}\" >> '{}'\n",
            log.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let hook = |built: &Path, level: Option<&str>| {
        let mut cmd = Command::new("./dispatch");
        cmd.current_dir(built)
            .env("PATH", &path)
            .env("JUJU_CHARM_DIR", built)
            .env("LUCKY_INSTALL_DIR", &bin)
            .env("JUJU_DISPATCH_PATH", "hooks/start")
            .env_remove("LUCKY_LOG_LEVEL")
            .stdin(Stdio::null());
        if let Some(level) = level {
            cmd.env("LUCKY_LOG_LEVEL", level);
        }
        ok(&run(&mut cmd));
        take_calls(&log)
    };

    ok(&run(lucky()
        .args(["charm", "build", "--dev", "-L", "Trace"])
        .arg(&dir)));
    let built = dir.join("build/lvl");
    assert_eq!(
        std::fs::read_to_string(built.join("lucky/log-level")).expect("level"),
        "trace\n"
    );
    assert_eq!(hook(&built, None), "lucky hook start level=trace\n");
    assert_eq!(hook(&built, Some("warn")), "lucky hook start level=warn\n");

    // Built without -L: nothing is set, the daemon's default (info) holds.
    ok(&build(&dir));
    assert!(!built.join("lucky/log-level").exists());
    assert_eq!(hook(&built, None), "lucky hook start level=unset\n");
}

#[test]
fn dispatch_and_every_hook_run_lucky_hook_with_their_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "app");
    ok(&build(&dir));
    let built = dir.join("build/app");
    let (bin, log) = fake_lucky(tmp.path());
    // The real installer is tested on its own; here it only has to run before the hook.
    write_exec(
        &built.join("lucky/install.sh"),
        &format!(
            "#!/bin/sh\necho \"install.sh CHARM_DIR=$CHARM_DIR\" >> '{}'\n",
            log.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let juju = |program: &Path| {
        let mut cmd = Command::new(program);
        cmd.current_dir(&built)
            .env("PATH", &path)
            .env("JUJU_CHARM_DIR", &built)
            .env("CHARM_DIR", &built)
            // Where the installer put lucky: it is installed.
            .env("LUCKY_INSTALL_DIR", &bin)
            .env_remove("JUJU_DISPATCH_PATH")
            .stdin(Stdio::null());
        cmd
    };

    let mut hooks: Vec<String> = std::fs::read_dir(built.join("hooks"))
        .expect("hooks")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    hooks.sort();
    assert!(hooks.len() >= 20, "{hooks:?}");
    for hook in &hooks {
        // install and upgrade-charm install lucky first (a refreshed charm may carry
        // another version); remove takes lucky's part of the unit away after its scripts.
        let expected = if hook == "install" || hook == "upgrade-charm" {
            format!(
                "install.sh CHARM_DIR={}\nlucky hook {hook}\n",
                built.display()
            )
        } else if hook == "remove" {
            format!(
                "lucky hook remove\ninstall.sh CHARM_DIR={}\n",
                built.display()
            )
        } else {
            format!("lucky hook {hook}\n")
        };
        // Juju ≥ 2.8: dispatch with JUJU_DISPATCH_PATH.
        ok(&run(
            juju(Path::new("./dispatch")).env("JUJU_DISPATCH_PATH", format!("hooks/{hook}"))
        ));
        assert_eq!(take_calls(&log), expected, "dispatch for {hook}");
        // Older Jujus: hooks/<name> itself, no JUJU_DISPATCH_PATH.
        ok(&run(&mut juju(&built.join("hooks").join(hook))));
        assert_eq!(take_calls(&log), expected, "hooks/{hook}");
    }

    // A hook before install (Juju runs the hooks of storage attached at deploy first)
    // installs lucky when it is not installed yet.
    let empty = tmp.path().join("not-installed");
    std::fs::create_dir_all(&empty).expect("mkdir");
    ok(&run(juju(Path::new("./dispatch"))
        .env("LUCKY_INSTALL_DIR", &empty)
        .env("JUJU_DISPATCH_PATH", "hooks/config-changed")));
    assert_eq!(
        take_calls(&log),
        format!(
            "install.sh CHARM_DIR={}\nlucky hook config-changed\n",
            built.display()
        )
    );

    // Actions go through `lucky hook <action>` too.
    ok(&run(juju(Path::new("./dispatch"))
        .env("JUJU_DISPATCH_PATH", "actions/say-hello")
        .env("JUJU_ACTION_NAME", "say-hello")));
    assert_eq!(take_calls(&log), "lucky hook say-hello\n");
    ok(&run(&mut juju(&built.join("actions/say-hello"))));
    assert_eq!(take_calls(&log), "lucky hook say-hello\n");

    // Without JUJU_CHARM_DIR the charm folder comes from the hook's own path.
    ok(&run(juju(&built.join("hooks/install"))
        .env_remove("JUJU_CHARM_DIR")
        .env_remove("CHARM_DIR")
        .current_dir(tmp.path())));
    assert_eq!(
        take_calls(&log),
        format!(
            "install.sh CHARM_DIR={}\nlucky hook install\n",
            built.display()
        )
    );

    // dispatch run by hand, without the variable Juju sets, says so.
    let out = run(&mut juju(Path::new("./dispatch")));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("JUJU_DISPATCH_PATH is not set"));
    assert_eq!(take_calls(&log), "");

    // A failing lucky hook is the hook's failure.
    write_exec(&bin.join("lucky"), "#!/bin/sh\nexit 3\n");
    let out = run(juju(Path::new("./dispatch")).env("JUJU_DISPATCH_PATH", "hooks/start"));
    assert_eq!(out.status.code(), Some(3));
}

/// A minimal valid charm whose lucky.yaml is `lucky_yaml`.
fn charm_with(root: &Path, lucky_yaml: &str) -> PathBuf {
    let dir = root.join("c");
    write(
        &dir.join("metadata.yaml"),
        "name: c\nsummary: s\ndescription: d\nprovides:\n  website:\n    interface: http\nrequires:\n  db:\n    interface: pgsql\nstorage:\n  data:\n    type: filesystem\n",
    );
    write_exec(&dir.join("host_scripts/ok.sh"), "#!/bin/sh\n");
    write(&dir.join("lucky.yaml"), lucky_yaml);
    dir
}

fn build_error(dir: &Path) -> String {
    let out = build(dir);
    assert_eq!(out.status.code(), Some(1), "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!dir.join("build").exists(), "a failed build writes nothing");
    err
}

#[test]
fn build_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "hooks:\n  install:\n    - host-script: ok.sh\n  cache-relation-joined:\n    - host-script: ok.sh\n",
            ":4: hook \"cache-relation-joined\": ",
            "has no relation \"cache\" under provides, requires or peers (it declares db, website)",
        ),
        (
            "hooks:\n  install:\n    - host-script: ok.sh\n    - host-script: missing.sh\n",
            ":4: hook \"install\": ",
            "key `host-script`: host_scripts/missing.sh does not exist",
        ),
        (
            "hooks:\n  install:\n    - host-script: ok.sh\ncron-jobs:\n  \"*/5 * * * *\":\n    - host-script: ok.sh\n",
            ":5: cron-jobs: invalid cron expression \"*/5 * * * *\": ",
            "it has 5 fields, expected 6",
        ),
        (
            "cron-jobs:\n  \"0 0 25 * * *\":\n    - host-script: ok.sh\n",
            ":2: cron-jobs: invalid cron expression \"0 0 25 * * *\": ",
            "hours field \"25\": 25 is outside 0-23",
        ),
        (
            "hooks:\n  instal:\n    - host-script: ok.sh\n",
            ":2: hook \"instal\" is not a Juju hook",
            "standard hooks: install,",
        ),
        (
            "hooks:\n  cache-storage-attached: []\n",
            ":2: hook \"cache-storage-attached\": ",
            "has no storage \"cache\" (it declares data)",
        ),
        (
            "actions:\n  Back_Up:\n    - host-script: ok.sh\n",
            ":2: action \"Back_Up\": ",
            "lowercase letters and hyphens",
        ),
        (
            "hooks:\n  install:\n    - host-script: ok.sh\ntimezone: Europe/Atlantis\n",
            ":4: timezone: ",
            "cannot read time zone \"Europe/Atlantis\" (/usr/share/zoneinfo/Europe/Atlantis)",
        ),
        (
            "timezone: /etc/localtime\n",
            ":1: timezone: ",
            "\"/etc/localtime\" is not a time zone name: write UTC or an IANA name such as Europe/Paris",
        ),
    ];
    for (yaml, at, why) in cases {
        let dir = charm_with(tmp.path(), yaml);
        let err = build_error(&dir);
        let file = dir.canonicalize().expect("canonical").join("lucky.yaml");
        assert!(
            err.starts_with(&format!("lucky: {}{at}", file.display())),
            "{yaml:?} gave {err}"
        );
        assert!(err.contains(why), "{yaml:?} gave {err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    // Relation and storage hooks that metadata.yaml declares are fine.
    let dir = charm_with(
        tmp.path(),
        "hooks:\n  db-relation-changed:\n    - host-script: ok.sh\n  data-storage-attached:\n    - host-script: ok.sh\n",
    );
    ok(&build(&dir));
    std::fs::remove_dir_all(&dir).expect("cleanup");

    // An actions.yaml action with no scripts.
    let dir = charm_with(
        tmp.path(),
        "actions:\n  backup:\n    - host-script: ok.sh\n",
    );
    write(
        &dir.join("actions.yaml"),
        "backup:\n  description: b\nrestore:\n  description: r\n",
    );
    let err = build_error(&dir);
    let file = dir.canonicalize().expect("canonical").join("actions.yaml");
    assert!(
        err.starts_with(&format!(
            "lucky: {}:3: action \"restore\" has no scripts",
            file.display()
        )),
        "{err}"
    );
}

#[test]
fn build_adds_actions_and_the_lucky_binary_resource() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = charm_with(
        tmp.path(),
        "actions:\n  backup:\n    - host-script: ok.sh\n  restore:\n    - host-script: ok.sh\n",
    );
    write(
        &dir.join("actions.yaml"),
        "backup:\n  description: Back up\n  params:\n    to: {type: string}\n",
    );
    // Resources indented by 4: the added entry must line up.
    let meta = std::fs::read_to_string(dir.join("metadata.yaml")).expect("read");
    write(
        &dir.join("metadata.yaml"),
        &format!("{meta}resources:\n    other:\n        type: file\n        filename: x\n"),
    );
    ok(&build(&dir));
    let built = dir.join("build/c");
    let actions = std::fs::read_to_string(built.join("actions.yaml")).expect("actions.yaml");
    assert!(
        actions.starts_with("backup:\n  description: Back up\n"),
        "{actions}"
    );
    assert!(actions.contains("\nrestore:\n  description: "), "{actions}");
    for action in ["backup", "restore"] {
        assert!(built.join("actions").join(action).is_file());
    }
    let meta = std::fs::read_to_string(built.join("metadata.yaml")).expect("metadata");
    assert!(
        meta.contains("resources:\n    lucky-binary:\n      type: file\n      filename: lucky\n"),
        "{meta}"
    );
    assert!(meta.contains("    other:\n"), "{meta}");
    // The source charm is not changed.
    assert!(
        !std::fs::read_to_string(dir.join("metadata.yaml"))
            .expect("read")
            .contains("lucky-binary")
    );

    // No resources section at all: one is appended.
    let dir2 = tmp.path().join("plain");
    let out = run(lucky()
        .args(["charm", "create", "--name", "plain"])
        .arg(&dir2));
    ok(&out);
    let meta = std::fs::read_to_string(dir2.join("metadata.yaml")).expect("read");
    let cut = meta.find("resources:").expect("template has resources");
    write(&dir2.join("metadata.yaml"), &meta[..cut]);
    ok(&build(&dir2));
    let built = std::fs::read_to_string(dir2.join("build/plain/metadata.yaml")).expect("read");
    assert!(built.ends_with("resources:\n  lucky-binary:\n    type: file\n    filename: lucky\n    description: A static lucky binary for the unit's architecture (optional when bundled or downloadable)\n"), "{built}");
}

#[test]
fn build_refuses_to_replace_a_folder_it_did_not_write() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "app");
    let precious = tmp.path().join("precious");
    write(&precious.join("keep.txt"), "data");
    let out = run(lucky()
        .args(["charm", "build"])
        .arg(&dir)
        .arg("--build-dir")
        .arg(&precious));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("neither empty nor an earlier lucky charm build"),
        "{}",
        text(&out.stderr)
    );
    assert!(precious.join("keep.txt").is_file());
    // An explicit, new build folder outside the charm works.
    let elsewhere = tmp.path().join("out/app");
    ok(&run(lucky()
        .args(["charm", "build", "--dev"])
        .arg(&dir)
        .arg("--build-dir")
        .arg(&elsewhere)));
    assert!(elsewhere.join("dispatch").is_file());
    assert!(!dir.join("build").exists());
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn bundle_lucky_copies_binaries_with_checksums() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "app");
    let bins = tmp.path().join("release");
    let version = "9.8.7";
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "s390x-unknown-linux-musl",
    ] {
        write_exec(
            &bins.join(format!("lucky-{version}-{target}")),
            &format!("binary for {target}"),
        );
    }
    let build_with = |targets: &str, extra: &[&str]| {
        run(lucky()
            .args(["charm", "build"])
            .arg(&dir)
            .args(["--bundle-lucky", targets, "--lucky-binaries"])
            .arg(&bins)
            .args(["--lucky-version", version])
            .args(extra))
    };
    let bundle = |targets: &str| build_with(targets, &["--dev"]);
    let out = bundle("amd64,aarch64-unknown-linux-musl");
    ok(&out);
    let lucky_dir = dir.join("build/app/lucky");
    let sums = std::fs::read_to_string(lucky_dir.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut expected = String::new();
    for target in ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"] {
        let name = format!("lucky-{version}-{target}");
        let bytes = std::fs::read(lucky_dir.join(&name)).expect("bundled");
        assert_eq!(bytes, format!("binary for {target}").as_bytes());
        assert_eq!(mode(&lucky_dir.join(&name)) & 0o111, 0o111);
        expected.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
    }
    assert_eq!(sums, expected);
    assert!(
        !lucky_dir
            .join("lucky-9.8.7-s390x-unknown-linux-musl")
            .exists()
    );
    assert_eq!(
        std::fs::read_to_string(lucky_dir.join("version")).expect("version"),
        "9.8.7\n"
    );
    assert!(text(&out.stdout).contains("bundled lucky-9.8.7-aarch64"));
    assert!(
        text(&out.stderr)
            .contains("lucky: note: --dev: the bundled lucky/SHA256SUMS is not signed"),
        "{}",
        text(&out.stderr)
    );
    assert!(lucky_dir.join("dev").is_file());

    // Missing binary, unknown target: one-line errors, nothing written.
    std::fs::remove_dir_all(dir.join("build")).expect("clean");
    let out = bundle("ppc64le");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "lucky: --lucky-binaries {}: no lucky-9.8.7-powerpc64le-unknown-linux-musl to bundle for target powerpc64le-unknown-linux-musl\n",
            bins.display()
        )
    );
    let out = bundle("mips");
    assert!(text(&out.stderr).contains("unknown target \"mips\""));
    assert!(!dir.join("build").exists());

    // A release folder's own signed SHA256SUMS is checked and kept as it is, with its key;
    // no --dev needed: the charm installs by itself.
    let s390x = format!("lucky-{version}-s390x-unknown-linux-musl");
    let good = format!(
        "{}  {s390x}\n",
        sha256_hex(b"binary for s390x-unknown-linux-musl")
    );
    write(&bins.join("SHA256SUMS"), &good);
    let (key, public) = gen_key(tmp.path(), "release");
    sign(&bins, &key);
    std::fs::copy(&public, bins.join("release.pub")).expect("release.pub");
    let out = build_with("s390x", &[]);
    ok(&out);
    assert!(
        !text(&out.stderr).contains("--dev"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(lucky_dir.join("SHA256SUMS")).expect("sums"),
        good
    );
    assert_eq!(
        std::fs::read(lucky_dir.join("SHA256SUMS.sig")).expect("sig"),
        std::fs::read(bins.join("SHA256SUMS.sig")).expect("sig")
    );
    assert_eq!(
        std::fs::read(lucky_dir.join("release.pub")).expect("pub"),
        std::fs::read(&public).expect("pub")
    );
    assert!(!lucky_dir.join("dev").exists());
    write(
        &bins.join("SHA256SUMS"),
        &format!("{}  {s390x}\n", "0".repeat(64)),
    );
    let out = bundle("s390x");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("the checksum of {s390x} does not match")),
        "{}",
        text(&out.stderr)
    );
}

/// Everything under `root`, relative, sorted: what a refused build must leave as it was.
fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            if path.is_dir() {
                out.push((rel, Vec::new()));
                todo.push(path);
            } else {
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// A development lucky (no release key built in) builds no charm that could not install
/// lucky by itself: one line saying why and what to pass, exit 1, nothing written or
/// changed. `--dev` builds it anyway, marked, and its installer says so at deploy.
#[test]
fn a_charm_that_could_not_install_lucky_is_refused_unless_dev() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created(tmp.path(), "app");
    let refused = |out: &Output, want: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with(&format!("lucky: cannot build an installable charm: {want}")),
            "{err}"
        );
        assert!(err.contains("--dev"), "names the opt-in: {err}");
        assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    };

    // No key built in, nothing bundled.
    let out = build_default(&dir, &[]);
    refused(
        &out,
        "this lucky has no release key built in and nothing is bundled; pass --bundle-lucky TARGETS --lucky-binaries DIR",
    );
    assert!(!dir.join("build").exists(), "a refused build wrote");

    // Bundles that no unit could verify.
    let bins = tmp.path().join("release");
    let name = "lucky-9.8.7-x86_64-unknown-linux-musl";
    write_exec(&bins.join(name), "binary");
    let bundle = |extra: &[&str]| {
        let mut args = vec!["--bundle-lucky", "amd64", "--lucky-version", "9.8.7"];
        args.extend_from_slice(extra);
        run(lucky()
            .args(["charm", "build"])
            .arg(&dir)
            .arg("--lucky-binaries")
            .arg(&bins)
            .args(&args))
    };
    let out = bundle(&[]);
    refused(
        &out,
        "the bundled lucky/SHA256SUMS is not signed (the --lucky-binaries folder has no SHA256SUMS.sig)",
    );
    assert!(!dir.join("build").exists(), "a refused build wrote");
    write(
        &bins.join("SHA256SUMS"),
        &format!("{}  {name}\n", sha256_hex(b"binary")),
    );
    let (key, public) = gen_key(tmp.path(), "release");
    sign(&bins, &key);
    let out = bundle(&[]);
    refused(
        &out,
        "the bundled SHA256SUMS.sig cannot be checked on a unit: the --lucky-binaries folder has no release.pub and this lucky has no release key built in",
    );
    let (_, other) = gen_key(tmp.path(), "other");
    std::fs::copy(&other, bins.join("release.pub")).expect("pub");
    let out = bundle(&[]);
    refused(
        &out,
        "the bundled SHA256SUMS.sig does not verify with the bundled release.pub",
    );
    assert!(!dir.join("build").exists(), "a refused build wrote");

    // An earlier build stays as it was, and no staging folder is left beside it.
    ok(&build_default(&dir, &["--dev"]));
    let before = tree(&dir.join("build"));
    refused(
        &build_default(&dir, &[]),
        "this lucky has no release key built in",
    );
    refused(&bundle(&[]), "the bundled SHA256SUMS.sig does not verify");
    assert_eq!(tree(&dir.join("build")), before);

    // With its key the same bundle builds without --dev.
    std::fs::copy(&public, bins.join("release.pub")).expect("pub");
    let out = bundle(&[]);
    ok(&out);
    assert!(!dir.join("build/app/lucky/dev").exists());

    // --dev: built, with a note and the marker; the installer names it at deploy.
    let out = build_default(&dir, &["--dev"]);
    ok(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains("lucky: note: --dev: this lucky has no release key built in and nothing is bundled: lucky/dev marks a development charm"),
        "{err}"
    );
    let built = dir.join("build/app");
    assert!(built.join("lucky/dev").is_file());
    let install = run(Command::new("sh")
        .arg(built.join("lucky/install.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CHARM_DIR", &built)
        .env("LUCKY_INSTALL_DIR", tmp.path().join("bin"))
        .env("JUJU_UNIT_NAME", "app/0"));
    assert_eq!(install.status.code(), Some(1));
    assert_eq!(
        text(&install.stderr),
        "[ERROR] no release public key configured: this charm was built with `lucky charm build --dev` (set LUCKY_RELEASE_PUBKEY, or LUCKY_INSECURE_SKIP_SIGNATURE=1, or build the charm without --dev)\n"
    );
    assert!(!tmp.path().join("bin").exists());
}

fn build_default(dir: &Path, extra: &[&str]) -> Output {
    run(lucky().args(["charm", "build"]).arg(dir).args(extra))
}

#[test]
fn example_charm_builds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webapp");
    let out = run(lucky()
        .args(["charm", "build", "--dev"])
        .arg(&example)
        .arg("--build-dir")
        .arg(tmp.path().join("webapp")));
    ok(&out);
    let built = tmp.path().join("webapp");
    for file in [
        "hooks/db-relation-changed",
        "hooks/website-relation-joined",
        "actions/backup",
        "container_scripts/backup.sh",
    ] {
        assert!(built.join(file).is_file(), "{file}");
    }
}

#[test]
fn docs_commands_md_is_current() {
    let out = run(lucky().args(["doc", "commands"]));
    ok(&out);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text(&out.stdout),
        "docs/commands.md is stale: regenerate it with `cargo run -- doc commands > docs/commands.md`"
    );
    assert!(on_disk.contains("## `lucky charm build`"));
    assert!(on_disk.contains("## `lucky kv set`"));
}

#[test]
fn create_asks_on_a_terminal() {
    // util-linux `script` gives the command a terminal; skip where it is missing.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("x");
    let command = format!(
        "{} charm create {}",
        env!("CARGO_BIN_EXE_lucky"),
        dir.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        // name, display name (default), summary, maintainer (default)
        stdin
            .write_all(b"shop\n\nSells things\n\n")
            .expect("answers");
    }
    let out = child.wait_with_output().expect("wait");
    ok(&out);
    assert!(
        text(&out.stdout).contains("Charm name [x]: "),
        "{}",
        text(&out.stdout)
    );
    let meta = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata");
    assert!(meta.contains("name: shop\n"), "{meta}");
    assert!(meta.contains("display-name: \"Shop\"\n"), "{meta}");
    assert!(meta.contains("summary: \"Sells things\"\n"), "{meta}");
}
