//! Health checks (lucky.yaml `checks:`): each check probes on its own timer between
//! hooks, one probe in flight at a time, each probe bounded by the check's timeout and its
//! output by [`OUTPUT_LIMIT`]. After `threshold` failures in a row a check is down; one
//! success brings it up again.
//!
//! When a check that feeds a named status (`status: health`) changes between up and
//! down, that status is stored and Juju is given the unit status through a `juju-exec`
//! context, as cron jobs get theirs: the command calls back into the daemon
//! (`lucky check report --token TOKEN`), which sets it in that context. A check with
//! `restart-container` restarts that container when it goes down.
//!
//! States live in memory: after a daemon restart every check is `unknown` until its
//! first probe (the status stored for Juju stays as it was until then).

use super::Daemon;
use crate::charm::checks::{Check, Place, Probe};
use crate::protocol::{LogLevel, WorkloadStatus};
use crate::script::HookContext;
use crate::state::status::OwnedStatus;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;

/// Output of a probe kept for its failure message (the rest is read and dropped).
pub(crate) const OUTPUT_LIMIT: usize = 4096;
/// Failures kept per check, newest last.
pub(crate) const KEPT_FAILURES: usize = 5;
/// Longest failure message kept.
const MAX_MESSAGE: usize = 512;

/// What `lucky check list` / `show` print for one check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CheckState {
    pub(crate) name: String,
    /// `http`, `tcp` or `exec`.
    pub(crate) kind: String,
    /// What is probed: the URL, `host:port` or the command (and where).
    pub(crate) target: String,
    /// `unknown` (no probe yet), `up` or `down`.
    pub(crate) state: String,
    /// Failures in a row now.
    pub(crate) failures: u32,
    pub(crate) threshold: u32,
    pub(crate) period_ms: u64,
    pub(crate) timeout_ms: u64,
    /// The named unit status it feeds.
    pub(crate) status: Option<String>,
    pub(crate) restart_container: Option<String>,
    pub(crate) probes: u64,
    /// Unix milliseconds of the last probe's end.
    pub(crate) last_probe_ms: Option<i64>,
    /// The last failures, oldest first.
    pub(crate) last_failures: Vec<Failure>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Failure {
    /// Unix milliseconds.
    pub(crate) at_ms: i64,
    pub(crate) message: String,
}

/// The daemon's checks: their states, the report tokens handed to `juju-exec`, and what
/// the next report logs.
#[derive(Default)]
pub(crate) struct Checks {
    states: Mutex<BTreeMap<String, CheckState>>,
    failures: Mutex<BTreeMap<String, VecDeque<Failure>>>,
    pending: Mutex<HashSet<String>>,
    /// Lines for `juju-log` with the next report (bounded).
    logs: Mutex<VecDeque<(LogLevel, String)>>,
    report_wanted: tokio::sync::Notify,
    /// Wakes the supervisor to re-read lucky.yaml (a hook ran).
    pub(crate) changed: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl Checks {
    /// Every check's state, by name.
    pub(crate) fn list(&self) -> Vec<CheckState> {
        let failures = lock(&self.failures);
        lock(&self.states)
            .values()
            .map(|s| {
                let mut s = s.clone();
                s.last_failures = failures
                    .get(&s.name)
                    .map(|f| f.iter().cloned().collect())
                    .unwrap_or_default();
                s
            })
            .collect()
    }

    /// Whether `token` is a report the daemon asked `juju-exec` for (it is used once).
    pub(crate) fn take_report_token(&self, token: &str) -> bool {
        lock(&self.pending).remove(token)
    }
}

fn describe(check: &Check) -> (&'static str, String) {
    match &check.probe {
        Probe::Http { url, status } => ("http", format!("GET {url} → {status}")),
        Probe::Tcp { address } => ("tcp", address.clone()),
        Probe::Exec { command, place } => {
            let shown = match command.as_slice() {
                [sh, c, script] if sh == "/bin/sh" && c == "-c" => script.clone(),
                _ => command.join(" "),
            };
            let place = match place {
                Place::Host => "on the host".to_string(),
                Place::Container(name) => format!(
                    "in container {}",
                    name.as_deref()
                        .unwrap_or(crate::docker::spec::DEFAULT_CONTAINER)
                ),
            };
            ("exec", format!("{shown} ({place})"))
        }
    }
}

fn fresh_state(check: &Check) -> CheckState {
    let (kind, target) = describe(check);
    CheckState {
        name: check.name.clone(),
        kind: kind.into(),
        target,
        state: "unknown".into(),
        failures: 0,
        threshold: check.threshold,
        period_ms: u64::try_from(check.period.as_millis()).unwrap_or(u64::MAX),
        timeout_ms: u64::try_from(check.timeout.as_millis()).unwrap_or(u64::MAX),
        status: check.status.clone(),
        restart_container: check.restart_container.clone(),
        probes: 0,
        last_probe_ms: None,
        last_failures: Vec::new(),
    }
}

/// The checks to run now: none while the unit is stopped or before a hook told us the
/// charm folder.
fn plan(daemon: &Daemon) -> Vec<Check> {
    let Some(charm_dir) = daemon
        .state
        .cron
        .read(|c| (!c.stopped).then(|| c.charm_dir.clone()).flatten())
    else {
        return Vec::new();
    };
    match daemon.lucky_yaml.load(&charm_dir) {
        Ok(y) => y.checks.clone(),
        Err(e) => {
            tracing::warn!("health checks not run: {e}");
            Vec::new()
        }
    }
}

/// The supervisor: starts a task per check, re-plans after each hook (lucky.yaml may have
/// changed), and runs until the daemon stops.
pub(crate) async fn run_supervisor(daemon: Arc<Daemon>) {
    let reporter = tokio::spawn(run_reporter(Arc::clone(&daemon)));
    let mut running: BTreeMap<String, (Check, tokio::task::JoinHandle<()>)> = BTreeMap::new();
    loop {
        let wanted = plan(&daemon);
        let names: HashSet<&str> = wanted.iter().map(|c| c.name.as_str()).collect();
        running.retain(|name, (check, task)| {
            let keep = names.contains(name.as_str()) && wanted.iter().any(|w| w == check);
            if !keep {
                task.abort();
            }
            keep
        });
        {
            let mut states = lock(&daemon.checks.states);
            states.retain(|name, _| names.contains(name.as_str()));
            lock(&daemon.checks.failures).retain(|name, _| names.contains(name.as_str()));
            for check in &wanted {
                if !running.contains_key(&check.name) {
                    states.insert(check.name.clone(), fresh_state(check));
                }
            }
        }
        for check in wanted {
            if !running.contains_key(&check.name) {
                let task = tokio::spawn(run_check(Arc::clone(&daemon), check.clone()));
                running.insert(check.name.clone(), (check, task));
            }
        }
        tokio::select! {
            () = daemon.checks.changed.notified() => {}
            () = daemon.shutdown_requested() => break,
        }
    }
    for (_, (_, task)) in running {
        task.abort();
    }
    reporter.abort();
}

async fn run_check(daemon: Arc<Daemon>, check: Check) {
    loop {
        let outcome = match tokio::time::timeout(check.timeout, probe(&daemon, &check)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no answer within the timeout ({}ms)",
                check.timeout.as_millis()
            )),
        };
        record(&daemon, &check, outcome).await;
        tokio::time::sleep(check.period).await;
    }
}

/// Stores a probe's outcome; on a change between up and down, feeds the check's status,
/// asks for a report to Juju and restarts the container the check names.
async fn record(daemon: &Arc<Daemon>, check: &Check, outcome: Result<(), String>) {
    let at = now_ms();
    let change = {
        let mut states = lock(&daemon.checks.states);
        let Some(state) = states.get_mut(&check.name) else {
            return;
        };
        state.probes += 1;
        state.last_probe_ms = Some(at);
        let before = state.state.clone();
        match &outcome {
            Ok(()) => {
                state.failures = 0;
                state.state = "up".into();
            }
            Err(message) => {
                state.failures = state.failures.saturating_add(1);
                let message = crate::juju::args::truncated(message, MAX_MESSAGE).to_string();
                let mut failures = lock(&daemon.checks.failures);
                let kept = failures.entry(check.name.clone()).or_default();
                kept.push_back(Failure { at_ms: at, message });
                while kept.len() > KEPT_FAILURES {
                    kept.pop_front();
                }
                if state.failures >= check.threshold {
                    state.state = "down".into();
                }
            }
        }
        (before != state.state).then(|| state.state.clone())
    };
    let Some(now) = change else {
        return;
    };
    let (level, line) = match (&outcome, now.as_str()) {
        (Err(why), "down") => (
            LogLevel::Warning,
            format!(
                "health check \"{}\" is down after {} failures: {why}",
                check.name, check.threshold
            ),
        ),
        _ => (
            LogLevel::Info,
            format!("health check \"{}\" is up", check.name),
        ),
    };
    tracing::info!("{line}");
    if let Some(status) = &check.status {
        feed_status(daemon, status);
        {
            let mut logs = lock(&daemon.checks.logs);
            logs.push_back((level, line));
            while logs.len() > 16 {
                logs.pop_front();
            }
        }
        daemon.checks.report_wanted.notify_one();
    }
    if now == "down"
        && let Some(container) = &check.restart_container
    {
        let result =
            crate::docker::exec::restart(&daemon.docker, &daemon.paths.unit, container).await;
        let message = match result {
            Ok(()) => format!("restarted container {container}"),
            Err(e) => e,
        };
        tracing::warn!(check = %check.name, "{message}");
        let mut failures = lock(&daemon.checks.failures);
        let kept = failures.entry(check.name.clone()).or_default();
        kept.push_back(Failure {
            at_ms: now_ms(),
            message,
        });
        while kept.len() > KEPT_FAILURES {
            kept.pop_front();
        }
    }
}

/// Sets the named status `owner` from the checks that feed it: blocked while any is down
/// (with their last failures), active otherwise.
fn feed_status(daemon: &Daemon, owner: &str) {
    let down: Vec<String> = {
        let states = lock(&daemon.checks.states);
        let failures = lock(&daemon.checks.failures);
        states
            .values()
            .filter(|s| s.status.as_deref() == Some(owner) && s.state == "down")
            .map(|s| {
                let last = failures
                    .get(&s.name)
                    .and_then(|f| f.back())
                    .map_or(String::new(), |f| format!(": {}", f.message));
                format!("health check \"{}\" failing{last}", s.name)
            })
            .collect()
    };
    let status = if down.is_empty() {
        OwnedStatus {
            status: WorkloadStatus::Active,
            message: String::new(),
            context: None,
        }
    } else {
        OwnedStatus {
            status: WorkloadStatus::Blocked,
            message: crate::juju::args::truncated(&down.join("; "), 1024).to_string(),
            context: None,
        }
    };
    if let Err(e) = daemon.state.statuses.update(|all| {
        all.insert(owner.to_string(), status);
    }) {
        tracing::warn!("cannot record the health check status: {e}");
    }
}

/// Gives Juju the statuses checks changed, one `juju-exec` at a time (changes while one
/// runs are taken by the next).
async fn run_reporter(daemon: Arc<Daemon>) {
    loop {
        daemon.checks.report_wanted.notified().await;
        if let Err(why) = exec_report(&daemon).await {
            // Stored anyway: the next hook gives it to Juju.
            tracing::warn!("cannot report the health checks' status to Juju now: {why}");
        }
    }
}

async fn exec_report(daemon: &Daemon) -> Result<(), String> {
    let token = crate::script::new_token();
    lock(&daemon.checks.pending).insert(token.clone());
    let ran =
        super::juju_exec::run_lucky(daemon, &format!("check report --token {token}"), false).await;
    lock(&daemon.checks.pending).remove(&token);
    ran
}

/// In the `juju-exec` context a report runs in: log what changed and give Juju the unit
/// status.
pub(crate) async fn report(daemon: &Daemon, context: &HookContext) {
    let lines: Vec<(LogLevel, String)> = lock(&daemon.checks.logs).drain(..).collect();
    for (level, line) in lines {
        if let Err(e) =
            crate::juju::exec(context, "juju-log", &["-l", level.juju_name(), "--", &line]).await
        {
            tracing::warn!("{e}");
        }
    }
    if let Err(e) = daemon
        .status_reporter
        .push(&daemon.state.statuses, context)
        .await
    {
        tracing::warn!("cannot set the unit status: {e}");
    }
}

async fn probe(daemon: &Daemon, check: &Check) -> Result<(), String> {
    match &check.probe {
        Probe::Tcp { address } => tokio::net::TcpStream::connect(address.as_str())
            .await
            .map(drop)
            .map_err(|e| format!("cannot connect to {address}: {e}")),
        Probe::Http { url, status } => http(url.clone(), *status, check.timeout).await,
        Probe::Exec {
            command,
            place: Place::Host,
        } => exec_host(command).await,
        Probe::Exec {
            command,
            place: Place::Container(name),
        } => {
            let (code, output) = crate::docker::exec::probe(
                &daemon.docker,
                &daemon.paths.unit,
                name.as_deref(),
                command.clone(),
                OUTPUT_LIMIT,
            )
            .await?;
            exit_outcome(code, &output)
        }
    }
}

async fn http(url: String, expected: u16, timeout: Duration) -> Result<(), String> {
    // Straight to the workload: no proxy, no redirect followed. Plain http over hyper;
    // https through the machine's curl (lucky carries no TLS stack), on a blocking thread
    // that curl's own time limit ends when the check's timeout fires.
    let got = if url.starts_with("http://") {
        crate::http::get(&url, 0, timeout).await?.status.as_u16()
    } else {
        use crate::http::tool::{Request, Tool};
        let request = Request {
            limit: 1 << 20,
            timeout,
            proxy: false,
            plain_http: false,
            fail: false,
        };
        let probe_url = url.clone();
        tokio::task::spawn_blocking(move || {
            let tool = Tool::on_path().map_err(|e| format!("GET {probe_url}: {e}"))?;
            tool.get(&probe_url, &request, &[])
                .map(|reply| reply.status)
                .map_err(|e| format!("GET {probe_url}: {e}"))
        })
        .await
        .map_err(|e| format!("the HTTP probe failed: {e}"))??
    };
    if got == expected {
        Ok(())
    } else {
        Err(format!("GET {url} answered {got}, expected {expected}"))
    }
}

async fn exec_host(command: &[String]) -> Result<(), String> {
    let Some((program, args)) = command.split_first() else {
        return Err("the command is empty".into());
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // A probe past its timeout is dropped: its process goes with it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (out, err) = tokio::join!(bounded(stdout), bounded(stderr));
    let status = child
        .wait()
        .await
        .map_err(|e| format!("cannot wait for {program}: {e}"))?;
    let mut output = out;
    output.extend_from_slice(&err);
    output.truncate(OUTPUT_LIMIT);
    match status.code() {
        Some(code) => exit_outcome(i64::from(code), &output),
        None => Err(format!("the command was killed ({status})")),
    }
}

/// The first [`OUTPUT_LIMIT`] bytes of a pipe; the rest is read and dropped.
async fn bounded(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

fn exit_outcome(code: i64, output: &[u8]) -> Result<(), String> {
    if code == 0 {
        return Ok(());
    }
    let text = String::from_utf8_lossy(output);
    let last = text.trim().lines().last().unwrap_or("").trim();
    if last.is_empty() {
        Err(format!("the command exited with status {code}"))
    } else {
        Err(format!("the command exited with status {code}: {last}"))
    }
}
