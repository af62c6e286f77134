//! Runs `installer/install.sh` for real (curl, sha256sum, openssl) against a signed release
//! served over loopback, with fake `uname`, `status-set`, `resource-get` and fake `lucky`
//! binaries (shell scripts), so no cross build, root path or Juju is needed.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use tempfile::TempDir;

mod support;

use support::release::{
    GithubServer, HttpServer, IDENTITY_VERSION, IdentityBuild, free_port, gen_key, identity_build,
    run_ok, sign,
};

const VERSION: &str = "0.1.0";
const UNIT: &str = "myapp/0";

/// (`uname -m`, Rust target) for every architecture Lucky ships.
const ARCHES: [(&str, &str); 4] = [
    ("x86_64", "x86_64-unknown-linux-musl"),
    ("aarch64", "aarch64-unknown-linux-musl"),
    ("ppc64le", "powerpc64le-unknown-linux-musl"),
    ("s390x", "s390x-unknown-linux-musl"),
];

fn installer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("installer/install.sh")
}

fn write_exe(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A fake `lucky` for one target: answers `--version` and keeps daemon state in
/// `$FAKE_LUCKY_STATE`, refusing a second `daemon start` like the real CLI does.
fn fake_lucky(version: &str, target: &str) -> String {
    format!(
        r#"#!/bin/sh
# fake lucky {version} for {target}
case "$1 $2" in
--version*) echo "lucky {version}" ;;
"daemon start")
    if [ -f "$FAKE_LUCKY_STATE/running" ]; then
        echo "lucky daemon for $JUJU_UNIT_NAME is already running" >&2
        exit 1
    fi
    touch "$FAKE_LUCKY_STATE/running"
    echo "start $JUJU_UNIT_NAME {version} {target}" >>"$FAKE_LUCKY_STATE/calls" ;;
"daemon stop")
    [ -f "$FAKE_LUCKY_STATE/running" ] || exit 1
    rm "$FAKE_LUCKY_STATE/running"
    echo "stop $JUJU_UNIT_NAME" >>"$FAKE_LUCKY_STATE/calls" ;;
*) exit 2 ;;
esac
"#
    )
}

/// Writes SHA256SUMS for every `lucky-*` file in `dir` and signs it with `key`.
fn sums_and_sign(dir: &Path, key: &Path) {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("lucky-"))
        .collect();
    names.sort();
    let out = Command::new("sha256sum")
        .args(&names)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::write(dir.join("SHA256SUMS"), &out.stdout).unwrap();
    sign(dir, key);
}

/// Lays out `<root>/<version>/lucky-<version>-<target>` for all targets, signed, and
/// `<root>/latest`.
fn make_release(root: &Path, version: &str, key: &Path) {
    let dir = root.join(version);
    fs::create_dir_all(&dir).unwrap();
    for (_, target) in ARCHES {
        write_exe(
            &dir.join(format!("lucky-{version}-{target}")),
            &fake_lucky(version, target),
        );
    }
    sums_and_sign(&dir, key);
    fs::write(root.join("latest"), format!("{version}\n")).unwrap();
}

/// A server whose replies for paths containing `cut` promise the whole file but stop
/// halfway and close: a download that breaks off, which python's server cannot fake.
struct TruncatingServer {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl TruncatingServer {
    fn start(root: PathBuf, cut: &'static str) -> TruncatingServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        // The thread ends with the test process; it only ever serves this test's folder.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n"
                {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let file = root.join(path.trim_start_matches('/'));
                let Ok(mut body) = fs::read(&file) else {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                };
                let len = body.len();
                if path.contains(cut) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    body.truncate(len / 2);
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
                // Drain anything left so the close is a clean FIN, not a reset.
                let _ = stream.shutdown(std::net::Shutdown::Write);
                let _ = reader.read(&mut [0u8; 512]);
            }
        });
        TruncatingServer { port, hits }
    }
}

/// One test's world: keys, a release folder, fake tools first on PATH, an install dir.
struct Fixture {
    dir: TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = gen_key(dir.path(), "release");
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        // `uname -m` answers what the test asks; other uname calls go to the real one.
        write_exe(
            &bin.join("uname"),
            "#!/bin/sh\nif [ \"$1\" = -m ]; then echo \"$FAKE_UNAME_M\"; else exec /bin/uname \"$@\"; fi\n",
        );
        write_exe(
            &bin.join("status-set"),
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$FAKE_STATUS_LOG\"\n",
        );
        fs::create_dir_all(dir.path().join("install")).unwrap();
        fs::create_dir_all(dir.path().join("state")).unwrap();
        make_release(&dir.path().join("release"), VERSION, &key);
        Fixture { dir, key, public }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn release_dir(&self) -> PathBuf {
        self.path("release").join(VERSION)
    }

    fn serve(&self) -> HttpServer {
        HttpServer::start(&self.path("release"), self.path("http.log"))
    }

    /// Runs the installer in a clean environment (only what a hook would have that matters).
    fn install(&self, arch: &str, env: &[(&str, &str)]) -> Output {
        self.install_script(&installer(), arch, env)
    }

    /// Runs `script` (the repo's installer, or a built charm's copy) the same way.
    fn install_script(&self, script: &Path, arch: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap()
        );
        let mut cmd = Command::new("sh");
        cmd.arg(script)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("FAKE_UNAME_M", arch)
            .env("FAKE_STATUS_LOG", self.path("status.log"))
            .env("FAKE_LUCKY_STATE", self.path("state"))
            .env("JUJU_UNIT_NAME", UNIT)
            .env("LUCKY_INSTALL_DIR", self.path("install"))
            .env("LUCKY_RELEASE_PUBKEY", &self.public)
            .env("LUCKY_NO_SYSTEMD", "1")
            .env("LUCKY_RETRIES", "2")
            .env("LUCKY_RETRY_DELAY", "0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn installed(&self) -> PathBuf {
        self.path("install/lucky")
    }

    fn calls(&self) -> Vec<String> {
        match fs::read_to_string(self.path("state/calls")) {
            Ok(s) => s.lines().map(str::to_string).collect(),
            Err(_) => vec![],
        }
    }

    fn status_log(&self) -> String {
        fs::read_to_string(self.path("status.log")).unwrap_or_default()
    }

    /// A refusal: non-zero exit, the `[ERROR]` line, nothing at all in the install dir,
    /// no daemon started, and the unit left blocked with the same reason.
    fn assert_refused(&self, out: &Output, error_starts: &str) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "installer succeeded but should refuse:\n{stderr}"
        );
        let line = stderr
            .lines()
            .find(|l| l.starts_with("[ERROR] "))
            .unwrap_or_else(|| panic!("no [ERROR] line in:\n{stderr}"));
        let why = &line["[ERROR] ".len()..];
        assert!(
            why.starts_with(error_starts),
            "error {line:?} does not start with {error_starts:?}"
        );
        let left: Vec<_> = fs::read_dir(self.path("install"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "install dir not empty after a refusal: {left:?}"
        );
        assert_eq!(
            self.calls(),
            Vec::<String>::new(),
            "daemon touched after a refusal"
        );
        assert_eq!(
            self.status_log(),
            format!("blocked lucky install failed: {why}\n")
        );
    }

    fn assert_installed(&self, out: &Output, target: &str) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "install failed:\n{stderr}");
        let want = fs::read(self.release_dir().join(format!("lucky-{VERSION}-{target}"))).unwrap();
        assert_eq!(
            fs::read(self.installed()).unwrap(),
            want,
            "wrong binary installed for {target}"
        );
        let mode = fs::metadata(self.installed()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let files: Vec<_> = fs::read_dir(self.path("install"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, ["lucky"], "staging file left behind");
        assert_eq!(self.status_log(), "", "status-set called on success");
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn installs_the_right_binary_for_each_architecture() {
    let fx = Fixture::new();
    let server = fx.serve();
    for (arch, target) in ARCHES {
        fs::remove_file(fx.installed()).ok();
        fs::remove_file(fx.path("state/running")).ok();
        fs::remove_file(fx.path("state/calls")).ok();
        let out = fx.install(arch, &[("LUCKY_RELEASE_URL", &server.url())]);
        fx.assert_installed(&out, target);
        assert!(
            stderr(&out).contains(&format!("[INFO] installed lucky {VERSION} ({target})")),
            "{}",
            stderr(&out)
        );
        assert_eq!(fx.calls(), [format!("start {UNIT} {VERSION} {target}")]);
    }
    // `arm64` is what some kernels and Juju call aarch64.
    fs::remove_file(fx.installed()).unwrap();
    let out = fx.install("arm64", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_installed(&out, "aarch64-unknown-linux-musl");
}

#[test]
fn a_curlrc_in_home_changes_nothing() {
    let fx = Fixture::new();
    let server = fx.serve();
    // Read by any curl run without --disable: a dead proxy and a 1-byte size limit.
    fs::write(
        fx.dir.path().join(".curlrc"),
        "proxy = \"http://127.0.0.1:9\"\nmax-filesize = 1\n",
    )
    .unwrap();
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_installed(&out, "x86_64-unknown-linux-musl");
}

#[test]
fn rerun_downloads_nothing_and_restarts_nothing() {
    let fx = Fixture::new();
    let server = fx.serve();
    let url = server.url();
    let first = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    fx.assert_installed(&first, "x86_64-unknown-linux-musl");
    let binary = format!("/{VERSION}/lucky-{VERSION}-");
    assert_eq!(server.gets(&binary), 1);

    let again = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    fx.assert_installed(&again, "x86_64-unknown-linux-musl");
    assert!(
        stderr(&again).contains(&format!("[INFO] lucky {VERSION} already installed")),
        "{}",
        stderr(&again)
    );
    assert_eq!(server.gets(&binary), 1, "binary downloaded again");
    assert_eq!(
        fx.calls(),
        [format!("start {UNIT} {VERSION} x86_64-unknown-linux-musl")],
        "daemon restarted"
    );

    // A new version replaces the binary and restarts the daemon once.
    make_release(&fx.path("release"), "0.2.0", &fx.key);
    let upgrade = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    assert!(
        fs::read_to_string(fx.installed())
            .unwrap()
            .contains("fake lucky 0.2.0")
    );
    assert_eq!(
        fx.calls(),
        [
            format!("start {UNIT} {VERSION} x86_64-unknown-linux-musl"),
            format!("stop {UNIT}"),
            format!("start {UNIT} 0.2.0 x86_64-unknown-linux-musl"),
        ]
    );
}

#[test]
fn refuses_checksum_mismatch() {
    let fx = Fixture::new();
    let bin = fx
        .release_dir()
        .join(format!("lucky-{VERSION}-x86_64-unknown-linux-musl"));
    let mut text = fs::read_to_string(&bin).unwrap();
    text.push_str("echo tampered\n");
    fs::write(&bin, text).unwrap();
    let server = fx.serve();
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_refused(
        &out,
        &format!("checksum mismatch for lucky-{VERSION}-x86_64-unknown-linux-musl"),
    );
}

#[test]
fn refuses_a_bad_signature() {
    let fx = Fixture::new();
    let (other_key, _) = gen_key(fx.dir.path(), "other");
    sign(&fx.release_dir(), &other_key);
    let server = fx.serve();
    let out = fx.install("aarch64", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_refused(&out, "bad signature: SHA256SUMS.sig from");
}

#[test]
fn refuses_a_missing_signature() {
    let fx = Fixture::new();
    fs::remove_file(fx.release_dir().join("SHA256SUMS.sig")).unwrap();
    let server = fx.serve();
    let out = fx.install("s390x", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_refused(
        &out,
        &format!(
            "could not download {}/{VERSION}/SHA256SUMS.sig after 2 attempts",
            server.url()
        ),
    );
}

#[test]
fn refuses_a_release_without_a_checksum_line_for_the_target() {
    let fx = Fixture::new();
    let sums = fs::read_to_string(fx.release_dir().join("SHA256SUMS")).unwrap();
    let kept: String = sums
        .lines()
        .filter(|l| !l.contains("ppc64") && !l.contains("powerpc"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(fx.release_dir().join("SHA256SUMS"), kept).unwrap();
    sign(&fx.release_dir(), &fx.key);
    let server = fx.serve();
    let out = fx.install("ppc64le", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_refused(
        &out,
        &format!("no checksum for lucky-{VERSION}-powerpc64le-unknown-linux-musl in SHA256SUMS"),
    );
}

#[test]
fn refuses_a_truncated_download() {
    let fx = Fixture::new();
    let server = TruncatingServer::start(fx.path("release"), "/lucky-");
    let url = format!("http://127.0.0.1:{}", server.port);
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    fx.assert_refused(
        &out,
        &format!("could not download {url}/{VERSION}/lucky-{VERSION}-x86_64-unknown-linux-musl after 2 attempts"),
    );
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        2,
        "expected one retry of the broken download"
    );
}

#[test]
fn refuses_a_missing_sha256sums() {
    let fx = Fixture::new();
    fs::remove_file(fx.release_dir().join("SHA256SUMS")).unwrap();
    let server = fx.serve();
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &server.url())]);
    fx.assert_refused(
        &out,
        &format!(
            "could not download {}/{VERSION}/SHA256SUMS after 2 attempts",
            server.url()
        ),
    );
    assert_eq!(
        server.gets("/lucky-"),
        0,
        "binary fetched before its checksum list"
    );
}

#[test]
fn refuses_an_unsupported_architecture() {
    let fx = Fixture::new();
    let out = fx.install("mips", &[("LUCKY_RELEASE_URL", "http://127.0.0.1:9")]);
    fx.assert_refused(&out, "unsupported architecture: mips");
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "[ERROR] unsupported architecture: mips"
    );
}

#[test]
fn refuses_when_the_server_is_down_after_retries() {
    let fx = Fixture::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    fx.assert_refused(
        &out,
        &format!("could not download {url}/latest after 2 attempts"),
    );
    let retries = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("[INFO] download of "))
        .count();
    assert_eq!(retries, 1, "{}", stderr(&out));
}

#[test]
fn refuses_plain_http_to_a_remote_host() {
    let fx = Fixture::new();
    let out = fx.install(
        "x86_64",
        &[("LUCKY_RELEASE_URL", "http://example.com/lucky")],
    );
    fx.assert_refused(&out, "refusing LUCKY_RELEASE_URL that is not https://");
}

#[test]
fn refuses_without_a_public_key_unless_told_to_skip_signatures() {
    let fx = Fixture::new();
    let server = fx.serve();
    let url = server.url();
    let out = fx.install(
        "x86_64",
        &[("LUCKY_RELEASE_URL", &url), ("LUCKY_RELEASE_PUBKEY", "")],
    );
    fx.assert_refused(&out, "no release public key configured");

    fs::write(fx.path("status.log"), "").unwrap();
    let out = fx.install(
        "x86_64",
        &[
            ("LUCKY_RELEASE_URL", &url),
            ("LUCKY_RELEASE_PUBKEY", ""),
            ("LUCKY_INSECURE_SKIP_SIGNATURE", "1"),
        ],
    );
    fx.assert_installed(&out, "x86_64-unknown-linux-musl");
    assert_eq!(server.gets("SHA256SUMS.sig"), 0);
}

/// Lays out `$CHARM_DIR/lucky/` as `lucky charm build` would ship it.
fn charm_with(fx: &Fixture, targets: &[&str]) -> PathBuf {
    let charm = fx.path("charm");
    let dir = charm.join("lucky");
    fs::create_dir_all(&dir).unwrap();
    for target in targets {
        let name = format!("lucky-{VERSION}-{target}");
        fs::copy(fx.release_dir().join(&name), dir.join(&name)).unwrap();
    }
    fs::copy(fx.release_dir().join("SHA256SUMS"), dir.join("SHA256SUMS")).unwrap();
    fs::copy(
        fx.release_dir().join("SHA256SUMS.sig"),
        dir.join("SHA256SUMS.sig"),
    )
    .unwrap();
    fs::copy(&fx.public, dir.join("release.pub")).unwrap();
    fs::write(dir.join("version"), format!("{VERSION}\n")).unwrap();
    charm
}

#[test]
fn uses_the_binary_shipped_in_the_charm() {
    let fx = Fixture::new();
    let charm = charm_with(&fx, &["s390x-unknown-linux-musl"]);
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    // The charm's own release.pub is the trusted key when LUCKY_RELEASE_PUBKEY is unset.
    let out = fx.install(
        "s390x",
        &[
            ("CHARM_DIR", charm.to_str().unwrap()),
            ("LUCKY_RELEASE_URL", &nowhere),
            ("LUCKY_RELEASE_PUBKEY", ""),
        ],
    );
    fx.assert_installed(&out, "s390x-unknown-linux-musl");
    assert!(stderr(&out).contains("from the charm"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("download"), "{}", stderr(&out));
}

#[test]
fn refuses_a_tampered_binary_in_the_charm() {
    let fx = Fixture::new();
    let charm = charm_with(&fx, &["x86_64-unknown-linux-musl"]);
    let bin = charm.join(format!("lucky/lucky-{VERSION}-x86_64-unknown-linux-musl"));
    fs::write(&bin, "#!/bin/sh\necho evil\n").unwrap();
    let server = fx.serve();
    let out = fx.install(
        "x86_64",
        &[
            ("CHARM_DIR", charm.to_str().unwrap()),
            ("LUCKY_RELEASE_URL", &server.url()),
        ],
    );
    fx.assert_refused(
        &out,
        &format!("checksum mismatch for lucky-{VERSION}-x86_64-unknown-linux-musl from the charm"),
    );
    assert_eq!(
        server.gets("/"),
        0,
        "fell back to the release after a tampered charm binary"
    );
}

#[test]
fn uses_the_juju_resource_checked_against_the_charm_sums() {
    let fx = Fixture::new();
    // The charm ships checksums and a version but no binary for this machine.
    let charm = charm_with(&fx, &[]);
    let resource = fx.path("resource-lucky");
    fs::copy(
        fx.release_dir()
            .join(format!("lucky-{VERSION}-aarch64-unknown-linux-musl")),
        &resource,
    )
    .unwrap();
    write_exe(
        &fx.path("bin/resource-get"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = lucky-binary ] || exit 1\necho {}\n",
            resource.display()
        ),
    );
    let out = fx.install("aarch64", &[("CHARM_DIR", charm.to_str().unwrap())]);
    fx.assert_installed(&out, "aarch64-unknown-linux-musl");
    assert!(
        stderr(&out).contains("from the lucky-binary resource"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn systemd_unit_is_written_started_once_and_left_alone_on_rerun() {
    let fx = Fixture::new();
    let server = fx.serve();
    let units = fx.path("units");
    let log = fx.path("systemctl.log");
    write_exe(
        &fx.path("bin/systemctl"),
        &format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >>{}\n", log.display()),
    );
    let url = server.url();
    let env = [
        ("LUCKY_RELEASE_URL", url.as_str()),
        ("LUCKY_NO_SYSTEMD", ""),
        ("LUCKY_FORCE_SYSTEMD", "1"),
        ("LUCKY_SYSTEMD_UNIT_DIR", units.to_str().unwrap()),
        ("LUCKY_DATA_DIR", "/var/lib/lucky/myapp-0"),
    ];
    let out = fx.install("x86_64", &env);
    fx.assert_installed(&out, "x86_64-unknown-linux-musl");
    let unit = fs::read_to_string(units.join("lucky-myapp-0.service")).unwrap();
    assert!(
        unit.contains("Environment=JUJU_UNIT_NAME=myapp/0\n"),
        "{unit}"
    );
    assert!(
        unit.contains("Environment=\"LUCKY_DATA_DIR=/var/lib/lucky/myapp-0\"\n"),
        "{unit}"
    );
    let exec = format!(
        "ExecStart={} daemon start --foreground\n",
        fx.installed().display()
    );
    assert!(unit.contains(&exec), "{unit}");
    assert!(unit.contains("WantedBy=multi-user.target"), "{unit}");
    let first = "daemon-reload\nenable lucky-myapp-0.service\nrestart lucky-myapp-0.service\n";
    assert_eq!(fs::read_to_string(&log).unwrap(), first);
    assert_eq!(
        fx.calls(),
        Vec::<String>::new(),
        "systemd, not `lucky daemon start`, runs the daemon"
    );

    // Same binary, same unit: `start` (a no-op on a running unit), no reload, no restart.
    let again = fx.install("x86_64", &env);
    assert!(again.status.success(), "{}", stderr(&again));
    let rerun = "enable lucky-myapp-0.service\nstart lucky-myapp-0.service\n";
    assert_eq!(fs::read_to_string(&log).unwrap(), format!("{first}{rerun}"));
    assert!(!unit.contains("LUCKY_LOG_LEVEL"), "{unit}");

    // A log level (dispatch exports the charm's `charm build -L`) goes into the unit, and
    // the changed unit restarts the daemon; anything but one word stays out of it.
    let mut leveled = env.to_vec();
    leveled.push(("LUCKY_LOG_LEVEL", "debug"));
    let out = fx.install("x86_64", &leveled);
    assert!(out.status.success(), "{}", stderr(&out));
    let unit = fs::read_to_string(units.join("lucky-myapp-0.service")).unwrap();
    assert!(
        unit.contains("Environment=LUCKY_LOG_LEVEL=debug\n"),
        "{unit}"
    );
    let changed = "daemon-reload\nenable lucky-myapp-0.service\nrestart lucky-myapp-0.service\n";
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        format!("{first}{rerun}{changed}")
    );
    let mut forged = env.to_vec();
    forged.push(("LUCKY_LOG_LEVEL", "debug\nExecStartPre=/bin/false"));
    let out = fx.install("x86_64", &forged);
    assert!(out.status.success(), "{}", stderr(&out));
    let unit = fs::read_to_string(units.join("lucky-myapp-0.service")).unwrap();
    assert!(
        !unit.contains("LUCKY_LOG_LEVEL") && !unit.contains("ExecStartPre"),
        "{unit}"
    );
}

/// Finds a program on the test's own PATH.
fn which(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}

/// A PATH with the fake tools and only what the installer declares it needs: wget, no curl.
fn wget_only_path(fx: &Fixture) -> String {
    let tools = fx.path("tools");
    if !tools.exists() {
        fs::create_dir_all(&tools).unwrap();
        for tool in [
            "sh",
            "awk",
            "sha256sum",
            "openssl",
            "wget",
            "mktemp",
            "cp",
            "mv",
            "chmod",
            "head",
            "tr",
            "rm",
            "mkdir",
            "dirname",
            "sleep",
            "cmp",
            "cut",
            "sed",
            "touch",
        ] {
            std::os::unix::fs::symlink(which(tool), tools.join(tool)).unwrap();
        }
    }
    format!("{}:{}", fx.path("bin").display(), tools.display())
}

#[test]
fn works_with_wget_and_only_the_tools_it_declares() {
    let fx = Fixture::new();
    let server = fx.serve();
    // No curl here: the installer must fall back to wget, and needs nothing unlisted.
    let path = wget_only_path(&fx);
    let out = fx.install(
        "ppc64le",
        &[("LUCKY_RELEASE_URL", &server.url()), ("PATH", &path)],
    );
    fx.assert_installed(&out, "powerpc64le-unknown-linux-musl");
    assert_eq!(
        server.gets(&format!("/lucky-{VERSION}-powerpc64le-unknown-linux-musl")),
        1
    );
}

/// The installer run with curl (the default) and with wget alone.
fn with_each_downloader(fx: &Fixture, mut check: impl FnMut(&str, &[(&str, &str)])) {
    check("curl", &[]);
    let path = wget_only_path(fx);
    check("wget", &[("PATH", &path)]);
}

fn reset(fx: &Fixture) {
    for f in [
        "install/lucky",
        "state/running",
        "state/calls",
        "status.log",
    ] {
        fs::remove_file(fx.path(f)).ok();
    }
}

/// A loopback HTTP proxy: records each request line it gets and forwards the request to
/// the origin its absolute URL names, or, refusing, answers every one 403.
struct Proxy {
    port: u16,
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(refuse: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared = log.clone();
        // The thread ends with the test process.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                thread::spawn(move || proxy_one(stream, refuse, &shared));
            }
        });
        Proxy { port, log }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn proxy_one(client: std::net::TcpStream, refuse: bool, log: &std::sync::Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n" {
        line.clear();
    }
    log.lock().unwrap().push(request.trim_end().to_string());
    let mut client = client;
    let target = request.split_whitespace().nth(1).unwrap_or("");
    let forward = target.strip_prefix("http://").and_then(|rest| {
        let (authority, path) = rest.split_once('/')?;
        Some((authority.to_string(), format!("/{path}")))
    });
    let (Some((authority, path)), false) = (forward, refuse) else {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let Ok(mut upstream) = std::net::TcpStream::connect(&authority) else {
        let _ = client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    let _ = write!(
        upstream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    );
    let _ = std::io::copy(&mut upstream, &mut client);
}

/// Juju's proxy settings reach the download (curl and wget alike): every file goes through
/// the proxy, except to a host JUJU_CHARM_NO_PROXY names; a proxy that refuses, or that
/// does not answer, is one line naming it.
#[test]
fn downloads_go_through_jujus_proxy_and_a_refusing_proxy_is_named() {
    let fx = Fixture::new();
    let server = fx.serve();
    let url = server.url();
    let proxy = Proxy::start(false);
    let refusing = Proxy::start(true);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let binary = format!("lucky-{VERSION}-x86_64-unknown-linux-musl");
    with_each_downloader(&fx, |tool, env| {
        let with = |extra: &[(&str, &str)]| {
            reset(&fx);
            let mut all = env.to_vec();
            all.push(("LUCKY_RELEASE_URL", &url));
            all.extend_from_slice(extra);
            fx.install("x86_64", &all)
        };
        let seen = proxy.requests().len();
        let out = with(&[("JUJU_CHARM_HTTP_PROXY", &proxy.url())]);
        fx.assert_installed(&out, "x86_64-unknown-linux-musl");
        let through: Vec<String> = proxy.requests()[seen..].to_vec();
        let want: Vec<String> = [
            "latest".to_string(),
            format!("{VERSION}/SHA256SUMS"),
            format!("{VERSION}/SHA256SUMS.sig"),
            format!("{VERSION}/{binary}"),
        ]
        .iter()
        .map(|f| format!("GET {url}/{f} HTTP/1.1"))
        .collect();
        assert_eq!(through, want, "{tool}");

        // A host JUJU_CHARM_NO_PROXY names is reached directly.
        let seen = proxy.requests().len();
        let out = with(&[
            ("JUJU_CHARM_HTTP_PROXY", &proxy.url()),
            ("JUJU_CHARM_NO_PROXY", "example.com, 127.0.0.1"),
        ]);
        fx.assert_installed(&out, "x86_64-unknown-linux-musl");
        assert_eq!(
            proxy.requests().len(),
            seen,
            "{tool}: went through the proxy"
        );

        // A proxy that refuses, and one that does not answer: the hook fails with one
        // line naming it, nothing installed, the unit blocked.
        let out = with(&[("JUJU_CHARM_HTTP_PROXY", &refusing.url())]);
        fx.assert_refused(
            &out,
            &format!(
                "could not download {url}/latest after 2 attempts through the proxy {}: HTTP 403",
                refusing.url()
            ),
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| l.starts_with("[ERROR]"))
                .count(),
            1
        );
        let out = with(&[("JUJU_CHARM_HTTP_PROXY", &dead)]);
        fx.assert_refused(
            &out,
            &format!("could not download {url}/latest after 2 attempts through the proxy {dead}: no answer"),
        );
    });
    assert!(!refusing.requests().is_empty());
}

#[test]
fn installs_from_github_releases_following_the_redirect_to_the_asset_host() {
    let fx = Fixture::new();
    // Two servers, as on GitHub: the release URLs on one, the asset host on the other.
    let github = GithubServer::start(&fx.path("release"));
    let assets = GithubServer::start(&fx.path("release"));
    github.asset_host(assets.origin());
    with_each_downloader(&fx, |tool, env| {
        reset(&fx);
        let mut env = env.to_vec();
        let url = github.url();
        env.push(("LUCKY_RELEASE_URL", &url));
        let out = fx.install("x86_64", &env);
        fx.assert_installed(&out, "x86_64-unknown-linux-musl");
        let asset = format!("lucky-{VERSION}-x86_64-unknown-linux-musl");
        assert!(
            stderr(&out).contains(&format!(
                "from {url}/download/v{VERSION}/{asset} to {}",
                fx.installed().display()
            )),
            "{tool}: {}",
            stderr(&out)
        );
        let served = assets.requests();
        for want in ["SHA256SUMS", "SHA256SUMS.sig", asset.as_str()] {
            let path = format!("/assets/{VERSION}/{want}");
            assert!(served.contains(&path), "{tool}: {path} not in {served:?}");
        }
    });
    let asked = github.requests();
    assert!(
        asked.contains(&"/owner/lucky/releases/latest/download/latest".to_string()),
        "{asked:?}"
    );
}

/// A second loopback address: reachable, serving the real release, but not one the
/// installer's http exception covers.
fn elsewhere(fx: &Fixture) -> GithubServer {
    GithubServer::start_on("127.0.0.2", &fx.path("release"))
}

#[test]
fn refuses_a_redirect_to_plain_http() {
    let fx = Fixture::new();
    let github = GithubServer::start(&fx.path("release"));
    let plain = elsewhere(&fx);
    github.asset_host(plain.origin());
    with_each_downloader(&fx, |tool, env| {
        reset(&fx);
        let mut env = env.to_vec();
        let url = github.url();
        env.push(("LUCKY_RELEASE_URL", &url));
        let out = fx.install("x86_64", &env);
        fx.assert_refused(
            &out,
            &format!(
                "refusing redirect from {url}/download/v{VERSION}/latest to {}/assets/{VERSION}/latest: not https://",
                plain.origin()
            ),
        );
        assert_eq!(plain.requests(), Vec::<String>::new(), "{tool} followed it");
    });
}

#[test]
fn refuses_a_url_that_only_starts_like_loopback() {
    let fx = Fixture::new();
    let target = elsewhere(&fx);
    let host = target.url().trim_start_matches("http://").to_string();
    for url in [
        format!("http://127.0.0.1:x@{host}"),
        format!("http://127.0.0.1@{host}"),
        format!("http://localhost:80@{host}"),
    ] {
        reset(&fx);
        let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
        fx.assert_refused(&out, "refusing LUCKY_RELEASE_URL that is not https://");
    }
    assert_eq!(target.requests(), Vec::<String>::new());
}

#[test]
fn refuses_an_endless_download() {
    let fx = Fixture::new();
    let github = GithubServer::start(&fx.path("release"));
    github.endless("SHA256SUMS");
    with_each_downloader(&fx, |_tool, env| {
        reset(&fx);
        let mut env = env.to_vec();
        let url = github.url();
        env.push(("LUCKY_RELEASE_URL", &url));
        let out = fx.install("x86_64", &env);
        fx.assert_refused(
            &out,
            &format!("refusing {url}/download/v{VERSION}/SHA256SUMS: larger than 1048576 bytes"),
        );
        // What was written stopped at the cap (a byte past it, to tell it was exceeded).
        assert!(!fx.path("install/lucky").exists());
    });
}

#[test]
fn an_older_latest_does_not_roll_the_install_back() {
    let fx = Fixture::new();
    make_release(&fx.path("release"), "0.2.0", &fx.key);
    let server = fx.serve();
    let url = server.url();
    let first = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    assert!(first.status.success(), "{}", stderr(&first));
    let installed = fs::read(fx.installed()).unwrap();
    assert!(String::from_utf8_lossy(&installed).contains("fake lucky 0.2.0"));

    // Whoever serves `latest` (unsigned) points it back at the older, signed 0.1.0.
    fs::write(fx.path("release/latest"), format!("{VERSION}\n")).unwrap();
    let again = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &url)]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!(
            "names {VERSION}, older than the installed 0.2.0: keeping 0.2.0"
        )),
        "{}",
        stderr(&again)
    );
    assert_eq!(fs::read(fx.installed()).unwrap(), installed);
    assert_eq!(server.gets(&format!("/lucky-{VERSION}-")), 0);

    // Asked for by name, the older version is installed.
    let pinned = fx.install(
        "x86_64",
        &[("LUCKY_RELEASE_URL", &url), ("LUCKY_VERSION", VERSION)],
    );
    fx.assert_installed(&pinned, "x86_64-unknown-linux-musl");
}

#[test]
fn a_planted_symlink_cannot_redirect_the_staging_file() {
    let fx = Fixture::new();
    let server = fx.serve();
    let victim = fx.path("victim");
    fs::write(&victim, "precious\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    // The old staging name was .lucky.new.<pid>: plant one for every pid the installer's
    // shell can get next.
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let planted: Vec<PathBuf> = (last + 1..last + 3000)
        .map(|pid| fx.path(&format!("install/.lucky.new.{pid}")))
        .collect();
    for link in &planted {
        std::os::unix::fs::symlink(&victim, link).unwrap();
    }
    let out = fx.install("x86_64", &[("LUCKY_RELEASE_URL", &server.url())]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !fx.installed().is_symlink(),
        "the installed lucky is a symlink"
    );
    for link in &planted {
        fs::remove_file(link).unwrap();
    }
    fx.assert_installed(&out, "x86_64-unknown-linux-musl");
}

/// What a hook's environment holds, plus the sandbox (install dir, no systemd, quick
/// retries): no LUCKY_RELEASE_URL, LUCKY_RELEASE_PUBKEY, LUCKY_VERSION or
/// LUCKY_INSECURE_SKIP_SIGNATURE.
fn hook_env(charm: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("CHARM_DIR", charm.display().to_string()),
        // Fixture::install trusts the fixture's key by default: not here.
        ("LUCKY_RELEASE_PUBKEY", String::new()),
    ]
}

fn as_env<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The installed lucky is `want`, alone in the install dir, and the unit is not blocked.
fn assert_installed_file(fx: &Fixture, out: &Output, want: &Path, from: &str) {
    assert!(out.status.success(), "install failed:\n{}", stderr(out));
    assert_eq!(fs::read(fx.installed()).unwrap(), fs::read(want).unwrap());
    let files: Vec<_> = fs::read_dir(fx.path("install"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["lucky"]);
    assert!(stderr(out).contains(from), "{}", stderr(out));
    assert_eq!(fx.status_log(), "");
}

#[test]
fn a_default_charm_build_by_a_release_lucky_installs_through_each_source() {
    let _port = IdentityBuild::port_lock();
    let id = identity_build();
    let fx = Fixture::new();
    // The release the build names: a lucky per target, signed with the release key.
    let root = fx.path("published");
    make_release(&root, IDENTITY_VERSION, &id.key);
    let release = root.join(IDENTITY_VERSION);
    let asset = |target: &str| release.join(format!("lucky-{IDENTITY_VERSION}-{target}"));
    let charm = fx.path("mycharm");
    run_ok(
        Command::new(&id.exe)
            .args(["charm", "create", "--use-defaults"])
            .arg(&charm),
    );
    let server = IdentityBuild::serve(&root);
    let out = Command::new(&id.exe)
        .args(["charm", "build"])
        .arg(&charm)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let built = charm.join("build/mycharm");
    let lucky = built.join("lucky");
    assert_eq!(
        fs::read_to_string(lucky.join("release-url")).unwrap(),
        format!("{}\n", IdentityBuild::url())
    );
    assert_eq!(
        fs::read_to_string(lucky.join("release.pub")).unwrap(),
        fs::read_to_string(&id.public).unwrap()
    );
    assert_eq!(
        fs::read_to_string(lucky.join("version")).unwrap(),
        format!("{IDENTITY_VERSION}\n")
    );
    for signed in ["SHA256SUMS", "SHA256SUMS.sig"] {
        assert_eq!(
            fs::read(lucky.join(signed)).unwrap(),
            fs::read(release.join(signed)).unwrap()
        );
    }
    let env = hook_env(&built);
    let installer = lucky.join("install.sh");

    // 1. Download, from the release URL the charm names.
    let out = fx.install_script(&installer, "x86_64", &as_env(&env));
    assert_installed_file(
        &fx,
        &out,
        &asset("x86_64-unknown-linux-musl"),
        &format!(
            "from {}/download/v{IDENTITY_VERSION}/lucky-{IDENTITY_VERSION}-x86_64-unknown-linux-musl",
            IdentityBuild::url()
        ),
    );

    // 2. The lucky-binary resource, on a unit that cannot reach the release host.
    drop(server);
    reset(&fx);
    let resource = fx.path("resource-lucky");
    fs::copy(asset("aarch64-unknown-linux-musl"), &resource).unwrap();
    write_exe(
        &fx.path("bin/resource-get"),
        &format!("#!/bin/sh\necho {}\n", resource.display()),
    );
    let out = fx.install_script(&installer, "aarch64", &as_env(&env));
    assert_installed_file(
        &fx,
        &out,
        &asset("aarch64-unknown-linux-musl"),
        "from the lucky-binary resource",
    );
    // ... and a resource that is not the release's binary is refused.
    reset(&fx);
    fs::write(&resource, "#!/bin/sh\necho evil\n").unwrap();
    let out = fx.install_script(&installer, "aarch64", &as_env(&env));
    fx.assert_refused(
        &out,
        &format!("checksum mismatch for lucky-{IDENTITY_VERSION}-aarch64-unknown-linux-musl from the lucky-binary resource"),
    );
    fs::remove_file(fx.path("bin/resource-get")).unwrap();

    // 3. Bundled from the release folder (which has no release.pub: the build adds it).
    let bundled = fx.path("bundled");
    let out = Command::new(&id.exe)
        .args([
            "charm",
            "build",
            "--bundle-lucky",
            "s390x",
            "--lucky-binaries",
        ])
        .arg(&release)
        .arg("--build-dir")
        .arg(&bundled)
        .arg(&charm)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    reset(&fx);
    let out = fx.install_script(
        &bundled.join("lucky/install.sh"),
        "s390x",
        &as_env(&hook_env(&bundled)),
    );
    assert_installed_file(
        &fx,
        &out,
        &asset("s390x-unknown-linux-musl"),
        "from the charm",
    );
}

#[test]
fn a_release_lucky_refuses_to_build_a_charm_that_could_not_install() {
    let _port = IdentityBuild::port_lock();
    let id = identity_build();
    let fx = Fixture::new();
    let root = fx.path("published");
    make_release(&root, IDENTITY_VERSION, &id.key);
    let charm = fx.path("mycharm");
    run_ok(
        Command::new(&id.exe)
            .args(["charm", "create", "--use-defaults"])
            .arg(&charm),
    );
    let build = || {
        Command::new(&id.exe)
            .args(["charm", "build"])
            .arg(&charm)
            .output()
            .unwrap()
    };
    let refused = |out: Output, starts: &str| {
        assert!(!out.status.success());
        let text = stderr(&out);
        assert_eq!(text.trim().lines().count(), 1, "{text}");
        assert!(text.starts_with(&format!("lucky: {starts}")), "{text}");
        eprintln!("refused: {text}");
        assert!(
            !charm.join("build/mycharm").exists(),
            "a refused build wrote"
        );
    };
    // The release host does not answer.
    refused(
        build(),
        &format!(
            "cannot build an installable charm: cannot fetch lucky {IDENTITY_VERSION}'s SHA256SUMS"
        ),
    );
    // It answers with checksums signed by another key.
    let (other, _) = gen_key(fx.dir.path(), "other");
    sign(&root.join(IDENTITY_VERSION), &other);
    let server = IdentityBuild::serve(&root);
    refused(
        build(),
        &format!(
            "cannot build an installable charm: {}/download/v{IDENTITY_VERSION}/SHA256SUMS.sig: bad signature",
            IdentityBuild::url()
        ),
    );
    drop(server);
}
