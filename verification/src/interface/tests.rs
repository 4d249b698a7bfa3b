//! Hand cases of the interface checker and its geofence test against sampling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::geofence::in_polygon;
use super::*;
use crate::Shape;

fn disc(x: f64, y: f64, r: f64) -> Region {
    Region::new(vec![Shape::disc(x, y, r).unwrap()], None, None).unwrap()
}

fn rect(x: f64, y: f64, hx: f64, hy: f64) -> Region {
    Region::new(vec![Shape::rect(x, y, hx, hy, 0.0).unwrap()], None, None).unwrap()
}

fn sub(id: &str, entry: Region, exit: Region) -> Interface {
    Interface { id: id.into(), entry, exit }
}

fn goal(id: &str, x_m: f64, y_m: f64) -> GoalPoint {
    GoalPoint { id: id.into(), x_m, y_m }
}

/// Field [0, 40] × [-10, 10], counter-clockwise.
const FIELD: [(f64, f64); 4] = [(0.0, -10.0), (40.0, -10.0), (40.0, 10.0), (0.0, 10.0)];

/// The field with a notch cut down from the top edge to (20, 0.5).
const NOTCHED: [(f64, f64); 7] =
    [(0.0, -10.0), (40.0, -10.0), (40.0, 10.0), (22.0, 10.0), (20.0, 0.5), (18.0, 10.0), (0.0, 10.0)];

/// a: start → box at x = 10; b: → box at x = 20; c: → disc at x = 30 (the goal).
fn chain() -> Vec<Interface> {
    vec![
        sub("a", disc(2.0, 0.0, 2.0), rect(10.0, 0.0, 1.0, 1.0)),
        sub("b", disc(10.0, 0.0, 3.0), rect(20.0, 0.0, 1.0, 1.0)),
        sub("c", disc(20.0, 0.0, 3.0), disc(30.0, 0.0, 1.0)),
    ]
}

#[test]
fn a_chain_passes() {
    let r = check_interfaces(&chain(), &disc(2.0, 0.0, 1.0), &[goal("dock", 30.0, 0.0)], &FIELD).unwrap();
    assert_eq!(r.edges, [(0, 1), (1, 2)]);
    assert_eq!(r.initial, [0]);
    assert_eq!(r.goals, [GoalReach { goal: "dock".into(), reached_by: vec![2], reachable: true }]);
    assert!(r.breaches.is_empty() && r.unused.is_empty() && r.near_misses.is_empty(), "{r}");
    assert!(r.passed());
    let text = r.to_string();
    assert!(text.starts_with("Interface check: PASSED"), "{text}");
    assert!(text.contains("goal dock: reachable"), "{text}");
    assert!(r.summary().starts_with("passed: 3 subtasks, 2 edges"), "{}", r.summary());
    let record = crate::InterfaceRecord::from(&r);
    assert!(record.passed && record.summary == r.summary());
}

#[test]
fn a_missing_edge_names_a_state_that_shows_why() {
    let mut subtasks = chain();
    // b's entry is too small for a's exit box (whose corners are 1.8 m from its centre).
    subtasks[1].entry = disc(10.5, 0.0, 1.2);
    let r = check_interfaces(&subtasks, &disc(2.0, 0.0, 1.0), &[goal("dock", 30.0, 0.0)], &FIELD).unwrap();
    assert_eq!(r.edges, [(1, 2)]);
    assert_eq!(r.near_misses.len(), 1, "{r}");
    let m = r.near_misses[0];
    assert_eq!((m.from, m.to), (0, 1));
    assert!(subtasks[0].exit.contains(&m.counterexample.state), "{}", m.counterexample);
    assert!(!subtasks[1].entry.contains(&m.counterexample.state), "{}", m.counterexample);
    assert!(!r.goals[0].reachable && !r.passed());
    assert_eq!(r.unused, [0, 1, 2]);
    let text = r.to_string();
    assert!(text.contains("near miss: a -> b") && text.contains("UNREACHABLE"), "{text}");
}

#[test]
fn an_exit_poking_out_of_a_notch_is_caught() {
    let subtasks = chain();
    let r = check_interfaces(&subtasks, &disc(2.0, 0.0, 1.0), &[goal("dock", 30.0, 0.0)], &NOTCHED).unwrap();
    assert_eq!(r.breaches.len(), 1, "{r}");
    let b = r.breaches[0];
    assert_eq!(b.subtask, 1);
    assert!(matches!(b.edge, Some(3 | 4)), "{b:?}");
    assert!(subtasks[1].exit.contains(&b.state), "{b:?}");
    // Outside the fence means inside the notch triangle (22, 10), (20, 0.5), (18, 10).
    let notch = [(22.0, 10.0), (20.0, 0.5), (18.0, 10.0)];
    assert!(
        in_polygon(&notch, (b.state.x_m, b.state.y_m)) && !in_polygon(&NOTCHED, (b.state.x_m, b.state.y_m))
    );
    assert!(!r.passed());
    assert!(r.to_string().contains("GEOFENCE: exit of b"), "{r}");
    assert!(r.summary().contains("exit of b leaves the geofence"), "{}", r.summary());
}

#[test]
fn geofence_test_is_exact_not_a_bounding_box() {
    // A disc beside a notch whose tip enters the disc's bounding box but not the disc.
    let fence =
        [(0.0, -10.0), (40.0, -10.0), (40.0, 10.0), (13.0, 10.0), (11.8, 6.8), (12.5, 10.0), (0.0, 10.0)];
    let beside = sub("beside", disc(0.0, 0.0, 1.0), disc(10.0, 5.0, 2.0));
    // An exit flush with the fence edge x = 40 is inside (the boundary belongs to it).
    let flush = sub("flush", disc(0.0, 0.0, 1.0), rect(39.0, 0.0, 1.0, 1.0));
    // Wholly outside the fence.
    let outside = sub("outside", disc(0.0, 0.0, 1.0), rect(50.0, 0.0, 1.0, 1.0));
    let r = check_interfaces(&[beside, flush, outside.clone()], &disc(0.0, 0.0, 1.0), &[], &fence).unwrap();
    assert_eq!(r.breaches.len(), 1, "{r}");
    assert_eq!((r.breaches[0].subtask, r.breaches[0].edge), (2, None));
    assert!(outside.exit.contains(&r.breaches[0].state));
    // Clockwise input is the same fence.
    let mut cw = fence;
    cw.reverse();
    let r2 = check_interfaces(
        &[sub("o", disc(0.0, 0.0, 1.0), disc(12.0, 7.0, 0.5))],
        &disc(0.0, 0.0, 1.0),
        &[],
        &cw,
    )
    .unwrap();
    let b = r2.breaches[0];
    assert!(
        disc(12.0, 7.0, 0.5).contains(&b.state) && !in_polygon(&fence, (b.state.x_m, b.state.y_m)),
        "{b:?}"
    );
}

#[test]
fn unreachable_goal_and_unused_subtask() {
    let mut subtasks = chain();
    // d starts where nothing ends.
    subtasks.push(sub("d", disc(35.0, 5.0, 1.0), disc(36.0, 5.0, 1.0)));
    let goals = [goal("dock", 30.0, 0.0), goal("shed", 5.0, 8.0)];
    let r = check_interfaces(&subtasks, &disc(2.0, 0.0, 1.0), &goals, &FIELD).unwrap();
    assert_eq!(r.unused, [3]);
    assert!(r.goals[0].reachable);
    assert_eq!(r.goals[1], GoalReach { goal: "shed".into(), reached_by: vec![], reachable: false });
    assert!(!r.passed());
    assert!(r.to_string().contains("UNUSED"), "{r}");
    assert!(r.summary().contains("goal shed unreachable"), "{}", r.summary());
}

#[test]
fn bad_geofences_are_refused() {
    let start = disc(0.0, 0.0, 1.0);
    let bow_tie = [(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)];
    assert_eq!(
        check_interfaces(&[], &start, &[], &bow_tie),
        Err(Error::GeofenceNotSimple { edge_a: 0, edge_b: 2 })
    );
    assert_eq!(check_interfaces(&[], &start, &[], &FIELD[..2]), Err(Error::TooFewVertices { count: 2 }));
    let nan = [(0.0, 0.0), (1.0, f64::NAN), (0.0, 1.0)];
    assert!(matches!(check_interfaces(&[], &start, &[], &nan), Err(Error::NonFiniteVertex { index: 1, .. })));
    let bad_goal = [goal("g", f64::INFINITY, 0.0)];
    assert!(matches!(check_interfaces(&[], &start, &bad_goal, &FIELD), Err(Error::NonFinite { .. })));
}

/// The geofence claim against dense sampling, on random exit sets around the notch.
#[test]
fn geofence_claims_agree_with_sampling() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let start = disc(0.0, 0.0, 1.0);
    let (mut inside, mut outside) = (0, 0);
    for _ in 0..300 {
        let (x, y) = (rng.random_range(14.0..26.0), rng.random_range(-4.0..10.0));
        let exit = if rng.random_bool(0.5) {
            disc(x, y, rng.random_range(0.2..3.0))
        } else {
            let shapes = vec![
                Shape::rect(
                    x,
                    y,
                    rng.random_range(0.2..3.0),
                    rng.random_range(0.2..3.0),
                    rng.random_range(-3.0..3.0),
                )
                .unwrap(),
                Shape::disc(x + 0.5, y, rng.random_range(1.0..3.0)).unwrap(),
            ];
            Region::new(shapes, None, None).unwrap()
        };
        let r = check_interfaces(&[sub("s", start.clone(), exit.clone())], &start, &[], &NOTCHED).unwrap();
        match r.breaches.first() {
            Some(b) => {
                outside += 1;
                assert!(
                    exit.contains(&b.state) && !in_polygon(&NOTCHED, (b.state.x_m, b.state.y_m)),
                    "{b:?}"
                );
            }
            None => {
                inside += 1;
                for _ in 0..500 {
                    let s = exit.sample(&mut rng).unwrap();
                    assert!(in_polygon(&NOTCHED, (s.x_m, s.y_m)), "claimed inside, sample {s:?} outside");
                }
            }
        }
    }
    assert!(inside > 20 && outside > 20, "{inside} {outside}");
}
