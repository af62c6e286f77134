//! Where a request's streamed output goes: the connection forwards it to the client.

use crate::protocol::{Reply, Stream};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// Longest chunk sent as one frame when a script writes a very long line (or none).
const MAX_CHUNK: usize = 64 * 1024;

#[derive(Clone)]
pub struct OutputSink {
    tx: mpsc::Sender<Reply>,
}

impl OutputSink {
    pub fn new(tx: mpsc::Sender<Reply>) -> Self {
        Self { tx }
    }

    /// Sends one chunk. A client that went away does not stop the work: output is dropped.
    pub async fn send(&self, stream: Stream, data: Vec<u8>) {
        let _ = self.tx.send(Reply::Output { stream, data }).await;
    }

    pub async fn line(&self, stream: Stream, text: impl Into<String>) {
        let mut data = text.into().into_bytes();
        data.push(b'\n');
        self.send(stream, data).await;
    }

    /// Forwards everything `reader` yields, one frame per line (long lines are split),
    /// until end of file.
    pub async fn pump(&self, stream: Stream, mut reader: impl AsyncRead + Unpin) {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
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
