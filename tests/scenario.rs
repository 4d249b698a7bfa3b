//! Scenario files: the fixture table, the shipped scenarios, and random mutations.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use sim2real::scenario::{Scenario, ScenarioError};
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The field each invalid fixture must name, from its `# expect:` first line.
fn expected(text: &str) -> Option<&str> {
    text.lines().next()?.strip_prefix("# expect: ")
}

#[test]
fn fixture_table() {
    let files = fixtures();
    let invalid =
        files.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("invalid-")));
    assert!(invalid.count() >= 12, "at least 12 invalid fixtures");
    for path in &files {
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("read");
        let result = Scenario::load(path);
        if name.starts_with("valid-") {
            if let Err(e) = result {
                panic!("{name} must load: {e}");
            }
        } else if name.starts_with("invalid-") {
            let field =
                expected(&text).unwrap_or_else(|| panic!("{name}: first line must be `# expect: FIELD`"));
            let message = match result {
                Ok(_) => panic!("{name} must fail to load"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(&name), "{name}: message names the file: {message}");
            assert!(message.contains(field), "{name}: message must name `{field}`: {message}");
        }
    }
}

#[test]
fn out_of_range_messages_give_range_and_value() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario/invalid-theta-out-of-range.yaml");
    let message = Scenario::load(&path).expect_err("invalid").to_string();
    assert!(message.contains("certify.theta: must be in [0, 1] (got 1.5)"), "{message}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario/valid-minimal.yaml");
    let text = std::fs::read_to_string(path)
        .expect("read")
        .replace("theta: 0.9}", "theta: .nan}")
        .replace("horizon_steps: 1500", "horizon_steps: 0");
    match Scenario::parse(&text, Path::new("two.yaml")) {
        Err(ScenarioError::Invalid { problems, .. }) => {
            let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
            assert!(paths.contains(&"task.theta"), "{paths:?}");
            assert!(paths.contains(&"subtasks[0].horizon_steps"), "{paths:?}");
            assert!(paths.contains(&"subtasks[2].horizon_steps"), "{paths:?}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn yard() -> Scenario {
    Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml"))
        .expect("yard loads")
}

#[test]
fn yard_meets_the_brief() {
    let s = yard();
    let (lo, hi) = s.world().bounds();
    assert!((hi.x - lo.x - 196.0).abs() < 10.0 && (hi.y - lo.y - 146.0).abs() < 10.0, "about 200 m x 150 m");
    assert!(s.waypoints().len() >= 8);
    assert!(s.subtasks().len() >= 10);
    assert!(s.world().obstacles.len() >= 20);
    for w in s.waypoints() {
        assert!(!w.aliases().is_empty(), "{} has aliases", w.id());
    }
    // Ambiguity for the dialogue agent: two sheds and two docks, all of them goals.
    for kind in ["shed", "dock"] {
        let goals_of_kind =
            s.goals().iter().filter(|g| s.waypoint(g.as_str()).expect("goal").kind() == kind).count();
        assert!(goals_of_kind >= 2, "two {kind}s among the goals");
    }
    assert!(s.goals().len() >= 3);
    for g in s.goals() {
        assert!(s.graph().routes(g).len() >= 2, "goal {g} has at least two routes");
    }
    // The slope subtask sits on a route, and its path crosses a sloped patch.
    let slope = s.subtask_index("pond_bank_crossing").expect("slope subtask");
    let pond = s.goals().iter().find(|g| g.as_str() == "shed_pond").expect("goal");
    assert!(s.graph().routes(pond).iter().any(|r| r.contains(&slope)));
    assert!(s.world().terrain.iter().any(|t| t.grade >= 0.2));
    assert!(s.graph().unused().is_empty(), "every subtask lies on some route");
}

#[test]
fn edges_are_derived_from_interface_sets() {
    let s = yard();
    let idx = |id: &str| s.subtask_index(id).expect(id);
    let g = s.graph();
    assert!(g.successors(idx("depot_to_gate_west")).contains(&idx("gate_west_to_crossroads")));
    assert!(g.successors(idx("depot_to_gate_west")).contains(&idx("gate_west_to_shed_north")));
    assert!(!g.successors(idx("depot_to_gate_west")).contains(&idx("crossroads_to_dock_east")));
    let mut initial = g.initial().to_vec();
    initial.sort();
    assert_eq!(initial, vec![idx("depot_to_gate_west"), idx("depot_to_dock_south")]);
}

/// Random byte-level damage: deletions, insertions of YAML-significant characters, duplicated
/// and swapped lines.
fn mangle(text: &str, seed: u64) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for _ in 0..rng.random_range(1..4) {
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..5) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
            2 => {
                let dup = lines[i].clone();
                lines.insert(i, dup);
            }
            3 => {
                let tokens = ["{", "]", ": ", "- ", "\t", "'", "&a", "*a", "!!str", "~", "\u{0}", "é"];
                let line = &mut lines[i];
                let at = (0..=line.len())
                    .filter(|&k| line.is_char_boundary(k))
                    .nth(rng.random_range(0..=line.chars().count()))
                    .unwrap_or(0);
                line.insert_str(at, tokens[rng.random_range(0..tokens.len())]);
            }
            _ => {
                let line = &mut lines[i];
                let keep = line
                    .char_indices()
                    .nth(rng.random_range(0..=line.chars().count()))
                    .map_or(line.len(), |(k, _)| k);
                line.truncate(keep);
            }
        }
    }
    lines.join("\n")
}

/// Value-level damage: one number replaced by something out of range, or one key removed.
fn corrupt_value(text: &str, seed: u64) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let numbers: Vec<(usize, usize)> = {
        let b = text.as_bytes();
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'_') {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                v.push((start, i));
            }
            i += 1;
        }
        v
    };
    let (a, b) = numbers[rng.random_range(0..numbers.len())];
    let replacement = [".nan", "-1", "0", "1e308", "-.inf", "99999999999999999999", "\"x\"", "[]", "null"]
        [rng.random_range(0..9)];
    format!("{}{}{}", &text[..a], replacement, &text[b..])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_never_panic(seed in any::<u64>(), value_level in any::<bool>()) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml");
        let text = std::fs::read_to_string(path).expect("read");
        let damaged = if value_level { corrupt_value(&text, seed) } else { mangle(&text, seed) };
        // Either outcome is fine; a panic is not, and an error must name the file.
        if let Err(e) = Scenario::parse(&damaged, Path::new("damaged.yaml")) {
            prop_assert!(e.to_string().starts_with("damaged.yaml"));
        }
    }
}
