//! Per-unit cost benchmarks: every figure is a ratio or a difference measured side by
//! side in this one run, never an absolute time checked against a threshold.
//!
//!   bench/run.sh            # builds the static release binary and runs this
//!
//! LUCKY_BENCH_BIN names the lucky binary (default: the x86_64 musl release build),
//! LUCKY_BENCH_NOOP a static no-op binary to compare one exec against, and
//! LUCKY_BENCH_FLOOR the static C client of bench/floor.c (one exec, one round trip), and
//! LUCKY_BENCH_SERVER the C server of bench/server.c (the least a daemon can do).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Bench {
    lucky: PathBuf,
    noop: PathBuf,
    /// bench/floor.c: one exec and one round trip to the daemon, nothing else.
    floor: PathBuf,
    /// bench/server.c: the least a server can do to answer the floor client.
    server: PathBuf,
    dir: tempfile::TempDir,
}

impl Bench {
    fn cmd(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", "bench/0")
            .env("LUCKY_SOCKET", self.dir.path().join("lucky.sock"))
            .env("LUCKY_DATA_DIR", self.dir.path().join("data"))
            .env("JUJU_CHARM_DIR", self.dir.path().join("charm"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    fn lucky(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(&self.lucky);
        cmd.args(args);
        cmd
    }

    fn daemon_pid(&self) -> u32 {
        let out = self
            .lucky(&["daemon", "status"])
            .stdout(Stdio::piped())
            .output()
            .expect("status");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("pid: ")?.trim().parse().ok())
            .expect("daemon pid")
    }
}

/// bench/server.c, stopped however the benchmark ends.
struct ServerGuard(std::process::Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("spawn");
    assert!(status.success(), "{cmd:?} failed");
}

/// Median time of `rounds` runs of each command, interleaved one for one so that drift of
/// the machine affects all sides alike. Medians, not means: on a shared 2-core machine a
/// few runs wait for the CPU, and a mean would be theirs.
fn interleaved(rounds: u32, commands: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    let mut times = vec![Vec::new(); commands.len()];
    for _ in 0..rounds {
        for (command, times) in commands.iter_mut().zip(&mut times) {
            let t = Instant::now();
            command();
            times.push(t.elapsed());
        }
    }
    times.into_iter().map(median).collect()
}

fn side_by_side(rounds: u32, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> (Duration, Duration) {
    let times = interleaved(rounds, &mut [a, b]);
    (times[0], times[1])
}

/// Bytes as the C helpers take them (bench/floor.c, bench/server.c).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Resident memory, whole and split: file-backed pages are the binary's code, shared with
/// the page cache; anonymous pages are what the daemon itself holds.
fn rss_parts(pid: u32) -> String {
    let rss = vm_rss_kib(pid);
    format!(
        "{rss} KiB ({:.2} MiB; {} KiB anonymous, {} KiB file-backed)",
        rss as f64 / 1024.0,
        status_kib(pid, "RssAnon:"),
        status_kib(pid, "RssFile:")
    )
}

fn vm_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// `n` commands (`lucky kv get k`, or the floor client) started at once: each one's success and time, and the wall.
fn concurrent_calls(
    n: usize,
    make: &mut dyn FnMut() -> Command,
) -> (Vec<(bool, Duration)>, Duration) {
    let started = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = make();
            std::thread::spawn(move || {
                let t = Instant::now();
                let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
                (ok, t.elapsed())
            })
        })
        .collect();
    let results = handles
        .into_iter()
        .map(|h| h.join().expect("join"))
        .collect();
    (results, started.elapsed())
}

/// [`concurrent_calls`] while another client runs `writes` one after another; also how
/// many writes succeeded meanwhile.
fn calls_while_writing(
    b: &Bench,
    mut writes: Vec<Command>,
) -> ((Vec<(bool, Duration)>, Duration), u32) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut done = 0u32;
            for cmd in &mut writes {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if cmd.status().map(|s| s.success()).unwrap_or(false) {
                    done += 1;
                }
            }
            done
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let calls = concurrent_calls(200, &mut || b.lucky(&["kv", "get", "k"]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    (calls, writer.join().expect("join"))
}

fn print_concurrent(what: &str, mut results: Vec<(bool, Duration)>, wall: Duration) {
    let failed = results.iter().filter(|(ok, _)| !ok).count();
    results.sort_by_key(|(_, d)| *d);
    let p50 = results[results.len() / 2].1;
    let p99 = results[results.len() * 99 / 100].1;
    println!(
        "{what}: {failed} failed, p50 {} p99 {}: p99/p50 {:.2}, wall {}",
        ms(p50),
        ms(p99),
        p99.as_secs_f64() / p50.as_secs_f64(),
        ms(wall)
    );
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lucky = std::env::var_os("LUCKY_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/x86_64-unknown-linux-musl/release/lucky"));
    let noop = std::env::var_os("LUCKY_BENCH_NOOP")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/noop"));
    let floor = std::env::var_os("LUCKY_BENCH_FLOOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/floor"));
    let server = std::env::var_os("LUCKY_BENCH_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/server"));
    for (what, path) in [
        ("lucky", &lucky),
        ("no-op", &noop),
        ("floor", &floor),
        ("server", &server),
    ] {
        assert!(
            path.exists(),
            "no {what} binary at {}: run bench/run.sh",
            path.display()
        );
    }
    let b = Bench {
        lucky,
        noop,
        floor,
        server,
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let charm = b.dir.path().join("charm");
    std::fs::create_dir_all(charm.join("host_scripts")).expect("mkdir");
    for name in ["a.sh", "b.sh", "c.sh"] {
        script(&charm.join("host_scripts"), name, ":");
    }
    std::fs::write(
        charm.join("lucky.yaml"),
        "hooks:\n  install:\n    - host-script: a.sh\n    - host-script: b.sh\n    - host-script: c.sh\n",
    )
    .expect("lucky.yaml");

    let size = std::fs::metadata(&b.lucky).expect("binary").len();
    let interp = Command::new("readelf")
        .args(["-l", &b.lucky.to_string_lossy()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("INTERP"))
        .unwrap_or(false);
    println!(
        "release binary: {size} bytes ({:.2} MiB), {}",
        size as f64 / 1048576.0,
        if interp { "DYNAMIC" } else { "static" }
    );

    // First hook with no daemon running vs with one running.
    let rounds = 20;
    let (mut cold, mut warm) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let _ = b.lucky(&["daemon", "stop"]).status();
        let t = Instant::now();
        run(&mut b.lucky(&["hook", "install"]));
        cold += t.elapsed();
        let t = Instant::now();
        run(&mut b.lucky(&["hook", "install"]));
        warm += t.elapsed();
    }
    let (cold, warm) = (cold / rounds, warm / rounds);
    println!(
        "first hook, no daemon running: {} vs {} with one: +{}",
        ms(cold),
        ms(warm),
        ms(cold.saturating_sub(warm))
    );

    let pid = b.daemon_pid();
    std::thread::sleep(Duration::from_millis(300));
    println!("daemon RSS 0.3 s after its last hook: {}", rss_parts(pid));

    run(&mut b.lucky(&["kv", "set", "k=v"]));
    let (call, noop) = side_by_side(
        1000,
        &mut || run(&mut b.lucky(&["kv", "get", "k"])),
        &mut || run(&mut b.cmd(&b.noop)),
    );
    println!(
        "script call `lucky kv get k`: {} vs static no-op exec {}: {:.2}x (target <= 1.3x)",
        ms(call),
        ms(noop),
        call.as_secs_f64() / noop.as_secs_f64()
    );
    // The same hello and request, sent by the smallest static client there is
    // (bench/floor.c): what any call the daemon answers costs, exec and round trip.
    let mut frames = Vec::new();
    let hello = lucky::protocol::Hello {
        protocol: lucky::protocol::PROTOCOL_VERSION,
        version: "bench".into(),
        context: None,
    };
    lucky::protocol::frame::encode_into(&mut frames, &hello).expect("hello");
    let request = lucky::protocol::Request::KvGet {
        key: Some("k".into()),
    };
    lucky::protocol::frame::encode_into(&mut frames, &request).expect("request");
    let frames_hex = hex(&frames);
    let floor_client = |b: &Bench| {
        let mut cmd = b.cmd(&b.floor);
        cmd.env("LUCKY_FLOOR_FRAMES", &frames_hex);
        cmd
    };
    let (call, floor) = side_by_side(
        1000,
        &mut || run(&mut b.lucky(&["kv", "get", "k"])),
        &mut || run(&mut floor_client(&b)),
    );
    println!(
        "script call `lucky kv get k`: {} vs the same round trip from a static C client {}: {:.2}x",
        ms(call),
        ms(floor),
        call.as_secs_f64() / floor.as_secs_f64()
    );

    // As a script makes them: 200 calls in a shell loop, against the same loop of no-op
    // execs (and of the floor client). The shell's own fork per call is in both sides.
    let shell_loop = |program: &Path, args: &str| {
        let line = format!(
            "i=0; while [ $i -lt 200 ]; do {} {args} || exit 1; i=$((i+1)); done",
            program.display()
        );
        let mut cmd = b.cmd(Path::new("/bin/sh"));
        cmd.env("LUCKY_FLOOR_FRAMES", &frames_hex)
            .args(["-c", &line]);
        cmd
    };
    // The floor of a call on this machine: the floor client answered by bench/server.c, the
    // least any daemon can do (read two frames, write one). Neither lucky's client nor its
    // daemon can make a call cheaper than this pair.
    let mut answer = Vec::new();
    lucky::protocol::frame::encode_into(
        &mut answer,
        &lucky::protocol::Reply::Done(lucky::protocol::Response::Value("v".into())),
    )
    .expect("answer");
    let server_socket = b.dir.path().join("server.sock");
    let mut server = ServerGuard(
        b.cmd(&b.server)
            .arg(&server_socket)
            .env("LUCKY_FLOOR_ANSWER", hex(&answer))
            .spawn()
            .expect("bench/server.c"),
    );
    while !server_socket.exists() {
        assert!(
            server.0.try_wait().expect("server").is_none(),
            "bench/server.c exited"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let floor_pair_loop = || {
        let mut cmd = shell_loop(&b.floor, "");
        cmd.env("LUCKY_SOCKET", &server_socket);
        cmd
    };
    let loops = |rounds| {
        interleaved(
            rounds,
            &mut [
                &mut || run(&mut shell_loop(&b.lucky, "kv get k")),
                &mut || run(&mut shell_loop(&b.noop, "")),
                &mut || run(&mut shell_loop(&b.floor, "")),
                &mut || run(&mut floor_pair_loop()),
            ],
        )
    };
    let print_loops = |times: &[Duration], what: &str| {
        let (call, noop, floor, pair) = (times[0], times[1], times[2], times[3]);
        let ratio = |a: Duration| a.as_secs_f64() / noop.as_secs_f64();
        println!(
            "200 `lucky kv get k` in a shell loop{what}: {} a call vs {} a no-op exec: {:.2}x \
             (target <= 1.3x); the floor client to the daemon: {:.2}x; the floor client to \
             bench/server.c (this machine's floor): {:.2}x; lucky vs the floor client: {:.2}x",
            ms(call / 200),
            ms(noop / 200),
            ratio(call),
            ratio(floor),
            ratio(pair),
            call.as_secs_f64() / floor.as_secs_f64()
        );
    };
    print_loops(&loops(30), "");
    // The same with every process on one CPU: what is left when no call waits for the other
    // CPU to wake (a cross-CPU wake-up is dear in a virtual machine).
    // The CPUs this benchmark may use (`taskset -c -p`: "pid N's current affinity list: 0,1").
    let allowed = Command::new("taskset")
        .args(["-c", "-p", &std::process::id().to_string()])
        .output()
        .ok()
        .and_then(|o| {
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            Some(out.rsplit_once(": ")?.1.trim().to_owned())
        })
        .unwrap_or_default();
    let first = allowed
        .split([',', '-'])
        .next()
        .unwrap_or_default()
        .to_owned();
    if !first.is_empty() && first != allowed {
        let pin = |pid: u32, cpus: &str| {
            run(Command::new("taskset")
                .args(["-a", "-c", "-p", cpus, &pid.to_string()])
                .stdout(Stdio::null()));
        };
        let pids = [std::process::id(), pid, server.0.id()];
        for p in pids {
            pin(p, &first);
        }
        print_loops(&loops(30), " (all on one CPU)");
        for p in pids {
            pin(p, &allowed);
        }
    }
    drop(server);

    let scripts: Vec<PathBuf> = ["a.sh", "b.sh", "c.sh"]
        .iter()
        .map(|n| charm.join("host_scripts").join(n))
        .collect();
    let shell_line = scripts
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let (hook, direct) = side_by_side(
        200,
        &mut || run(&mut b.lucky(&["hook", "install"])),
        &mut || run(b.cmd(Path::new("/bin/sh")).args(["-c", &shell_line])),
    );
    println!(
        "hook with 3 trivial host scripts: {} vs the same scripts from sh {}: {:.2}x (target <= 1.2x)",
        ms(hook),
        ms(direct),
        hook.as_secs_f64() / direct.as_secs_f64()
    );

    // 200 concurrent script calls.
    let (results, wall) = concurrent_calls(200, &mut || b.lucky(&["kv", "get", "k"]));
    print_concurrent("200 concurrent calls (target p99/p50 <= 3)", results, wall);
    // The same from the floor client: what 200 processes at once cost on this machine.
    let (results, wall) = concurrent_calls(200, &mut || floor_client(&b));
    print_concurrent(
        "200 concurrent floor-client calls, for scale",
        results,
        wall,
    );

    // The same while another client keeps editing the container state: each edit is a
    // durable write (two fsyncs), made off the daemon's event loop, so readers go on.
    let edits = (0..2000)
        .map(|i| b.lucky(&["container", "env", "set", &format!("BENCH={i}")]))
        .collect();
    let ((results, wall), edits) = calls_while_writing(&b, edits);
    print_concurrent(
        &format!("200 concurrent calls while container edits write ({edits} edits)"),
        results,
        wall,
    );
    let _ = b.lucky(&["container", "delete"]).status();

    // And while one client keeps rewriting a large kv value (60 000 bytes; each set
    // rewrites and fsyncs the whole store, off the event loop).
    let big = format!("big={}", "x".repeat(60_000));
    let sets = (0..2000).map(|_| b.lucky(&["kv", "set", &big])).collect();
    let ((results, wall), sets) = calls_while_writing(&b, sets);
    print_concurrent(
        &format!("200 concurrent calls while a 60 000-byte kv value is rewritten ({sets} sets)"),
        results,
        wall,
    );
    let _ = b.lucky(&["kv", "set", "big="]).status();

    // Memory growth over 10 000 calls, made straight over the socket to be quick.
    let paths = lucky::unit::UnitPaths::resolve(
        Some("bench/0".into()),
        Some(b.dir.path().join("lucky.sock")),
        Some(b.dir.path().join("data")),
    )
    .expect("paths");
    let before = vm_rss_kib(pid);
    for i in 0..10_000 {
        let stream = lucky::client::connect(&paths).expect("connect");
        let request = if i % 10 == 0 {
            lucky::protocol::Request::KvSet {
                pairs: vec![("k".into(), Some(format!("v{i}")))],
            }
        } else {
            lucky::protocol::Request::KvGet {
                key: Some("k".into()),
            }
        };
        lucky::client::call(stream, &request, |_, _| {}).expect("call");
    }
    let after = vm_rss_kib(pid);
    println!(
        "daemon RSS after 10 000 calls: {after} KiB (growth {} KiB, target < 1024; {} KiB anonymous)",
        after as i64 - before as i64,
        status_kib(pid, "RssAnon:")
    );
    // An idle daemon (no client for 3 s: src/daemon/idle.rs) gives back its code pages
    // and trims its heap.
    std::thread::sleep(Duration::from_secs(5));
    println!(
        "idle daemon RSS after those calls and 5 s without a client: {} (target <= 1.5 MiB)",
        rss_parts(pid)
    );
    let _ = std::io::stdout().flush();
    let _ = b.lucky(&["daemon", "stop"]).status();
}
