use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------
// A small dense two-phase simplex (Bland's rule), for the occupancy-measure cross-check.

const LP_EPS: f64 = 1e-11;

/// Maximises c·x subject to A x = b (b ≥ 0), x ≥ 0. `None` if infeasible or unbounded.
fn simplex_max(a: &[Vec<f64>], b: &[f64], c: &[f64]) -> Option<f64> {
    let (m, n) = (a.len(), c.len());
    let cols = n + m; // originals, then one artificial per row
    let mut t: Vec<Vec<f64>> = (0..m)
        .map(|i| {
            let mut row = vec![0.0; cols + 1];
            row[..n].copy_from_slice(&a[i]);
            row[n + i] = 1.0;
            row[cols] = b[i];
            row
        })
        .collect();
    let mut basis: Vec<usize> = (n..cols).collect();
    // Phase 1: maximise −Σ artificials.
    let phase1: Vec<f64> = (0..cols).map(|j| if j < n { 0.0 } else { -1.0 }).collect();
    let v1 = run_simplex(&mut t, &mut basis, &phase1, cols)?;
    if v1 < -1e-9 {
        return None;
    }
    // Drive zero-level artificials out of the basis where an original column can replace them;
    // a row with no such column is redundant and its artificial stays at 0 for good.
    for i in 0..m {
        if basis[i] >= n
            && let Some(j) = (0..n).find(|&j| t[i][j].abs() > LP_EPS)
        {
            pivot(&mut t, &mut basis, i, j);
        }
    }
    let phase2: Vec<f64> = (0..cols).map(|j| if j < n { c[j] } else { 0.0 }).collect();
    run_simplex(&mut t, &mut basis, &phase2, n)
}

/// Simplex iterations with Bland's rule; only columns `< allowed` may enter.
fn run_simplex(t: &mut [Vec<f64>], basis: &mut [usize], cost: &[f64], allowed: usize) -> Option<f64> {
    let cols = cost.len();
    for _ in 0..10_000 {
        let reduced = |j: usize| cost[j] - (0..t.len()).map(|i| cost[basis[i]] * t[i][j]).sum::<f64>();
        let Some(enter) = (0..allowed).find(|&j| !basis.contains(&j) && reduced(j) > LP_EPS) else {
            return Some((0..t.len()).map(|i| cost[basis[i]] * t[i][cols]).sum());
        };
        let mut leave: Option<usize> = None;
        for i in 0..t.len() {
            if t[i][enter] > LP_EPS {
                let ratio = t[i][cols] / t[i][enter];
                leave = match leave {
                    None => Some(i),
                    Some(l) => {
                        let best = t[l][cols] / t[l][enter];
                        if ratio < best - 1e-15 || (ratio <= best + 1e-15 && basis[i] < basis[l]) {
                            Some(i)
                        } else {
                            Some(l)
                        }
                    }
                };
            }
        }
        pivot(t, basis, leave?, enter);
    }
    None
}

fn pivot(t: &mut [Vec<f64>], basis: &mut [usize], r: usize, j: usize) {
    let pr = t[r][j];
    for v in t[r].iter_mut() {
        *v /= pr;
    }
    let row = t[r].clone();
    for (i, ti) in t.iter_mut().enumerate() {
        if i != r && ti[j] != 0.0 {
            let f = ti[j];
            for (v, rv) in ti.iter_mut().zip(&row) {
                *v -= f * rv;
            }
        }
    }
    basis[r] = j;
}

/// The occupancy-measure LP of research §1.6: variables x_a per action plus x_goal; one flow
/// row per state with actions (states without actions, like fail, just absorb flow) and one
/// for the goal; maximise x_goal. `None` when infeasible: every policy then keeps flow forever
/// in a cycle of certain successes, which happens only when the goal is unreachable (the
/// optimal path policy never loops, so it is feasible whenever the reach is positive).
fn lp_max_reach(h: &Hlm, p: &[f64]) -> Option<f64> {
    let n_vars = h.n_actions() + 1;
    let goal_var = h.n_actions();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for s in 0..h.n_states() {
        if s != h.goal() && h.available(s).is_empty() {
            continue;
        }
        let mut row = vec![0.0; n_vars];
        for &act in h.available(s) {
            row[act] += 1.0;
        }
        for (act, &(_, to)) in h.actions().iter().enumerate() {
            if to == s {
                row[act] -= p[act];
            }
        }
        if s == h.goal() {
            row[goal_var] = 1.0;
        }
        a.push(row);
        b.push(if s == h.start() { 1.0 } else { 0.0 });
    }
    let mut c = vec![0.0; n_vars];
    c[goal_var] = 1.0;
    simplex_max(&a, &b, &c)
}

fn random_hlm(rng: &mut ChaCha8Rng, max_states: usize, max_actions: usize) -> Hlm {
    let n = rng.random_range(2..=max_states);
    let start = rng.random_range(0..n);
    let goal = (start + rng.random_range(1..n)) % n;
    let k = rng.random_range(1..=max_actions);
    let actions = (0..k)
        .map(|_| {
            let from = (goal + rng.random_range(1..n)) % n; // never the goal
            (from, rng.random_range(0..n))
        })
        .collect();
    Hlm::new(n, start, goal, actions).unwrap()
}

fn random_p(rng: &mut ChaCha8Rng, k: usize) -> Vec<f64> {
    (0..k)
        .map(|_| match rng.random_range(0..10) {
            0 => 1.0,
            1 => 0.0,
            _ => rng.random::<f64>(),
        })
        .collect()
}

/// Exact value of a memoryless policy from the start by following it (deterministic
/// successors), or 0 if it stops or circles.
fn follow(h: &Hlm, pol: &MetaPolicy, p: &[f64]) -> f64 {
    let mut s = h.start();
    let mut prob = 1.0;
    for _ in 0..=h.n_states() {
        if s == h.goal() {
            return prob;
        }
        let Some(a) = pol.action(s) else { return 0.0 };
        prob *= p[a];
        s = h.actions()[a].1;
    }
    0.0
}

#[test]
fn value_iteration_matches_the_occupancy_lp() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut with_cycles, mut infeasible, mut positive) = (0, 0, 0);
    for case in 0..300 {
        let h = random_hlm(&mut rng, 8, 14);
        let p = random_p(&mut rng, h.n_actions());
        let (vi, pol) = h.max_reach(&p).unwrap();
        match lp_max_reach(&h, &p) {
            Some(lp) => assert!((vi - lp).abs() < 1e-7, "case {case}: VI {vi} vs LP {lp}, {h:?} p {p:?}"),
            None => {
                assert_eq!(vi, 0.0, "case {case}: LP infeasible but VI {vi}");
                infeasible += 1;
            }
        }
        // The policy achieves the value and its route is what it follows.
        assert!((follow(&h, &pol, &p) - vi).abs() < 1e-12, "case {case}");
        let route_prob: f64 = pol.route().iter().map(|&a| p[a]).product();
        if vi > 0.0 {
            assert!((route_prob - vi).abs() < 1e-12);
            assert_eq!(h.actions()[*pol.route().last().unwrap()].1, h.goal());
        } else {
            assert!(pol.route().is_empty());
        }
        positive += usize::from(vi > 0.0);
        if has_cycle(&h) {
            with_cycles += 1;
        }
    }
    eprintln!(
        "300 models: {with_cycles} cyclic, {positive} with positive reach, {infeasible} infeasible LPs"
    );
    assert!(with_cycles > 50, "only {with_cycles} cyclic models");
    assert!(positive > 100, "only {positive} models reach the goal");
    assert!(infeasible < 30, "{infeasible} infeasible LPs: too few real comparisons");
}

fn has_cycle(h: &Hlm) -> bool {
    // A cycle exists iff some state reaches itself.
    (0..h.n_states()).any(|s0| {
        let mut seen = vec![false; h.n_states()];
        let mut stack: Vec<usize> = h.available(s0).iter().map(|&a| h.actions()[a].1).collect();
        while let Some(s) = stack.pop() {
            if s == s0 {
                return true;
            }
            if !seen[s] {
                seen[s] = true;
                stack.extend(h.available(s).iter().map(|&a| h.actions()[a].1));
            }
        }
        false
    })
}

#[test]
fn ties_on_a_cycle_do_not_trap_the_policy() {
    // 0 →(a0, p 1)→ 1 →(a1, p 1)→ 0 is a cycle of ties; 1 →(a2, p 0.5)→ goal 2.
    let h = Hlm::new(3, 0, 2, vec![(0, 1), (1, 0), (1, 2)]).unwrap();
    let p = [1.0, 1.0, 0.5];
    let (v, pol) = h.max_reach(&p).unwrap();
    assert_eq!(v, 0.5);
    assert_eq!(pol.route(), &[0, 2]);
    assert_eq!(pol.action(1), Some(2));
    assert_eq!(pol.action(2), None);
    // Lowest index among equal alternatives: two parallel actions of equal p.
    let h = Hlm::new(2, 0, 1, vec![(0, 1), (0, 1)]).unwrap();
    assert_eq!(h.max_reach(&[0.7, 0.7]).unwrap().1.route(), &[0]);
    assert_eq!(h.max_reach(&[0.6, 0.7]).unwrap().1.route(), &[1]);
}

#[test]
fn bad_models_and_inputs_are_refused() {
    assert!(matches!(Hlm::new(3, 0, 3, vec![]), Err(Error::StateOutOfRange { field: "goal", .. })));
    assert!(matches!(Hlm::new(3, 1, 1, vec![]), Err(Error::StartIsGoal { state: 1 })));
    assert!(matches!(
        Hlm::new(3, 0, 2, vec![(0, 5)]),
        Err(Error::StateOutOfRange { field: "actions.to", .. })
    ));
    assert!(matches!(
        Hlm::new(3, 0, 2, vec![(0, 1), (2, 1)]),
        Err(Error::ActionFromGoal { action: 1, goal: 2 })
    ));
    let h = Hlm::new(3, 0, 2, vec![(0, 1)]).unwrap();
    assert!(matches!(h.max_reach(&[0.5, 0.5]), Err(Error::LengthMismatch { expected: 1, got: 2, .. })));
    assert!(matches!(h.max_reach(&[f64::NAN]), Err(Error::OutOfRange { .. })));
    assert!(matches!(h.max_reach(&[1.5]), Err(Error::OutOfRange { .. })));
    assert_eq!(h.max_reach(&[0.5]).unwrap().0, 0.0);
    assert!(matches!(h.requirements(&[0.5], 0.9, &[false]), Err(Error::NoPath { start: 0, goal: 2 })));
    assert!(matches!(h.requirements(&[0.5], 0.0, &[false]), Err(Error::OutOfRange { field: "theta", .. })));
    assert!(matches!(h.requirements(&[0.5], 0.9, &[]), Err(Error::LengthMismatch { .. })));
    assert_eq!(h.outcomes(0, 0.25), Some([(HlmState::Set(1), 0.25), (HlmState::Fail, 0.75)]));
}

fn cost_of(p: &[f64], p_hat: &[f64], spent: &[bool]) -> f64 {
    p.iter().zip(p_hat).zip(spent).map(|((p, h), &s)| if s { SPENT_BUDGET_COST } else { 1.0 } * (p - h)).sum()
}

#[test]
fn requirements_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut checked = 0;
    for case in 0..200 {
        let h = random_hlm(&mut rng, 5, 5);
        let k = h.n_actions();
        let p_hat: Vec<f64> =
            (0..k).map(|_| if rng.random_range(0..8) == 0 { 1.0 } else { rng.random() }).collect();
        let spent: Vec<bool> = (0..k).map(|_| rng.random_range(0..4) == 0).collect();
        let theta = rng.random_range(0.3..0.99);
        let req = match h.requirements(&p_hat, theta, &spent) {
            Ok(r) => r,
            Err(Error::NoPath { .. }) => {
                assert!(h.simple_paths().unwrap().is_empty());
                continue;
            }
            Err(e) => panic!("case {case}: {e}"),
        };
        checked += 1;
        // Feasible, consistent and within bounds.
        assert!(req.reach >= theta, "case {case}: reach {} < θ {theta}", req.reach);
        assert!((cost_of(&req.p_star, &p_hat, &spent) - req.cost).abs() < 1e-9);
        for (a, (&req_a, &hat_a)) in req.p_star.iter().zip(&p_hat).enumerate() {
            assert!(req_a >= hat_a && req_a <= 1.0);
            if !req.path.contains(&a) {
                assert_eq!(req_a, hat_a);
            }
        }
        // Brute force: random directions from p̂, each cut back to the feasibility boundary
        // (reach is monotone in p), plus the corners that raise a subset of actions to 1.
        let reach = |p: &[f64]| h.max_reach(p).unwrap().0;
        let mut candidates: Vec<Vec<f64>> = (0..(1_u32 << k))
            .map(|mask| (0..k).map(|a| if mask >> a & 1 == 1 { 1.0 } else { p_hat[a] }).collect())
            .collect();
        candidates.extend((0..300).map(|_| (0..k).map(|a| rng.random_range(p_hat[a]..=1.0)).collect()));
        for q in candidates {
            if reach(&q) < theta {
                continue;
            }
            let along = |t: f64| -> Vec<f64> { (0..k).map(|a| p_hat[a] + t * (q[a] - p_hat[a])).collect() };
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..40 {
                let mid = 0.5 * (lo + hi);
                if reach(&along(mid)) >= theta { hi = mid } else { lo = mid }
            }
            let bf = cost_of(&along(hi), &p_hat, &spent);
            assert!(req.cost <= bf + 1e-6, "case {case}: water-filling {} > brute force {bf}", req.cost);
        }
    }
    assert!(checked > 60, "only {checked} instances had a path");
}

#[test]
fn requirements_are_zero_when_the_estimates_already_suffice() {
    let h = Hlm::new(3, 0, 2, vec![(0, 1), (1, 2), (0, 2)]).unwrap();
    let req = h.requirements(&[0.99, 0.99, 0.5], 0.95, &[false; 3]).unwrap();
    assert_eq!((req.cost, req.path.as_slice()), (0.0, &[0, 1][..]));
    assert_eq!(req.p_star, vec![0.99, 0.99, 0.5]);
    assert_eq!(req.largest_gap(&[0.99, 0.99, 0.5]), None);
    // Equal costs: the shorter path wins over the lexicographically smaller one. The direct
    // action needs 0.8 → 0.95; the two-step path at (1, 0.8) needs the same on its second.
    let req = h.requirements(&[1.0, 0.8, 0.8], 0.95, &[false; 3]).unwrap();
    assert_eq!(req.path, vec![2]);
    assert!((req.cost - 0.15).abs() < 1e-9);
}

/// The ICAPS 2022 MiniGrid labyrinth (research §2.4). States are the distinct entry/exit
/// cells (x, y); headings are dropped, so c7's exit (10, 5) is c6's entry and c6/c7 form a
/// cycle, as in the Unity version of the same labyrinth.
fn labyrinth() -> Hlm {
    const CELLS: [(u32, u32); 11] =
        [(1, 1), (3, 5), (5, 2), (10, 5), (14, 5), (5, 10), (3, 15), (10, 13), (16, 15), (10, 17), (1, 18)];
    let id = |c: (u32, u32)| CELLS.iter().position(|&x| x == c).unwrap();
    let subtasks = [
        ((1, 1), (3, 5)),     // c0
        ((1, 1), (5, 2)),     // c1
        ((5, 2), (10, 5)),    // c2
        ((5, 2), (14, 5)),    // c3
        ((3, 5), (5, 10)),    // c4
        ((5, 10), (3, 15)),   // c5
        ((10, 5), (10, 13)),  // c6
        ((10, 13), (10, 5)),  // c7
        ((14, 5), (16, 15)),  // c8
        ((3, 15), (1, 18)),   // c9
        ((16, 15), (10, 17)), // c10
        ((10, 17), (1, 18)),  // c11
    ];
    let actions = subtasks.iter().map(|&(f, t)| (id(f), id(t))).collect();
    Hlm::new(CELLS.len(), id((1, 1)), id((1, 18)), actions).unwrap()
}

#[test]
fn labyrinth_switches_route_once_the_risky_subtask_is_spent() {
    let h = labyrinth();
    assert_eq!(h.n_actions(), 12);
    let short = [0, 4, 5, 9];
    let long = [1, 3, 8, 10, 11];
    let mut paths = h.simple_paths().unwrap();
    paths.sort();
    assert_eq!(paths, vec![short.to_vec(), long.to_vec()]); // c2/c6/c7 lead nowhere
    //            c0    c1   c2   c3   c4    c5    c6   c7   c8   c9    c10  c11
    let p_hat = [0.97, 0.9, 0.5, 0.9, 0.80, 0.95, 0.5, 0.5, 0.9, 0.97, 0.9, 0.9];
    let (reach, pol) = h.max_reach(&p_hat).unwrap();
    assert!((reach - 0.97 * 0.80 * 0.95 * 0.97).abs() < 1e-12);
    assert_eq!(pol.route(), &short);

    let theta = 0.95;
    let req = h.requirements(&p_hat, theta, &[false; 12]).unwrap();
    assert_eq!(req.path, short);
    assert!(req.reach >= theta && req.reach < theta + 1e-9);
    for (a, (&req_a, &hat_a)) in req.p_star.iter().zip(&p_hat).enumerate() {
        if !short.contains(&a) {
            assert_eq!(req_a, hat_a, "off-route c{a}");
        }
    }
    // Water-filling: one level μ; c4 (the weakest) rises most and is trained first.
    let mu = req.p_star[4];
    for &a in &short {
        assert!((req.p_star[a] - mu.max(p_hat[a])).abs() < 1e-12);
    }
    assert_eq!(req.largest_gap(&p_hat), Some(4));
    let long_cost = 5.0 * (theta.powf(0.2) - 0.9);
    assert!(req.cost < long_cost, "short {} vs long {long_cost}", req.cost);

    // c4 spent its budget and is still weak: raising it costs 1001 per unit, so the long
    // route becomes the requirement, each of its five subtasks at θ^(1/5).
    let mut spent = [false; 12];
    spent[4] = true;
    let req = h.requirements(&p_hat, theta, &spent).unwrap();
    assert_eq!(req.path, long);
    assert!((req.cost - long_cost).abs() < 1e-9);
    for &a in &long {
        assert!((req.p_star[a] - theta.powf(0.2)).abs() < 1e-9);
    }
    assert_eq!(req.p_star[4], p_hat[4]);
    let (reach, pol) = h.max_reach(&req.p_star).unwrap();
    assert_eq!(reach, req.reach);
    assert!(reach >= theta);
    assert_eq!(pol.route(), &long);
    assert_eq!(pol.action(h.start()), Some(1));
}
