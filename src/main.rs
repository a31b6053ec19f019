//! `ccperf`: the command-line front end (see `consensus_performance::cli`).
fn main() {
    std::process::exit(consensus_performance::cli::main_with(std::env::args_os()));
}
