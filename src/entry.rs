//! The process's start, done here instead of by std's runtime (`main.rs` is `no_main`).
//!
//! Why: std's start costs every exec about 23 µs and 6 page faults on this kind of machine
//! (a static no-op built both ways, bench/cli.rs's machine), against a script call's whole
//! budget of tens of µs: it installs stack-overflow handlers with an alternate signal
//! stack for the main thread (an mmap, an mprotect, five signal calls, and an munmap and
//! sigaltstack again at exit). Lucky keeps the two parts of that start whose absence a
//! user could see:
//!
//! - file descriptors 0-2 are open (on `/dev/null` if they were closed), so a socket or
//!   file lucky opens never becomes its standard output;
//! - SIGPIPE is ignored, so a closed pipe is an error lucky reports, not a silent death.
//!
//! What it gives up: a stack overflow ends the process with SIGSEGV instead of std's
//! message first, and a panic names the main thread `<unnamed>`.
//!
//! musl's std finds the command line only through its own start, so [`args`] serves it.

use std::ffi::{CStr, OsString, c_char, c_int};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicIsize, AtomicPtr, Ordering};

static ARGC: AtomicIsize = AtomicIsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(std::ptr::null_mut());

/// Prepares the process as described above and keeps the command line for [`args`].
///
/// # Safety
/// `argv` must hold `argc` valid C strings that live as long as the process: the
/// arguments of the C `main`.
pub unsafe fn init(argc: c_int, argv: *const *const c_char) {
    ARGC.store(argc as isize, Ordering::Relaxed);
    ARGV.store(argv.cast_mut(), Ordering::Relaxed);
    open_standard_fds();
    // SAFETY: setting a signal's disposition to "ignore" touches no memory of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// The exit status of `main`, once what was printed is written out (std's start flushed
/// standard output at exit; libc's does not know Rust's buffer).
pub fn finish(code: u8) -> c_int {
    let _ = std::io::stdout().flush();
    c_int::from(code)
}

/// The command line, as [`init`] was given it; std's (`std::env::args_os`) where `init`
/// was not called (in tests, whose harness has std's start).
pub fn args() -> Vec<OsString> {
    let argc = usize::try_from(ARGC.load(Ordering::Relaxed)).unwrap_or(0);
    let argv = ARGV.load(Ordering::Relaxed);
    if argv.is_null() {
        return std::env::args_os().collect();
    }
    (0..argc)
        .map(|i| {
            // SAFETY: `init`'s contract: argv holds argc C strings for the process's life.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
        })
        .collect()
}

/// Opens `/dev/null` on whichever of fds 0-2 is closed.
fn open_standard_fds() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the length given.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0;
    for fd in fds {
        let closed = if polled {
            fd.revents & libc::POLLNVAL != 0
        } else {
            // SAFETY: F_GETFD only reads the descriptor's flags.
            let flags = unsafe { libc::fcntl(fd.fd, libc::F_GETFD) };
            flags == -1
        };
        if closed {
            // SAFETY: a constant C string; the lowest free descriptor is the closed one.
            // If it fails there is nothing better to do: lucky runs as it would have.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}
