fn main() -> std::process::ExitCode {
    incubator_api::cli::main()
}
