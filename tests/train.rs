//! `sim2real train` end to end: a short run writes the policy pair and the learning curve, and a
//! bad subtask id is refused with exit 2.

use crate::support::sim2real;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A one-rollout training run (the step count rounds up to 8 × 256: the root crate is
/// unoptimised in tests) on `threads` rayon threads.
fn short_run(out_dir: &Path, threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .env("RAYON_NUM_THREADS", threads)
        .args([
            "train",
            yard().to_str().expect("utf8"),
            "--subtask",
            ID,
            "--steps",
            "1",
            "--seed",
            "3",
            "--eval-episodes",
            "8",
            "--out",
            out_dir.to_str().expect("utf8"),
        ])
        .output()
        .expect("run sim2real")
}

const ID: &str = "junction_east_to_shed_pond";

fn yard() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn short_training_run_writes_a_loadable_policy_and_a_curve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let id = ID;
    let out = short_run(&out_dir, "2");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("evaluation"), "{stdout}");
    assert!(stdout.contains("/8 succeeded"), "{stdout}");

    let policies_dir = out_dir.join("policies");
    let policy = policies::PolicyFile::load(&policies_dir, id).expect("the written pair loads");
    let c = policy.contract();
    assert_eq!(c.subtask, id);
    assert_eq!(c.control_rate_hz, 10.0);
    assert_eq!(c.observation.len(), c.network.obs_dim);
    assert_eq!(c.observation[0].name, "goal_distance_m");
    assert_eq!(c.training_steps, 2048);
    assert!(matches!(
        c.action,
        policies::ActionContract::Continuous { dim: 2, linear_mps: 3.0, angular_rps: 1.5, reverse_mps: 0.5 }
    ));
    let ranges = c.ranges.as_ref().expect("the contract states its rays");
    assert_eq!((ranges.definition.as_str(), ranges.count, ranges.fov_deg), ("sector_minimum", 9, 270.0));
    let png = std::fs::read(out_dir.join(format!("learning_curve_{id}.png"))).expect("curve written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    // Nothing half-written left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("ls")
        .chain(std::fs::read_dir(&policies_dir).expect("ls"))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Same seed on one thread: bit-identical weights and the same evaluation.
    let again_dir = dir.path().join("again");
    let again = short_run(&again_dir, "1");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let weights =
        |d: &Path| std::fs::read(d.join("policies").join(format!("{id}.safetensors"))).expect("weights");
    assert!(weights(&out_dir) == weights(&again_dir), "same seed, different weights");
    let eval_line =
        |o: &Output| text(&o.stdout).lines().find(|l| l.starts_with("evaluation")).map(String::from);
    assert_eq!(eval_line(&out), eval_line(&again));
}

#[test]
fn unknown_subtask_is_invalid_input_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sim2real(&[
        "train",
        yard().to_str().expect("utf8"),
        "--subtask",
        "to_the_moon",
        "--out",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("to_the_moon") && stderr.contains("--subtask"), "{stderr}");
    assert!(stderr.contains("scenario.yaml"), "names the file: {stderr}");
    assert!(std::fs::read_dir(dir.path()).expect("ls").next().is_none(), "nothing written");
}

#[test]
fn bad_policy_rate_is_invalid_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sim2real(&[
        "train",
        yard().to_str().expect("utf8"),
        "--subtask",
        "junction_east_to_shed_pond",
        "--policy-hz",
        "7",
        "--out",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("7 Hz"), "{}", text(&out.stderr));
}

/// A small site with two subtasks whose outcome does not depend on the policy: `hop` starts inside
/// its own exit set (every episode succeeds at once), `far` cannot reach its exit within its
/// 10-step horizon (every episode times out).
const TRIVIAL: &str = r#"
name: trivial
world:
  kind: continuous
  geofence: [[0, 0], [60, 0], [60, 40], [0, 40]]
  obstacles:
    - {id: rock, disc: {center: [30, 20], radius_m: 2}, height_m: 1}
waypoints:
  - {id: a, position: [10, 20], zone: west, kind: pad, colour: red, landmark: rock}
  - {id: b, position: [50, 20], zone: east, kind: pad, colour: blue, landmark: fence}
subtasks:
  - id: hop
    entry: {at: a, radius_m: 1}
    exit: {at: a, radius_m: 3}
    horizon_steps: 100
  - id: far
    entry: {at: a, radius_m: 1}
    exit: {at: b, radius_m: 2}
    horizon_steps: 10
hlm:
  start: {at: a, radius_m: 1}
  goals: [b]
task: {theta: 0.9}
certify: {theta: 0.85, delta: 0.05}
training: {chunk_steps: 10000, budget_steps: 100000, max_iterations: 10, max_total_steps: 1000000, estimation_rollouts: 50}
"#;

/// Trains `subtask` of [`TRIVIAL`] for 8192 steps (four rollouts) with `extra` flags (four
/// checkpoints unless `extra` sets `--checkpoints`).
fn train_trivial(dir: &Path, subtask: &str, extra: &[&str]) -> Output {
    let scenario = dir.join("trivial.yaml");
    std::fs::write(&scenario, TRIVIAL).expect("write scenario");
    let out_dir = dir.join(subtask);
    let mut args = vec![
        "train",
        scenario.to_str().expect("utf8"),
        "--subtask",
        subtask,
        "--steps",
        "8192",
        "--eval-episodes",
        "8",
        "--out",
        out_dir.to_str().expect("utf8"),
    ];
    if !extra.contains(&"--checkpoints") {
        args.extend_from_slice(&["--checkpoints", "4"]);
    }
    args.extend_from_slice(extra);
    sim2real(&args)
}

#[test]
fn target_success_stops_at_the_first_checkpoint_that_reaches_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Reached at the first of four checkpoints (one 8 × 256 rollout each): training stops there
    // and that checkpoint is the policy written.
    let out = train_trivial(dir.path(), "hop", &["--target-success", "0.95"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("target success 0.950 reached: 2048 steps, "), "{stdout}");
    assert!(stdout.contains("trained `hop`: 2048 steps"), "{stdout}");
    let policy = policies::PolicyFile::load(&dir.path().join("hop/policies"), "hop").expect("saved");
    assert_eq!(policy.contract().training_steps, 2048);
    let checkpoints = text(&out.stderr).matches("deterministic success").count();
    assert_eq!(checkpoints, 1, "{}", text(&out.stderr));

    // Never reached: all four checkpoints run and the report says so.
    let out = train_trivial(dir.path(), "far", &["--target-success", "0.5"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("target success 0.500 not reached: 8192 steps, "), "{stdout}");
    assert_eq!(text(&out.stderr).matches("deterministic success 0.000").count(), 4);

    // Without a target: no target line, and --checkpoints sets how many evaluations run.
    let out = train_trivial(dir.path(), "hop", &["--checkpoints", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("target success"));
    assert_eq!(text(&out.stderr).matches("deterministic success").count(), 2);

    // Out-of-range values are refused as invalid input, naming the flag.
    for (flag, value) in [("--target-success", "0"), ("--target-success", "1.5"), ("--checkpoints", "0")] {
        let out = train_trivial(dir.path(), "hop", &[flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(text(&out.stderr).contains(flag), "{}", text(&out.stderr));
    }
}
