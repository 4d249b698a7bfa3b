//! The `sim2real` binary as users and launch files call it: exit codes, messages, output files.

use crate::support::sim2real;
use std::path::{Path, PathBuf};

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_accepts_the_yard_and_lists_routes() {
    let out = sim2real(&["validate", root("scenarios/warthog_yard/scenario.yaml").to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("goal shed_pond"), "{stdout}");
    assert!(stdout.contains("pond_bank_crossing"), "{stdout}");
}

#[test]
fn validate_rejects_with_exit_2_naming_file_and_field() {
    let file = root("tests/fixtures/scenario/invalid-negative-horizon.yaml");
    let out = sim2real(&["validate", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid-negative-horizon.yaml"), "{stderr}");
    assert!(stderr.contains("subtasks[0].horizon_steps"), "{stderr}");
    assert!(stderr.contains("-5"), "{stderr}");
}

#[test]
fn validate_missing_file_is_invalid_input() {
    let out = sim2real(&["validate", "/nonexistent/scenario.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/scenario.yaml"));
}

#[test]
fn simulate_drives_a_route_and_writes_csv_and_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yard = root("scenarios/warthog_yard/scenario.yaml");
    for fidelity in ["low", "high"] {
        let out_dir = dir.path().join(fidelity);
        let out = sim2real(&[
            "simulate",
            yard.to_str().expect("utf8"),
            "--fidelity",
            fidelity,
            "--goal",
            "shed_north",
            "--seed",
            "3",
            "--out",
            out_dir.to_str().expect("utf8"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{fidelity}: {}{}", text(&out.stdout), text(&out.stderr));
        assert!(text(&out.stdout).contains("route completed"));
        let csv = std::fs::read_to_string(out_dir.join("trajectory.csv")).expect("csv");
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[0].starts_with("time_s,subtask,x_m,y_m"));
        assert!(rows.len() > 500, "{fidelity}: a real drive has many steps");
        let last: Vec<f64> =
            rows[rows.len() - 1].split(',').skip(2).take(2).map(|v| v.parse().expect("number")).collect();
        let goal = (95.0, 128.0);
        assert!((last[0] - goal.0).hypot(last[1] - goal.1) < 3.0, "{fidelity}: ends at shed_north: {last:?}");
        let png = std::fs::read(out_dir.join("trajectory.png")).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn simulate_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yard = root("scenarios/warthog_yard/scenario.yaml");
    let run = |name: &str| {
        let out_dir = dir.path().join(name);
        let args = [
            "simulate",
            yard.to_str().expect("utf8"),
            "--fidelity",
            "high",
            "--route",
            "depot_to_dock_south",
            "--seed",
            "11",
            "--out",
            out_dir.to_str().expect("utf8"),
        ];
        sim2real(&args);
        std::fs::read(out_dir.join("trajectory.csv")).expect("csv")
    };
    assert_eq!(run("a"), run("b"));
}

#[test]
fn simulate_rejects_a_route_that_does_not_chain() {
    let yard = root("scenarios/warthog_yard/scenario.yaml");
    let out = sim2real(&[
        "simulate",
        yard.to_str().expect("utf8"),
        "--fidelity",
        "low",
        "--route",
        "depot_to_gate_west,crossroads_to_dock_east",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot follow"), "{}", text(&out.stderr));
}
