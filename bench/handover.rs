//! What script calls see of a self-update's handover (`daemon::handover`): 50 callers
//! run `lucky kv get a` through the real CLI in a loop, first for a window with no
//! handover, then for a window in whose middle the daemon is handed over to a copy of
//! its binary (the request `lucky self-update` sends, after its download and checks).
//! Reports calls made, calls failed, connections refused and the longest call of each
//! window, side by side (ratios, never thresholds).
//!
//!   cargo bench --bench handover

use lucky::protocol::{Request, Response};
use lucky::unit::UnitPaths;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CALLERS: usize = 50;
const WINDOW: Duration = Duration::from_secs(3);

struct Unit {
    dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Unit {
    fn lucky(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", "handover/0")
            .env("LUCKY_SOCKET", self.socket())
            .env("LUCKY_DATA_DIR", self.data_dir())
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
            unit: "handover/0".into(),
            socket: self.socket(),
            data_dir: self.data_dir(),
        }
    }
    fn pid(&self) -> u32 {
        match lucky::client::request(&self.paths(), &Request::DaemonStatus) {
            Ok(Response::DaemonStatus(s)) => s.pid,
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

#[derive(Default, Debug)]
struct Figures {
    calls: u64,
    failed: u64,
    refused: u64,
    longest: Duration,
}

/// Runs the callers for `WINDOW`; `middle` runs once half of it has passed.
fn window(unit: &Unit, middle: impl FnOnce() + Send) -> Figures {
    let figures = Mutex::new(Figures::default());
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..CALLERS {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let began = Instant::now();
                    let out = unit.lucky(&["kv", "get", "a"]).output().expect("run lucky");
                    let took = began.elapsed();
                    let mut f = figures.lock().expect("figures");
                    f.calls += 1;
                    f.longest = f.longest.max(took);
                    if !out.status.success() || out.stdout != b"1\n" {
                        f.failed += 1;
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
        middle();
        std::thread::sleep(WINDOW / 2);
        stop.store(true, Ordering::SeqCst);
    });
    figures.into_inner().expect("figures")
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("lucky");
    std::fs::copy(env!("CARGO_BIN_EXE_lucky"), &exe).expect("copy lucky");
    let unit = Unit { dir, exe };
    let next = unit.dir.path().join("lucky-next");
    std::fs::copy(&unit.exe, &next).expect("copy lucky");
    let started = unit.lucky(&["daemon", "start"]).status().expect("start");
    assert!(started.success(), "lucky daemon start failed");
    let set = unit.lucky(&["kv", "set", "a=1"]).status().expect("kv set");
    assert!(set.success());
    let pid = unit.pid();

    let quiet = window(&unit, || {});
    let mut handover_took = Duration::ZERO;
    let during = window(&unit, || {
        let began = Instant::now();
        let request = Request::Handover {
            exe: next.display().to_string(),
        };
        lucky::client::request(&unit.paths(), &request).expect("handover");
        while unit.handovers_logged() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Up once it answers again.
        let _ = unit.pid();
        handover_took = began.elapsed();
    });
    assert_eq!(unit.pid(), pid, "the pid changed");
    assert_eq!(unit.handovers_logged(), 1);
    let _ = unit.lucky(&["daemon", "stop"]).status();
    let log = std::fs::read_to_string(unit.data_dir().join("lucky.log")).unwrap_or_default();
    let steps: Vec<&str> = log
        .lines()
        .filter(|l| {
            ["handover asked for", "handing over", "handed_over=true"]
                .iter()
                .any(|s| l.contains(s))
        })
        .collect();

    println!("{CALLERS} callers of `lucky kv get a`, two windows of {WINDOW:?}:");
    for (name, f) in [("no handover", &quiet), ("handover in the middle", &during)] {
        println!(
            "  {name:24} calls {:6}  failed {}  refused connections {}  longest call {:.1} ms",
            f.calls,
            f.failed,
            f.refused,
            f.longest.as_secs_f64() * 1000.0
        );
    }
    println!(
        "  handover: request to the new binary answering {:.1} ms; longest call ratio {:.2}x; throughput ratio {:.2}",
        handover_took.as_secs_f64() * 1000.0,
        during.longest.as_secs_f64() / quiet.longest.as_secs_f64().max(1e-9),
        during.calls as f64 / quiet.calls.max(1) as f64
    );
    println!("  the daemon's log of it:");
    for line in steps {
        println!("    {line}");
    }
}
