//! One client connection: hello, then requests, each answered by output frames and one
//! final frame. Nothing a client sends can take the daemon down: bad frames get an error
//! reply (when one can still be sent) and the connection is closed.

use super::Daemon;
use super::handlers::{self, Caller, Origin};
use crate::protocol::frame::{self, FrameError};
use crate::protocol::{ErrorKind, ErrorReply, Hello, PROTOCOL_VERSION, Reply, Request};
use crate::script::OutputSink;
use crate::script::context::TokenScope;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::mpsc;

/// A client that connects and says nothing is dropped after this long.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that sends nothing more after a request's answer is dropped after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that does not read what it is sent is dropped after this long, so it cannot
/// keep its slot and its encoded reply for ever.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest frame a container connection may send before it shows a script's token.
const GUEST_FRAME_LEN: u32 = 4 * 1024;

pub(crate) async fn serve(daemon: Arc<Daemon>, stream: UnixStream, origin: Origin) {
    match origin {
        Origin::Host => {
            let Ok(slot) = Arc::clone(&daemon.host_slots).try_acquire_owned() else {
                return refuse_busy(stream, origin).await;
            };
            session(&daemon, stream, origin, None).await;
            drop(slot);
        }
        // A guest until its hello shows a script's token (admission.rs).
        Origin::Container => {
            let (id, evicted) = daemon.container_guests.admit();
            tokio::select! {
                () = session(&daemon, stream, origin, Some(id)) => {}
                () = evicted => tracing::debug!("closed the oldest tokenless container connection for a new one"),
            }
            daemon.container_guests.leave(id);
        }
    }
    daemon.activity.served();
}

async fn refuse_busy(stream: UnixStream, origin: Origin) {
    let (_, mut write) = stream.into_split();
    send_busy(&mut write, origin).await;
}

async fn send_busy(write: &mut OwnedWriteHalf, origin: Origin) {
    tracing::warn!(?origin, "too many connections: refusing one");
    let busy = ErrorReply::new(
        ErrorKind::Internal,
        "the lucky daemon has too many connections open on this socket; try again",
    );
    let _ = send(write, &Reply::Error(busy)).await;
}

const READ_BUFFER: usize = 1024;

/// Hello, then requests until the client leaves. `guest` is the container connection's
/// guest id: it becomes a script's connection (taking a container slot) once its hello
/// shows a live script token; until then it is kept small and answers one request.
async fn session(daemon: &Arc<Daemon>, stream: UnixStream, origin: Origin, guest: Option<u64>) {
    let (read, mut write) = stream.into_split();
    // Most frames (hello, a script's request) are a few hundred bytes; a larger one is
    // read past the buffer. tokio's default 8 KiB would be an allocation per connection
    // large enough to be mapped and unmapped each time.
    let mut read = BufReader::with_capacity(READ_BUFFER, read);
    let mut buf = Vec::new();
    let mut max_frame = match origin {
        Origin::Host => frame::MAX_FRAME_LEN,
        // Until a token is shown: a hello, or a status request, is a few bytes.
        Origin::Container => GUEST_FRAME_LEN,
    };

    let hello: Hello = match tokio::time::timeout(
        HELLO_TIMEOUT,
        frame::read_async_limited(&mut read, &mut buf, max_frame),
    )
    .await
    {
        Ok(Ok(hello)) => hello,
        Ok(Err(FrameError::Closed)) => return,
        Ok(Err(e)) => return refuse(&mut write, &e).await,
        Err(_) => return,
    };
    if hello.protocol != PROTOCOL_VERSION {
        let message = format!(
            "version mismatch: this lucky CLI ({}) speaks protocol {} but the daemon (lucky {}) speaks protocol {}; restart the daemon with the same binary (`lucky daemon stop`, then `lucky daemon start`)",
            hello.version,
            hello.protocol,
            env!("LUCKY_BUILD_VERSION"),
            PROTOCOL_VERSION
        );
        let _ = send(
            &mut write,
            &Reply::Error(ErrorReply::new(ErrorKind::VersionMismatch, message)),
        )
        .await;
        return;
    }
    let caller = Caller {
        token_given: hello.context.is_some(),
        // Each socket accepts only the tokens given out for it: a hook's token found
        // somewhere in a container does not work on the container socket.
        context: hello.context.as_deref().and_then(|t| {
            let scope = match origin {
                Origin::Host => TokenScope::Hook,
                Origin::Container => TokenScope::ContainerScript,
            };
            daemon.contexts.lookup(t, scope)
        }),
        origin,
    };
    // A script's connection holds a container slot until the session ends.
    let mut container_slot = None;
    if let Some(id) = guest
        && caller.context.is_some()
    {
        let Ok(slot) = Arc::clone(&daemon.container_slots).try_acquire_owned() else {
            return send_busy(&mut write, origin).await;
        };
        daemon.container_guests.leave(id);
        container_slot = Some(slot);
        max_frame = frame::MAX_CONTAINER_FRAME_LEN;
    }
    // A guest is answered one request, then closed: it cannot keep a connection open.
    let one_request_only = guest.is_some() && container_slot.is_none();

    loop {
        // An idle connection holds a file descriptor: clients send requests at once.
        let next = tokio::time::timeout(
            IDLE_TIMEOUT,
            frame::read_async_limited(&mut read, &mut buf, max_frame),
        );
        let request: Request = match next.await {
            Ok(Ok(r)) => r,
            Ok(Err(FrameError::Closed)) | Err(_) => return,
            Ok(Err(e)) => return refuse(&mut write, &e).await,
        };
        tracing::debug!(request = request.name(), "request");
        if !answer(daemon, &caller, request, &mut write).await || one_request_only {
            return;
        }
    }
}

/// Runs one request, forwarding its output; false when the client is gone.
async fn answer(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    write: &mut OwnedWriteHalf,
) -> bool {
    let (tx, mut rx) = mpsc::channel::<Reply>(64);
    let out = OutputSink::new(tx);
    // The handler owns the sink, so the channel closes when the handler is done.
    let work = handlers::handle(daemon, caller, request, out);
    tokio::pin!(work);
    let mut client_alive = true;
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(reply) = rx.recv() => {
                // The work goes on even if the client left (a killed hook process must
                // not leave a half-run script behind); its output is then dropped.
                if client_alive && send(write, &reply).await.is_err() {
                    client_alive = false;
                }
            }
        }
    };
    while let Some(reply) = rx.recv().await {
        if client_alive && send(write, &reply).await.is_err() {
            client_alive = false;
        }
    }
    let last = match result {
        Ok(response) => Reply::Done(response),
        Err(error) => Reply::Error(error),
    };
    client_alive && send(write, &last).await.is_ok()
}

async fn refuse(write: &mut OwnedWriteHalf, error: &FrameError) {
    tracing::debug!(%error, "refusing a malformed frame");
    let reply = Reply::Error(ErrorReply::new(
        ErrorKind::Protocol,
        format!("protocol error: {error}"),
    ));
    let _ = send(write, &reply).await;
}

async fn send(write: &mut OwnedWriteHalf, reply: &Reply) -> Result<(), FrameError> {
    match tokio::time::timeout(WRITE_TIMEOUT, frame::write_async(write, reply)).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("a client did not read its reply for {WRITE_TIMEOUT:?}: dropping it");
            Err(FrameError::Io(std::io::ErrorKind::TimedOut.into()))
        }
    }
}
