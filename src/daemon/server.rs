//! The daemon's life: single-instance lock, socket, accept loop, clean shutdown.

use super::Daemon;
use super::connection;
use super::handlers::Origin;
use super::handover::{Inherited, Plan};
use super::logging;
use crate::state::Store;
use crate::unit::UnitPaths;
use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};

/// Name of the link to our own binary that scripts find first on PATH.
const BIN_DIR: &str = "bin";

/// Why the daemon did not start, as whoever started it needs to tell apart.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum StartError {
    /// Another daemon holds the unit's lock: that one serves the unit.
    #[error("a lucky daemon for unit {unit} is already running (pid {pid}, socket {socket})")]
    AlreadyRunning {
        unit: String,
        pid: String,
        socket: String,
    },
    #[error("{0}")]
    Failed(String),
}

impl StartError {
    fn of(e: &anyhow::Error) -> Self {
        match e.downcast_ref::<StartError>() {
            Some(known) => known.clone(),
            None => StartError::Failed(format!("{e:#}")),
        }
    }
}

/// Runs the daemon in this process until it is asked to stop.
///
/// `on_ready` is called once the socket accepts connections (or with the reason it
/// cannot start), so whoever started us knows without polling.
pub(crate) fn run_foreground(
    paths: UnitPaths,
    log_to_stderr: bool,
    on_ready: impl FnOnce(Result<(), StartError>),
) -> Result<()> {
    // Left by a daemon that exec'd us in its place (a self-update's handover).
    let mut inherited = Inherited::take_from_env(
        &paths.data_dir.join("daemon.lock"),
        &paths.socket,
        &crate::docker::container_socket(&paths.data_dir),
    );
    let started = prepare(&paths, log_to_stderr, inherited.lock.take());
    let (lock, bin_dir, store) = match started {
        Ok(v) => v,
        Err(e) => {
            on_ready(Err(StartError::of(&e)));
            return Err(e);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(super::idle::BLOCKING_THREAD_KEEP_ALIVE)
        .build()
        .context("cannot start the async runtime")?;
    for why in &inherited.refused {
        tracing::warn!("{why}; binding instead");
    }
    let handed_over = inherited.host.is_some();
    let result = runtime.block_on(async {
        let listener = match inherited.host.take() {
            Some(l) => UnixListener::from_std(l).context("cannot adopt the listening socket"),
            None => bind(&paths.socket),
        };
        let listener = match listener {
            Ok(l) => l,
            Err(e) => {
                on_ready(Err(StartError::of(&e)));
                return Err(e);
            }
        };
        tracing::info!(
            unit = %paths.unit,
            socket = %paths.socket.display(),
            pid = std::process::id(),
            version = env!("LUCKY_BUILD_VERSION"),
            handed_over,
            "daemon started"
        );
        let daemon = Arc::new(Daemon::new(paths.clone(), bin_dir, store));
        daemon.handover.keep_lock(lock.as_raw_fd());
        if let Err(e) = daemon.handover.keep_listener(listener.as_fd(), true) {
            tracing::warn!(error = %format!("{e:#}"), "a self-update will restart this daemon instead of handing over");
        }
        tokio::spawn(super::cron::run_scheduler(Arc::clone(&daemon)));
        tokio::spawn(super::checks::run_supervisor(Arc::clone(&daemon)));
        super::idle::start_releaser(&daemon);
        serve_containers(&daemon, inherited.container.take());
        on_ready(Ok(()));
        serve(&daemon, listener).await
    });
    let _ = fs::remove_file(&paths.socket);
    tracing::info!("daemon stopped");
    drop(lock);
    result
}

/// Everything that must hold before we listen: data dir, the unit's lock, logging.
fn prepare(
    paths: &UnitPaths,
    log_to_stderr: bool,
    inherited_lock: Option<OwnedFd>,
) -> Result<(File, PathBuf, Store)> {
    let level = logging::level_from_env()?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&paths.data_dir)
        .with_context(|| format!("cannot create data dir {}", paths.data_dir.display()))?;
    // A data dir made earlier (by hand, by an older lucky) may be open to other users:
    // it holds the owner-only socket's folder, the state and the log, so tighten it.
    fs::set_permissions(&paths.data_dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} owner-only", paths.data_dir.display()))?;
    let lock = match inherited_lock.map(File::from) {
        // The lock the daemon we replace held (the same open file, so taking it again
        // succeeds): no other daemon can start in between.
        Some(mut file) if file.try_lock().is_ok() => {
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "{}", std::process::id())?;
            file
        }
        _ => take_unit_lock(paths)?,
    };
    logging::init(&paths.data_dir, level, log_to_stderr)?;
    let bin_dir = link_own_binary(&paths.data_dir)?;
    let store = Store::open(&paths.data_dir)?;
    Ok((lock, bin_dir, store))
}

/// One daemon per unit: an exclusive lock on `daemon.lock` in the data dir, held for the
/// daemon's life (the kernel drops it if we die, so a crash never blocks a restart).
fn take_unit_lock(paths: &UnitPaths) -> Result<File> {
    let path = paths.data_dir.join("daemon.lock");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(StartError::AlreadyRunning {
                unit: paths.unit.clone(),
                pid: pid.trim().to_string(),
                socket: paths.socket.display().to_string(),
            }
            .into());
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

/// `<data>/bin/lucky` → this binary, so scripts call the daemon's own version.
fn link_own_binary(data_dir: &Path) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the lucky binary's own path")?;
    let dir = data_dir.join(BIN_DIR);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let link = dir.join("lucky");
    let tmp = dir.join(format!(".lucky.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp)
        .and_then(|()| fs::rename(&tmp, &link))
        .with_context(|| format!("cannot link {} to {}", link.display(), exe.display()))?;
    Ok(dir)
}

/// Binds the socket owner-only (`0600`).
fn bind(socket: &Path) -> Result<UnixListener> {
    bind_with_mode(socket, 0o600)
}

/// Binds `socket` so that it has `mode` from the moment it exists. We hold the unit lock,
/// so a socket file already there belongs to a dead daemon: replace it.
///
/// The mode comes from the umask in force at `bind(2)`, never from a chmod by path after
/// the fact: a path can be swapped for a symlink between bind and chmod by whoever can
/// write the folder (root in a container, for the container socket), and chmod would
/// then change the symlink's target. Binding under a temporary name and renaming means
/// no client ever sees the socket half made.
fn bind_with_mode(socket: &Path, mode: u32) -> Result<UnixListener> {
    if let Some(dir) = socket.parent() {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create socket dir {}", dir.display()))?;
    }
    let tmp = socket.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let listener = with_umask(!mode & 0o777, || UnixListener::bind(&tmp))
        .with_context(|| format!("cannot listen on {}", tmp.display()))?;
    if socket.exists() {
        tracing::info!(socket = %socket.display(), "replacing the stale socket of a dead daemon");
    }
    fs::rename(&tmp, socket)
        .with_context(|| format!("cannot move the socket into place at {}", socket.display()))?;
    Ok(listener)
}

/// Runs `f` with the process umask set to `mask`, then restores it. Only called while
/// the daemon starts, before any task or child process exists that could see the
/// temporary umask (the runtime is single-threaded and nothing has been awaited yet).
fn with_umask<R>(mask: u32, f: impl FnOnce() -> R) -> R {
    // SAFETY: umask(2) cannot fail and touches no memory.
    let old = unsafe { libc::umask(mask as libc::mode_t) };
    let result = f();
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    result
}

async fn serve(daemon: &Arc<Daemon>, mut listener: UnixListener) -> Result<()> {
    let mut sigterm = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut sigint = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    // Phase 1: serve until asked to stop. The two waits live across accepts: made anew at
    // each, they would register with their Notify and leave it again for every connection.
    let shutdown = daemon.shutdown_requested();
    tokio::pin!(shutdown);
    let mut handover = Box::pin(daemon.handover.next());
    loop {
        let mut plan = None;
        tokio::select! {
            accepted = listener.accept() => accept(daemon, accepted).await,
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping after the running hook"); daemon.request_shutdown(); }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping after the running hook"); daemon.request_shutdown(); }
            // Done once: the loop ends below.
            () = &mut shutdown => {}
            next = &mut handover => plan = Some(next),
        }
        if let Some(plan) = plan {
            handover.set(daemon.handover.next());
            listener = hand_over(daemon, listener, plan).await?;
        }
        if daemon.is_shutting_down() {
            break;
        }
    }
    // Phase 2: the running hook's scripts still call us; serve them until it ends.
    let hook_done = daemon.hook_lock.lock();
    tokio::pin!(hook_done);
    loop {
        tokio::select! {
            _guard = &mut hook_done => break,
            accepted = listener.accept() => accept(daemon, accepted).await,
        }
    }
    // The last runs' records are on disk before the socket and the unit's lock go (a
    // daemon started next reads the history).
    daemon.history.written().await;
    Ok(())
}

/// How long a handover waits for the connections open when it stopped accepting.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// Hands the unit over to `plan.exe` (see `handover`): returns only if the exec failed,
/// with the listener to serve on.
async fn hand_over(
    daemon: &Arc<Daemon>,
    listener: UnixListener,
    plan: Plan,
) -> Result<UnixListener> {
    let exe = plan.exe.display().to_string();
    if daemon.is_shutting_down() {
        let _ = plan
            .accepted
            .send(Err("cannot hand over: the daemon is stopping".into()));
        return Ok(listener);
    }
    tracing::info!(%exe, version = %plan.version, "handover asked for: waiting for the running hook");
    // The running hook (and those queued before) end here; their scripts are answered.
    let guard = {
        let lock = daemon.hook_lock.lock();
        tokio::pin!(lock);
        loop {
            tokio::select! {
                guard = &mut lock => break guard,
                accepted = listener.accept() => accept(daemon, accepted).await,
            }
        }
    };
    // New hooks are refused from now on (`lucky hook` resends them), and nothing more is
    // accepted: new clients wait in the listen backlog for the new binary.
    daemon.handover.set_in_progress(true);
    drop(guard);
    drop(listener);
    let _ = plan.accepted.send(Ok(()));
    // Every open connection ends (the one that asked for the handover included); each
    // request's state writes are on disk once it is answered.
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        // First let connections accepted just now start (and take their slot).
        tokio::time::sleep(Duration::from_millis(2)).await;
        if !daemon.has_connections() {
            break;
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                "handover: connections still open after {} s are closed",
                DRAIN_LIMIT.as_secs()
            );
            break;
        }
    }
    // The last runs' records are on disk before this process becomes the new binary.
    daemon.history.written().await;
    tracing::info!(%exe, version = %plan.version, "handing over");
    let error = daemon.handover.exec(&plan.exe);
    tracing::error!(%exe, error = %format!("{error:#}"), "handover failed: this daemon serves on");
    daemon.handover.set_in_progress(false);
    if let Some(container) = daemon.handover.listener_again(false) {
        accept_containers(daemon, container);
    }
    match daemon.handover.listener_again(true) {
        Some(l) => Ok(l),
        None => bind(&daemon.paths.socket),
    }
}

async fn accept(
    daemon: &Arc<Daemon>,
    accepted: std::io::Result<(tokio::net::UnixStream, tokio::net::unix::SocketAddr)>,
) {
    match accepted {
        Ok((stream, _)) => {
            let daemon = Arc::clone(daemon);
            tokio::spawn(async move { connection::serve(daemon, stream, Origin::Host).await });
        }
        Err(e) => {
            // Out of file descriptors and the like: back off, never exit.
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Listens on the restricted container socket (bind-mounted into every container) for
/// the daemon's whole life, phase 2 of shutdown included: container scripts of the last
/// hook still call in. A socket that cannot be made only costs container scripts.
fn serve_containers(daemon: &Arc<Daemon>, inherited: Option<std::os::unix::net::UnixListener>) {
    let dir = crate::docker::container_socket_dir(&daemon.paths.data_dir);
    let socket = crate::docker::container_socket(&daemon.paths.data_dir);
    if let Some(listener) = inherited {
        match UnixListener::from_std(listener) {
            Ok(l) => return keep_and_accept_containers(daemon, l),
            Err(e) => tracing::warn!(error = %e, "cannot adopt the container socket: binding it"),
        }
    }
    let listener = fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        // Processes in the container may run as any user; the data dir (0700) already
        // keeps other host users away from this socket. The folder is mounted read-only
        // into containers, so nothing in one can replace what is in it.
        .and_then(|()| bind_with_mode(&socket, 0o666));
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "no container socket: container scripts cannot call lucky");
            return;
        }
    };
    keep_and_accept_containers(daemon, listener);
}

fn keep_and_accept_containers(daemon: &Arc<Daemon>, listener: UnixListener) {
    if let Err(e) = daemon.handover.keep_listener(listener.as_fd(), false) {
        tracing::warn!(error = %format!("{e:#}"), "the container socket cannot be handed over");
    }
    accept_containers(daemon, listener);
}

/// Accepts on the container socket until a handover pauses it.
fn accept_containers(daemon: &Arc<Daemon>, listener: UnixListener) {
    let daemon = Arc::clone(daemon);
    tokio::spawn(async move {
        let paused = daemon.handover.pause_requested();
        tokio::pin!(paused);
        loop {
            let accepted = tokio::select! {
                biased;
                () = &mut paused => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    let daemon = Arc::clone(&daemon);
                    tokio::spawn(async move {
                        connection::serve(daemon, stream, Origin::Container).await
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept on the container socket failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
}
