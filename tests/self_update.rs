//! `lucky self-update` for real: binary A (this build, copied into a tempdir and run from
//! there, so the replaced file is the copy) updates itself to binary B (the same source
//! built with `LUCKY_VERSION_OVERRIDE`, cached under the target dir), from a release
//! directory signed with a throwaway ed25519 key and served over loopback by
//! `python3 -m http.server`.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::release::{GithubServer, HttpServer, gen_key, sign};
use support::{Unit, stderr, stdout, wait_for};

const VERSION_B: &str = support::release::IDENTITY_VERSION;

/// Binary B: built once per target dir, then reused by every later run. It is also the
/// installer tests' release build (its own key and release URL built in, which these tests
/// override with LUCKY_RELEASE_PUBKEY_FILE and --release-url).
fn binary_b() -> PathBuf {
    support::release::identity_build().exe.clone()
}

/// (version, target) that `exe --version` reports.
fn version_of(exe: &Path) -> (String, String) {
    let out = Command::new(exe).arg("--version").output().unwrap();
    let line = stdout(&out);
    // lucky 0.1.0 (x86_64-unknown-linux-gnu, commit abc)
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("lucky"), "{line}");
    let version = words.next().unwrap().to_string();
    let target = words
        .next()
        .unwrap()
        .trim_start_matches('(')
        .trim_end_matches(',')
        .to_string();
    (version, target)
}

/// `<root>/<version>/lucky-<version>-<target>` (a copy of `binary`), the completions
/// archive (release/completions.sh, as release/build.sh makes it), SHA256SUMS over both
/// signed with `key`, and `<root>/latest`.
fn make_release(root: &Path, version: &str, target: &str, binary: &Path, key: &Path) -> PathBuf {
    let dir = root.join(version);
    fs::create_dir_all(&dir).unwrap();
    let name = format!("lucky-{version}-{target}");
    fs::copy(binary, dir.join(&name)).unwrap();
    let completions = format!("lucky-{version}-completions.tar.gz");
    support::release::run_ok(
        Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/release/completions.sh"
        ))
        .arg(env!("CARGO_BIN_EXE_lucky-doc"))
        .arg(version)
        .arg(dir.join(&completions)),
    );
    let out = Command::new("sha256sum")
        .args([&completions, &name])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::write(dir.join("SHA256SUMS"), &out.stdout).unwrap();
    sign(&dir, key);
    fs::write(root.join("latest"), format!("{version}\n")).unwrap();
    dir.join(name)
}

/// A unit whose `lucky` is a copy in its tempdir, a release root and a key pair.
struct Setup {
    unit: Unit,
    exe: PathBuf,
    release: PathBuf,
    key: PathBuf,
    public: PathBuf,
}

impl Setup {
    fn new(installed: &Path) -> Setup {
        let unit = Unit::new();
        let bin = unit.path("bin");
        fs::create_dir_all(&bin).unwrap();
        let exe = bin.join("lucky");
        fs::copy(installed, &exe).unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let keys = unit.path("keys");
        fs::create_dir_all(&keys).unwrap();
        let (key, public) = gen_key(&keys, "release");
        let release = unit.path("release");
        fs::create_dir_all(&release).unwrap();
        Setup {
            unit,
            exe,
            release,
            key,
            public,
        }
    }

    /// The installed copy, in the unit's environment, trusting the test key.
    fn command(&self, args: &[&str]) -> Command {
        let u = &self.unit;
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JUJU_UNIT_NAME", &u.name)
            .env("JUJU_CHARM_DIR", u.charm())
            .env("CHARM_DIR", u.charm())
            .env("LUCKY_SOCKET", u.socket())
            .env("LUCKY_DATA_DIR", u.data_dir())
            .env("LUCKY_TEST_DIR", u.dir.path())
            .env("LUCKY_RELEASE_PUBKEY_FILE", &self.public)
            .stdin(Stdio::null());
        cmd
    }

    fn lucky(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.lucky(args);
        assert!(
            out.status.success(),
            "lucky {args:?} failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    fn status_line(&self, key: &str) -> String {
        self.ok(&["daemon", "status"])
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string))
            .unwrap_or_default()
    }

    /// No staged binary left beside the installed one.
    fn assert_no_leftovers(&self) {
        let names: Vec<String> = fs::read_dir(self.exe.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["lucky".to_string()]);
    }
}

#[test]
fn self_update_from_a_to_b_while_the_daemon_runs_a_hook() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    assert_ne!(version_a, VERSION_B);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));

    // A hook that is still running when the update starts: it must finish first.
    s.unit.host_script(
        "slow.sh",
        r#"touch "$LUCKY_TEST_DIR/hook-started"
i=0; while [ ! -e "$LUCKY_TEST_DIR/finish-hook" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
echo "$(lucky kv get a)" > "$LUCKY_TEST_DIR/hook-done""#,
    );
    s.unit
        .lucky_yaml("hooks:\n  config-changed:\n    - host-script: slow.sh\n");
    s.ok(&["daemon", "start"]);
    s.ok(&["kv", "set", "a=1", "b=two words"]);
    let old_pid = s.status_line("pid");
    assert_eq!(s.status_line("version"), version_a);

    let hook = s
        .command(&["hook", "config-changed"])
        .env("JUJU_CONTEXT_ID", "app/0-test-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the hook to start", Duration::from_secs(10), || {
        s.unit.path("hook-started").exists()
    });

    // Self-update runs while the hook does; the hook is let go once self-update says it
    // waits for it, so the restart can only happen after the hook.
    // `--restart`: the stop-then-start path (the one a daemon too old to hand over takes).
    let started = Instant::now();
    let mut update = s
        .command(&["self-update", "--restart", "--release-url", &server.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    let mut hook_released_after = None;
    for line in BufReader::new(update.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("waiting for hook") {
            assert!(!s.unit.path("hook-done").exists());
            hook_released_after = Some(started.elapsed());
            fs::write(s.unit.path("finish-hook"), "").unwrap();
        }
        text.push_str(&line);
        text.push('\n');
    }
    let out = update.wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{text}{}", stderr(&out));
    eprintln!(
        "self-update output:\n{text}self-update took {took:?} from start to the new daemon answering (the hook in flight was let go after {hook_released_after:?})"
    );
    for expected in [
        "verified: SHA256SUMS signature",
        "downloaded and verified: lucky-0.2.0-",
        "smoke test: `--version` says lucky 0.2.0",
        "installed: ",
        "daemon for unit app/0: waiting for hook config-changed to finish",
        "daemon for unit app/0: stopped",
        "daemon for unit app/0: started 0.2.0",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    // The hook in flight finished normally, on the old daemon, before the restart.
    let hook = hook.wait_with_output().unwrap();
    assert!(hook.status.success(), "hook: {}", stderr(&hook));
    assert_eq!(s.unit.read("hook-done"), "1\n");
    // The old daemon recorded it; the new one lists it.
    let (rows, shown) = history_of(&s);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(
        (&rows[0]["id"], &rows[0]["name"], &rows[0]["failed"]),
        (&1.into(), &"config-changed".into(), &false.into()),
        "{rows}"
    );
    assert_eq!(shown[0]["entries"][0]["id"], "slow.sh");
    assert_eq!(shown[0]["entries"][0]["exit_status"], 0);

    assert_eq!(version_of(&s.exe).0, VERSION_B);
    assert_eq!(fs::read(&s.exe).unwrap(), fs::read(&b).unwrap());
    assert_eq!(s.status_line("version"), VERSION_B);
    assert_ne!(s.status_line("pid"), old_pid);
    assert_eq!(s.ok(&["kv", "get", "a"]), "1\n");
    assert_eq!(s.ok(&["kv", "get", "b"]), "two words\n");
    s.assert_no_leftovers();

    // Updating again: nothing to do.
    let again = s.ok(&["self-update", "--release-url", &server.url()]);
    assert!(again.contains("already installed"), "{again}");
}

#[test]
fn corrupted_or_badly_signed_releases_are_refused_and_a_keeps_working() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    let asset = make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    s.ok(&["daemon", "start"]);
    s.ok(&["kv", "set", "a=1"]);
    let pid = s.status_line("pid");
    let original = fs::read(&s.exe).unwrap();

    let refused = |what: &str, expected: &str| {
        let out = s.lucky(&["self-update", "--release-url", &server.url()]);
        assert!(!out.status.success(), "{what}: {}", stdout(&out));
        assert!(
            stderr(&out).contains(expected),
            "{what}: expected {expected:?} in {}",
            stderr(&out)
        );
        assert_eq!(fs::read(&s.exe).unwrap(), original, "{what}");
        assert_eq!(version_of(&s.exe).0, version_a, "{what}");
        assert_eq!(
            s.status_line("pid"),
            pid,
            "{what}: the daemon was restarted"
        );
        assert_eq!(s.status_line("version"), version_a, "{what}");
        assert_eq!(s.ok(&["kv", "get", "a"]), "1\n", "{what}");
        s.assert_no_leftovers();
    };

    // B's bytes changed after SHA256SUMS was signed.
    let good = fs::read(&asset).unwrap();
    let mut corrupt = good.clone();
    corrupt[good.len() / 2] ^= 0xff;
    fs::write(&asset, &corrupt).unwrap();
    refused("corrupted binary", "checksum mismatch for lucky-0.2.0-");
    fs::write(&asset, &good).unwrap();

    // SHA256SUMS signed by another key.
    let (other, _) = gen_key(&s.unit.path("keys"), "other");
    sign(&s.release.join(VERSION_B), &other);
    refused("signature by another key", "bad signature");

    // A signature that is not one at all.
    fs::write(s.release.join(VERSION_B).join("SHA256SUMS.sig"), b"junk").unwrap();
    refused("junk signature", "not a 64-byte ed25519 signature");

    // No key configured and no explicit opt-out.
    let out = Command::new(&s.exe)
        .args(["self-update", "--release-url", &server.url()])
        .env_clear()
        .env("LUCKY_SOCKET", s.unit.socket())
        .env("LUCKY_DATA_DIR", s.unit.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no release public key"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&s.exe).unwrap(), original);

    // Plain http to anything but loopback.
    let out = s.lucky(&["self-update", "--release-url", "http://example.com/lucky"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("must be https://"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_changes_nothing_and_downgrade_needs_the_flag() {
    let b = binary_b();
    // B is installed; the release offers A, which is older.
    let s = Setup::new(&b);
    let (version_a, target) = version_of(Path::new(support::LUCKY));
    make_release(
        &s.release,
        &version_a,
        &target,
        Path::new(support::LUCKY),
        &s.key,
    );
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    let url = server.url();
    let original = fs::read(&s.exe).unwrap();

    let check = s.ok(&["self-update", "--check", "--release-url", &url]);
    assert!(check.contains(&format!("current: {VERSION_B}")), "{check}");
    assert!(
        check.contains(&format!("available: {version_a}")),
        "{check}"
    );
    assert!(check.contains("would update: no"), "{check}");
    assert_eq!(fs::read(&s.exe).unwrap(), original);

    let out = s.lucky(&["self-update", "--release-url", &url]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refusing to downgrade"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&s.exe).unwrap(), original);

    // --check of a newer release also changes nothing.
    make_release(
        &s.release,
        "9.9.9",
        &target,
        Path::new(support::LUCKY),
        &s.key,
    );
    let check = s.ok(&["self-update", "--check", "--release-url", &url]);
    assert!(check.contains("would update: yes"), "{check}");
    assert_eq!(fs::read(&s.exe).unwrap(), original);
    s.assert_no_leftovers();

    // A release whose binary reports another version than its name fails the smoke test.
    let out = s.lucky(&["self-update", "--release-url", &url]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("smoke test"), "{}", stderr(&out));
    assert_eq!(fs::read(&s.exe).unwrap(), original);
    s.assert_no_leftovers();

    // With the flag, the downgrade happens (no daemon runs: nothing to restart).
    let out = s.ok(&[
        "self-update",
        "--version",
        &version_a,
        "--allow-downgrade",
        "--release-url",
        &url,
    ]);
    assert!(out.contains(&format!("is now lucky {version_a}")), "{out}");
    assert_eq!(version_of(&s.exe).0, version_a);
    s.assert_no_leftovers();
}

#[test]
fn updates_from_github_releases_through_the_redirect_to_the_asset_host() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (_, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let github = GithubServer::start(&s.release);
    let assets = GithubServer::start(&s.release);
    github.asset_host(assets.origin());

    let check = s.ok(&["self-update", "--check", "--release-url", &github.url()]);
    assert!(
        check.contains(&format!("available: {VERSION_B}")),
        "{check}"
    );
    let out = s.ok(&["self-update", "--release-url", &github.url()]);
    assert!(out.contains(&format!("is now lucky {VERSION_B}")), "{out}");
    assert_eq!(fs::read(&s.exe).unwrap(), fs::read(&b).unwrap());
    assert!(
        github
            .requests()
            .contains(&"/owner/lucky/releases/latest/download/latest".to_string()),
        "{:?}",
        github.requests()
    );
    let asset = format!("/assets/{VERSION_B}/lucky-{VERSION_B}-{target}");
    assert!(
        assets.requests().contains(&asset),
        "{:?}",
        assets.requests()
    );
    s.assert_no_leftovers();
}

#[test]
fn refuses_plain_http_redirects_look_alike_urls_and_endless_files() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let original = fs::read(&s.exe).unwrap();
    // Reachable and serving the real release, but on a loopback address the http
    // exception does not cover.
    let plain = GithubServer::start_on("127.0.0.2", &s.release);
    let refused = |what: &str, url: &str, expected: &str| {
        let out = s.lucky(&["self-update", "--release-url", url]);
        assert!(!out.status.success(), "{what}: {}", stdout(&out));
        assert!(
            stderr(&out).contains(expected),
            "{what}: expected {expected:?} in {}",
            stderr(&out)
        );
        assert_eq!(stderr(&out).trim().lines().count(), 1, "{what}: one line");
        assert_eq!(fs::read(&s.exe).unwrap(), original, "{what}");
        assert_eq!(version_of(&s.exe).0, version_a, "{what}");
        s.assert_no_leftovers();
    };

    let github = GithubServer::start(&s.release);
    github.asset_host(plain.origin());
    refused(
        "redirect to plain http",
        &github.url(),
        "redirected: refusing release URL",
    );

    let host = plain.url().trim_start_matches("http://").to_string();
    for url in [
        format!("http://127.0.0.1:x@{host}"),
        format!("http://localhost:80@{host}"),
    ] {
        refused("look-alike loopback URL", &url, "it carries user info");
    }
    assert_eq!(plain.requests(), Vec::<String>::new());

    let endless = GithubServer::start(&s.release);
    endless.endless("SHA256SUMS");
    refused(
        "endless SHA256SUMS",
        &endless.url(),
        "is larger than 1048576 bytes",
    );
}

#[test]
fn without_curl_or_wget_the_download_fails_in_one_line() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    let original = fs::read(&s.exe).unwrap();
    // lucky downloads with the machine's curl (or wget): a PATH with neither.
    let empty = s.unit.path("empty-path");
    fs::create_dir_all(&empty).unwrap();
    let out = s
        .command(&["self-update", "--release-url", &server.url()])
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot download the latest release's version from {}/latest: neither curl nor wget is on PATH", server.url())),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(server.gets("/"), 0);
    assert_eq!(fs::read(&s.exe).unwrap(), original);
    assert_eq!(version_of(&s.exe).0, version_a);
}

#[test]
fn version_verbose_names_version_target_commit_rustc_and_build_date() {
    let out = Command::new(support::LUCKY)
        .args(["--version", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (version, target) = version_of(Path::new(support::LUCKY));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("lucky {version}"), "{text}");
    assert_eq!(lines[1], format!("target: {target}"), "{text}");
    assert!(lines[2].starts_with("commit: "), "{text}");
    assert!(lines[3].starts_with("rustc: rustc 1."), "{text}");
    assert!(lines[4].starts_with("build date: "), "{text}");
    // A cargo build has none; release/build.sh embeds it (checked on the binary there).
    assert_eq!(
        lines[5], "dependency list: not embedded (release/build.sh embeds it)",
        "{text}"
    );
    assert_eq!(lines.len(), 6, "{text}");
}

/// What the callers of the load saw.
#[derive(Default)]
struct Load {
    calls: u64,
    failed: Vec<String>,
    refused: u64,
    longest: Duration,
    /// Calls answered while `self-update` ran.
    during_update: u64,
}

/// `callers` threads run `lucky kv get a` through the installed binary (what a script
/// does) in a loop, and one more connects to the socket directly, until `stop` is set.
fn run_load(
    s: &Setup,
    callers: usize,
    updating: &std::sync::atomic::AtomicBool,
    stop: &std::sync::atomic::AtomicBool,
) -> Load {
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;
    let load = Mutex::new(Load::default());
    std::thread::scope(|scope| {
        for _ in 0..callers {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let began = Instant::now();
                    let during = updating.load(Ordering::SeqCst);
                    let out = s.lucky(&["kv", "get", "a"]);
                    let took = began.elapsed();
                    let mut load = load.lock().unwrap();
                    load.calls += 1;
                    load.longest = load.longest.max(took);
                    if during && updating.load(Ordering::SeqCst) {
                        load.during_update += 1;
                    }
                    if !out.status.success() || stdout(&out) != "1\n" {
                        load.failed.push(format!(
                            "exit {:?}: {}{}",
                            out.status.code(),
                            stdout(&out),
                            stderr(&out)
                        ));
                    }
                }
            });
        }
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                if std::os::unix::net::UnixStream::connect(s.unit.socket()).is_err() {
                    load.lock().unwrap().refused += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    });
    load.into_inner().unwrap()
}

#[test]
fn self_update_under_load_hands_the_sockets_over_and_no_call_fails() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    s.ok(&["daemon", "start"]);
    s.ok(&["kv", "set", "a=1", "b=two words"]);
    let old_pid = s.status_line("pid");

    let updating = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let mut text = String::new();
    let mut update_ok = false;
    let load = std::thread::scope(|scope| {
        let load = scope.spawn(|| run_load(&s, 50, &updating, &stop));
        // The load runs before, during and after the update.
        std::thread::sleep(Duration::from_millis(500));
        updating.store(true, Ordering::SeqCst);
        let out = s.lucky(&["self-update", "--release-url", &server.url()]);
        updating.store(false, Ordering::SeqCst);
        text = format!("{}{}", stdout(&out), stderr(&out));
        update_ok = out.status.success();
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        load.join().unwrap()
    });
    assert!(update_ok, "{text}");
    eprintln!(
        "self-update under load:\n{text}calls: {}, during the update: {}, failed: {}, refused connections: {}, longest call: {:?}",
        load.calls,
        load.during_update,
        load.failed.len(),
        load.refused,
        load.longest
    );
    assert!(
        text.contains(&format!(
            "daemon for unit app/0: handed over from {version_a} to {VERSION_B} (pid {old_pid},"
        )),
        "{text}"
    );
    assert!(load.during_update > 0, "no call overlapped the update");
    assert_eq!(load.failed, Vec::<String>::new(), "calls failed");
    assert_eq!(load.refused, 0, "connections refused");

    assert_eq!(s.status_line("pid"), old_pid, "the daemon's pid changed");
    assert_eq!(s.status_line("version"), VERSION_B);
    assert_eq!(s.ok(&["kv", "get", "a"]), "1\n");
    assert_eq!(s.ok(&["kv", "get", "b"]), "two words\n");
    // The new binary took over the old one's sockets and lock: nothing was bound again
    // and nothing else holds the unit.
    let log = fs::read_to_string(s.unit.data_dir().join("lucky.log")).unwrap();
    assert_eq!(log.matches("handing over").count(), 1, "{log}");
    assert_eq!(log.matches("handed_over=true").count(), 1, "{log}");
    assert!(!log.contains("binding instead"), "{log}");
    s.assert_no_leftovers();
    // A hook runs on the new binary.
    s.unit.host_script("hi.sh", r#"lucky kv set c=3"#);
    s.unit
        .lucky_yaml("hooks:\n  config-changed:\n    - host-script: hi.sh\n");
    let hook = s
        .command(&["hook", "config-changed"])
        .env("JUJU_CONTEXT_ID", "app/0-test-2")
        .output()
        .unwrap();
    assert!(hook.status.success(), "{}", stderr(&hook));
    assert_eq!(s.ok(&["kv", "get", "c"]), "3\n");
}

#[test]
fn a_hook_running_when_the_update_starts_ends_on_the_old_binary_before_the_handover() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    s.unit.host_script(
        "slow.sh",
        r#"touch "$LUCKY_TEST_DIR/hook-started"
i=0; while [ ! -e "$LUCKY_TEST_DIR/finish-hook" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
lucky kv set during=hook
echo "$(lucky kv get a)" > "$LUCKY_TEST_DIR/hook-done"
lucky daemon status | grep '^version: ' > "$LUCKY_TEST_DIR/hook-daemon""#,
    );
    s.unit
        .lucky_yaml("hooks:\n  config-changed:\n    - host-script: slow.sh\n");
    s.ok(&["daemon", "start"]);
    s.ok(&["kv", "set", "a=1"]);
    let old_pid = s.status_line("pid");

    let hook = s
        .command(&["hook", "config-changed"])
        .env("JUJU_CONTEXT_ID", "app/0-test-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the hook to start", Duration::from_secs(10), || {
        s.unit.path("hook-started").exists()
    });
    let mut update = s
        .command(&["self-update", "--release-url", &server.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    for line in BufReader::new(update.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("waiting for hook config-changed to finish") {
            // The daemon is still the old binary, serving the hook's scripts.
            assert!(!s.unit.path("hook-done").exists());
            assert_eq!(s.status_line("version"), version_a);
            fs::write(s.unit.path("finish-hook"), "").unwrap();
        }
        text.push_str(&line);
        text.push('\n');
    }
    let out = update.wait_with_output().unwrap();
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!(
            "daemon for unit app/0: handed over from {version_a} to {VERSION_B} (pid {old_pid},"
        )),
        "{text}"
    );

    let hook = hook.wait_with_output().unwrap();
    assert!(hook.status.success(), "hook: {}", stderr(&hook));
    // Its scripts' calls were answered, by the old binary.
    assert_eq!(s.unit.read("hook-done"), "1\n");
    assert_eq!(
        s.unit.read("hook-daemon"),
        format!("version: {version_a}\n")
    );
    assert_eq!(s.status_line("version"), VERSION_B);
    assert_eq!(s.status_line("pid"), old_pid);
    assert_eq!(s.ok(&["kv", "get", "during"]), "hook\n");
}

/// Sends `Handover { exe }` to the unit's daemon, as `lucky self-update` does.
fn ask_handover(s: &Setup, exe: &str) -> Result<lucky::protocol::Response, String> {
    let paths = lucky::unit::UnitPaths {
        unit: s.unit.name.clone(),
        socket: s.unit.socket(),
        data_dir: s.unit.data_dir(),
    };
    let request = lucky::protocol::Request::Handover { exe: exe.into() };
    lucky::client::request(&paths, &request).map_err(|e| e.to_string())
}

#[test]
fn a_handover_to_a_binary_that_is_not_lucky_or_cannot_run_leaves_the_daemon_serving() {
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, _) = version_of(&s.exe);
    s.ok(&["daemon", "start"]);
    s.ok(&["kv", "set", "a=1"]);
    let pid = s.status_line("pid");
    let serves_on = |what: &str| {
        assert_eq!(s.status_line("pid"), pid, "{what}");
        assert_eq!(s.status_line("version"), version_a, "{what}");
        assert_eq!(s.ok(&["kv", "get", "a"]), "1\n", "{what}");
    };

    let fake = s.unit.path("fake-lucky");
    fs::write(
        &fake,
        "#!/bin/sh\necho 'lucky 9.9.9 (x86_64-unknown-linux-gnu, commit x)'\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let fake = fake.display().to_string();
    for (exe, expected) in [
        (
            "/bin/true".to_string(),
            "cannot hand over to /bin/true: it is not a lucky binary",
        ),
        (
            "lucky".to_string(),
            "cannot hand over to lucky: give the new binary's absolute path",
        ),
        (
            "/nonexistent/lucky".to_string(),
            "cannot hand over to /nonexistent/lucky: no such file",
        ),
        (
            s.unit.dir.path().display().to_string(),
            "it is not an executable file",
        ),
        (fake.clone(), "it is not an ELF executable"),
    ] {
        let refused = ask_handover(&s, &exe).expect_err(&exe);
        assert!(refused.contains(expected), "{exe}: {refused}");
        serves_on(&exe);
    }

    // A binary that passes the checks but is gone when the exec comes (after the running
    // hook): the exec fails and the old daemon serves on, on the same sockets.
    s.unit.host_script(
        "slow.sh",
        r#"touch "$LUCKY_TEST_DIR/hook-started"
i=0; while [ ! -e "$LUCKY_TEST_DIR/finish-hook" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
lucky kv set b=2"#,
    );
    s.unit
        .lucky_yaml("hooks:\n  config-changed:\n    - host-script: slow.sh\n");
    let doomed = s.unit.path("doomed-lucky");
    fs::copy(&s.exe, &doomed).unwrap();
    let log = s.unit.data_dir().join("lucky.log");
    let hook = s
        .command(&["hook", "config-changed"])
        .env("JUJU_CONTEXT_ID", "app/0-test-2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the hook to start", Duration::from_secs(10), || {
        s.unit.path("hook-started").exists()
    });
    let answer = std::thread::scope(|scope| {
        let asked = scope.spawn(|| ask_handover(&s, &doomed.display().to_string()));
        wait_for(
            "the daemon to take the handover",
            Duration::from_secs(20),
            || {
                fs::read_to_string(&log)
                    .unwrap_or_default()
                    .contains("handover asked for")
            },
        );
        fs::remove_file(&doomed).unwrap();
        fs::write(s.unit.path("finish-hook"), "").unwrap();
        asked.join().unwrap()
    });
    assert!(answer.is_ok(), "{answer:?}");
    let hook = hook.wait_with_output().unwrap();
    assert!(hook.status.success(), "hook: {}", stderr(&hook));
    wait_for(
        "the failed exec to be logged",
        Duration::from_secs(20),
        || {
            fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("handover failed: this daemon serves on")
        },
    );
    serves_on("failed exec");
    assert_eq!(s.ok(&["kv", "get", "b"]), "2\n");
    // New hooks run again.
    fs::remove_file(s.unit.path("hook-started")).unwrap();
    let again = s
        .command(&["hook", "config-changed"])
        .env("JUJU_CONTEXT_ID", "app/0-test-3")
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
}

/// `lucky history --format json` and each run's `history show`, through the installed
/// binary.
fn history_of(s: &Setup) -> (serde_json::Value, Vec<serde_json::Value>) {
    let rows: serde_json::Value =
        serde_json::from_str(&s.ok(&["history", "-n", "100", "--format", "json"])).unwrap();
    let shown = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["id"].as_u64().unwrap().to_string();
            serde_json::from_str(&s.ok(&["history", "show", &id, "--format", "json"])).unwrap()
        })
        .collect();
    (rows, shown)
}

#[test]
fn the_hook_history_survives_a_self_update_whole() {
    let b = binary_b();
    let s = Setup::new(Path::new(support::LUCKY));
    let (version_a, target) = version_of(&s.exe);
    make_release(&s.release, VERSION_B, &target, &b, &s.key);
    let server = HttpServer::start(&s.release, s.release.with_extension("http.log"));
    s.unit
        .host_script("ok.sh", r#"echo "configured"; lucky kv set a=1"#);
    s.unit.host_script("fail.sh", "echo failing >&2; exit 7");
    s.unit.lucky_yaml(
        "hooks:\n  install:\n    - host-script: ok.sh\n  config-changed:\n    - host-script: fail.sh\n  update-status: []\n",
    );
    let hook = |name: &str, n: u32| {
        s.command(&["hook", name])
            .env("JUJU_CONTEXT_ID", format!("app/0-test-{n}"))
            .output()
            .unwrap()
    };
    assert!(hook("install", 1).status.success());
    assert_eq!(hook("config-changed", 2).status.code(), Some(1));
    assert!(hook("update-status", 3).status.success());
    let (rows, shown) = history_of(&s);
    let ids: Vec<u64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 2, 1], "{rows}");
    assert_eq!(shown[1]["entries"][0]["exit_status"], 7);
    let listing = s.ok(&["history"]);
    let failed_only = s.ok(&["history", "--failed", "--format", "json"]);
    let old_pid = s.status_line("pid");

    let update = s.ok(&["self-update", "--release-url", &server.url()]);
    assert!(
        update.contains(&format!(
            "daemon for unit app/0: handed over from {version_a} to {VERSION_B} (pid {old_pid},"
        )),
        "{update}"
    );
    assert_eq!(s.status_line("version"), VERSION_B);

    // The new binary lists the same runs, each whole, in the same words.
    assert_eq!(history_of(&s), (rows, shown));
    assert_eq!(s.ok(&["history"]), listing);
    assert_eq!(
        s.ok(&["history", "--failed", "--format", "json"]),
        failed_only
    );
    // And records on after them, ids still growing.
    assert!(hook("update-status", 4).status.success());
    let after: serde_json::Value =
        serde_json::from_str(&s.ok(&["history", "-n", "1", "--format", "json"])).unwrap();
    assert_eq!(after[0]["id"], 4, "{after}");
    assert_eq!(after[0]["name"], "update-status");

    // A restart of the new daemon (what `self-update --restart` does) keeps them too.
    s.ok(&["daemon", "stop"]);
    s.ok(&["daemon", "start"]);
    let (rows, _) = history_of(&s);
    assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
}
