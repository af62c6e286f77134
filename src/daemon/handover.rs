//! Handing the unit over to a new lucky binary in place, so that no client notices a
//! self-update: the daemon `execve`s the new binary in its own process (same pid, so
//! systemd's unit and `daemon.lock`'s pid stay right) with its two listening sockets and
//! the unit lock left open, named in [`LISTEN_FDS_VAR`]; the new daemon adopts them
//! instead of binding. Clients that connect during the swap wait in the kernel's listen
//! backlog (mio listens with a backlog of -1, i.e. `net.core.somaxconn`: 4096 on current
//! kernels, 128 on kernels before 5.4) and are accepted by the new binary.
//!
//! The old side's order (`server::hand_over`): wait for the running hook (its scripts'
//! calls are answered meanwhile), refuse new hooks (`lucky hook` resends them), stop
//! accepting, answer the request, let every open connection finish (every state write
//! is made inside a request, so they are all on disk then), exec. An exec that fails
//! leaves the old daemon serving on the same sockets.

use anyhow::{Context, Result, bail};
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, oneshot, watch};

/// `lock=FD,host=FD,container=FD`: what an exec'ing daemon leaves open for the next.
pub(crate) const LISTEN_FDS_VAR: &str = "LUCKY_LISTEN_FDS";

/// How long the new binary gets to answer `--version` before the handover is refused.
const VERSION_LIMIT: Duration = Duration::from_secs(10);

/// A handover asked for and checked, waiting for the daemon's serve loop.
pub(crate) struct Plan {
    pub(crate) exe: PathBuf,
    /// What `exe --version` said.
    pub(crate) version: String,
    /// Told once the daemon has stopped accepting (or why it will not hand over).
    pub(crate) accepted: oneshot::Sender<Result<(), String>>,
}

/// The daemon's side of handovers: the fds to pass on and the plan in progress.
#[derive(Default)]
pub(crate) struct Handover {
    /// Copies of the listening sockets (close-on-exec until the handover): the accept
    /// loops may drop theirs when they stop, the socket stays open through these.
    host: OnceLock<OwnedFd>,
    container: OnceLock<OwnedFd>,
    /// The unit lock's fd (owned by the server's lock `File`).
    lock: OnceLock<RawFd>,
    plan: Mutex<Option<Plan>>,
    requested: Notify,
    /// Set from the moment the running hook has ended until the exec (or its failure):
    /// new hooks are refused meanwhile.
    in_progress: AtomicBool,
    /// `true` while the accept loops must not accept (the container loop watches it).
    paused: OnceLock<watch::Sender<bool>>,
}

impl Handover {
    fn paused(&self) -> &watch::Sender<bool> {
        self.paused.get_or_init(|| watch::channel(false).0)
    }

    /// Keeps a copy of a listening socket to pass on (`host` or the container one).
    pub(crate) fn keep_listener(&self, fd: BorrowedFd<'_>, host: bool) -> Result<()> {
        let copy = fd
            .try_clone_to_owned()
            .context("cannot keep a copy of the listening socket")?;
        let slot = if host { &self.host } else { &self.container };
        let _ = slot.set(copy);
        Ok(())
    }

    pub(crate) fn keep_lock(&self, fd: RawFd) {
        let _ = self.lock.set(fd);
    }

    /// A new listener on the kept copy (after a failed exec, for the loops to resume).
    pub(crate) fn listener_again(&self, host: bool) -> Option<tokio::net::UnixListener> {
        let slot = if host { &self.host } else { &self.container };
        let copy = slot.get()?.try_clone().ok()?;
        let std = std::os::unix::net::UnixListener::from(copy);
        tokio::net::UnixListener::from_std(std).ok()
    }

    pub(crate) fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::SeqCst)
    }

    pub(crate) fn set_in_progress(&self, on: bool) {
        self.in_progress.store(on, Ordering::SeqCst);
        self.paused().send_replace(on);
    }

    /// Resolves when the accept loops must stop accepting.
    pub(crate) async fn pause_requested(&self) {
        let mut rx = self.paused().subscribe();
        let _ = rx.wait_for(|paused| *paused).await;
    }

    /// Queues `plan`; refused when one is already under way.
    pub(crate) fn request(&self, plan: Plan) -> Result<(), Plan> {
        let mut slot = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() || self.in_progress() {
            return Err(plan);
        }
        *slot = Some(plan);
        drop(slot);
        self.requested.notify_one();
        Ok(())
    }

    /// Resolves with the next plan asked for.
    pub(crate) async fn next(&self) -> Plan {
        loop {
            let notified = self.requested.notified();
            if let Some(plan) = self
                .plan
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                return plan;
            }
            notified.await;
        }
    }

    /// Execs `exe` in this process with the sockets and the lock left open. Returns only
    /// if the exec failed; the fds are close-on-exec again then.
    pub(crate) fn exec(&self, exe: &Path) -> anyhow::Error {
        let mut named = Vec::new();
        let mut fds = Vec::new();
        if let Some(fd) = self.lock.get() {
            named.push(format!("lock={fd}"));
            fds.push(*fd);
        }
        for (name, slot) in [("host", &self.host), ("container", &self.container)] {
            if let Some(fd) = slot.get() {
                named.push(format!("{name}={}", fd.as_raw_fd()));
                fds.push(fd.as_raw_fd());
            }
        }
        let result = (|| -> Result<()> {
            let path = cstring(exe.as_os_str().as_bytes())?;
            let mut argv = vec![path.clone()];
            for arg in crate::entry::args().into_iter().skip(1) {
                argv.push(cstring(arg.as_bytes())?);
            }
            let mut envp = Vec::new();
            for (k, v) in std::env::vars_os() {
                if k != LISTEN_FDS_VAR {
                    envp.push(env_entry(&k, &v)?);
                }
            }
            envp.push(env_entry(
                &OsString::from(LISTEN_FDS_VAR),
                &OsString::from(named.join(",")),
            )?);
            for fd in &fds {
                set_cloexec(*fd, false)?;
            }
            let argv_ptrs: Vec<*const libc::c_char> = argv
                .iter()
                .map(|a| a.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect();
            let envp_ptrs: Vec<*const libc::c_char> = envp
                .iter()
                .map(|e| e.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect();
            // SAFETY: every pointer is to a NUL-terminated string that outlives the call,
            // and both arrays end with a null pointer, as execve(2) requires.
            unsafe { libc::execve(path.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) };
            Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot exec {}", exe.display()))
        })();
        for fd in &fds {
            let _ = set_cloexec(*fd, true);
        }
        match result {
            Ok(()) => anyhow::anyhow!("cannot exec {}", exe.display()),
            Err(e) => e,
        }
    }
}

fn cstring(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).context("an argument or environment entry holds a NUL byte")
}

fn env_entry(k: &OsString, v: &OsString) -> Result<CString> {
    let mut entry = k.as_bytes().to_vec();
    entry.push(b'=');
    entry.extend_from_slice(v.as_bytes());
    cstring(&entry)
}

fn set_cloexec(fd: RawFd, on: bool) -> Result<()> {
    // SAFETY: F_GETFD/F_SETFD only read and set the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot read an fd's flags");
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot set an fd's flags");
    }
    Ok(())
}

/// Checks that `exe` is a lucky binary that runs here: an ELF executable whose
/// `--version` says `lucky <version> (…`. Returns the version.
pub(crate) async fn check_binary(exe: &Path) -> Result<String> {
    if !exe.is_absolute() {
        bail!(
            "cannot hand over to {}: give the new binary's absolute path",
            exe.display()
        );
    }
    let meta = std::fs::metadata(exe)
        .with_context(|| format!("cannot hand over to {}: no such file", exe.display()))?;
    if !meta.is_file() || meta.mode() & 0o111 == 0 {
        bail!(
            "cannot hand over to {}: it is not an executable file",
            exe.display()
        );
    }
    // A script that answers `--version` like lucky would still not adopt the sockets.
    if crate::elf::linkage(exe).is_err() {
        bail!(
            "cannot hand over to {}: it is not an ELF executable (a lucky binary is one)",
            exe.display()
        );
    }
    let run = tokio::process::Command::new(exe)
        .arg("--version")
        .env_remove(LISTEN_FDS_VAR)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(VERSION_LIMIT, run)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "cannot hand over to {}: `--version` did not answer within {} s",
                exe.display(),
                VERSION_LIMIT.as_secs()
            )
        })?
        .with_context(|| format!("cannot hand over to {}: it does not run", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    match (out.status.success(), words.next(), words.next()) {
        (true, Some("lucky"), Some(version)) if semver::Version::parse(version).is_ok() => {
            Ok(version.to_string())
        }
        _ => bail!(
            "cannot hand over to {}: it is not a lucky binary (`--version` did not say `lucky <version>`)",
            exe.display()
        ),
    }
}

/// What a daemon started by a handover was left: read from [`LISTEN_FDS_VAR`], each fd
/// checked before it is taken (an fd that is not what it should be is left alone and
/// reported, and the daemon binds instead).
#[derive(Default)]
pub(crate) struct Inherited {
    pub(crate) lock: Option<OwnedFd>,
    pub(crate) host: Option<std::os::unix::net::UnixListener>,
    pub(crate) container: Option<std::os::unix::net::UnixListener>,
    /// Why an fd named was not taken, for the log once it is open.
    pub(crate) refused: Vec<String>,
}

impl Inherited {
    /// Reads and removes [`LISTEN_FDS_VAR`] (so no hook inherits it). Call it first
    /// thing, while the process has one thread.
    pub(crate) fn take_from_env(
        lock_path: &Path,
        host_socket: &Path,
        container_socket: &Path,
    ) -> Self {
        let Some(value) = std::env::var_os(LISTEN_FDS_VAR) else {
            return Self::default();
        };
        // SAFETY: called before the daemon starts any thread (no runtime, no logging
        // yet), so nothing reads the environment concurrently.
        unsafe { std::env::remove_var(LISTEN_FDS_VAR) };
        let mut inherited = Self::default();
        let value = value.to_string_lossy().into_owned();
        let mut seen = Vec::new();
        for item in value.split(',').filter(|i| !i.is_empty()) {
            let Some((name, fd)) = item.split_once('=') else {
                inherited
                    .refused
                    .push(format!("{LISTEN_FDS_VAR}: {item:?} is not NAME=FD"));
                continue;
            };
            let fd = match fd.parse::<RawFd>() {
                Ok(fd) if fd > 2 && !seen.contains(&fd) => fd,
                _ => {
                    inherited
                        .refused
                        .push(format!("{LISTEN_FDS_VAR}: {item:?} names no usable fd"));
                    continue;
                }
            };
            seen.push(fd);
            // SAFETY: F_GETFD only asks whether the descriptor is open.
            if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                inherited
                    .refused
                    .push(format!("{LISTEN_FDS_VAR}: fd {fd} ({name}) is not open"));
                continue;
            }
            // SAFETY: the fd is open (checked above) and nothing else in this process
            // owns it: it was left to us by the exec'ing daemon, and each number is taken
            // once. It is only kept (and later closed) if it is what it should be.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let result = match name {
                "lock" => same_file(borrowed, lock_path).map(|()| {
                    // SAFETY: see above.
                    inherited.lock = Some(unsafe { OwnedFd::from_raw_fd(fd) });
                }),
                "host" => listening_at(borrowed, host_socket).map(|l| inherited.host = Some(l)),
                "container" => {
                    listening_at(borrowed, container_socket).map(|l| inherited.container = Some(l))
                }
                _ => Err(format!("unknown name {name:?}")),
            };
            match result {
                Ok(()) => {
                    let _ = set_cloexec(fd, true);
                }
                Err(why) => inherited.refused.push(format!(
                    "{LISTEN_FDS_VAR}: fd {fd} ({name}) not taken: {why}"
                )),
            }
        }
        inherited
    }
}

fn same_file(fd: BorrowedFd<'_>, path: &Path) -> Result<(), String> {
    let file = std::fs::File::from(fd.try_clone_to_owned().map_err(|e| e.to_string())?);
    let (a, b) = (
        file.metadata().map_err(|e| e.to_string())?,
        std::fs::metadata(path).map_err(|e| e.to_string())?,
    );
    if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
        Ok(())
    } else {
        Err(format!("it is not {}", path.display()))
    }
}

/// A listening unix stream socket bound at `socket` (or at the temporary name it was
/// bound under before it was renamed into place, `<socket>.tmp<our pid>`).
fn listening_at(
    fd: BorrowedFd<'_>,
    socket: &Path,
) -> Result<std::os::unix::net::UnixListener, String> {
    let int_opt = |opt: libc::c_int| -> Result<libc::c_int, String> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `value` and `len` are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            Err(format!(
                "it is not a socket ({})",
                std::io::Error::last_os_error()
            ))
        } else {
            Ok(value)
        }
    };
    if int_opt(libc::SO_DOMAIN)? != libc::AF_UNIX || int_opt(libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err("it is not a unix stream socket".into());
    }
    if int_opt(libc::SO_ACCEPTCONN)? != 1 {
        return Err("it is not listening".into());
    }
    // SAFETY: the fd is open, left to us, and owned by nothing else in this process
    // (see `take_from_env`); if it is refused below, it is released again unclosed.
    let listener =
        std::os::unix::net::UnixListener::from(unsafe { OwnedFd::from_raw_fd(fd.as_raw_fd()) });
    let bound = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf));
    let tmp = socket.with_extension(format!("tmp{}", std::process::id()));
    if bound.as_deref() != Some(socket) && bound.as_deref() != Some(tmp.as_path()) {
        let _ = std::os::fd::IntoRawFd::into_raw_fd(listener);
        return Err(format!("it is not bound at {}", socket.display()));
    }
    if let Err(e) = listener.set_nonblocking(true) {
        let _ = std::os::fd::IntoRawFd::into_raw_fd(listener);
        return Err(format!("cannot make it non-blocking: {e}"));
    }
    Ok(listener)
}
