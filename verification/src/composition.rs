//! Composed lower bounds: per-subtask Clopper-Pearson lower bounds, each at its Bonferroni
//! share of δ, multiplied along a route of the high-level model; and the fidelity-gap check.
//!
//! Why the joint statement holds: each subtask claim "σ_a ≥ L_a" is made at error δ/k, where k
//! counts every claim made from the same evidence (all actions whose bounds the result uses,
//! and any other claim the caller derives from those campaigns). By the union bound, all k
//! claims hold together with probability ≥ 1 − δ, whatever the dependence between them. On
//! that event, p_a = L_a ≤ σ_a for every action, and the HLM reach probability is monotone in
//! every p_a (DESIGN §1 guarantee), so Pr(task) ≥ Π_route L_a, and for [`best_bound`] the
//! maximum over meta-policies is covered too: the route was chosen after looking at the data,
//! which is safe only because every action's claim is in the union. Hence
//! "Pr(goal) ≥ X with confidence ≥ 1 − δ".

use std::collections::BTreeSet;
use std::fmt;

use crate::error::RouteProblem;
use crate::{Error, Hlm, Sides, clopper_pearson, fisher_exact, split_confidence};

/// The outcome of a verification campaign of one subtask in one fidelity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubtaskEvidence {
    /// Independent trials run.
    pub trials: u64,
    /// Trials that succeeded (≤ `trials`).
    pub successes: u64,
}

impl SubtaskEvidence {
    /// The observed success rate; `None` for an empty campaign.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }
}

/// A certified lower bound on the probability of reaching a goal: "Pr(goal) ≥ `lower_bound`
/// with confidence ≥ `confidence`".
///
/// Why the joint statement holds: each subtask claim "σ_a ≥ L_a" is made at error δ/k, where
/// k counts every claim made from the same evidence. By the union (Bonferroni) bound all k
/// claims hold together with probability ≥ 1 − δ, whatever their dependence. On that event
/// L_a ≤ σ_a for every action used, and the HLM reach probability is monotone in every p_a,
/// so Pr(task) ≥ Π_route L_a. For [`best_bound`] the route is chosen after looking at the
/// data, which is safe only because every action's claim is inside the union.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposedBound {
    /// The goal state of the HLM.
    pub goal: usize,
    /// Actions (subtasks) from the start to the goal.
    pub route: Vec<usize>,
    /// Lower bound on Pr(reach goal) when following `route`.
    pub lower_bound: f64,
    /// Joint confidence 1 − δ of the statement.
    pub confidence: f64,
    /// Confidence of each subtask claim, 1 − δ/k.
    pub claim_confidence: f64,
    /// Each route action with its Clopper-Pearson lower bound, in route order.
    pub per_subtask: Vec<(usize, f64)>,
}

/// Rounds down to `decimals` places, so the printed claim is never stronger than the real one.
pub fn floor_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).floor() / scale
}

impl fmt::Display for ComposedBound {
    /// `Pr(goal) ≥ X with confidence ≥ C`: X and C rounded down to 4 places (both
    /// statements stay true after rounding down).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pr(goal) ≥ {:.4} with confidence ≥ {:.4}",
            floor_to(self.lower_bound, 4),
            floor_to(self.confidence, 4)
        )
    }
}

/// Checks the evidence: one entry per action, successes ≤ trials.
fn check_evidence(hlm: &Hlm, evidence: &[SubtaskEvidence]) -> Result<(), Error> {
    if evidence.len() != hlm.n_actions() {
        return Err(Error::LengthMismatch {
            field: "evidence",
            expected: hlm.n_actions(),
            got: evidence.len(),
        });
    }
    match evidence.iter().find(|e| e.successes > e.trials) {
        Some(e) => {
            Err(Error::SuccessesExceedTrials { field: "evidence", successes: e.successes, trials: e.trials })
        }
        None => Ok(()),
    }
}

/// Checks that `route` chains from the start to the goal of `hlm`.
fn check_route(hlm: &Hlm, route: &[usize]) -> Result<(), Error> {
    let mut at = hlm.start();
    for (index, &action) in route.iter().enumerate() {
        let &(from, to) = hlm
            .actions()
            .get(action)
            .ok_or(Error::BrokenRoute { index, problem: RouteProblem::UnknownAction { action } })?;
        if from != at {
            return Err(Error::BrokenRoute {
                index,
                problem: RouteProblem::NotAvailable { action, from, at },
            });
        }
        at = to;
    }
    if at != hlm.goal() {
        return Err(Error::BrokenRoute {
            index: route.len(),
            problem: RouteProblem::EndsOffGoal { at, goal: hlm.goal() },
        });
    }
    Ok(())
}

/// Per-action one-sided Clopper-Pearson lower bounds at `claim_confidence`.
fn lower_bounds(evidence: &[SubtaskEvidence], claim_confidence: f64) -> Result<Vec<f64>, Error> {
    evidence
        .iter()
        .map(|e| clopper_pearson(e.successes, e.trials, claim_confidence, Sides::Lower).map(|ci| ci.lower))
        .collect()
}

/// Checks `claims` against the number of claims the result relies on.
fn check_claims(claims: usize, used: usize) -> Result<(), Error> {
    if claims < used {
        // The union bound must cover every claim the result uses.
        return Err(Error::OutOfRange {
            field: "claims",
            range: "[number of subtask bounds used, ∞)",
            value: claims as f64,
        });
    }
    Ok(())
}

/// Lower bound on Pr(reach goal) along the deterministic `route` (action indices from the
/// start to the goal of `hlm`), from `evidence` (one campaign per action of `hlm`), with
/// error `delta` in (0, 1) split over `claims` claims: each route subtask's one-sided
/// Clopper-Pearson lower bound at confidence 1 − δ/claims, multiplied along the route.
///
/// `claims` must count every claim made from this evidence (at least the distinct subtasks
/// of the route; more when several routes or goals are certified from the same campaigns:
/// see the module docs). Errors on bad input and [`Error::BrokenRoute`].
pub fn route_bound(
    hlm: &Hlm,
    evidence: &[SubtaskEvidence],
    route: &[usize],
    delta: f64,
    claims: usize,
) -> Result<ComposedBound, Error> {
    check_evidence(hlm, evidence)?;
    check_route(hlm, route)?;
    check_claims(claims, route.iter().collect::<BTreeSet<_>>().len())?;
    let claim_confidence = 1.0 - split_confidence(delta, claims)?;
    let lower = lower_bounds(evidence, claim_confidence)?;
    let per_subtask: Vec<(usize, f64)> = route.iter().map(|&a| (a, lower[a])).collect();
    let lower_bound = per_subtask.iter().map(|&(_, l)| l).product();
    Ok(ComposedBound {
        goal: hlm.goal(),
        route: route.to_vec(),
        lower_bound,
        confidence: 1.0 - delta,
        claim_confidence,
        per_subtask,
    })
}

/// The best certified meta-policy: [`Hlm::max_reach`] with every p_a replaced by its lower
/// bound at confidence 1 − δ/claims, and the route it follows. `claims` must be at least the
/// number of actions of `hlm` (every action's bound takes part in the maximisation).
///
/// When no route has a positive bound (e.g. an action on every route has zero successes) the
/// result has an empty route and bound 0.
pub fn best_bound(
    hlm: &Hlm,
    evidence: &[SubtaskEvidence],
    delta: f64,
    claims: usize,
) -> Result<ComposedBound, Error> {
    check_evidence(hlm, evidence)?;
    check_claims(claims, hlm.n_actions())?;
    let claim_confidence = 1.0 - split_confidence(delta, claims)?;
    let lower = lower_bounds(evidence, claim_confidence)?;
    let (lower_bound, policy) = hlm.max_reach(&lower)?;
    let route = policy.route().to_vec();
    let per_subtask = route.iter().map(|&a| (a, lower[a])).collect();
    Ok(ComposedBound {
        goal: hlm.goal(),
        route,
        lower_bound,
        confidence: 1.0 - delta,
        claim_confidence,
        per_subtask,
    })
}

/// Result of [`fidelity_gap`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapVerdict {
    /// Low-fidelity success rate (0 for an empty campaign).
    pub low_rate: f64,
    /// High-fidelity success rate (0 for an empty campaign).
    pub high_rate: f64,
    /// Two-sided Fisher exact p-value that both campaigns share one success probability.
    pub p_value: f64,
    /// Whether the high-fidelity rate is lower and the difference significant at α.
    pub flagged: bool,
}

/// Whether a subtask does significantly worse in high fidelity than in low fidelity:
/// flagged when the high-fidelity rate is below the low-fidelity one and Fisher's exact test
/// rejects equal rates at `alpha` in (0, 1). Using the two-sided p-value for a one-sided
/// question makes the flag conservative (its false-alarm rate is at most α).
pub fn fidelity_gap(low: SubtaskEvidence, high: SubtaskEvidence, alpha: f64) -> Result<GapVerdict, Error> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::OutOfRange { field: "alpha", range: "(0, 1)", value: alpha });
    }
    let p_value = fisher_exact(low.successes, low.trials, high.successes, high.trials)?;
    let (low_rate, high_rate) = (low.rate().unwrap_or(0.0), high.rate().unwrap_or(0.0));
    // Compare counts exactly (cross-multiplied) rather than rounded rates.
    let worse = u128::from(high.successes) * u128::from(low.trials)
        < u128::from(low.successes) * u128::from(high.trials);
    Ok(GapVerdict { low_rate, high_rate, p_value, flagged: worse && p_value < alpha })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chain 0 → 1 → 2 → 3 (goal) with a shortcut action 3: 0 → 3.
    fn chain() -> Hlm {
        Hlm::new(4, 0, 3, vec![(0, 1), (1, 2), (2, 3), (0, 3)]).unwrap()
    }

    fn ev(successes: u64, trials: u64) -> SubtaskEvidence {
        SubtaskEvidence { trials, successes }
    }

    #[test]
    fn route_of_three_is_the_product_at_delta_over_three() {
        let hlm = chain();
        let evidence = [ev(300, 300), ev(300, 300), ev(300, 300), ev(0, 0)];
        let b = route_bound(&hlm, &evidence, &[0, 1, 2], 0.05, 3).unwrap();
        // 300 of 300 at error δ/3: the bound is (δ/3)^(1/300).
        let each = (0.05f64 / 3.0).powf(1.0 / 300.0);
        assert_eq!(b.per_subtask.len(), 3);
        for &(_, l) in &b.per_subtask {
            assert!((l - each).abs() < 1e-12, "{l} vs {each}");
        }
        assert!((b.lower_bound - each.powi(3)).abs() < 1e-12);
        assert!((b.claim_confidence - (1.0 - 0.05 / 3.0)).abs() < 1e-15);
        assert_eq!((b.goal, b.route.as_slice()), (3, [0, 1, 2].as_slice()));
        // ≈ 0.95987, printed rounded down.
        assert_eq!(b.to_string(), "Pr(goal) ≥ 0.9598 with confidence ≥ 0.9500");
    }

    #[test]
    fn more_claims_give_a_lower_bound() {
        let hlm = chain();
        let evidence = [ev(300, 300), ev(295, 300), ev(300, 300), ev(0, 0)];
        let three = route_bound(&hlm, &evidence, &[0, 1, 2], 0.05, 3).unwrap();
        let six = route_bound(&hlm, &evidence, &[0, 1, 2], 0.05, 6).unwrap();
        assert!(six.lower_bound < three.lower_bound);
        assert!(six.per_subtask.iter().zip(&three.per_subtask).all(|(s, t)| s.1 < t.1));
        // Fewer claims than subtasks used would void the union bound.
        assert!(matches!(
            route_bound(&hlm, &evidence, &[0, 1, 2], 0.05, 2),
            Err(Error::OutOfRange { field: "claims", .. })
        ));
    }

    #[test]
    fn best_bound_picks_the_best_certified_route() {
        let hlm = chain();
        // The shortcut has fewer, imperfect trials: its bound loses to the long route.
        let evidence = [ev(300, 300), ev(300, 300), ev(300, 300), ev(90, 100)];
        let best = best_bound(&hlm, &evidence, 0.05, 4).unwrap();
        assert_eq!(best.route, [0, 1, 2]);
        let along = route_bound(&hlm, &evidence, &[0, 1, 2], 0.05, 4).unwrap();
        assert!((best.lower_bound - along.lower_bound).abs() < 1e-15);
        // A perfect shortcut wins.
        let evidence = [ev(300, 300), ev(300, 300), ev(300, 300), ev(300, 300)];
        assert_eq!(best_bound(&hlm, &evidence, 0.05, 4).unwrap().route, [3]);
        // Every action's bound enters the maximum, so every action must be a claim.
        assert!(best_bound(&hlm, &evidence, 0.05, 3).is_err());
        // Nothing certified: bound 0, empty route.
        let none = best_bound(&hlm, &[ev(0, 10), ev(0, 0), ev(0, 0), ev(0, 0)], 0.05, 4).unwrap();
        assert_eq!((none.lower_bound, none.route.len()), (0.0, 0));
    }

    #[test]
    fn broken_routes_and_bad_evidence_are_refused() {
        let hlm = chain();
        let evidence = [ev(300, 300); 4];
        assert_eq!(
            route_bound(&hlm, &evidence, &[0, 2], 0.05, 4),
            Err(Error::BrokenRoute {
                index: 1,
                problem: RouteProblem::NotAvailable { action: 2, from: 2, at: 1 }
            })
        );
        assert_eq!(
            route_bound(&hlm, &evidence, &[0, 1], 0.05, 4),
            Err(Error::BrokenRoute { index: 2, problem: RouteProblem::EndsOffGoal { at: 2, goal: 3 } })
        );
        assert!(matches!(
            route_bound(&hlm, &evidence, &[9], 0.05, 4),
            Err(Error::BrokenRoute { index: 0, problem: RouteProblem::UnknownAction { action: 9 } })
        ));
        assert!(matches!(
            route_bound(&hlm, &evidence[..3], &[3], 0.05, 4),
            Err(Error::LengthMismatch { .. })
        ));
        let bad = [ev(301, 300), ev(1, 1), ev(1, 1), ev(1, 1)];
        assert!(matches!(route_bound(&hlm, &bad, &[3], 0.05, 4), Err(Error::SuccessesExceedTrials { .. })));
        assert!(matches!(route_bound(&hlm, &evidence, &[3], f64::NAN, 4), Err(Error::OutOfRange { .. })));
    }

    #[test]
    fn fidelity_gap_flags_only_a_significant_drop() {
        let gap = fidelity_gap(ev(95, 100), ev(60, 100), 0.05).unwrap();
        assert!(gap.flagged && gap.p_value < 1e-6, "{gap:?}");
        assert_eq!((gap.low_rate, gap.high_rate), (0.95, 0.6));
        let close = fidelity_gap(ev(95, 100), ev(93, 100), 0.05).unwrap();
        assert!(!close.flagged && close.p_value > 0.5, "{close:?}");
        // Doing better in high fidelity is never flagged.
        assert!(!fidelity_gap(ev(60, 100), ev(95, 100), 0.05).unwrap().flagged);
        assert!(fidelity_gap(ev(95, 100), ev(60, 100), 0.0).is_err());
    }
}
