//! The per-unit daemon: owns the socket, runs hooks, serves script calls.

pub(crate) mod admission;
pub(crate) mod checks;
pub mod connection;
pub(crate) mod cron;
mod engine;
pub mod handlers;
pub(crate) mod handover;
pub(crate) mod history;
pub(crate) mod hook_runner;
pub(crate) mod idle;
mod juju_exec;
pub(crate) mod logging;
pub(crate) mod lucky_yaml_cache;
pub(crate) mod scripts;
pub(crate) mod server;

use crate::script::Contexts;
use crate::state::Store;
use crate::state::unit::UnitState;
use crate::unit::UnitPaths;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::sync::Notify;

/// Connections served at once on the host socket (hooks, host scripts, operators).
pub const MAX_HOST_CONNECTIONS: usize = 512;
/// Container scripts' connections served at once on the container socket (connections
/// without a script token are bounded apart: `admission`).
pub(crate) const MAX_CONTAINER_CONNECTIONS: usize = 128;

/// Everything the daemon's tasks share.
pub(crate) struct Daemon {
    pub(crate) paths: UnitPaths,
    pub(crate) started: Instant,
    /// One hook at a time per unit; FIFO, so hooks run in arrival order.
    pub(crate) hook_lock: tokio::sync::Mutex<()>,
    pub(crate) contexts: Contexts,
    pub(crate) hooks_run: AtomicU64,
    pub(crate) lucky_bin_dir: PathBuf,
    pub(crate) state: UnitState,
    /// Problems found at start-up (a corrupt state file kept aside), for `daemon status`.
    pub(crate) problems: Vec<String>,
    /// Gives Juju the unit status when it changed.
    pub(crate) status_reporter: crate::juju::status::StatusReporter,
    pub(crate) cron: cron::CronRuns,
    /// Connections open at once, per socket: a flood of clients (a container process,
    /// say) cannot take every file descriptor the daemon and its hooks need.
    pub(crate) host_slots: Arc<tokio::sync::Semaphore>,
    /// Container scripts' connections (a live script token shown).
    pub(crate) container_slots: Arc<tokio::sync::Semaphore>,
    /// Container-socket connections that showed no script token (admission.rs).
    pub(crate) container_guests: admission::Guests,
    /// Desired container state and the Docker engine connection.
    pub(crate) docker: crate::docker::DockerState,
    /// `lucky history`: the kept record of each run, and the runs being recorded.
    pub(crate) history: history::Recording,
    /// lucky.yaml's health checks: their states, and their reports to Juju.
    pub(crate) checks: checks::Checks,
    /// The charm's lucky.yaml, parsed once for a hook and the cron and check re-plans
    /// after it (parsed again when the file changes).
    pub(crate) lucky_yaml: lucky_yaml_cache::LuckyYamlCache,
    /// `lucky self-update`'s handover of the sockets to a new binary (`handover`).
    pub(crate) handover: handover::Handover,
    /// Connection ends, after which an idle daemon gives back its code pages (`idle`).
    pub(crate) activity: idle::Activity,
    running_hook: Mutex<Option<String>>,
    shutting_down: AtomicBool,
    shutdown: Notify,
}

impl Daemon {
    pub(crate) fn new(paths: UnitPaths, lucky_bin_dir: PathBuf, store: Store) -> Self {
        let (state, mut problems) = UnitState::open(&store);
        let (kept_runs, problem) =
            crate::state::history::History::open(store.dir(), Default::default());
        problems.extend(problem);
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for problem in &problems {
            tracing::error!("{problem}");
        }
        Self {
            state,
            problems,
            status_reporter: Default::default(),
            cron: cron::CronRuns::default(),
            host_slots: Arc::new(tokio::sync::Semaphore::new(MAX_HOST_CONNECTIONS)),
            container_slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONTAINER_CONNECTIONS)),
            container_guests: admission::Guests::default(),
            paths,
            started: Instant::now(),
            hook_lock: tokio::sync::Mutex::new(()),
            contexts: Contexts::default(),
            hooks_run: AtomicU64::new(0),
            lucky_bin_dir,
            docker: crate::docker::DockerState::open(&store),
            history: history::Recording::new(kept_runs),
            checks: checks::Checks::default(),
            lucky_yaml: lucky_yaml_cache::LuckyYamlCache::default(),
            handover: handover::Handover::default(),
            activity: idle::Activity::default(),
            running_hook: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
        }
    }

    pub(crate) fn running_hook_name(&self) -> MutexGuard<'_, Option<String>> {
        self.running_hook
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any client is connected, on either socket.
    pub(crate) fn has_connections(&self) -> bool {
        self.host_slots.available_permits() != MAX_HOST_CONNECTIONS
            || self.container_slots.available_permits() != MAX_CONTAINER_CONNECTIONS
            || self.container_guests.count() != 0
    }

    /// Asks the daemon to stop once the running hook (if any) has finished.
    pub(crate) fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Resolves once a shutdown was requested (every waiter is woken).
    pub(crate) async fn shutdown_requested(&self) {
        // Created before the flag is checked, so a request in between is not missed.
        let notified = self.shutdown.notified();
        if !self.is_shutting_down() {
            notified.await;
        }
    }
}

pub(crate) use server::{StartError, run_foreground};
