//! The deploy path: what `lucky charm build` writes for Juju (the folder, the packed
//! `.charm`, bases, the LXD profile), the install hook making sure a Docker engine
//! answers, and a unit's whole life from the unpacked `.charm` through the simulator,
//! up to `remove` leaving nothing of the unit behind.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::release::{IDENTITY_VERSION, IdentityBuild, gen_key, identity_build, sign};
use support::{LUCKY, process_alive, wait_for};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) {
    assert!(out.status.success(), "failed: {}", text(out));
}

fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
}

fn write_exec(path: &Path, contents: &str) {
    write(path, contents);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// `lucky charm create` then `lucky charm build` with `extra` arguments.
fn created_and_built(root: &Path, extra: &[&str]) -> PathBuf {
    let dir = root.join("app");
    ok(&run(Command::new(LUCKY)
        .args(["charm", "create"])
        .arg(&dir)
        .stdin(std::process::Stdio::null())));
    ok(&run(Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(&dir)
        .args(extra)));
    dir
}

#[test]
fn build_packs_a_charm_juju_4_deploys_with_bases_and_executable_hooks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created_and_built(tmp.path(), &[]);
    let folder = dir.join("build/app");
    let packed = dir.join("build/app.charm");
    assert!(packed.is_file(), "no {}", packed.display());

    // Python's zipfile reads the archive, checks every CRC, and reports the modes.
    let listing = run(Command::new("python3")
        .arg("-c")
        .arg(
            r#"import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, bad
for i in z.infolist():
    print("%s %o" % (i.filename, (i.external_attr >> 16) & 0o777))
print("MANIFEST", z.read("manifest.yaml").decode().replace("\n", "|"))
"#,
        )
        .arg(&packed));
    ok(&listing);
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    for (name, want) in [
        ("dispatch", 0o755),
        ("hooks/install", 0o755),
        ("hooks/website-relation-joined", 0o755),
        ("host_scripts/install.sh", 0o755),
        ("lucky/install.sh", 0o755),
        ("metadata.yaml", 0o644),
        ("manifest.yaml", 0o644),
        ("lxd-profile.yaml", 0o644),
        ("lucky/version", 0o644),
    ] {
        assert!(
            listing.contains(&format!("\n{name} {want:o}\n"))
                || listing.starts_with(&format!("{name} {want:o}\n")),
            "{name} with mode {want:o} in:\n{listing}"
        );
    }
    assert!(
        listing.contains("MANIFEST # Written by `lucky charm build`")
            && listing
                .contains("bases:|- name: ubuntu|  channel: '22.04'|  architectures:|  - amd64|"),
        "{listing}"
    );

    // A real unzip restores the tree with its modes, the same as the folder.
    let unpacked = tmp.path().join("unpacked");
    ok(&run(Command::new("unzip")
        .arg("-q")
        .arg(&packed)
        .arg("-d")
        .arg(&unpacked)));
    for rel in [
        "dispatch",
        "hooks/install",
        "hooks/remove",
        "actions/say-hello",
    ] {
        assert_eq!(mode(&unpacked.join(rel)), 0o755, "{rel}");
        assert_eq!(
            std::fs::read(unpacked.join(rel)).expect("read"),
            std::fs::read(folder.join(rel)).expect("read"),
            "{rel}"
        );
    }
    // Bases, not series; and the profile Docker needs inside LXD.
    let metadata = std::fs::read_to_string(unpacked.join("metadata.yaml")).expect("metadata");
    assert!(!metadata.contains("series"), "{metadata}");
    let profile = std::fs::read_to_string(unpacked.join("lxd-profile.yaml")).expect("profile");
    assert!(profile.contains("security.nesting: \"true\""), "{profile}");
    assert!(!profile.contains("limits.") && !profile.contains("boot."));

    // The same folder packs to the same bytes.
    let first = std::fs::read(&packed).expect("read");
    ok(&run(Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(&dir)));
    assert_eq!(std::fs::read(&packed).expect("read"), first);
}

#[test]
fn an_authors_profile_is_kept_and_checked_and_a_bad_series_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created_and_built(tmp.path(), &[]);
    write(
        &dir.join("lxd-profile.yaml"),
        "config:\n  security.nesting: \"true\"\n  linux.kernel_modules: overlay\n",
    );
    ok(&run(Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(&dir)));
    assert_eq!(
        std::fs::read_to_string(dir.join("build/app/lxd-profile.yaml")).expect("profile"),
        "config:\n  security.nesting: \"true\"\n  linux.kernel_modules: overlay\n"
    );

    let before = std::fs::read(dir.join("build/app.charm")).expect("charm");
    for (file, contents, needle) in [
        (
            "lxd-profile.yaml",
            "config:\n  limits.memory: 1GB\n",
            "limits.memory",
        ),
        (
            "lxd-profile.yaml",
            "devices:\n  root:\n    type: disk\n    path: /\n",
            "\"disk\"",
        ),
        (
            "charmcraft.yaml",
            "type: charm\nbases:\n  - name: ubuntu\n    channel: jammy\n",
            "\"jammy\"",
        ),
    ] {
        let saved = std::fs::read_to_string(dir.join(file)).ok();
        write(&dir.join(file), contents);
        let out = run(Command::new(LUCKY)
            .args(["charm", "build", "--dev"])
            .arg(&dir));
        assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(needle) && err.contains(file), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        match saved {
            Some(s) => write(&dir.join(file), &s),
            None => std::fs::remove_file(dir.join(file)).expect("rm"),
        }
    }
    // A 2020 charm's `series` builds: Juju 4 would refuse it, so it is left out of the
    // built metadata.yaml, and an unknown release name is refused.
    let metadata = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata");
    write(
        &dir.join("metadata.yaml"),
        &format!("{metadata}series:\n  - warty\n"),
    );
    let out = run(Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("metadata.yaml: series \"warty\" is not an Ubuntu release"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // Nothing was lost: the earlier packed charm is still there, unchanged.
    assert_eq!(
        std::fs::read(dir.join("build/app.charm")).expect("charm"),
        before
    );
    write(
        &dir.join("metadata.yaml"),
        &format!("{metadata}series:\n  - jammy\n"),
    );
    let out = run(Command::new(LUCKY)
        .args(["charm", "build", "--dev"])
        .arg(&dir));
    ok(&out);
    assert!(
        text(&out).contains("`series` is left out of the built charm"),
        "{}",
        text(&out)
    );
    let built = std::fs::read_to_string(dir.join("build/app/metadata.yaml")).expect("built");
    assert!(
        !built.contains("series") && !built.contains("jammy"),
        "{built}"
    );
    assert!(built.contains("lucky-binary"), "{built}");
}

/// Every name Juju turns into a file name is refused when it could leave the build folder.
#[test]
fn metadata_names_cannot_write_outside_the_build_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("c");
    write(&dir.join("lucky.yaml"), "use-docker: false\nhooks: {}\n");
    let escape = tmp.path().join("escaped");
    let target = escape.display().to_string();
    for (metadata, needle) in [
        (
            "name: c\nprovides:\n  ../../../escaped/x:\n    interface: http\n".to_string(),
            "relation under `provides` name",
        ),
        (
            format!("name: c\nrequires:\n  \"{target}/x\":\n    interface: http\n"),
            "relation under `requires` name",
        ),
        (
            "name: c\npeers:\n  -rf:\n    interface: p\n".to_string(),
            "relation under `peers` name",
        ),
        (
            "name: c\nstorage:\n  ../../escaped:\n    type: filesystem\n".to_string(),
            "storage name",
        ),
        (
            "name: c\nresources:\n  ../escaped:\n    type: file\n    filename: x\n".to_string(),
            "resource name",
        ),
        (
            "name: c\nresources:\n  r:\n    type: file\n    filename: ../../escaped\n".to_string(),
            "filename",
        ),
        ("name: ../escaped\n".to_string(), "invalid charm name"),
        (format!("name: {target}\n"), "invalid charm name"),
    ] {
        write(&dir.join("metadata.yaml"), &metadata);
        let out = run(Command::new(LUCKY)
            .args(["charm", "build", "--dev"])
            .arg(&dir));
        assert_eq!(out.status.code(), Some(1), "{metadata}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(needle), "{metadata}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!escape.exists(), "{metadata} wrote {}", escape.display());
        assert!(
            !dir.join("build").exists(),
            "{metadata}: a build was written"
        );
    }
}

// ---- the Docker engine on a fresh machine -------------------------------------------

/// A built charm (`use-docker` default) whose installer is a no-op (it has its own tests),
/// its model, and a folder of fake programs that is the hook's whole PATH with the tools.
struct EngineUnit {
    tmp: tempfile::TempDir,
    model: lucky::simulator::Model,
    fakes: PathBuf,
    log: PathBuf,
    socket: PathBuf,
}

impl EngineUnit {
    fn new(docker_host: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let charm = tmp.path().join("c");
        write(
            &charm.join("metadata.yaml"),
            "name: c\nsummary: c\ndescription: c\n",
        );
        write(
            &charm.join("lucky.yaml"),
            "hooks:\n  install:\n    - inline-host-script: echo charm-install >> \"$LUCKY_TEST_DIR/calls\"\n      shell-command: [sh, -c]\n",
        );
        ok(&run(Command::new(LUCKY)
            .args(["charm", "build", "--dev"])
            .arg(&charm)));
        let built = charm.join("build/c");
        write_exec(&built.join("lucky/install.sh"), "#!/bin/sh\nexit 0\n");
        let model = lucky::simulator::Model::create(tmp.path().join("model"), &built, "c/0", LUCKY)
            .expect("model");
        let fakes = tmp.path().join("fakes");
        std::fs::create_dir_all(&fakes).expect("mkdir");
        // dispatch needs `sh`; nothing else of the machine is on the hook's PATH, so the
        // real apt-get, systemctl and dockerd are out of reach.
        std::os::unix::fs::symlink("/bin/sh", fakes.join("sh")).expect("link sh");
        let log = tmp.path().join("calls");
        let socket = tmp.path().join("docker.sock");
        let path = format!("{}:{}", fakes.display(), model.tools_dir().display());
        for (k, v) in [
            ("PATH", path),
            (
                "LUCKY_SOCKET",
                tmp.path().join("lucky.sock").display().to_string(),
            ),
            (
                "LUCKY_DATA_DIR",
                tmp.path().join("data").display().to_string(),
            ),
            ("LUCKY_TEST_DIR", tmp.path().display().to_string()),
            (
                "LUCKY_SYSTEMD_UNIT_DIR",
                tmp.path().join("systemd").display().to_string(),
            ),
            ("LUCKY_DOCKER_WAIT_SECS", "3".into()),
            ("LUCKY_APT_RETRY_DELAY", "0".into()),
            (
                "DOCKER_HOST",
                docker_host.replace("{socket}", &socket.display().to_string()),
            ),
        ] {
            model.pass_env(k, v).expect("pass env");
        }
        EngineUnit {
            tmp,
            model,
            fakes,
            log,
            socket,
        }
    }

    /// A fake that records its argv and the environment apt reads, then runs `then`.
    fn fake(&self, name: &str, then: &str) {
        write_exec(
            &self.fakes.join(name),
            &format!(
                "#!/bin/sh\nPATH=/usr/bin:/bin\necho \"{name} $* | http_proxy=${{http_proxy:-}} HTTPS_PROXY=${{HTTPS_PROXY:-}} no_proxy=${{no_proxy:-}} DEBIAN_FRONTEND=${{DEBIAN_FRONTEND:-}}\" >> '{}'\n{then}\n",
                self.log.display()
            ),
        );
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn status(&self) -> (String, String) {
        let s = self.model.unit_status().expect("status");
        (s.status, s.message)
    }
}

impl Drop for EngineUnit {
    fn drop(&mut self) {
        let _ = Command::new(LUCKY)
            .args(["daemon", "stop"])
            .env("JUJU_UNIT_NAME", "c/0")
            .env("LUCKY_SOCKET", self.tmp.path().join("lucky.sock"))
            .env("LUCKY_DATA_DIR", self.tmp.path().join("data"))
            .output();
    }
}

const TEST_ENGINE: &str = "/run/lucky-test-docker.sock";

fn test_engine_up() {
    ok(&run(Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/docker-engine.sh"))
        .arg("start")));
}

#[test]
fn an_engine_that_answers_is_used_as_it_is() {
    test_engine_up();
    let unit = EngineUnit::new(&format!("unix://{TEST_ENGINE}"));
    unit.fake("apt-get", "exit 0");
    unit.fake("systemctl", "exit 0");
    let hook = unit.model.run_hook("install").expect("install");
    assert!(hook.success(), "{}{}", hook.stdout, hook.stderr);
    // No package, no service touched; the charm's own install script ran.
    assert_eq!(unit.calls(), "charm-install\n");
}

#[test]
fn a_missing_engine_is_installed_through_apt_with_the_proxy_and_started() {
    test_engine_up();
    let unit = EngineUnit::new("unix://{socket}");
    for (k, v) in [
        ("JUJU_CHARM_HTTP_PROXY", "http://squid.internal:3128"),
        ("JUJU_CHARM_HTTPS_PROXY", "http://squid.internal:3129"),
        ("JUJU_CHARM_NO_PROXY", "127.0.0.1,10.0.0.0/8"),
    ] {
        unit.model.pass_env(k, v).expect("pass env");
    }
    // The first `update` fails (a mirror hiccup): it is retried.
    unit.fake(
        "apt-get",
        &format!(
            "if [ \"$1\" = update ] && [ ! -e '{0}.retried' ]; then touch '{0}.retried'; echo 'E: mirror down' >&2; exit 100; fi",
            unit.log.display()
        ),
    );
    // "Starting" the engine makes the shared test engine answer at the socket.
    unit.fake(
        "systemctl",
        &format!(
            "case \"$1\" in start|restart) ln -sf {TEST_ENGINE} '{}' ;; esac",
            unit.socket.display()
        ),
    );
    let hook = unit.model.run_hook("install").expect("install");
    assert!(hook.success(), "{}{}", hook.stdout, hook.stderr);
    let env = "| http_proxy=http://squid.internal:3128 HTTPS_PROXY=http://squid.internal:3129 no_proxy=127.0.0.1,10.0.0.0/8 DEBIAN_FRONTEND=noninteractive";
    let no_apt_env = "| http_proxy= HTTPS_PROXY= no_proxy= DEBIAN_FRONTEND=";
    assert_eq!(
        unit.calls(),
        format!(
            "apt-get update {env}\napt-get update {env}\napt-get install --yes --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold docker.io {env}\nsystemctl daemon-reload {no_apt_env}\nsystemctl enable docker.service {no_apt_env}\nsystemctl restart docker.service {no_apt_env}\ncharm-install\n"
        )
    );
    let drop_in = std::fs::read_to_string(
        unit.tmp
            .path()
            .join("systemd/docker.service.d/lucky-proxy.conf"),
    )
    .expect("drop-in");
    assert!(drop_in.contains("[Service]\n"), "{drop_in}");
    for line in [
        "Environment=\"HTTP_PROXY=http://squid.internal:3128\"",
        "Environment=\"HTTPS_PROXY=http://squid.internal:3129\"",
        "Environment=\"NO_PROXY=127.0.0.1,10.0.0.0/8\"",
    ] {
        assert!(drop_in.contains(line), "{line} in {drop_in}");
    }
    assert_ne!(unit.status().0, "blocked");
    // The unit showed what it was doing while it did it.
    let shown: Vec<Vec<String>> = unit
        .model
        .calls()
        .expect("calls")
        .into_iter()
        .filter(|c| c.tool == "status-set")
        // Lucky puts its words after `--` (a message is never read as a flag).
        .map(|c| c.args.into_iter().skip_while(|a| a == "--").collect())
        .collect();
    assert!(
        shown
            .iter()
            .any(|a| a.first().map(String::as_str) == Some("maintenance")
                && a.iter().any(|m| m.contains("installing and starting"))),
        "{shown:?}"
    );
    assert!(
        unit.model
            .debug_log()
            .expect("log")
            .contains("installing docker.io with apt-get")
            || std::fs::read_to_string(unit.tmp.path().join("data/lucky.log"))
                .unwrap_or_default()
                .contains("installing docker.io with apt-get"),
        "progress is logged"
    );
}

#[test]
fn engine_failures_block_the_unit_naming_the_cause_and_a_rerun_converges() {
    test_engine_up();
    let unit = EngineUnit::new("unix://{socket}");
    // No apt at all.
    let hook = unit.model.run_hook("install").expect("install");
    assert!(!hook.success());
    assert!(
        hook.stderr.contains("apt-get is not on this machine"),
        "{}",
        hook.stderr
    );
    let (status, message) = unit.status();
    assert_eq!(status, "blocked");
    assert!(message.contains("no apt"), "{message}");
    assert!(
        !unit.calls().contains("charm-install"),
        "the charm's scripts did not run"
    );

    // The package will not install.
    unit.fake("apt-get", "[ \"$1\" = install ] && { echo 'E: Unable to locate package docker.io' >&2; exit 100; }; exit 0");
    let hook = unit.model.run_hook("install").expect("install");
    assert!(!hook.success());
    assert!(
        hook.stderr.contains("docker.io would not install")
            && hook.stderr.contains("Unable to locate package"),
        "{}",
        hook.stderr
    );
    assert!(
        unit.status().1.contains("package would not install"),
        "{:?}",
        unit.status()
    );
    assert_eq!(
        unit.calls().matches("apt-get install").count(),
        3,
        "retried: {}",
        unit.calls()
    );

    // Installed and started, but the engine never answers: bounded wait.
    unit.fake("apt-get", "exit 0");
    unit.fake("systemctl", "exit 0");
    let hook = unit.model.run_hook("install").expect("install");
    assert!(!hook.success());
    assert!(
        hook.stderr.contains("would not answer within 3 s"),
        "{}",
        hook.stderr
    );
    assert!(
        unit.status().1.contains("engine would not answer"),
        "{:?}",
        unit.status()
    );

    // Juju retries the hook once the engine can come up: it converges, unblocked.
    unit.fake(
        "systemctl",
        &format!(
            "case \"$1\" in start|restart) ln -sf {TEST_ENGINE} '{}' ;; esac",
            unit.socket.display()
        ),
    );
    let hook = unit.model.run_hook("install").expect("install");
    assert!(hook.success(), "{}{}", hook.stdout, hook.stderr);
    assert_ne!(unit.status().0, "blocked", "{:?}", unit.status());
    assert!(unit.calls().ends_with("charm-install\n"));
}

// ---- a unit's life from the packed charm --------------------------------------------

/// A release folder holding `binary` as lucky-`version` for x86_64, signed by `key`.
fn release_folder(dir: &Path, version: &str, binary: &[u8], key: &Path, public: &Path) {
    let name = format!("lucky-{version}-x86_64-unknown-linux-musl");
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(&name), binary).expect("binary");
    let out = run(Command::new("sha256sum").arg(&name).current_dir(dir));
    ok(&out);
    std::fs::write(dir.join("SHA256SUMS"), &out.stdout).expect("sums");
    sign(dir, key);
    std::fs::copy(public, dir.join("release.pub")).expect("pub");
}

/// Removes the unit's containers however the test ends.
struct ContainersOf(String);

impl Drop for ContainersOf {
    fn drop(&mut self) {
        support::docker::remove_unit_containers(&self.0);
    }
}

fn daemon_pid(data: &Path) -> Option<i32> {
    let lock = data.join("daemon.lock");
    let held = std::fs::File::open(&lock).is_ok_and(|f| f.try_lock_shared().is_err());
    std::fs::read_to_string(lock)
        .ok()
        .filter(|_| held)
        .and_then(|p| p.trim().parse().ok())
}

#[test]
fn a_unit_from_the_packed_charm_installs_upgrades_and_leaves_nothing_on_remove() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let (key, public) = gen_key(root, "release");
    let v1 = std::fs::read(LUCKY).expect("lucky");
    // A newer lucky: this source built as version IDENTITY_VERSION (0.2.0).
    let v2 = std::fs::read(&identity_build().exe).expect("lucky 0.2.0");
    assert_ne!(v1, v2);
    release_folder(&root.join("r1"), "0.1.0", &v1, &key, &public);
    release_folder(&root.join("r2"), IDENTITY_VERSION, &v2, &key, &public);

    let charm = root.join("src");
    write(
        &charm.join("metadata.yaml"),
        "name: life\nsummary: s\ndescription: d\n",
    );
    write(
        &charm.join("lucky.yaml"),
        "hooks:\n  install:\n    - inline-host-script: lucky kv set installed=yes && lucky container image set lucky-test-base:latest --no-pull && lucky container set-command -- /bin/sh -c 'exec sleep 100000'\n      shell-command: [sh, -c]\n  upgrade-charm:\n    - inline-host-script: lucky kv set upgraded=\"$(lucky kv get installed)\"\n      shell-command: [sh, -c]\n  remove:\n    - inline-host-script: echo remove-script >> \"$LUCKY_TEST_DIR/calls\"\n      shell-command: [sh, -c]\n",
    );
    let build = |release: &str, version: &str| {
        ok(&run(Command::new(LUCKY)
            .args(["charm", "build"])
            .arg(&charm)
            .args(["--bundle-lucky", "x86_64", "--lucky-binaries"])
            .arg(root.join(release))
            .args(["--lucky-version", version])));
    };
    build("r1", "0.1.0");
    // Juju unpacks the .charm into the unit's charm folder.
    let unit_charm = root.join("unit/charm");
    let unzip = |into: &Path| {
        let _ = std::fs::remove_dir_all(into);
        std::fs::create_dir_all(into).expect("mkdir");
        ok(&run(Command::new("unzip")
            .arg("-q")
            .arg(charm.join("build/life.charm"))
            .arg("-d")
            .arg(into)));
    };
    unzip(&unit_charm);

    support::docker::ensure_test_image();
    let unit_name = format!("life{}/0", std::process::id());
    let _cleanup = ContainersOf(unit_name.clone());
    let model = lucky::simulator::Model::create(root.join("model"), &unit_charm, &unit_name, LUCKY)
        .expect("model");
    let data = root.join("data");
    let socket = root.join("lucky.sock");
    let bin = root.join("bin");
    for (k, v) in [
        ("LUCKY_SOCKET", socket.display().to_string()),
        ("LUCKY_DATA_DIR", data.display().to_string()),
        ("LUCKY_TEST_DIR", root.display().to_string()),
        ("LUCKY_INSTALL_DIR", bin.display().to_string()),
        ("LUCKY_NO_SYSTEMD", "1".into()),
        ("LUCKY_ARCH", "x86_64".into()),
        ("DOCKER_HOST", support::docker::docker_host()),
    ] {
        model.pass_env(k, v).expect("pass env");
    }

    let install = model.run_hook("install").expect("install");
    assert!(install.success(), "{}{}", install.stdout, install.stderr);
    assert_eq!(std::fs::read(bin.join("lucky")).expect("installed"), v1);
    let pid1 = daemon_pid(&data).expect("a daemon runs");
    assert_eq!(std::fs::read(format!("/proc/{pid1}/exe")).expect("exe"), v1);
    assert!(model.run_hook("start").expect("start").success());
    let rt = support::docker::runtime();
    let docker = support::docker::docker(&rt);
    let containers = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let mut out = Vec::new();
            for c in lucky::docker::unit_containers(&docker, &unit_name)
                .await
                .expect("list")
            {
                let id = c.id.unwrap_or_default();
                let info = docker.inspect_container(&id, None).await.expect("inspect");
                let state = info.state.unwrap_or_default();
                out.push((
                    id,
                    state.started_at.unwrap_or_default(),
                    state.running.unwrap_or(false),
                ));
            }
            out
        })
    };
    let before = containers(&rt);
    assert_eq!(before.len(), 1, "{before:?}");
    assert!(before[0].2, "the workload runs: {before:?}");

    let client = |args: &[&str]| {
        let out = run(Command::new(LUCKY)
            .args(args)
            .env("JUJU_UNIT_NAME", &unit_name)
            .env("LUCKY_SOCKET", &socket)
            .env("LUCKY_DATA_DIR", &data));
        ok(&out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        client(&["daemon", "status"]).contains("\nversion: 0.1.0\n"),
        "the daemon runs 0.1.0"
    );

    // `juju refresh` to a charm carrying lucky 0.2.0, on a unit whose daemon cannot be
    // stopped for now (its socket is out of reach): the new binary goes in place, the hook
    // fails with one line and leaves the old daemon running ...
    build("r2", IDENTITY_VERSION);
    unzip(&unit_charm);
    let away = root.join("lucky.sock.away");
    std::fs::rename(&socket, &away).expect("hide the socket");
    let failed = model.run_hook("upgrade-charm").expect("upgrade");
    assert!(!failed.success(), "{}{}", failed.stdout, failed.stderr);
    let errors: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|l| l.starts_with("[ERROR]"))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "[ERROR] cannot stop the lucky daemon still running the replaced binary (pid {pid1}): lucky daemon for unit {unit_name} is not running"
        )
        .as_str()],
        "{}",
        failed.stderr
    );
    assert_eq!(std::fs::read(bin.join("lucky")).expect("installed"), v2);
    assert_eq!(daemon_pid(&data), Some(pid1));
    std::fs::rename(&away, &socket).expect("restore the socket");

    // ... and Juju's retry of the hook does not take that daemon for the new one: it
    // restarts it on 0.2.0 before upgrade-charm's scripts, which still see the kv.
    let upgrade = model.run_hook("upgrade-charm").expect("upgrade");
    assert!(upgrade.success(), "{}{}", upgrade.stdout, upgrade.stderr);
    assert!(
        upgrade.stderr.contains(&format!(
            "the lucky daemon (pid {pid1}) still runs a replaced binary"
        )),
        "{}",
        upgrade.stderr
    );
    assert_eq!(std::fs::read(bin.join("lucky")).expect("installed"), v2);
    let pid2 = daemon_pid(&data).expect("a daemon runs");
    assert_ne!(pid1, pid2);
    assert!(!process_alive(pid1));
    assert_eq!(std::fs::read(format!("/proc/{pid2}/exe")).expect("exe"), v2);
    let status = client(&["daemon", "status"]);
    assert!(
        status.contains(&format!("\nversion: {IDENTITY_VERSION}\n"))
            && status.contains(&format!("\npid: {pid2}\n")),
        "{status}"
    );
    // The container's configuration did not change: the same container, never restarted.
    assert_eq!(containers(&rt), before);
    let kv = client(&["kv", "get"]);
    assert!(
        kv.contains("installed=yes") && kv.contains("upgraded=yes"),
        "{kv}"
    );

    // A tampered refresh is refused, the running daemon untouched.
    let sums = unit_charm.join("lucky/SHA256SUMS");
    let tampered = std::fs::read_to_string(&sums)
        .expect("sums")
        .replacen('a', "b", 1)
        .replacen('0', "1", 1);
    std::fs::write(&sums, tampered).expect("tamper");
    let bad = model.run_hook("upgrade-charm").expect("upgrade");
    assert!(!bad.success());
    assert!(bad.stderr.contains("bad signature"), "{}", bad.stderr);
    assert_eq!(daemon_pid(&data), Some(pid2));
    unzip(&unit_charm);

    assert!(model.run_hook("stop").expect("stop").success());
    let remove = model.run_hook("remove").expect("remove");
    assert!(remove.success(), "{}{}", remove.stdout, remove.stderr);
    assert_eq!(
        std::fs::read_to_string(root.join("calls")).unwrap_or_default(),
        "remove-script\n"
    );
    wait_for(
        "the daemon to exit",
        std::time::Duration::from_secs(10),
        || !process_alive(pid2),
    );
    assert!(!socket.exists(), "socket left");
    assert_eq!(containers(&rt), Vec::new(), "containers left");
    assert!(
        !data.exists(),
        "state left: {:?}",
        std::fs::read_dir(&data).map(|d| d.count())
    );
}

/// The path a charm author takes, end to end: a lucky with its release URL (loopback,
/// GitHub's URL scheme) and key built in, `charm build` with no flags, the packed charm
/// unpacked on a unit where lucky is not installed, and its `dispatch` run as Juju runs it
/// with no LUCKY_RELEASE_* variable: the installer downloads lucky from the release the
/// charm names, verifies it with the key the charm carries, and starts the daemon on it;
/// the workload container runs; `remove` leaves nothing running.
#[test]
fn a_default_build_by_a_released_lucky_installs_by_download_on_a_unit_without_lucky() {
    let _port = IdentityBuild::port_lock();
    let id = identity_build();
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let released = std::fs::read(&id.exe).expect("lucky");
    let published = root.join("published");
    release_folder(
        &published.join(IDENTITY_VERSION),
        IDENTITY_VERSION,
        &released,
        &id.key,
        &id.public,
    );
    // A published release carries no release.pub: the key comes with the charm.
    std::fs::remove_file(published.join(IDENTITY_VERSION).join("release.pub")).expect("rm");
    write(&published.join("latest"), &format!("{IDENTITY_VERSION}\n"));
    let server = IdentityBuild::serve(&published);

    let charm = root.join("src");
    write(
        &charm.join("metadata.yaml"),
        "name: e2e\nsummary: s\ndescription: d\n",
    );
    write(
        &charm.join("lucky.yaml"),
        "hooks:\n  install:\n    - inline-host-script: lucky kv set installed=yes && lucky container image set lucky-test-base:latest --no-pull && lucky container set-command -- /bin/sh -c 'exec sleep 100000'\n      shell-command: [sh, -c]\n",
    );
    let built = run(Command::new(&id.exe).args(["charm", "build"]).arg(&charm));
    ok(&built);
    assert!(!text(&built).contains("--dev"), "{}", text(&built));
    let unit_charm = root.join("unit/charm");
    std::fs::create_dir_all(&unit_charm).expect("mkdir");
    ok(&run(Command::new("unzip")
        .arg("-q")
        .arg(charm.join("build/e2e.charm"))
        .arg("-d")
        .arg(&unit_charm)));
    assert!(!unit_charm.join("lucky/dev").exists());
    assert!(
        std::fs::read_dir(unit_charm.join("lucky"))
            .expect("lucky/")
            .all(|e| !e
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with("lucky-")),
        "nothing bundled"
    );

    support::docker::ensure_test_image();
    let unit_name = format!("e2e{}/0", std::process::id());
    let _cleanup = ContainersOf(unit_name.clone());
    let model =
        lucky::simulator::Model::create(root.join("model"), &unit_charm, &unit_name, &id.exe)
            .expect("model");
    let (data, socket, bin) = (root.join("data"), root.join("lucky.sock"), root.join("bin"));
    // Only what cannot be the machine's own here: where lucky and its state go, no
    // systemd, the machine's architecture and its Docker engine.
    for (k, v) in [
        ("LUCKY_SOCKET", socket.display().to_string()),
        ("LUCKY_DATA_DIR", data.display().to_string()),
        ("LUCKY_INSTALL_DIR", bin.display().to_string()),
        ("LUCKY_NO_SYSTEMD", "1".into()),
        ("LUCKY_ARCH", "x86_64".into()),
        ("DOCKER_HOST", support::docker::docker_host()),
    ] {
        model.pass_env(k, v).expect("pass env");
    }
    assert!(!bin.join("lucky").exists());

    let started = std::time::Instant::now();
    let install = model.run_hook("install").expect("install");
    let took = started.elapsed();
    assert!(install.success(), "{}{}", install.stdout, install.stderr);
    eprintln!("fresh install from loopback (download, verify, start, scripts): {took:?}");
    let asset = format!("lucky-{IDENTITY_VERSION}-x86_64-unknown-linux-musl");
    assert!(
        install.stderr.contains(&format!(
            "installed lucky {IDENTITY_VERSION} (x86_64-unknown-linux-musl) from {}/download/v{IDENTITY_VERSION}/{asset}",
            IdentityBuild::url()
        )) && install.stderr.contains("SHA256SUMS signature verified with"),
        "{}",
        install.stderr
    );
    let requests = server.requests();
    for want in [
        format!("/assets/{IDENTITY_VERSION}/SHA256SUMS"),
        format!("/assets/{IDENTITY_VERSION}/SHA256SUMS.sig"),
        format!("/assets/{IDENTITY_VERSION}/{asset}"),
    ] {
        assert!(requests.contains(&want), "{want} in {requests:?}");
    }
    assert_eq!(
        std::fs::read(bin.join("lucky")).expect("installed"),
        released
    );
    let pid = daemon_pid(&data).expect("a daemon runs");
    assert_eq!(
        std::fs::read(format!("/proc/{pid}/exe")).expect("exe"),
        released
    );
    let status = run(Command::new(&id.exe)
        .args(["daemon", "status"])
        .env("JUJU_UNIT_NAME", &unit_name)
        .env("LUCKY_SOCKET", &socket)
        .env("LUCKY_DATA_DIR", &data));
    ok(&status);
    assert!(
        text(&status).contains(&format!("\nversion: {IDENTITY_VERSION}\n")),
        "{}",
        text(&status)
    );
    assert!(model.run_hook("start").expect("start").success());
    let rt = support::docker::runtime();
    let docker = support::docker::docker(&rt);
    let running = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let mut out = Vec::new();
            for c in lucky::docker::unit_containers(&docker, &unit_name)
                .await
                .expect("list")
            {
                out.push(c.state.map(|s| format!("{s:?}")).unwrap_or_default());
            }
            out
        })
    };
    let states = running(&rt);
    assert!(
        states.len() == 1 && states[0].to_lowercase().contains("running"),
        "{states:?}"
    );

    // A re-run of install converges: nothing downloaded again but the small SHA256SUMS.
    let before = server.requests().len();
    let started = std::time::Instant::now();
    let again = model.run_hook("install").expect("install");
    eprintln!("re-run of install: {:?}", started.elapsed());
    assert!(again.success(), "{}{}", again.stdout, again.stderr);
    assert!(
        !server.requests()[before..].contains(&format!("/assets/{IDENTITY_VERSION}/{asset}")),
        "downloaded again"
    );
    assert_eq!(daemon_pid(&data), Some(pid));

    assert!(model.run_hook("stop").expect("stop").success());
    let remove = model.run_hook("remove").expect("remove");
    assert!(remove.success(), "{}{}", remove.stdout, remove.stderr);
    wait_for(
        "the daemon to exit",
        std::time::Duration::from_secs(10),
        || !process_alive(pid),
    );
    assert!(!socket.exists(), "socket left");
    assert_eq!(running(&rt), Vec::<String>::new(), "containers left");
    assert!(!data.exists(), "state left");

    // The resource path: another unit, which cannot reach the release host, gets lucky as
    // the `lucky-binary` resource, checked against the signed SHA256SUMS the charm carries.
    drop(server);
    let unit2 = format!("e2e{}/1", std::process::id());
    let _cleanup2 = ContainersOf(unit2.clone());
    let model = lucky::simulator::Model::create(root.join("model2"), &unit_charm, &unit2, &id.exe)
        .expect("model");
    let (data, socket, bin) = (
        root.join("data2"),
        root.join("lucky2.sock"),
        root.join("bin2"),
    );
    for (k, v) in [
        ("LUCKY_SOCKET", socket.display().to_string()),
        ("LUCKY_DATA_DIR", data.display().to_string()),
        ("LUCKY_INSTALL_DIR", bin.display().to_string()),
        ("LUCKY_NO_SYSTEMD", "1".into()),
        ("LUCKY_ARCH", "x86_64".into()),
        ("DOCKER_HOST", support::docker::docker_host()),
    ] {
        model.pass_env(k, v).expect("pass env");
    }
    // A resource that is not the release's binary: refused, nothing installed, blocked.
    let resource = root.join("resource-lucky");
    write(&resource, "#!/bin/sh\necho not lucky\n");
    model
        .attach_resource("lucky-binary", &resource)
        .expect("attach");
    let bad = model.run_hook("install").expect("install");
    assert!(!bad.success());
    let why = format!("checksum mismatch for {asset} from the lucky-binary resource: expected ");
    assert!(
        bad.stderr.contains(&format!("[ERROR] {why}")),
        "{}",
        bad.stderr
    );
    let status = model.unit_status().expect("status");
    assert_eq!(status.status, "blocked");
    assert!(
        status
            .message
            .starts_with(&format!("lucky install failed: {why}")),
        "{}",
        status.message
    );
    assert!(!bin.join("lucky").exists());
    assert_eq!(daemon_pid(&data), None);
    // The release's binary as the resource: the retry installs it.
    std::fs::write(&resource, &released).expect("resource");
    let install = model.run_hook("install").expect("install");
    assert!(install.success(), "{}{}", install.stdout, install.stderr);
    assert!(
        install.stderr.contains("from the lucky-binary resource to"),
        "{}",
        install.stderr
    );
    assert_eq!(
        std::fs::read(bin.join("lucky")).expect("installed"),
        released
    );
    let pid = daemon_pid(&data).expect("a daemon runs");
    assert_eq!(
        std::fs::read(format!("/proc/{pid}/exe")).expect("exe"),
        released
    );
    assert!(model.run_hook("stop").expect("stop").success());
    assert!(model.run_hook("remove").expect("remove").success());
    wait_for(
        "the daemon to exit",
        std::time::Duration::from_secs(10),
        || !process_alive(pid),
    );
    assert!(!socket.exists() && !data.exists(), "left behind");
}

/// `install.sh --remove` under systemd: the unit disabled and stopped, its file gone, the
/// daemon's socket and state gone, named volumes' data kept aside; a re-run is a no-op.
#[test]
fn remove_under_systemd_disables_the_unit_and_keeps_only_volume_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let (socket, data, units) = (root.join("s.sock"), root.join("data"), root.join("units"));
    let daemon_env = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", "rm/0")
            .env("LUCKY_SOCKET", &socket)
            .env("LUCKY_DATA_DIR", &data);
    };
    let mut start = Command::new(LUCKY);
    start.args(["daemon", "start"]);
    daemon_env(&mut start);
    ok(&run(&mut start));
    let pid = daemon_pid(&data).expect("daemon runs");
    write(&data.join("volumes/web/index.html"), "keep me\n");
    write(&units.join("lucky-rm-0.service"), "[Service]\n");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink(LUCKY, bin.join("lucky")).expect("link");
    let log = root.join("systemctl.log");
    // Stopping the unit stops the daemon, as systemd would.
    write_exec(
        &bin.join("systemctl"),
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n[ \"$1 $2\" = \"disable --now\" ] && '{}' daemon stop >/dev/null\nexit 0\n",
            log.display(),
            bin.join("lucky").display()
        ),
    );
    let remove = || {
        let mut cmd = Command::new("sh");
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("installer/install.sh"))
            .arg("--remove");
        daemon_env(&mut cmd);
        cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("LUCKY_INSTALL_DIR", &bin)
            .env("LUCKY_SYSTEMD_UNIT_DIR", &units);
        run(&mut cmd)
    };
    let out = remove();
    ok(&out);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "disable --now lucky-rm-0.service\ndaemon-reload\n"
    );
    assert!(!units.join("lucky-rm-0.service").exists());
    assert!(!process_alive(pid));
    assert!(!socket.exists() && !data.exists());
    let kept: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains("data.removed-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read_to_string(kept[0].join("volumes/web/index.html")).expect("kept"),
        "keep me\n"
    );

    // Juju may run the hook again: nothing left to do, nothing fails.
    let again = remove();
    ok(&again);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log").lines().count(),
        2
    );
}

/// A build folder beside the charm's own files puts the `.charm` there too: the next
/// build must not pack the previous one into itself.
#[test]
fn a_packed_charm_is_never_packed_into_the_next_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = created_and_built(tmp.path(), &[]);
    for _ in 0..2 {
        ok(&run(Command::new(LUCKY)
            .args(["charm", "build", "--dev"])
            .arg(&dir)
            .arg("--build-dir")
            .arg(dir.join("out"))));
    }
    let packed = dir.join("app.charm");
    let listing = run(Command::new("unzip").arg("-Z1").arg(&packed));
    ok(&listing);
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(listing.lines().any(|l| l == "dispatch"), "{listing}");
    assert!(!listing.contains(".charm"), "{listing}");
    assert!(!dir.join("out/app.charm").exists());
}
