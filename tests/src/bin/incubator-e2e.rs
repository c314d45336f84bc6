//! The `incubator` binary, built inside this package so that the crash tests can run it as a
//! child process (`CARGO_BIN_EXE_incubator-e2e`). Same code as `api/src/main.rs`.

fn main() -> std::process::ExitCode {
    incubator_api::cli::main()
}
