//! Length-prefixed MessagePack frames, with blocking (CLI) and async (daemon) readers.
//!
//! The length is checked before the body is read, so an oversized frame is refused
//! without allocating for it; and a body's buffer grows as its bytes arrive, never to
//! the claimed length up front, so a client that claims 4 MiB and sends nothing costs
//! the daemon almost nothing.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{self, Read, Write};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest body accepted: generous for a hook's environment or a script's output line,
/// small enough that a hostile client cannot make the daemon allocate much.
pub const MAX_FRAME_LEN: u32 = 4 * 1024 * 1024;
/// Largest body a client on the container socket may send: room for a full kv store
/// (1 MiB) in one call, while 128 connections each holding a frame short of its last
/// byte cost 128 MiB rather than 512.
pub const MAX_CONTAINER_FRAME_LEN: u32 = 1024 * 1024 + 64 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection between frames.
    #[error("connection closed")]
    Closed,
    /// A frame's length (first) is over the limit (second): refused before reading it.
    #[error("frame of {0} bytes exceeds the {1}-byte limit")]
    TooLarge(u32, u32),
    /// The body is not the MessagePack of the expected message.
    #[error("undecodable frame: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// The message could not be encoded.
    #[error("cannot encode frame: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// Reading or writing the connection failed (including a frame cut short).
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Appends one encoded frame to `out` (so several frames can go out in one write).
pub fn encode_into<T: Serialize>(out: &mut Vec<u8>, msg: &T) -> Result<(), FrameError> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    rmp_serde::encode::write_named(out, msg)?;
    let len = out.len() - start - 4;
    if len > MAX_FRAME_LEN as usize {
        out.truncate(start);
        return Err(FrameError::TooLarge(
            u32::try_from(len).unwrap_or(u32::MAX),
            MAX_FRAME_LEN,
        ));
    }
    out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// One encoded frame: the 4-byte length, then the MessagePack body.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::with_capacity(128);
    encode_into(&mut out, msg)?;
    Ok(out)
}

fn checked_len(header: [u8; 4], max: u32) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header);
    if len > max {
        return Err(FrameError::TooLarge(len, max));
    }
    Ok(len as usize)
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    Ok(rmp_serde::from_slice(body)?)
}

/// Blocking write of one frame (hand-written clients: the benchmarks, attack tests).
pub fn write_blocking<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    w.write_all(&encode(msg)?)?;
    Ok(())
}

/// Blocking read of one frame; `Closed` on a clean end of stream before a header.
pub fn read_blocking<T: DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    let mut header = [0u8; 4];
    match r.read_exact(&mut header) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        other => other?,
    }
    let len = checked_len(header, MAX_FRAME_LEN)?;
    let mut body = Vec::new();
    r.take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(truncated());
    }
    decode(&body)
}

/// Async read of one frame, reusing `buf` between frames, refusing bodies over `max` bytes.
pub(crate) async fn read_async_limited<T: DeserializeOwned>(
    r: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
    max: u32,
) -> Result<T, FrameError> {
    let mut header = [0u8; 4];
    match r.read_exact(&mut header).await {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        other => other?,
    };
    let len = checked_len(header, max)?;
    buf.clear();
    if buf.capacity() > KEPT_CAPACITY {
        // One big frame does not make the connection hold its size for the rest of its life.
        *buf = Vec::new();
    }
    r.take(len as u64).read_to_end(buf).await?;
    if buf.len() < len {
        return Err(truncated());
    }
    decode(buf)
}

/// Buffer capacity a connection keeps between frames.
const KEPT_CAPACITY: usize = 64 * 1024;

fn truncated() -> FrameError {
    FrameError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the connection closed in the middle of a frame",
    ))
}

pub(crate) async fn write_async<T: Serialize>(
    w: &mut (impl AsyncWrite + Unpin),
    msg: &T,
) -> Result<(), FrameError> {
    w.write_all(&encode(msg)?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let bytes = encode(&("hello", 42u32)).expect("encode");
        let back: (String, u32) = read_blocking(&mut &bytes[..]).expect("decode");
        assert_eq!(back, ("hello".to_string(), 42));

        let huge = (MAX_FRAME_LEN + 1).to_be_bytes();
        let err = read_blocking::<u32>(&mut &huge[..]).expect_err("oversized");
        assert!(matches!(err, FrameError::TooLarge(n, _) if n == MAX_FRAME_LEN + 1));

        let empty: &[u8] = &[];
        assert!(matches!(
            read_blocking::<u32>(&mut &empty[..]),
            Err(FrameError::Closed)
        ));
        let truncated = [0u8, 0, 0, 9, 1, 2];
        assert!(matches!(
            read_blocking::<u32>(&mut &truncated[..]),
            Err(FrameError::Io(_))
        ));
    }

    #[test]
    fn a_tool_status_crosses_the_wire_and_an_older_reply_still_reads() {
        use crate::protocol::{ErrorKind, ErrorReply};
        let failed = ErrorReply::new(ErrorKind::Juju, "secret-get: secret \"x\" not found")
            .with_tool_status(Some(1));
        let back: ErrorReply =
            read_blocking(&mut &encode(&failed).expect("encode")[..]).expect("decode");
        assert_eq!(back, failed);
        assert_eq!(back.exit_code(), 1);
        // A reply from a peer without the field (kind and message only).
        #[derive(serde::Serialize)]
        struct Older {
            kind: ErrorKind,
            message: String,
        }
        let older = Older {
            kind: ErrorKind::Juju,
            message: "status-set: not found".into(),
        };
        let back: ErrorReply =
            read_blocking(&mut &encode(&older).expect("encode")[..]).expect("decode");
        assert_eq!(back.tool_status, None);
        assert_eq!(back.exit_code(), ErrorKind::Juju.exit_code());
    }

    #[tokio::test]
    async fn a_claimed_length_is_not_allocated_before_the_bytes_come() {
        // A header claiming the maximum, then three bytes, then the end of the stream.
        let mut bytes = MAX_FRAME_LEN.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[1, 2, 3]);
        let mut buf = Vec::new();
        let err = read_async_limited::<u32>(&mut &bytes[..], &mut buf, MAX_FRAME_LEN)
            .await
            .expect_err("truncated");
        assert!(matches!(err, FrameError::Io(_)), "{err}");
        assert_eq!(buf.len(), 3);
        assert!(
            buf.capacity() < 64 * 1024,
            "the buffer grew to {} bytes for 3 that arrived",
            buf.capacity()
        );
    }
}
