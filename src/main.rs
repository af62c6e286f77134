//! The `lucky` binary: the CLI and the daemon in one; as `status-set`, `config-get` …
//! (a link named for a hook tool) it is the simulator's tool instead.
//!
//! `no_main`: the process starts in our own C `main`, without std's runtime start, which
//! costs every script call more than it needs (see `lucky::entry`).
#![cfg_attr(not(test), no_main)]

/// dlmalloc, not musl's malloc: fewer pages touched per call (src/alloc.rs).
#[global_allocator]
static ALLOCATOR: lucky::alloc::Allocator = lucky::alloc::Allocator;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: these are the C `main`'s arguments, libc's start passes the kernel's.
    unsafe { lucky::entry::init(argc, argv) };
    // A panic ends with status 101, as std's start ends it (where panics unwind: the
    // release build aborts). Hook-tool mode (status-set, config-get …) is a file-name
    // comparison, nothing more, before anything else runs.
    let code = std::panic::catch_unwind(|| {
        let args = lucky::entry::args();
        match lucky::simulator::tools::run_if_invoked_as_tool(&args) {
            Some(code) => code,
            None => lucky::cli::main(args),
        }
    })
    .unwrap_or(101);
    lucky::entry::finish(code)
}
