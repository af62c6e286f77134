//! Who gets a connection slot. The host socket has a fixed number of slots (only host
//! users reach it). On the container socket anything the workload runs can connect, so a
//! fixed pool would let it hold every slot and lock out the unit's container scripts:
//! there a connection is a *guest* until its hello shows the token of a running container
//! script, and guests are bounded by closing the oldest one when a new one arrives, never
//! by refusing newcomers (the newcomer may be a script). Only a script's connection takes
//! one of the container slots, which only the charm's own scripts can fill.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

/// Container-socket connections without a script token kept at once. Larger than the
/// connections one accept-loop turn can take (tokio's budget, 128), so a guest whose
/// hello was already sent is read before a burst of newcomers can close it.
pub(crate) const MAX_CONTAINER_GUESTS: usize = 256;

/// The container socket's guests, oldest first, each with the means to close it.
#[derive(Default)]
pub(crate) struct Guests {
    next_id: AtomicU64,
    queue: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
}

impl Guests {
    /// Admits a new guest, closing the oldest one when there are too many. The returned
    /// future completes when this guest is closed that way.
    pub(crate) fn admit(&self) -> (u64, impl Future<Output = ()> + use<>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.push_back((id, tx));
        while queue.len() > MAX_CONTAINER_GUESTS {
            if let Some((_, oldest)) = queue.pop_front() {
                let _ = oldest.send(());
            }
        }
        drop(queue);
        let evicted = async move {
            // A guest that left the queue (it showed a token, or it ended) is never closed
            // this way: its sender is gone without a send.
            if rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        (id, evicted)
    }

    /// The guest `id` is a guest no more (it showed a token) or is gone.
    pub(crate) fn leave(&self, id: u64) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.retain(|(i, _)| *i != id);
    }

    pub(crate) fn count(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn closed(f: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
        f.as_mut().poll(&mut Context::from_waker(Waker::noop())) == Poll::Ready(())
    }

    #[test]
    fn the_oldest_guest_is_closed_when_one_too_many_arrives() {
        let guests = Guests::default();
        let (_, first) = guests.admit();
        let mut first = pin!(first);
        let (second_id, second) = guests.admit();
        let mut second = pin!(second);
        for _ in 1..MAX_CONTAINER_GUESTS - 1 {
            std::mem::forget(guests.admit());
        }
        assert_eq!(guests.count(), MAX_CONTAINER_GUESTS);
        assert!(!closed(&mut first));
        std::mem::forget(guests.admit());
        assert!(closed(&mut first), "the oldest guest is closed");
        assert!(!closed(&mut second));
        // A guest that showed its token leaves the queue and is never closed.
        guests.leave(second_id);
        std::mem::forget(guests.admit());
        assert!(!closed(&mut second));
        assert_eq!(guests.count(), MAX_CONTAINER_GUESTS);
    }
}
