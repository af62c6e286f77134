//! The CLI side of the socket: connect (starting the daemon when asked), hello, one
//! request, streamed output, one answer. Blocking std I/O: a one-shot call needs no
//! async runtime, and script calls sit on every hook's path.

use crate::protocol::frame::{self, FrameError};
use crate::protocol::{
    ErrorKind, ErrorReply, Hello, PROTOCOL_VERSION, Reply, Request, Response, Stream,
};
use crate::unit::UnitPaths;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a call to the daemon failed: on this side (no daemon, a broken wire) or the
/// daemon's refusal (`Daemon`), which decides the command's exit status.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the unit's socket.
    #[error(
        "no lucky daemon is running for unit {unit} (socket {socket}): start it with `lucky daemon start`"
    )]
    NotRunning {
        /// The unit whose daemon was called.
        unit: String,
        /// The socket nothing listens on.
        socket: String,
    },
    /// The socket is there but connecting failed (e.g. permission denied).
    #[error("cannot reach the lucky daemon at {socket}: {source}")]
    Connect {
        /// The daemon's socket.
        socket: String,
        /// What the connection failed with.
        source: std::io::Error,
    },
    /// Another daemon holds the unit's lock (the message says which).
    #[error("could not start the lucky daemon: {0}")]
    AlreadyRunning(String),
    /// Starting a daemon failed (the message says why).
    #[error("could not start the lucky daemon: {0}")]
    Start(String),
    /// A daemon being started or stopped did not get there in time.
    #[error("the lucky daemon for unit {unit} {what} after {secs} s")]
    Timeout {
        /// The unit whose daemon it is.
        unit: String,
        /// What went wrong, e.g. `does not answer`.
        what: &'static str,
        /// How long the client waited.
        secs: u64,
    },
    /// A frame could not be read or written: the connection broke or the peer spoke nonsense.
    #[error("lost the connection to the lucky daemon: {0}")]
    Protocol(#[from] FrameError),
    /// The daemon refused the request.
    #[error("{0}")]
    Daemon(#[from] ErrorReply),
}

impl ClientError {
    pub(crate) fn daemon_kind(&self) -> Option<ErrorKind> {
        match self {
            ClientError::Daemon(e) => Some(e.kind),
            _ => None,
        }
    }

    /// The exit status a command that failed this way ends with: the failed hook tool's
    /// own, or the daemon's error kind when it refused, 9 for a broken wire, 1 for
    /// everything else.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            ClientError::Daemon(e) => e.exit_code(),
            ClientError::Protocol(_) => ErrorKind::Protocol.exit_code(),
            _ => 1,
        }
    }
}

/// Connects to the unit's daemon; no daemon is `NotRunning`, not an I/O error.
pub fn connect(paths: &UnitPaths) -> Result<UnixStream, ClientError> {
    UnixStream::connect(&paths.socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning {
                unit: paths.unit.clone(),
                socket: paths.socket.display().to_string(),
            }
        }
        _ => ClientError::Connect {
            socket: paths.socket.display().to_string(),
            source: e,
        },
    })
}

/// Sends `request` and waits for its answer, handing streamed output to `on_output`.
pub fn call(
    stream: UnixStream,
    request: &Request,
    on_output: impl FnMut(Stream, &[u8]),
) -> Result<Response, ClientError> {
    exchange(stream, &encode_call(request)?, STREAM_BUFFER, on_output)
}

/// How much of the daemon's answer one read takes: many frames when a call streams
/// output (a hook's scripts), else one, usually a few hundred bytes; a larger frame is
/// read past the buffer. A script call then touches one page of heap, not three.
const STREAM_BUFFER: usize = 8 * 1024;
const ANSWER_BUFFER: usize = 1024;

/// Connects to the unit's running daemon and sends `request`, ignoring streamed output.
pub fn request(paths: &UnitPaths, request: &Request) -> Result<Response, ClientError> {
    // Encoded before connecting, so that it follows the connection at once: the daemon,
    // woken by the connection, then more often finds it there instead of sleeping again.
    let frames = encode_call(request)?;
    exchange(connect(paths)?, &frames, ANSWER_BUFFER, |_, _| {})
}

/// The hello and `request`, in one buffer: one write, one round trip.
fn encode_call(request: &Request) -> Result<Vec<u8>, ClientError> {
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        version: env!("LUCKY_BUILD_VERSION").to_string(),
        context: std::env::var("LUCKY_CONTEXT")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    let mut bytes = Vec::with_capacity(256);
    frame::encode_into(&mut bytes, &hello)?;
    frame::encode_into(&mut bytes, request)?;
    Ok(bytes)
}

/// Sends the encoded call and reads its answer. One request per connection: the daemon
/// closes it after the answer.
fn exchange(
    stream: UnixStream,
    frames: &[u8],
    buffer: usize,
    mut on_output: impl FnMut(Stream, &[u8]),
) -> Result<Response, ClientError> {
    (&stream).write_all(frames).map_err(FrameError::Io)?;
    let mut reader = BufReader::with_capacity(buffer, &stream);
    loop {
        match frame::read_blocking::<Reply>(&mut reader)? {
            Reply::Output { stream, data } => on_output(stream, &data),
            Reply::Done(response) => return Ok(response),
            Reply::Error(error) => return Err(ClientError::Daemon(error)),
        }
    }
}

/// Connects, starting the daemon first if none answers.
pub(crate) fn connect_or_start(paths: &UnitPaths) -> Result<UnixStream, ClientError> {
    match connect(paths) {
        Err(ClientError::NotRunning { .. }) => {}
        other => return other,
    }
    match start_daemon(paths) {
        Ok(_) => connect(paths),
        // Another `lucky hook` started it a moment ago: wait for its socket.
        Err(ClientError::AlreadyRunning(_)) => wait_until_up(paths, START_LIMIT),
        Err(e) => Err(e),
    }
}

/// How long a daemon that holds the unit's lock may take to listen.
const START_LIMIT: Duration = Duration::from_secs(10);

/// Waits until the unit's daemon accepts a connection, for at most `limit`.
pub(crate) fn wait_until_up(paths: &UnitPaths, limit: Duration) -> Result<UnixStream, ClientError> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        match connect(paths) {
            Err(ClientError::NotRunning { .. }) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(ClientError::NotRunning { .. }) => {
                return Err(ClientError::Timeout {
                    unit: paths.unit.clone(),
                    what: "does not answer",
                    secs: limit.as_secs(),
                });
            }
            other => return other,
        }
    }
}

/// How long a stop waits for the daemon's running hook to end (`daemon stop`, a
/// self-update's restart, `charm run`).
pub(crate) const STOP_LIMIT: Duration = Duration::from_secs(300);

/// Waits until no daemon answers for the unit (it stops after its running hook), for at
/// most `limit`.
pub(crate) fn wait_until_gone(paths: &UnitPaths, limit: Duration) -> Result<(), ClientError> {
    let deadline = Instant::now() + limit;
    loop {
        if matches!(connect(paths), Err(ClientError::NotRunning { .. })) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ClientError::Timeout {
                unit: paths.unit.clone(),
                what: "is still running (its hook has not ended)",
                secs: limit.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a detached daemon of this binary for `paths` and waits until it listens.
/// Returns its pid.
pub(crate) fn start_daemon(paths: &UnitPaths) -> Result<u32, ClientError> {
    let exe = std::env::current_exe()
        .map_err(|e| ClientError::Start(format!("cannot find the lucky binary: {e}")))?;
    start_daemon_with(&exe, None, paths)
}

/// Starts a detached daemon of `exe` for `paths` (in `env` instead of ours when given:
/// a self-update restarts a daemon in the environment it had), and waits until it
/// listens. Returns its pid.
///
/// The child runs `lucky daemon start --foreground --notify-ready` in its own process
/// group and writes one line to its stdout once its socket accepts connections (or why it
/// could not start): no polling, no fixed sleep.
pub(crate) fn start_daemon_with(
    exe: &Path,
    env: Option<&[(OsString, OsString)]>,
    paths: &UnitPaths,
) -> Result<u32, ClientError> {
    let mut cmd = Command::new(exe);
    if let Some(env) = env {
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    cmd.args(["daemon", "start", "--foreground", "--notify-ready"])
        .env("LUCKY_SOCKET", &paths.socket)
        .env("LUCKY_DATA_DIR", &paths.data_dir)
        .env("JUJU_UNIT_NAME", &paths.unit)
        // The hook that happened to start the daemon is not the daemon's context.
        .env_remove("LUCKY_CONTEXT")
        .env_remove("JUJU_CONTEXT_ID")
        .current_dir(Path::new("/"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| {
        ClientError::Start(format!(
            "cannot run the lucky binary {}: {e}",
            exe.display()
        ))
    })?;
    // One line only: the daemon keeps its end open for its whole life.
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let line = line.trim();
    match ReadyLine::parse(line) {
        ReadyLine::Ready(pid) => return Ok(pid.unwrap_or(child.id())),
        ReadyLine::AlreadyRunning(why) => {
            let _ = child.wait();
            return Err(ClientError::AlreadyRunning(why.to_string()));
        }
        ReadyLine::Failed(_) => {}
    }
    // It exited before listening: reap it and report what it said.
    let status = child.wait().ok();
    let why = line.strip_prefix("error ").unwrap_or(line);
    Err(ClientError::Start(if why.is_empty() {
        format!("the daemon exited at start-up ({status:?}) without saying why")
    } else {
        why.to_string()
    }))
}

/// The one line `daemon start --notify-ready` prints: `ready <pid>`, `running <why>`
/// (another daemon holds the unit) or `error <why>`.
pub(crate) enum ReadyLine<'a> {
    Ready(Option<u32>),
    AlreadyRunning(&'a str),
    Failed(&'a str),
}

impl<'a> ReadyLine<'a> {
    /// The line as the daemon prints it, newline included.
    pub(crate) fn render(&self) -> String {
        let one_line = |why: &str| why.replace('\n', " ");
        match self {
            ReadyLine::Ready(pid) => format!("ready {}\n", pid.unwrap_or_default()),
            ReadyLine::AlreadyRunning(why) => format!("running {}\n", one_line(why)),
            ReadyLine::Failed(why) => format!("error {}\n", one_line(why)),
        }
    }

    pub(crate) fn parse(line: &'a str) -> Self {
        if let Some(pid) = line.strip_prefix("ready ") {
            ReadyLine::Ready(pid.parse().ok())
        } else if let Some(why) = line.strip_prefix("running ") {
            ReadyLine::AlreadyRunning(why)
        } else {
            ReadyLine::Failed(line.strip_prefix("error ").unwrap_or(line))
        }
    }
}
