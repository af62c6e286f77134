fn main() -> std::process::ExitCode {
    lucky::cli::main()
}
