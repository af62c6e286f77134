//! `lucky daemon start | stop | status`.

use super::{CliResult, Failure};
use crate::client::{self, ClientError, ReadyLine};
use crate::daemon::StartError;
use crate::protocol::{Request, Response};
use crate::unit::UnitPaths;
use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand)]
pub(crate) enum DaemonCommand {
    /// Start the unit's daemon (detached unless --foreground)
    Start {
        /// Stay in the foreground and log to stderr too (for supervisors such as systemd)
        #[arg(long)]
        foreground: bool,
        /// Print one line on stdout once listening (used when lucky starts its own daemon)
        #[arg(long, hide = true, requires = "foreground")]
        notify_ready: bool,
    },
    /// Stop the unit's daemon after the hook it is running, if any
    Stop,
    /// Show whether the unit's daemon runs, and what it is doing
    Status,
}

pub(crate) fn run(cmd: DaemonCommand) -> CliResult {
    let paths = UnitPaths::from_env()?;
    match cmd {
        DaemonCommand::Start {
            foreground: true,
            notify_ready,
        } => start_foreground(paths, notify_ready),
        DaemonCommand::Start { .. } => {
            let pid = client::start_daemon(&paths)?;
            println!(
                "lucky daemon started for unit {} (pid {pid}, socket {})",
                paths.unit,
                paths.socket.display()
            );
            Ok(())
        }
        DaemonCommand::Stop => stop(&paths),
        DaemonCommand::Status => status(&paths),
    }
}

fn start_foreground(paths: UnitPaths, notify_ready: bool) -> CliResult {
    let log_to_stderr = !notify_ready;
    crate::daemon::run_foreground(paths, log_to_stderr, |ready| {
        if notify_ready {
            let message;
            let line = match &ready {
                Ok(()) => ReadyLine::Ready(Some(std::process::id())),
                Err(e @ StartError::AlreadyRunning { .. }) => {
                    message = e.to_string();
                    ReadyLine::AlreadyRunning(&message)
                }
                Err(e @ StartError::Failed(_)) => {
                    message = e.to_string();
                    ReadyLine::Failed(&message)
                }
            }
            .render();
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
            drop(out);
            detach_stdout();
        }
    })?;
    Ok(())
}

/// Points stdout at /dev/null once the starter has read our one line: it stops reading
/// then, and a later write to the pipe would fail (and `println!` would panic).
fn detach_stdout() {
    use std::os::fd::AsRawFd;
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 onto fd 1 only swaps which file stdout refers to; `null` stays
        // open until after the call and no Rust object owns fd 1 exclusively.
        unsafe {
            libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
        }
    }
}

fn stop(paths: &UnitPaths) -> CliResult {
    let stream = match client::connect(paths) {
        Err(ClientError::NotRunning { .. }) => {
            println!("lucky daemon for unit {} is not running", paths.unit);
            return Ok(());
        }
        other => other?,
    };
    client::call(stream, &Request::DaemonStop, |_, _| {}).map_err(Failure::client)?;
    // It stops once its running hook (if any) is done; wait so callers can rely on it.
    client::wait_until_gone(paths, client::STOP_LIMIT).map_err(Failure::client)?;
    println!("lucky daemon for unit {} stopped", paths.unit);
    Ok(())
}

fn status(paths: &UnitPaths) -> CliResult {
    let Response::DaemonStatus(s) =
        client::request(paths, &Request::DaemonStatus).map_err(Failure::client)?
    else {
        return Err("the daemon gave an unexpected answer to `status`".into());
    };
    println!("unit: {}", s.unit);
    println!("version: {}", s.version);
    println!("pid: {}", s.pid);
    println!("socket: {}", s.socket);
    println!("data dir: {}", s.data_dir);
    println!("uptime: {}s", s.uptime_secs);
    println!("hooks run: {}", s.hooks_run);
    println!(
        "running hook: {}",
        s.running_hook.as_deref().unwrap_or("none")
    );
    if let Some(hook) = s.caller_hook {
        println!("caller's hook: {hook}");
    }
    for problem in s.problems {
        println!("problem: {problem}");
    }
    Ok(())
}
