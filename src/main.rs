//! The `sim2real` command line (DESIGN §5). Exit codes: 0 success, 1 runtime failure,
//! 2 invalid input, 3 verification or integrity failure.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // rcl reads `--ros-args ...` from the process arguments itself (`sim2real node`).
    let args = cli::Cli::parse_from(sim2real::ros::strip_ros_args(std::env::args()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal, never in log files or batch-job logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    match cli::run(args) {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            failure.code.into()
        }
    }
}
