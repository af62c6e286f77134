//! The `lucky` binary: the CLI and the daemon in one; as `status-set`, `config-get` …
//! (a link named for a hook tool) it is the simulator's tool instead.

/// dlmalloc, not musl's malloc: fewer pages touched per call (src/alloc.rs).
#[global_allocator]
static ALLOCATOR: lucky::alloc::Allocator = lucky::alloc::Allocator;

fn main() -> std::process::ExitCode {
    // Hook-tool mode (status-set, config-get …): a file-name comparison, nothing more,
    // before anything else runs.
    if let Some(code) = lucky::simulator::tools::run_if_invoked_as_tool() {
        return code;
    }
    lucky::cli::main()
}
