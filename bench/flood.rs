//! The daemon's peak memory under hostile clients, against its own idle figure measured
//! in the same run (ratios, never thresholds):
//!
//! 1. 640 stalled connections (every slot of both sockets: 512 host, 128 container), each
//!    sending a hello and then a request header claiming the 4 MiB maximum and 16 bytes of
//!    it. Allocating claimed lengths up front cost 2.5 GiB here.
//! 2. A container client doing its worst within the limits: every container slot sends
//!    a frame of the container socket's largest size (1.06 MiB) but its last byte (the
//!    daemon must hold what arrived), while the kv store is filled to its 1 MiB quota.
//! 3. `daemon status` round trips while a client rewrites the full 1 MiB kv store in a
//!    loop, against the same round trips with no writer: state writes (two fsyncs each)
//!    run off the daemon's event loop.
//!
//!   cargo bench --bench flood

use lucky::protocol::frame;
use lucky::protocol::{Hello, PROTOCOL_VERSION, Reply, Request};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Unit {
    dir: tempfile::TempDir,
}

impl Unit {
    fn lucky(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucky"));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", "flood/0")
            .env("LUCKY_SOCKET", self.socket())
            .env("LUCKY_DATA_DIR", self.dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("lucky.sock")
    }
    fn container_socket(&self) -> PathBuf {
        self.dir.path().join("data/container-run/lucky.sock")
    }
    fn pid(&self) -> u32 {
        let out = self.lucky(&["daemon", "status"]).output().expect("status");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("pid: ")?.trim().parse().ok())
            .expect("daemon pid")
    }
}

/// (VmRSS, VmHWM) in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn hello(socket: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(socket).expect("connect");
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        version: "bench".into(),
        context: None,
    };
    frame::write_blocking(&mut stream, &hello).expect("hello");
    stream
}

fn call(socket: &Path, request: &Request) {
    let mut stream = hello(socket);
    frame::write_blocking(&mut stream, request).expect("request");
    loop {
        match frame::read_blocking::<Reply>(&mut stream).expect("reply") {
            Reply::Output { .. } => {}
            _ => return,
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Median of `n` `daemon status` round trips on fresh connections.
fn status_round_trips(socket: &Path, n: usize) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            call(socket, &Request::DaemonStatus);
            started.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

fn main() {
    let unit = Unit {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let started = unit
        .lucky(&["daemon", "start"])
        .status()
        .expect("daemon start");
    assert!(started.success(), "lucky daemon start failed");
    let pid = unit.pid();
    std::thread::sleep(Duration::from_millis(200));
    let (idle, _) = memory(pid);
    println!("idle daemon: RSS {:.1} MiB", mib(idle));

    // 1. Stalled connections claiming 4 MiB each.
    let mut held = Vec::new();
    for (socket, count) in [(unit.socket(), 512), (unit.container_socket(), 128)] {
        for _ in 0..count {
            let mut stream = hello(&socket);
            let mut partial = frame::MAX_FRAME_LEN.to_be_bytes().to_vec();
            partial.extend_from_slice(&[0x81; 16]);
            stream.write_all(&partial).expect("partial");
            held.push(stream);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let (rss, hwm) = memory(pid);
    println!(
        "640 stalled connections claiming 4 MiB each (2560 MiB claimed): RSS {:.1} MiB, peak {:.1} MiB = {:.2}x idle",
        mib(rss),
        mib(hwm),
        hwm as f64 / idle as f64
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(500));

    // 2. A container client at the limits: kv full, every container slot holding a
    // 4 MiB frame short of its last byte.
    let value = "v".repeat(60 * 1024);
    for i in 0..17 {
        call(
            &unit.socket(),
            &Request::KvSet {
                pairs: vec![(format!("k{i}"), Some(value.clone()))],
            },
        );
    }
    let mut held = Vec::new();
    let body = vec![0x81u8; frame::MAX_CONTAINER_FRAME_LEN as usize - 1];
    for _ in 0..128 {
        let mut stream = hello(&unit.container_socket());
        stream
            .write_all(&frame::MAX_CONTAINER_FRAME_LEN.to_be_bytes())
            .expect("header");
        stream.write_all(&body).expect("body");
        held.push(stream);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (rss, hwm) = memory(pid);
    println!(
        "container client at the limits (kv full, 128 largest container frames less a byte): RSS {:.1} MiB, peak {:.1} MiB = {:.2}x idle",
        mib(rss),
        mib(hwm),
        hwm as f64 / idle as f64
    );
    drop(held);

    // 3. `daemon status` behind full-store kv writes.
    let quiet = status_round_trips(&unit.socket(), 200);
    let socket = unit.socket();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0u64;
            while n < 50 && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                call(
                    &socket,
                    &Request::KvSet {
                        pairs: vec![("k0".into(), Some(format!("{n}{}", "w".repeat(60_000))))],
                    },
                );
                n += 1;
            }
            n
        })
    };
    // Round trips for as long as the writer runs.
    let mut times = Vec::new();
    while !writer.is_finished() {
        let started = Instant::now();
        call(&unit.socket(), &Request::DaemonStatus);
        times.push(started.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    times.sort();
    let busy = times.get(times.len() / 2).copied().unwrap_or_default();
    let writes = writer.join().expect("writer");
    println!(
        "daemon status median round trip: {:?} quiet vs {:?} ({} round trips) during {writes} full-store kv writes ({:.2}x)",
        quiet,
        busy,
        times.len(),
        busy.as_secs_f64() / quiet.as_secs_f64()
    );
    let _ = unit.lucky(&["daemon", "stop"]).status();
}
