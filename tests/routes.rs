//! Driving the yard with the pure-pursuit baseline in both simulators.

use sim::Fidelity;
use sim2real::control::route::{self, Outcome};
use sim2real::scenario::Scenario;
use std::path::Path;

fn yard() -> Scenario {
    Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml"))
        .expect("yard loads")
}

/// Runs subtask `a` alone from `seeds` starts; returns (successes, mean steps of the successes).
fn attempts(s: &Scenario, fidelity: Fidelity, a: usize, seeds: std::ops::Range<u64>) -> (usize, f64) {
    let mut sim = s.simulator(fidelity).expect("simulator");
    let (mut ok, mut steps) = (0, 0u64);
    for seed in seeds {
        let start = route::start_state(s, &[a], seed).expect("start");
        let run = route::drive_baseline(sim.as_mut(), s, &[a], start, seed);
        if run.subtasks[0].outcome == Outcome::Success {
            ok += 1;
            steps += u64::from(run.subtasks[0].steps);
        }
    }
    (ok, steps as f64 / ok.max(1) as f64)
}

#[test]
fn every_nominal_path_is_drivable_in_low_fidelity() {
    let s = yard();
    for (a, subtask) in s.subtasks().iter().enumerate() {
        let (ok, _) = attempts(&s, Fidelity::Low, a, 0..3);
        assert_eq!(ok, 3, "the baseline must complete {} from any entry state", subtask.id());
    }
}

#[test]
fn the_pond_bank_is_materially_harder_in_high_fidelity() {
    let s = yard();
    let slope = s.subtask_index("pond_bank_crossing").expect("slope");
    let (low_ok, low_steps) = attempts(&s, Fidelity::Low, slope, 0..20);
    let (high_ok, high_steps) = attempts(&s, Fidelity::High, slope, 0..20);
    assert_eq!(low_ok, 20, "flat and firm in low fidelity");
    assert!(high_ok <= 18, "the mud slides the robot toward the pond: {high_ok}/20");
    assert!(high_steps > 1.3 * low_steps, "and slows it down: {high_steps:.0} vs {low_steps:.0} steps");
    // A road subtask, by contrast, agrees between the simulators.
    let road = s.subtask_index("depot_to_dock_south").expect("road");
    assert_eq!(attempts(&s, Fidelity::High, road, 0..5).0, 5);
}
