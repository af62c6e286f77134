//! Where a request's streamed output goes: the connection forwards it to the client.

use crate::protocol::{Reply, Stream};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// Bytes of a script's output kept for its history record (the end of it).
pub(crate) const OUTPUT_TAIL: usize = 4096;

/// Longest chunk sent as one frame when a script writes a very long line (or none).
const MAX_CHUNK: usize = 64 * 1024;

#[derive(Clone)]
pub(crate) struct OutputSink {
    /// None for a request that streams nothing ([`crate::protocol::Request::streams_output`]):
    /// it then costs no channel.
    tx: Option<mpsc::Sender<Reply>>,
    /// Also keeps the end of what passes, for the hook history.
    tap: Option<Arc<Mutex<OutputTail>>>,
}

impl OutputSink {
    pub(crate) fn new(tx: mpsc::Sender<Reply>) -> Self {
        Self {
            tx: Some(tx),
            tap: None,
        }
    }

    /// The sink of a request that streams no output.
    pub(crate) fn none() -> Self {
        Self {
            tx: None,
            tap: None,
        }
    }

    /// The same sink, also keeping the end of what is sent through it in `tail`.
    pub(crate) fn tapped(&self, tail: Arc<Mutex<OutputTail>>) -> Self {
        Self {
            tx: self.tx.clone(),
            tap: Some(tail),
        }
    }

    /// Sends one chunk. A client that went away does not stop the work: output is dropped.
    pub(crate) async fn send(&self, stream: Stream, data: Vec<u8>) {
        if let Some(tap) = &self.tap {
            tap.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(&data);
        }
        debug_assert!(
            self.tx.is_some(),
            "output from a request that Request::streams_output does not list"
        );
        if let Some(tx) = &self.tx {
            let _ = tx.send(Reply::Output { stream, data }).await;
        }
    }

    pub(crate) async fn line(&self, stream: Stream, text: impl Into<String>) {
        let mut data = text.into().into_bytes();
        data.push(b'\n');
        self.send(stream, data).await;
    }

    /// Forwards everything `reader` yields, one frame per line (long lines are split),
    /// until end of file.
    pub(crate) async fn pump(&self, stream: Stream, mut reader: impl AsyncRead + Unpin) {
        let mut pending: Vec<u8> = Vec::new();
        // On the heap: an array here would make every connection's task this much larger
        // (a future holds its locals), and a large task costs an mmap per request.
        let mut buf = vec![0u8; 8192];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| i + 1)
                .or((pending.len() >= MAX_CHUNK).then_some(MAX_CHUNK))
            {
                let rest = pending.split_off(end);
                self.send(stream, std::mem::replace(&mut pending, rest))
                    .await;
            }
        }
        if !pending.is_empty() {
            self.send(stream, pending).await;
        }
    }
}

/// The end of a script's output, at most [`OUTPUT_TAIL`] bytes.
#[derive(Debug, Default)]
pub(crate) struct OutputTail {
    bytes: VecDeque<u8>,
    truncated: bool,
}

impl OutputTail {
    pub(crate) fn push(&mut self, data: &[u8]) {
        let data = if data.len() > OUTPUT_TAIL {
            self.truncated = true;
            self.bytes.clear();
            &data[data.len() - OUTPUT_TAIL..]
        } else {
            data
        };
        let over = (self.bytes.len() + data.len()).saturating_sub(OUTPUT_TAIL);
        if over > 0 {
            self.truncated = true;
            self.bytes.drain(..over);
        }
        self.bytes.extend(data);
    }

    /// The tail as text (invalid UTF-8, a cut character included, shown as U+FFFD) and
    /// whether anything before it was dropped.
    pub(crate) fn take(&mut self) -> (String, bool) {
        let bytes: Vec<u8> = std::mem::take(&mut self.bytes).into();
        (String::from_utf8_lossy(&bytes).into_owned(), self.truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_the_last_bytes() {
        let mut tail = OutputTail::default();
        tail.push(b"hello\n");
        assert_eq!(tail.take(), ("hello\n".into(), false));
        let mut tail = OutputTail::default();
        for i in 0..2000 {
            tail.push(format!("line {i}\n").as_bytes());
        }
        let (text, truncated) = tail.take();
        assert!(truncated);
        assert!(text.len() <= OUTPUT_TAIL);
        assert!(text.ends_with("line 1999\n"));
        let mut tail = OutputTail::default();
        tail.push(&vec![b'y'; OUTPUT_TAIL * 3]);
        let (text, truncated) = tail.take();
        assert!(truncated && text.len() == OUTPUT_TAIL);
    }
}
