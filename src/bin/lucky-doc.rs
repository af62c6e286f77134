//! `lucky-doc`: lucky's shell completions and man pages, kept out of the shipped binary
//! (see `lucky::cli::docgen`).

fn main() -> std::process::ExitCode {
    lucky::cli::docgen::main()
}
