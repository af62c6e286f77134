//! Bytes a client sends the daemon: a hello, then requests, as the daemon's reader takes
//! them. Whatever arrives, decoding returns an error or a value; it never panics and
//! never allocates more than the bytes that came (plus the frame limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lucky::protocol::frame;
use lucky::protocol::{Hello, Reply, Request};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    if frame::read_blocking::<Hello>(&mut input).is_err() {
        return;
    }
    for _ in 0..8 {
        if frame::read_blocking::<Request>(&mut input).is_err() {
            break;
        }
    }
    // The CLI's side: what a daemon (or anything on that socket) answers.
    let mut input = data;
    for _ in 0..8 {
        if frame::read_blocking::<Reply>(&mut input).is_err() {
            break;
        }
    }
});
