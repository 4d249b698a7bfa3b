//! `sim2real pipeline` end to end on a budget too small to learn anything: the loop spends
//! every budget, says no route can meet θ, exits 3, and still writes its report; nothing is
//! certified. (The full yard run is a benchmark: README, "Pipeline".)

use std::path::Path;
use std::process::Command;

#[test]
fn a_spent_budget_ends_with_exit_3_a_report_and_no_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("bundle");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipeline-tiny-budget.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .args(["pipeline", scenario.to_str().expect("utf8"), "--out", out_dir.to_str().expect("utf8")])
        .output()
        .expect("run sim2real");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("NOT CERTIFIED: training ended NoRoute"), "{stdout}");
    assert!(
        stderr.contains("verifying 1 subtask(s)"),
        "a_to_b, the one route with policies, is verified: {stderr}"
    );
    assert!(stderr.contains("initial estimates"), "progress is logged: {stderr}");
    assert!(!out_dir.join("certificate.yaml").exists());
    let report = std::fs::read_to_string(out_dir.join("report.md")).expect("report written");
    assert!(report.contains("**not certified**"), "{report}");
    // Every budget is 2,048 steps: each trained subtask got exactly one chunk.
    assert!(report.contains("| a_to_b | 2048 |"), "{report}");
    assert!(out_dir.join("plots/estimates.png").exists());
}
