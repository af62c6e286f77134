//! What script calls see of a real `lucky self-update` (`daemon::handover`): 50 callers
//! run `lucky kv get a` through the installed binary in a loop, first for a window with no
//! update, then for a window in whose middle `lucky self-update` installs release B from a
//! signed release folder served over loopback (download, signature and checksum checks,
//! smoke test, install, then the handover of the daemon's sockets and lock to the new
//! binary). A is this build, copied into a tempdir and run from there; B is the same
//! source built as version 0.2.0 with a release identity (tests/support/release.rs, shared
//! with tests/self_update.rs). Reports, per window, calls made, calls failed, connections
//! refused and the longest call, and the longest of the calls that overlapped the update
//! (ratios, never thresholds).
//!
//!   cargo bench --bench handover                 # A as a release (bench profile) build
//!   cargo bench --bench handover --profile dev   # A as a debug build (much quicker to build)

// The release helpers are shared with the tests; the bench uses some of them.
#[allow(dead_code)]
#[path = "../tests/support/release.rs"]
mod release;

use lucky::protocol::{Request, Response};
use lucky::unit::UnitPaths;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CALLERS: usize = 50;
const WINDOW: Duration = Duration::from_secs(3);
const UNIT: &str = "handover/0";

struct Unit {
    dir: tempfile::TempDir,
    exe: PathBuf,
    public_key: PathBuf,
}

impl Unit {
    fn lucky(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", UNIT)
            .env("LUCKY_SOCKET", self.socket())
            .env("LUCKY_DATA_DIR", self.data_dir())
            .env("LUCKY_RELEASE_PUBKEY_FILE", &self.public_key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("lucky.sock")
    }
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn paths(&self) -> UnitPaths {
        UnitPaths {
            unit: UNIT.into(),
            socket: self.socket(),
            data_dir: self.data_dir(),
        }
    }
    fn status(&self) -> (u32, String) {
        match lucky::client::request(&self.paths(), &Request::DaemonStatus) {
            Ok(Response::DaemonStatus(s)) => (s.pid, s.version),
            other => panic!("daemon status: {other:?}"),
        }
    }
    fn handovers_logged(&self) -> usize {
        std::fs::read_to_string(self.data_dir().join("lucky.log"))
            .unwrap_or_default()
            .matches("handed_over=true")
            .count()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// (version, target) that `exe --version` reports: `lucky 0.1.0 (x86_64-…, commit …)`.
fn version_of(exe: &Path) -> (String, String) {
    let out = Command::new(exe)
        .arg("--version")
        .output()
        .expect("run --version");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("lucky"), "{line}");
    let version = words.next().expect("a version").to_string();
    let target = words
        .next()
        .expect("a target")
        .trim_start_matches('(')
        .trim_end_matches(',')
        .to_string();
    (version, target)
}

/// `<root>/<version>/lucky-<version>-<target>` (a copy of `binary`), its SHA256SUMS
/// signed with `key`, and `<root>/latest`: what release/build.sh lays out.
fn make_release(root: &Path, version: &str, target: &str, binary: &Path, key: &Path) {
    let dir = root.join(version);
    std::fs::create_dir_all(&dir).expect("release dir");
    let name = format!("lucky-{version}-{target}");
    std::fs::copy(binary, dir.join(&name)).expect("copy B");
    let sums = Command::new("sha256sum")
        .arg(&name)
        .current_dir(&dir)
        .output()
        .expect("sha256sum");
    assert!(sums.status.success(), "sha256sum: {}", text(&sums));
    std::fs::write(dir.join("SHA256SUMS"), &sums.stdout).expect("SHA256SUMS");
    release::sign(&dir, key);
    std::fs::write(root.join("latest"), format!("{version}\n")).expect("latest");
}

#[derive(Default, Debug)]
struct Figures {
    calls: u64,
    failed: u64,
    refused: u64,
    longest: Duration,
    /// How long the window lasted (`middle` included).
    lasted: Duration,
    /// Calls that were running at some point while `middle` ran, and the longest of them.
    overlapping: u64,
    longest_overlapping: Duration,
    /// Each call's start and end, in seconds since the Unix epoch (to set against the
    /// daemon's log).
    spans: Vec<(f64, f64)>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.calls as f64 / self.lasted.as_secs_f64().max(1e-9)
    }

    /// The calls running at some point between `from` and `to` (Unix seconds): how many,
    /// and the longest.
    fn overlapping(&self, from: f64, to: f64) -> (usize, Duration) {
        let hits: Vec<f64> = self
            .spans
            .iter()
            .filter(|(start, end)| *start <= to && *end >= from)
            .map(|(start, end)| end - start)
            .collect();
        let longest = hits.iter().copied().fold(0.0, f64::max);
        (hits.len(), Duration::from_secs_f64(longest))
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// `2026-12-07T14:09:20.054535Z` (the daemon log's UTC timestamps) in Unix seconds.
fn log_time(stamp: &str) -> Option<f64> {
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    let mut ymd = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, d) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let mut hms = time.splitn(3, ':');
    let (h, min) = (
        hms.next()?.parse::<f64>().ok()?,
        hms.next()?.parse::<f64>().ok()?,
    );
    let s: f64 = hms.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s)
}

/// The time of the first line of `log` that contains `needle`.
fn logged_at(log: &str, needle: &str) -> Option<f64> {
    log.lines()
        .find(|l| l.contains(needle))
        .and_then(|l| l.split_whitespace().next())
        .and_then(log_time)
}

/// Runs the callers for `WINDOW`; `middle` runs once half of it has passed (and the
/// window goes on for half of it after `middle` returns).
fn window(unit: &Unit, middle: impl FnOnce() + Send) -> Figures {
    let figures = Mutex::new(Figures::default());
    let stop = AtomicBool::new(false);
    // When `middle` ran, as offsets from `origin` (set once it has begun and ended).
    let origin = Instant::now();
    let span: Mutex<(Option<Duration>, Option<Duration>)> = Mutex::new((None, None));
    std::thread::scope(|scope| {
        for _ in 0..CALLERS {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let began = origin.elapsed();
                    let wall_began = unix_now();
                    let out = unit.lucky(&["kv", "get", "a"]).output().expect("run lucky");
                    let ended = origin.elapsed();
                    let wall_ended = unix_now();
                    let took = ended - began;
                    let (from, to) = *span.lock().expect("span");
                    // Overlapped `middle`: it began before this call ended, and had not
                    // ended before this call began.
                    let overlapped =
                        from.is_some_and(|f| f <= ended) && to.is_none_or(|t| t >= began);
                    let mut f = figures.lock().expect("figures");
                    f.calls += 1;
                    f.longest = f.longest.max(took);
                    f.spans.push((wall_began, wall_ended));
                    if overlapped {
                        f.overlapping += 1;
                        f.longest_overlapping = f.longest_overlapping.max(took);
                    }
                    if !out.status.success() || out.stdout != b"1\n" {
                        f.failed += 1;
                        if f.failed <= 3 {
                            eprintln!("failed call: exit {:?}: {}", out.status.code(), text(&out));
                        }
                    }
                }
            });
        }
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                if std::os::unix::net::UnixStream::connect(unit.socket()).is_err() {
                    figures.lock().expect("figures").refused += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        std::thread::sleep(WINDOW / 2);
        span.lock().expect("span").0 = Some(origin.elapsed());
        middle();
        span.lock().expect("span").1 = Some(origin.elapsed());
        std::thread::sleep(WINDOW / 2);
        stop.store(true, Ordering::SeqCst);
    });
    let mut figures = figures.into_inner().expect("figures");
    figures.lasted = origin.elapsed();
    figures
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // B first: a cargo build of its own (cached under the target dir after the first run).
    let b = release::identity_build();
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let exe = bin.join("lucky");
    std::fs::copy(env!("CARGO_BIN_EXE_lucky"), &exe).expect("copy lucky");
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).expect("key dir");
    let (key, public_key) = release::gen_key(&keys, "release");
    let (version_a, target) = version_of(&exe);
    let version_b = release::IDENTITY_VERSION;
    assert_ne!(version_a, version_b, "A and B must differ in version");
    let root = dir.path().join("release");
    make_release(&root, version_b, &target, &b.exe, &key);
    let server = release::GithubServer::start(&root);
    let unit = Unit {
        dir,
        exe,
        public_key,
    };

    let started = unit.lucky(&["daemon", "start"]).output().expect("start");
    assert!(started.status.success(), "daemon start: {}", text(&started));
    let set = unit.lucky(&["kv", "set", "a=1"]).output().expect("kv set");
    assert!(set.status.success(), "kv set: {}", text(&set));
    let (pid, version) = unit.status();
    assert_eq!(version, version_a);

    let quiet = window(&unit, || {});
    let mut update_took = Duration::ZERO;
    let mut update_text = String::new();
    let during = window(&unit, || {
        let began = Instant::now();
        let out = unit
            .lucky(&["self-update", "--release-url", &server.url()])
            .output()
            .expect("run lucky self-update");
        update_took = began.elapsed();
        update_text = text(&out);
        assert!(out.status.success(), "self-update failed: {update_text}");
    });
    let (pid_after, version_after) = unit.status();
    assert_eq!(pid_after, pid, "the pid changed: not a handover");
    assert_eq!(version_after, version_b, "the daemon is not B");
    assert_eq!(unit.handovers_logged(), 1);
    assert_eq!(
        version_of(&unit.exe).0,
        version_b,
        "the installed binary is not B"
    );
    let _ = unit.lucky(&["daemon", "stop"]).output();
    let log = std::fs::read_to_string(unit.data_dir().join("lucky.log")).unwrap_or_default();
    let steps: Vec<&str> = log
        .lines()
        .filter(|l| {
            ["handover asked for", "handing over", "handed_over=true"]
                .iter()
                .any(|s| l.contains(s))
        })
        .collect();

    // The handover proper, as the daemon logged it: from the request (after the download,
    // checks and install) to the new binary serving.
    let handover = logged_at(&log, "handover asked for")
        .zip(logged_at(&log, "handed_over=true"))
        .map(|(from, to)| (to - from, during.overlapping(from, to)));
    println!(
        "{CALLERS} callers of `lucky kv get a` (A = {version_a}, {}), a window of {WINDOW:?} without and one with a self-update in its middle:",
        if cfg!(debug_assertions) {
            "a debug build"
        } else {
            "a release build"
        }
    );
    for (name, f) in [
        ("no update", &quiet),
        ("self-update in the middle", &during),
    ] {
        println!(
            "  {name:26} {:6.1} s  calls {:6} ({:.0}/s)  failed {}  refused connections {}  longest call {:.1} ms",
            f.lasted.as_secs_f64(),
            f.calls,
            f.per_second(),
            f.failed,
            f.refused,
            ms(f.longest)
        );
    }
    println!(
        "  during the self-update ({:.1} ms, {version_a} -> {version_b}): {} calls overlapped it, {} of all calls failed, longest call {:.1} ms",
        ms(update_took),
        during.overlapping,
        during.failed,
        ms(during.longest_overlapping)
    );
    match handover {
        Some((took, (calls, longest))) => println!(
            "  during the handover proper ({:.1} ms, from the daemon's \"handover asked for\" to the new binary serving): {calls} calls overlapped it, longest call {:.1} ms",
            took * 1000.0,
            ms(longest)
        ),
        None => println!("  the daemon's log does not time the handover"),
    }
    println!(
        "  longest call ratio (update window / quiet window) {:.2}x; calls per second ratio {:.2}",
        ms(during.longest) / ms(quiet.longest).max(1e-6),
        during.per_second() / quiet.per_second().max(1e-9)
    );
    println!("  lucky self-update said:");
    for line in update_text.lines() {
        println!("    {line}");
    }
    println!("  the daemon's log of the handover:");
    for line in steps {
        println!("    {line}");
    }
}
