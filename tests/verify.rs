//! `sim2real verify` / `verify-merge` end to end: certification, refusal of a changed bundle,
//! shard/merge identity, thread-count independence, and the errors a user meets first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sim2real_env(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim2real"))
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .output()
        .expect("run sim2real")
}

fn sim2real(args: &[&str]) -> Output {
    sim2real_env(args, "2")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// A bundle holding only a scenario (verified with `--baseline`).
fn bundle_of(scenario: &str, dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).expect("mkdir");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(scenario), bundle.join("scenario.yaml"))
        .expect("copy scenario");
    bundle
}

/// Three subtasks, one goal b: route a_to_b, or a_to_c then c_to_b; certified θ 0.85.
const MINIMAL: &str = "tests/fixtures/scenario/valid-minimal.yaml";

#[test]
fn baseline_bundle_is_certified_then_a_changed_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of(MINIMAL, dir.path());
    let out = sim2real(&["verify", s(&bundle), "--fidelity", "all", "--baseline", "--trials", "40"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("CERTIFIED"), "{stdout}");
    assert!(stdout.contains("goal b route 1: Pr(goal) ≥"), "{stdout}");
    let cert = verification::Certificate::load_verified(&bundle).expect("certificate written and sealed");
    assert!(cert.certified);
    assert_eq!(cert.subtasks.len(), 6, "3 subtasks × 2 fidelities");
    let route = &cert.goals[0].routes[0];
    assert_eq!(route.fidelity, verification::Fidelity::High);
    assert!(route.lower_bound >= 0.85 && route.confidence == 0.95, "{route:?}");

    let check = sim2real(&["verify", s(&bundle), "--fidelity", "high", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));

    // One byte more in a sealed file: refused with exit 3, naming it.
    let mut yaml = std::fs::read_to_string(bundle.join("scenario.yaml")).expect("read");
    yaml.push_str("# edited after certification\n");
    std::fs::write(bundle.join("scenario.yaml"), yaml).expect("write");
    let check = sim2real(&["verify", s(&bundle), "--fidelity", "high", "--check"]);
    assert_eq!(check.status.code(), Some(3));
    assert!(text(&check.stderr).contains("scenario.yaml"), "{}", text(&check.stderr));
}

#[test]
fn too_few_trials_is_exit_3_and_leaves_no_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of(MINIMAL, dir.path());
    let out_file = dir.path().join("cert.yaml");
    let out = sim2real(&[
        "verify",
        s(&bundle),
        "--fidelity",
        "high",
        "--baseline",
        "--trials",
        "5",
        "--out",
        s(&out_file),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NOT CERTIFIED: no route meets θ for goal(s) b"),
        "{}",
        text(&out.stdout)
    );
    assert!(!bundle.join("certificate.yaml").exists(), "a failed campaign seals nothing");
    // --out records the failed campaign for the operator.
    let written: verification::Certificate =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&out_file).expect("--out written")).expect("parses");
    assert!(!written.certified);
    assert!(written.subtasks.iter().all(|r| r.trials == 5));
}

#[test]
fn merged_shards_equal_one_run_byte_for_byte_whatever_the_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of("scenarios/warthog_yard/scenario.yaml", dir.path());
    let common = ["--fidelity", "low", "--baseline", "--trials", "30", "--seed", "5"];
    let run = |extra: &[&str], threads: &str| {
        let mut args = vec!["verify", s(&bundle)];
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        sim2real_env(&args, threads)
    };
    let whole = dir.path().join("whole.yaml");
    let one_thread = dir.path().join("whole-1.yaml");
    run(&["--out", s(&whole)], "2");
    run(&["--out", s(&one_thread)], "1");
    let whole_bytes = std::fs::read(&whole).expect("unsharded --out written");
    assert_eq!(whole_bytes, std::fs::read(&one_thread).expect("written"), "thread count changed the result");

    let shards: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("shard-{i}.yaml"))).collect();
    for (i, shard) in shards.iter().enumerate() {
        let out = run(&["--shard", &format!("{i}/3"), "--out", s(shard)], "2");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let merged = dir.path().join("merged.yaml");
    // Any order of shard files.
    let out = sim2real(&["verify-merge", s(&shards[2]), s(&shards[0]), s(&shards[1]), "--out", s(&merged)]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&merged).expect("merged written"), whole_bytes);

    // A missing shard, and a shard of another campaign, are refused with exit 2.
    let out = sim2real(&["verify-merge", s(&shards[0]), s(&shards[1]), "--out", s(&merged)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing shard(s) 2/3"), "{}", text(&out.stderr));
    let other = dir.path().join("other.yaml");
    let mut args =
        vec!["verify", s(&bundle), "--fidelity", "low", "--baseline", "--trials", "30", "--seed", "6"];
    args.extend_from_slice(&["--shard", "2/3", "--out", s(&other)]);
    assert_eq!(sim2real(&args).status.code(), Some(0));
    let out = sim2real(&["verify-merge", s(&shards[0]), s(&shards[1]), s(&other), "--out", s(&merged)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("seed differs"), "{}", text(&out.stderr));
}

#[test]
fn a_bundle_without_policies_needs_the_baseline_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of(MINIMAL, dir.path());
    let out = sim2real(&["verify", s(&bundle), "--fidelity", "low"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--baseline"), "{}", text(&out.stderr));
    let out =
        sim2real(&["verify", s(&bundle), "--fidelity", "low", "--baseline", "--shard", "3/3", "--out", "x"]);
    assert_eq!(out.status.code(), Some(2), "shard index out of range");
    let inside = bundle.join("result.yaml");
    let out = sim2real(&["verify", s(&bundle), "--fidelity", "low", "--baseline", "--out", s(&inside)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("inside the bundle"), "{}", text(&out.stderr));
    assert!(!inside.exists());

    // Files in policies/ that are not a complete pair for a known subtask are named.
    let policies = bundle.join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    for (name, expected) in
        [("notes.txt", "not a policy file"), ("ghost.safetensors", "ghost.contract.yaml is missing")]
    {
        std::fs::write(policies.join(name), b"x").expect("write");
        let out = sim2real(&["verify", s(&bundle), "--fidelity", "low", "--baseline"]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(name) && stderr.contains(expected), "{stderr}");
        std::fs::remove_file(policies.join(name)).expect("rm");
    }
}

#[test]
fn a_learned_policy_is_verified_and_a_mismatched_contract_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of(MINIMAL, dir.path());
    let scenario = bundle.join("scenario.yaml");
    let out = sim2real(&[
        "train",
        s(&scenario),
        "--subtask",
        "a_to_b",
        "--steps",
        "1",
        "--eval-episodes",
        "2",
        "--out",
        s(&bundle),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for f in std::fs::read_dir(&bundle).expect("ls").flatten() {
        if f.path().extension().is_some_and(|e| e == "png") {
            std::fs::remove_file(f.path()).expect("rm curve");
        }
    }
    let out = sim2real(&["verify", s(&bundle), "--fidelity", "low", "--trials", "4"]);
    let stdout = text(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{stdout}\n{}", text(&out.stderr));
    // Only the route made of subtasks with a policy is campaigned.
    assert!(stdout.contains("a_to_b") && stdout.contains(" policy "), "{stdout}");
    assert!(!stdout.contains("c_to_b"), "{stdout}");

    let contract = bundle.join("policies/a_to_b.contract.yaml");
    let yaml = std::fs::read_to_string(&contract).expect("read contract");
    std::fs::write(&contract, yaml.replace("range_0", "range_zero")).expect("write");
    let out = sim2real(&["verify", s(&bundle), "--fidelity", "low", "--trials", "4"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("a_to_b.contract.yaml") && stderr.contains("observation"), "{stderr}");
}

#[test]
fn a_sequential_campaign_certifies_with_fewer_trials_than_fixed_n() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = bundle_of(MINIMAL, dir.path());
    let trials = |extra: &[&str]| {
        let out_file = dir.path().join("cert.yaml");
        let mut args = vec!["verify", s(&bundle), "--fidelity", "low", "--baseline", "--out", s(&out_file)];
        args.extend_from_slice(extra);
        let out = sim2real(&args);
        assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
        let cert: verification::Certificate =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&out_file).expect("read")).expect("parses");
        assert!(cert.goals[0].routes[0].lower_bound >= 0.85);
        (cert.subtasks.iter().map(|r| r.trials).sum::<u64>(), cert.subtasks[0].confidence)
    };
    let (fixed, fixed_confidence) = trials(&[]);
    let (sequential, sequential_confidence) = trials(&["--sequential"]);
    assert!(sequential < fixed, "sequential {sequential} vs fixed {fixed}");
    // The early stop is paid for: each claim's bound is taken at error δ/k/looks.
    assert!(sequential_confidence > fixed_confidence);
    let out = sim2real(&[
        "verify",
        s(&bundle),
        "--fidelity",
        "low",
        "--baseline",
        "--sequential",
        "--shard",
        "0/2",
    ]);
    assert_eq!(out.status.code(), Some(2), "sequential campaigns are not sharded");
}
