use super::*;
use crate::control::pure_pursuit::{PurePursuit, PurePursuitConfig};
use std::path::Path;

fn yard() -> Scenario {
    Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml"))
        .expect("yard loads")
}

fn env(s: &Scenario, id: &str) -> SubtaskEnv {
    let a = s.subtask_index(id).expect("subtask");
    SubtaskEnv::new(s, a, Fidelity::Low, DEFAULT_POLICY_HZ).expect("env")
}

/// Always the same action.
struct Constant([f32; 2]);

impl Policy for Constant {
    fn obs_dim(&self) -> usize {
        15
    }
    fn action_space(&self) -> ActionSpace {
        ActionSpace::Box(2)
    }
    fn act<'o>(&self, _obs: &[f32], out: &'o mut [f32]) -> Action<'o> {
        out[..2].copy_from_slice(&self.0);
        Action::Continuous(&out[..2])
    }
}

#[test]
fn observation_has_the_documented_layout_and_is_finite() {
    let s = yard();
    let mut e = env(&s, "gate_west_to_crossroads");
    assert_eq!(e.obs_dim(), 6 + 9);
    assert_eq!(e.observation_layout().len(), e.obs_dim());
    assert_eq!(e.hold_steps(), 5);
    assert!((e.policy_hz() - 10.0).abs() < 1e-12);
    let mut obs = vec![f32::NAN; e.obs_dim()];
    for seed in 0..20 {
        e.reset(seed, &mut obs);
        assert!(obs.iter().all(|x| x.is_finite()), "{obs:?}");
        // gate_west (22, 75) to crossroads (95, 75): 73 m, give or take the entry radius.
        assert!((69.0..77.5).contains(&obs[0]), "distance {}", obs[0]);
        assert!((obs[1].powi(2) + obs[2].powi(2) - 1.0).abs() < 1e-5);
        assert!(obs[6..].iter().all(|r| (0.0..=1.0).contains(r)), "{obs:?}");
        let step = e.step(Action::Continuous(&[0.3, -0.2]), &mut obs);
        assert!(obs.iter().all(|x| x.is_finite()) && step.reward.is_finite());
        assert_eq!(e.steps(), 5);
    }
}

#[test]
fn starting_inside_the_exit_set_succeeds_on_the_first_step() {
    let s = yard();
    let mut e = env(&s, "gate_west_to_crossroads");
    let mut obs = vec![0.0; e.obs_dim()];
    let g = e.goal();
    e.reset_to(PlanarState { x_m: g.x, y_m: g.y, yaw_rad: 0.3, speed_mps: 0.0 }, 1, &mut obs);
    assert!(obs[0] < 0.1, "distance {}", obs[0]);
    let step = e.step(Action::Continuous(&[0.0, 0.0]), &mut obs);
    assert_eq!((step.done, step.outcome), (Done::Terminated, Outcome::Success));
    assert_eq!(e.steps(), 1, "judged after every control step, not every decision");
    assert!(step.reward > (SUCCESS_BONUS - 0.1) as f32, "{step:?}");
}

#[test]
fn driving_into_a_building_is_a_collision() {
    let s = yard();
    let mut e = env(&s, "depot_to_gate_west");
    let mut obs = vec![0.0; e.obs_dim()];
    // Depot building: box x 3..13, y 6..14. Start 3 m north of it, facing south, full ahead.
    let start = PlanarState { x_m: 8.0, y_m: 17.0, yaw_rad: -std::f64::consts::FRAC_PI_2, speed_mps: 0.0 };
    e.reset_to(start, 2, &mut obs);
    assert!(obs[6..].iter().any(|&r| r < 0.2), "the forward rays see the wall: {obs:?}");
    let mut last = Step::default();
    for _ in 0..30 {
        last = e.step(Action::Continuous(&[1.0, 0.0]), &mut obs);
        if last.done.is_done() {
            break;
        }
    }
    assert_eq!((last.done, last.outcome), (Done::Terminated, Outcome::Failure(FAILURE_COLLISION)));
    assert!(last.reward < (-FAILURE_PENALTY + 1.0) as f32, "{last:?}");
    assert_eq!(failure_name(FAILURE_COLLISION), "collision");
}

#[test]
fn standing_still_times_out_at_the_horizon() {
    let s = yard();
    let mut e = env(&s, "junction_east_to_shed_pond");
    let (outcome, decisions) = e.run_episode(&Constant([0.0, 0.0]), 5);
    assert_eq!(outcome, Outcome::Failure(FAILURE_TIMEOUT));
    assert_eq!(e.steps(), 2000);
    assert_eq!(decisions, 400, "a 2,000-step horizon is 400 decisions at 10 Hz");
}

#[test]
fn same_seed_gives_the_same_observations() {
    let s = yard();
    let run = |seed: u64| {
        let mut e = env(&s, "gate_west_to_crossroads");
        let mut obs = vec![0.0; e.obs_dim()];
        e.reset(seed, &mut obs);
        let mut trace: Vec<u32> = obs.iter().map(|x| x.to_bits()).collect();
        for t in 0..60 {
            let a = [((t * 7) % 11) as f32 / 5.0 - 1.0, ((t * 3) % 7) as f32 / 3.0 - 1.0];
            let step = e.step(Action::Continuous(&a), &mut obs);
            trace.extend(obs.iter().map(|x| x.to_bits()));
            trace.push(step.reward.to_bits());
            if step.done.is_done() {
                break;
            }
        }
        trace
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn baseline_commands_as_actions_reach_the_goal() {
    let s = yard();
    for id in ["gate_west_to_crossroads", "crossroads_to_junction_east"] {
        let a = s.subtask_index(id).expect("subtask");
        let mut e = env(&s, id);
        let mut obs = vec![0.0; e.obs_dim()];
        for seed in 0..3 {
            e.reset(seed, &mut obs);
            let st = e.simulator().state();
            let mut path = vec![Vec2::new(st.x_m, st.y_m)];
            path.extend_from_slice(s.subtasks()[a].via());
            let mut pp = PurePursuit::new(path, PurePursuitConfig::default());
            let outcome = loop {
                let cmd = pp.command(&e.simulator().sensors().odom.state);
                let step = e.step(Action::Continuous(&e.action_for(cmd)), &mut obs);
                if step.done.is_done() {
                    break step.outcome;
                }
            };
            assert_eq!(outcome, Outcome::Success, "{id}, seed {seed}");
        }
    }
}

#[test]
fn policy_rate_must_divide_the_control_rate() {
    let s = yard();
    assert!(matches!(SubtaskEnv::new(&s, 0, Fidelity::Low, 7.0), Err(Error::PolicyRate { .. })));
    assert!(matches!(SubtaskEnv::new(&s, 0, Fidelity::Low, 0.0), Err(Error::PolicyRate { .. })));
    assert!(matches!(SubtaskEnv::new(&s, 99, Fidelity::Low, 10.0), Err(Error::NoSubtask { index: 99, .. })));
    let e = SubtaskEnv::new(&s, 0, Fidelity::Low, 50.0).expect("every control step");
    assert_eq!(e.hold_steps(), 1);
}

#[test]
fn evaluation_does_not_depend_on_the_number_of_environments() {
    let s = yard();
    let a = s.subtask_index("gate_west_to_crossroads").expect("subtask");
    let envs =
        |n| (0..n).map(|_| SubtaskEnv::new(&s, a, Fidelity::Low, 10.0).expect("env")).collect::<Vec<_>>();
    // Full ahead with a slight left turn: some episodes hit the fence or the flagpole, some time out.
    let policy = Constant([1.0, 0.05]);
    let one = evaluate(&policy, &mut envs(1), 12, 4);
    let three = evaluate(&policy, &mut envs(3), 12, 4);
    assert_eq!(one, three);
    assert_eq!(one.episodes, 12);
    assert_eq!(one.successes + one.failures.iter().map(|(_, n)| n).sum::<u64>(), 12);
}

#[test]
fn standing_close_to_a_wall_costs_more_than_standing_in_the_open() {
    let s = yard();
    let mut e = env(&s, "depot_to_gate_west");
    let mut obs = vec![0.0; e.obs_dim()];
    let south = -std::f64::consts::FRAC_PI_2;
    let mut reward_at = |y_m: f64| {
        // Facing south, the depot building's north wall (y = 14) 1.5 m or 5 m ahead (the lidar
        // sees ahead: a wall behind the robot costs nothing).
        e.reset_to(PlanarState { x_m: 8.0, y_m, yaw_rad: south, speed_mps: 0.0 }, 3, &mut obs);
        e.step(Action::Continuous(&[0.0, 0.0]), &mut obs)
    };
    let near = reward_at(15.5);
    let open = reward_at(19.0);
    assert_eq!((near.done, open.done), (Done::NotDone, Done::NotDone));
    let expected_near = -5.0 * (STEP_COST + CLEARANCE_COST * (1.0 - 1.5 / CLEARANCE_M));
    assert!((f64::from(near.reward) - expected_near).abs() < 2e-3, "{near:?} vs {expected_near}");
    assert!((f64::from(open.reward) + 5.0 * STEP_COST).abs() < 1e-3, "{open:?}");
}
