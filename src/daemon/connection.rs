//! One client connection: hello, one request, its output frames and one final frame, then
//! the daemon closes it. Nothing a client sends can take the daemon down: bad frames get
//! an error reply (when one can still be sent) and the connection is closed.

use super::Daemon;
use super::handlers::{self, Caller, Origin};
use crate::protocol::frame::{self, FrameError};
use crate::protocol::{ErrorKind, ErrorReply, Hello, PROTOCOL_VERSION, Reply, Request};
use crate::script::OutputSink;
use crate::script::context::TokenScope;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::time::Sleep;

/// A client that has not sent its hello and request this long after connecting is
/// dropped: a connection holds a file descriptor and a slot.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that does not read what it is sent is dropped after this long, so it cannot
/// keep its slot and its encoded reply for ever.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest frame a container connection may send before it shows a script's token.
const GUEST_FRAME_LEN: u32 = 4 * 1024;

pub(crate) async fn serve(daemon: Arc<Daemon>, stream: UnixStream, origin: Origin) {
    // The session's state is boxed: the task that holds this future is moved whole when it
    // is spawned and when it ends, so it is kept to a few words.
    match origin {
        Origin::Host => {
            let Ok(slot) = Arc::clone(&daemon.host_slots).try_acquire_owned() else {
                return Box::pin(refuse_busy(stream, origin)).await;
            };
            Box::pin(session(&daemon, stream, origin, None)).await;
            drop(slot);
        }
        // A guest until its hello shows a script's token (admission.rs).
        Origin::Container => {
            let (id, evicted) = daemon.container_guests.admit();
            tokio::select! {
                () = Box::pin(session(&daemon, stream, origin, Some(id))) => {}
                () = evicted => tracing::debug!("closed the oldest tokenless container connection for a new one"),
            }
            daemon.container_guests.leave(id);
        }
    }
    daemon.activity.served();
}

async fn refuse_busy(mut stream: UnixStream, origin: Origin) {
    send_busy(&mut stream, origin).await;
}

async fn send_busy(write: &mut (impl AsyncWrite + Unpin), origin: Origin) {
    tracing::warn!(?origin, "too many connections: refusing one");
    let busy = ErrorReply::new(
        ErrorKind::Internal,
        "the lucky daemon has too many connections open on this socket; try again",
    );
    let _ = send(write, &Reply::Error(busy)).await;
}

const READ_BUFFER: usize = 1024;

/// Hello, one request and its answer. `guest` is the container connection's guest id: it
/// becomes a script's connection (taking a container slot) once its hello shows a live
/// script token; until then it is kept small.
///
/// One request per connection (the protocol's rule): the daemon closes the connection
/// after the answer instead of waiting for the client's end, which would cost each call
/// one more wake-up of the event loop.
async fn session(daemon: &Arc<Daemon>, mut stream: UnixStream, origin: Origin, guest: Option<u64>) {
    // Borrowed halves: the owned ones cost an Arc and a `shutdown(2)` when dropped.
    let (read, mut write) = stream.split();
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

    // One timer for both frames: arming one costs a wake-up of the event loop whenever it
    // becomes the earliest timer (tokio's time driver), so once per connection, not twice.
    let deadline = tokio::time::sleep(REQUEST_TIMEOUT);
    tokio::pin!(deadline);
    let hello: Hello = match before(
        deadline.as_mut(),
        frame::read_async_limited(&mut read, &mut buf, max_frame),
    )
    .await
    {
        Some(Ok(hello)) => hello,
        Some(Err(FrameError::Closed)) | None => return,
        Some(Err(e)) => return refuse(&mut write, &e).await,
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
    let mut _container_slot = None;
    if let Some(id) = guest
        && caller.context.is_some()
    {
        let Ok(slot) = Arc::clone(&daemon.container_slots).try_acquire_owned() else {
            return send_busy(&mut write, origin).await;
        };
        daemon.container_guests.leave(id);
        _container_slot = Some(slot);
        max_frame = frame::MAX_CONTAINER_FRAME_LEN;
    }
    let next = before(
        deadline.as_mut(),
        frame::read_async_limited(&mut read, &mut buf, max_frame),
    );
    let request: Request = match next.await {
        Some(Ok(r)) => r,
        Some(Err(FrameError::Closed)) | None => return,
        Some(Err(e)) => return refuse(&mut write, &e).await,
    };
    tracing::debug!(request = request.name(), "request");
    answer(daemon, &caller, request, &mut write).await;
}

/// `work`'s result, or None if `deadline` passes first.
async fn before<T>(deadline: Pin<&mut Sleep>, work: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        result = work => Some(result),
        () = deadline => None,
    }
}

/// Runs one request and sends its answer. The work is done even if the client has left.
async fn answer(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    write: &mut (impl AsyncWrite + Unpin),
) {
    if request.streams_output() {
        return Box::pin(answer_streaming(daemon, caller, request, write)).await;
    }
    let result = handlers::handle(daemon, caller, request, &OutputSink::none()).await;
    let _ = send(write, &last_reply(result)).await;
}

/// Runs one request that streams output, forwarding it while the client reads.
async fn answer_streaming(
    daemon: &Arc<Daemon>,
    caller: &Caller,
    request: Request,
    write: &mut (impl AsyncWrite + Unpin),
) {
    let (tx, mut rx) = mpsc::channel::<Reply>(64);
    // The handler owns the sink, so the channel closes when the handler is done.
    let work = async move {
        let out = OutputSink::new(tx);
        handlers::handle(daemon, caller, request, &out).await
    };
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
    if client_alive {
        let _ = send(write, &last_reply(result)).await;
    }
}

fn last_reply(result: Result<crate::protocol::Response, ErrorReply>) -> Reply {
    match result {
        Ok(response) => Reply::Done(response),
        Err(error) => Reply::Error(error),
    }
}

async fn refuse(write: &mut (impl AsyncWrite + Unpin), error: &FrameError) {
    tracing::debug!(%error, "refusing a malformed frame");
    let reply = Reply::Error(ErrorReply::new(
        ErrorKind::Protocol,
        format!("protocol error: {error}"),
    ));
    let _ = send(write, &reply).await;
}

async fn send(write: &mut (impl AsyncWrite + Unpin), reply: &Reply) -> Result<(), FrameError> {
    match tokio::time::timeout(WRITE_TIMEOUT, frame::write_async(write, reply)).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("a client did not read its reply for {WRITE_TIMEOUT:?}: dropping it");
            Err(FrameError::Io(std::io::ErrorKind::TimedOut.into()))
        }
    }
}
