//! The smallest subtask requirements p* that let the HLM meet θ: the bilinear program of the
//! ICAPS 2022 code, solved exactly by path enumeration and water-filling.

use super::Hlm;
use crate::Error;

/// Most simple start→goal paths [`Hlm::simple_paths`] enumerates (the paper's HLMs have at
/// most a few hundred; the count can grow exponentially with the graph).
pub const MAX_SIMPLE_PATHS: usize = 1_000_000;

/// Cost weight of raising a subtask whose training budget is spent: the gap term (1) plus
/// the slack penalty (1000) of the ICAPS program.
pub const SPENT_BUDGET_COST: f64 = 1001.0;

/// Costs closer than this count as tied (then fewer subtasks, then lexicographically smaller
/// action indices win), so that rounding never decides between equal paths.
const COST_TIE: f64 = 1e-12;

/// Result of [`Hlm::requirements`].
#[derive(Debug, Clone, PartialEq)]
pub struct Requirements {
    /// Required success probability per action; off-path actions keep p̂.
    pub p_star: Vec<f64>,
    /// The chosen route: action indices from start to goal.
    pub path: Vec<usize>,
    /// Σ_a c_a (p*_a − p̂_a) on the route (c_a = 1, or [`SPENT_BUDGET_COST`]).
    pub cost: f64,
    /// Maximum HLM reach probability at p* (≥ θ).
    pub reach: f64,
}

impl Requirements {
    /// The action with the largest gap p*_a − p̂_a (ties: lowest index), or `None` when no
    /// requirement exceeds its estimate: what the ICRL loop trains next.
    pub fn largest_gap(&self, p_hat: &[f64]) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (a, (&req, &est)) in self.p_star.iter().zip(p_hat).enumerate() {
            let gap = req - est;
            if gap > 0.0 && best.is_none_or(|(_, g)| gap > g) {
                best = Some((a, gap));
            }
        }
        best.map(|(a, _)| a)
    }
}

impl Hlm {
    /// The smallest subtask requirements p* (DESIGN §1): minimise Σ_a c_a (p_a − p̂_a) over
    /// p_a ∈ [p̂_a, 1] such that the maximum reach probability is ≥ `theta`, with c_a = 1, or
    /// [`SPENT_BUDGET_COST`] where `budget_spent[a]`.
    ///
    /// Exact: an optimal policy reaches the goal along one simple path Q with probability
    /// Π_Q p_a, so the program is min over paths of a convex problem whose KKT conditions give
    /// p_a = clamp(μ / c_a, p̂_a, 1), μ found by bisection so that Π_Q p_a = θ (cost 0 when
    /// Π_Q p̂_a ≥ θ already). The cheapest path wins; ties (within 1e-12): fewer subtasks,
    /// then lexicographically smaller action indices. Off-path actions keep p̂.
    ///
    /// `p_hat` in [0, 1] and `budget_spent`, one per action; `theta` in (0, 1]. Errors on bad
    /// input, [`Error::NoPath`] when the goal is unreachable from the start, and
    /// [`Error::TooManyPaths`].
    pub fn requirements(
        &self,
        p_hat: &[f64],
        theta: f64,
        budget_spent: &[bool],
    ) -> Result<Requirements, Error> {
        self.check_probabilities("p_hat", p_hat)?;
        if budget_spent.len() != self.n_actions() {
            return Err(Error::LengthMismatch {
                field: "budget_spent",
                expected: self.n_actions(),
                got: budget_spent.len(),
            });
        }
        if !(theta > 0.0 && theta <= 1.0) {
            return Err(Error::OutOfRange { field: "theta", range: "(0, 1]", value: theta });
        }
        let weight = |a: usize| if budget_spent[a] { SPENT_BUDGET_COST } else { 1.0 };
        let mut best: Option<(f64, Vec<usize>, Vec<f64>)> = None;
        for path in self.simple_paths()? {
            let hat: Vec<f64> = path.iter().map(|&a| p_hat[a]).collect();
            let c: Vec<f64> = path.iter().map(|&a| weight(a)).collect();
            let p = water_fill(&hat, &c, theta);
            let cost: f64 = p.iter().zip(&hat).zip(&c).map(|((p, h), c)| c * (p - h)).sum();
            let better = match &best {
                None => true,
                Some((best_cost, best_path, _)) => {
                    cost < best_cost - COST_TIE
                        || (cost <= best_cost + COST_TIE
                            && (path.len(), &path) < (best_path.len(), best_path))
                }
            };
            if better {
                best = Some((cost, path, p));
            }
        }
        let (cost, path, p) = best.ok_or(Error::NoPath { start: self.start, goal: self.goal })?;
        let mut p_star = p_hat.to_vec();
        for (&a, &v) in path.iter().zip(&p) {
            p_star[a] = v;
        }
        let (reach, _) = self.max_reach(&p_star)?;
        Ok(Requirements { p_star, path, cost, reach })
    }
}

/// Success probability of a path, multiplied from the goal backwards: the order value
/// iteration uses, so that the HLM's reach at the result is at least this (monotone
/// rounding), never a rounding below it.
fn path_product(p: impl DoubleEndedIterator<Item = f64>) -> f64 {
    p.rev().fold(1.0, |acc, x| x * acc)
}

/// Water-filling on one path: p_a = clamp(μ / c_a, p̂_a, 1) with the smallest μ (bisection)
/// such that the path product is ≥ θ; p̂ itself when it already meets θ.
fn water_fill(p_hat: &[f64], c: &[f64], theta: f64) -> Vec<f64> {
    if path_product(p_hat.iter().copied()) >= theta {
        return p_hat.to_vec();
    }
    let at = |mu: f64| -> Vec<f64> { p_hat.iter().zip(c).map(|(&h, &c)| (mu / c).max(h).min(1.0)).collect() };
    let feasible = |mu: f64| path_product(at(mu).into_iter()) >= theta;
    // μ = max c sets every p to 1, which meets any θ ≤ 1.
    let (mut lo, mut hi) = (0.0_f64, c.iter().copied().fold(1.0, f64::max));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if feasible(mid) { hi = mid } else { lo = mid }
    }
    at(hi)
}
