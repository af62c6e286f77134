//! The per-unit daemon: owns the socket, runs hooks, serves script calls.

pub mod admission;
pub mod checks;
pub mod connection;
pub mod cron;
mod engine;
pub mod handlers;
pub mod handover;
pub mod history;
pub mod hook_runner;
pub mod idle;
mod juju_exec;
pub mod logging;
pub mod scripts;
pub mod server;

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
pub const MAX_CONTAINER_CONNECTIONS: usize = 128;

/// Everything the daemon's tasks share.
pub struct Daemon {
    pub paths: UnitPaths,
    pub started: Instant,
    /// One hook at a time per unit; FIFO, so hooks run in arrival order.
    pub hook_lock: tokio::sync::Mutex<()>,
    pub contexts: Contexts,
    pub hooks_run: AtomicU64,
    pub lucky_bin_dir: PathBuf,
    /// Where the unit's durable state lives, and its documents.
    pub store: Store,
    pub state: UnitState,
    /// Problems found at start-up (a corrupt state file kept aside), for `daemon status`.
    pub problems: Vec<String>,
    /// Gives Juju the unit status when it changed.
    pub status_reporter: crate::juju::status::StatusReporter,
    pub cron: cron::CronRuns,
    /// Connections open at once, per socket: a flood of clients (a container process,
    /// say) cannot take every file descriptor the daemon and its hooks need.
    pub host_slots: Arc<tokio::sync::Semaphore>,
    /// Container scripts' connections (a live script token shown).
    pub container_slots: Arc<tokio::sync::Semaphore>,
    /// Container-socket connections that showed no script token (admission.rs).
    pub container_guests: admission::Guests,
    /// Desired container state and the Docker engine connection.
    pub docker: crate::docker::DockerState,
    /// `lucky history`: the kept record of each run, and the runs being recorded.
    pub history: history::Recording,
    /// lucky.yaml's health checks: their states, and their reports to Juju.
    pub checks: checks::Checks,
    /// `lucky self-update`'s handover of the sockets to a new binary (`handover`).
    pub handover: handover::Handover,
    /// Connection ends, after which an idle daemon gives back its code pages (`idle`).
    pub activity: idle::Activity,
    running_hook: Mutex<Option<String>>,
    shutting_down: AtomicBool,
    shutdown: Notify,
}

impl Daemon {
    pub fn new(paths: UnitPaths, lucky_bin_dir: PathBuf, store: Store) -> Self {
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
            handover: handover::Handover::default(),
            activity: idle::Activity::default(),
            store,
            running_hook: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
        }
    }

    pub fn running_hook_name(&self) -> MutexGuard<'_, Option<String>> {
        self.running_hook
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any client is connected, on either socket.
    pub fn has_connections(&self) -> bool {
        self.host_slots.available_permits() != MAX_HOST_CONNECTIONS
            || self.container_slots.available_permits() != MAX_CONTAINER_CONNECTIONS
            || self.container_guests.count() != 0
    }

    /// Asks the daemon to stop once the running hook (if any) has finished.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Resolves once a shutdown was requested (every waiter is woken).
    pub async fn shutdown_requested(&self) {
        // Created before the flag is checked, so a request in between is not missed.
        let notified = self.shutdown.notified();
        if !self.is_shutting_down() {
            notified.await;
        }
    }
}

pub use server::{StartError, run_foreground};
