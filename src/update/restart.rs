//! Replacing the unit daemons that run the replaced binary, one after another.
//!
//! First choice, [`hand_over`]: the daemon execs the new binary in its own process once
//! its running hook has ended, and passes it its listening sockets (see
//! `daemon::handover`): same pid, no connection refused, no call failed.
//!
//! Fallback, for a daemon too old to know the request (and `--restart`): stop
//! (which waits for the hook in flight; `lucky hook` resends a hook refused meanwhile to
//! the next daemon), then start the new binary with the old daemon's environment, and wait
//! until it answers with the new version. The new daemon reads the unit's state from the
//! data dir, where the old one wrote it.

use crate::client::{self, ClientError};
use crate::protocol::{DaemonStatus, ErrorKind, Request, Response};
use crate::unit::UnitPaths;
use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running daemon of the binary being replaced.
pub(crate) struct RunningDaemon {
    pub(crate) paths: UnitPaths,
    pub(crate) pid: u32,
    pub(crate) version: String,
    pub(crate) running_hook: Option<String>,
    /// Its environment, read before it stops (DOCKER_HOST, LUCKY_LOG_LEVEL, …).
    env: Option<Vec<(OsString, OsString)>>,
    /// `lucky-<unit>.service` when systemd runs it (the installer's unit).
    systemd_unit: Option<String>,
}

/// The daemons to restart: the one `JUJU_UNIT_NAME` / `LUCKY_SOCKET` name, else every
/// socket in /run/lucky; only those whose executable is `exe`. Others are reported.
pub(crate) fn find_daemons(exe: &Path, say: &mut dyn FnMut(String)) -> Vec<RunningDaemon> {
    let explicit =
        std::env::var_os("LUCKY_SOCKET").is_some() || std::env::var_os("JUJU_UNIT_NAME").is_some();
    let sockets: Vec<PathBuf> = if explicit {
        match UnitPaths::from_env() {
            Ok(p) => vec![p.socket],
            Err(_) => vec![],
        }
    } else {
        std::fs::read_dir("/run/lucky")
            .map(|dir| {
                let mut v: Vec<PathBuf> = dir
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "sock"))
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default()
    };
    let mut found = Vec::new();
    for socket in sockets {
        let probe = UnitPaths {
            unit: socket.display().to_string(),
            socket: socket.clone(),
            data_dir: PathBuf::new(),
        };
        let status = match status_of(&probe) {
            Ok(s) => s,
            Err(ClientError::NotRunning { .. }) => {
                say(format!(
                    "daemon: none running at {} (nothing to restart)",
                    socket.display()
                ));
                continue;
            }
            Err(e) => {
                say(format!(
                    "daemon: cannot ask the daemon at {}: {e} (not restarted)",
                    socket.display()
                ));
                continue;
            }
        };
        let proc_dir = PathBuf::from(format!("/proc/{}", status.pid));
        let its_exe = std::fs::read_link(proc_dir.join("exe")).ok();
        if its_exe.as_deref() != Some(exe) {
            say(format!(
                "daemon for unit {}: runs {}, not {}: not restarted",
                status.unit,
                its_exe
                    .as_deref()
                    .map_or("an unknown binary".into(), |p| p.display().to_string()),
                exe.display()
            ));
            continue;
        }
        let env = std::fs::read(proc_dir.join("environ")).ok().map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|kv| !kv.is_empty())
                .filter_map(|kv| {
                    let eq = kv.iter().position(|b| *b == b'=')?;
                    Some((
                        OsString::from_vec(kv[..eq].to_vec()),
                        OsString::from_vec(kv[eq + 1..].to_vec()),
                    ))
                })
                .collect()
        });
        let unit_file = format!(
            "lucky-{}.service",
            crate::unit::safe_unit_name(&status.unit)
        );
        let systemd_unit = std::fs::read_to_string(proc_dir.join("cgroup"))
            .ok()
            .filter(|cg| cg.lines().any(|l| l.ends_with(&format!("/{unit_file}"))))
            .map(|_| unit_file);
        found.push(RunningDaemon {
            paths: UnitPaths {
                unit: status.unit.clone(),
                socket: PathBuf::from(&status.socket),
                data_dir: PathBuf::from(&status.data_dir),
            },
            pid: status.pid,
            version: status.version,
            running_hook: status.running_hook,
            env,
            systemd_unit,
        });
    }
    found
}

fn status_of(paths: &UnitPaths) -> Result<DaemonStatus, ClientError> {
    match client::request(paths, &Request::DaemonStatus)? {
        Response::DaemonStatus(s) => Ok(s),
        other => Err(ClientError::Start(format!(
            "unexpected answer to daemon status: {other:?}"
        ))),
    }
}

/// How a daemon was replaced.
pub(crate) enum Replaced {
    Done,
    /// The daemon does not know the handover request (older than this binary's): the
    /// caller restarts it instead.
    TooOld,
}

/// Asks `daemon` to exec `new_exe` in its place, then waits until it answers with
/// `new_version` from the same pid.
pub(crate) fn hand_over(
    daemon: &RunningDaemon,
    new_exe: &Path,
    new_version: &str,
    say: &mut dyn FnMut(String),
) -> Result<Replaced> {
    let unit = &daemon.paths.unit;
    if let Some(hook) = &daemon.running_hook {
        say(format!(
            "daemon for unit {unit}: waiting for hook {hook} to finish"
        ));
    }
    let request = Request::Handover {
        exe: new_exe.display().to_string(),
    };
    let started = Instant::now();
    match client::request(&daemon.paths, &request) {
        Ok(_) => {}
        Err(ClientError::Daemon(e)) if e.kind == ErrorKind::Protocol => {
            return Ok(Replaced::TooOld);
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("cannot hand the daemon for unit {unit} over to the new binary")
            });
        }
    }
    // It answered once it stopped accepting: whoever answers next is the new binary,
    // unless the exec failed and the old one serves on.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match status_of(&daemon.paths) {
            Ok(status) if status.version == new_version && status.pid == daemon.pid => {
                say(format!(
                    "daemon for unit {unit}: handed over from {} to {} (pid {}, {} ms from the request to the new binary answering)",
                    daemon.version,
                    status.version,
                    status.pid,
                    started.elapsed().as_millis()
                ));
                return Ok(Replaced::Done);
            }
            Ok(status) => bail!(
                "the daemon for unit {unit} did not take the new binary: it runs lucky {} (pid {}), see its log (lucky.log in {}); run `lucky self-update --restart` to restart it instead",
                status.version,
                status.pid,
                daemon.paths.data_dir.display()
            ),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => bail!("the daemon for unit {unit} does not answer after the handover: {e}"),
        }
    }
}

/// Stops `daemon` (after its running hook) and starts `new_exe` in its place. Returns the
/// new daemon's status once it answers.
pub(crate) fn restart(
    daemon: &RunningDaemon,
    new_exe: &Path,
    new_version: &str,
    say: &mut dyn FnMut(String),
) -> Result<DaemonStatus> {
    let unit = &daemon.paths.unit;
    if let Some(hook) = &daemon.running_hook {
        say(format!(
            "daemon for unit {unit}: waiting for hook {hook} to finish"
        ));
    }
    match client::connect(&daemon.paths) {
        Ok(stream) => {
            client::call(stream, &Request::DaemonStop, |_, _| {})
                .with_context(|| format!("cannot stop the daemon for unit {unit}"))?;
        }
        Err(ClientError::NotRunning { .. }) => {}
        Err(e) => return Err(e).context(format!("cannot reach the daemon for unit {unit}")),
    }
    // Gone once its pid has exited (it may still answer while its last hook runs).
    let proc_dir = PathBuf::from(format!("/proc/{}", daemon.pid));
    let deadline = Instant::now() + client::STOP_LIMIT;
    while proc_dir.exists() && !is_zombie(&proc_dir) {
        if Instant::now() >= deadline {
            bail!(
                "the daemon for unit {unit} (pid {}) is still running after {} s: its hook has not ended; run `lucky self-update` again once it has",
                daemon.pid,
                client::STOP_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    say(format!(
        "daemon for unit {unit}: stopped {} (pid {})",
        daemon.version, daemon.pid
    ));
    let how = start(daemon, new_exe)?;
    // Wait for whoever started it (us, systemd, or a hook that came in meanwhile).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match status_of(&daemon.paths) {
            Ok(status) if status.version == new_version => {
                say(format!(
                    "daemon for unit {unit}: started {} (pid {}, {how})",
                    status.version, status.pid
                ));
                return Ok(status);
            }
            Ok(status) => bail!(
                "the daemon for unit {unit} reports version {} after the restart, not {new_version}",
                status.version
            ),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => bail!("the new daemon for unit {unit} does not answer: {e}"),
        }
    }
}

fn is_zombie(proc_dir: &Path) -> bool {
    std::fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Starts the new daemon: through systemd when systemd ran the old one, otherwise with
/// `<new binary> daemon start` in the old daemon's environment.
fn start(daemon: &RunningDaemon, new_exe: &Path) -> Result<String> {
    if let Some(service) = &daemon.systemd_unit {
        let ok = Command::new("systemctl")
            .args(["start", service])
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(format!("systemctl start {service}"));
        }
    }
    match client::start_daemon_with(new_exe, daemon.env.as_deref(), &daemon.paths) {
        // A hook that came in meanwhile may have started it already: that is fine.
        Ok(_) | Err(ClientError::AlreadyRunning(_)) => {}
        Err(e) => bail!(
            "cannot start the new daemon for unit {}: {e}",
            daemon.paths.unit
        ),
    }
    Ok(format!("{} daemon start", new_exe.display()))
}
