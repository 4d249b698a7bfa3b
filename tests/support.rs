//! Running the `sim2real` binary from the tests (cargo runs them in the package root).

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `sim2real ARGS` to the end.
pub fn sim2real(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim2real")).args(args).output().expect("run sim2real")
}

/// Runs `sim2real ARGS` with `input` on standard input (the operator's answers).
pub fn sim2real_with_input(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sim2real");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("sim2real exits")
}
