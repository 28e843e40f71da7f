fn main() -> std::process::ExitCode {
    relais_api::cli::main()
}
