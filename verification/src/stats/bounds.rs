//! Confidence bounds on a success probability from Bernoulli trials, campaign sizes, and the
//! Bonferroni split of an error budget.

use super::special::{inv_reg_inc_beta_bracket, normal_quantile, reg_inc_beta};
use crate::Error;

/// A confidence interval [lower, upper] on a probability; a one-sided bound leaves the other
/// end at 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    /// Lower end, in [0, 1].
    pub lower: f64,
    /// Upper end, in [lower, 1].
    pub upper: f64,
}

/// Which ends of a [`ConfidenceInterval`] carry the error probability α = 1 − confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// Only a lower bound (all of α below; upper = 1). What a certificate uses.
    Lower,
    /// Only an upper bound (all of α above; lower = 0).
    Upper,
    /// Both ends, α/2 each.
    Two,
}

/// Largest campaign the sample-size searches consider.
pub const MAX_CAMPAIGN_TRIALS: u64 = 10_000_000;

/// Checks 0 < value < 1 (NaN fails).
pub(crate) fn open_unit(field: &'static str, value: f64) -> Result<f64, Error> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(Error::OutOfRange { field, range: "(0, 1)", value })
    }
}

fn check_counts(successes: u64, trials: u64) -> Result<(), Error> {
    if successes > trials {
        return Err(Error::SuccessesExceedTrials { field: "successes", successes, trials });
    }
    Ok(())
}

/// One-sided Clopper-Pearson lower bound at error α, conservative in floating point (the
/// returned value x has I_x(s, n − s + 1) ≤ α as computed). Inputs already validated.
pub(crate) fn cp_lower(successes: u64, trials: u64, alpha: f64) -> f64 {
    if successes == 0 {
        return 0.0;
    }
    if successes == trials {
        // Closed form of the Beta(n, 1) quantile.
        return alpha.powf(1.0 / trials as f64);
    }
    inv_reg_inc_beta_bracket(alpha, successes as f64, (trials - successes + 1) as f64).0
}

/// One-sided Clopper-Pearson upper bound at error α, conservative in floating point.
pub(crate) fn cp_upper(successes: u64, trials: u64, alpha: f64) -> f64 {
    if successes == trials {
        return 1.0;
    }
    if successes == 0 {
        return 1.0 - alpha.powf(1.0 / trials as f64);
    }
    inv_reg_inc_beta_bracket(1.0 - alpha, (successes + 1) as f64, (trials - successes) as f64).1
}

/// Exact (Clopper-Pearson) confidence interval on a success probability σ from `successes`
/// out of `trials` independent Bernoulli(σ) trials, at `confidence` = 1 − α in (0, 1).
///
/// Guarantee: for every σ, P(σ < lower) ≤ α for [`Sides::Lower`], P(σ > upper) ≤ α for
/// [`Sides::Upper`], and P(σ ∉ [lower, upper]) ≤ α for [`Sides::Two`] (α/2 each side). The
/// bounds are the Beta quantiles B(α; s, n − s + 1) and B(1 − α; s + 1, n − s), with
/// lower = 0 at s = 0 and upper = 1 at s = n; they are rounded outwards in floating point.
/// Zero trials give [0, 1].
pub fn clopper_pearson(
    successes: u64,
    trials: u64,
    confidence: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, Error> {
    let alpha = 1.0 - open_unit("confidence", confidence)?;
    check_counts(successes, trials)?;
    if trials == 0 {
        return Ok(ConfidenceInterval { lower: 0.0, upper: 1.0 });
    }
    Ok(match sides {
        Sides::Lower => ConfidenceInterval { lower: cp_lower(successes, trials, alpha), upper: 1.0 },
        Sides::Upper => ConfidenceInterval { lower: 0.0, upper: cp_upper(successes, trials, alpha) },
        Sides::Two => ConfidenceInterval {
            lower: cp_lower(successes, trials, 0.5 * alpha),
            upper: cp_upper(successes, trials, 0.5 * alpha),
        },
    })
}

/// Wilson score interval at `confidence` = 1 − α in (0, 1): the normal-approximation
/// interval inverted at the score test. Approximate: its coverage is near 1 − α on average
/// but can fall below it for some σ and n, so it is for reports and plots, never for
/// certificates (use [`clopper_pearson`]). Zero trials give [0, 1].
pub fn wilson(
    successes: u64,
    trials: u64,
    confidence: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, Error> {
    let alpha = 1.0 - open_unit("confidence", confidence)?;
    check_counts(successes, trials)?;
    if trials == 0 {
        return Ok(ConfidenceInterval { lower: 0.0, upper: 1.0 });
    }
    let z = match sides {
        Sides::Two => normal_quantile(1.0 - 0.5 * alpha),
        Sides::Lower | Sides::Upper => normal_quantile(1.0 - alpha),
    };
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2n = z * z / n;
    let centre = (p + 0.5 * z2n) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / n + 0.25 * z2n / n).sqrt();
    // At s = 0 and s = n the ends are exactly 0 and 1; rounding could leave them off by an ulp.
    let lo = if successes == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if successes == trials { 1.0 } else { (centre + half).min(1.0) };
    Ok(match sides {
        Sides::Two => ConfidenceInterval { lower: lo, upper: hi },
        Sides::Lower => ConfidenceInterval { lower: lo, upper: 1.0 },
        Sides::Upper => ConfidenceInterval { lower: 0.0, upper: hi },
    })
}

/// Zero-failure campaign size: the smallest n such that n successes out of n give a one-sided
/// Clopper-Pearson lower bound ≥ `p_required` at `confidence`, i.e. α^(1/n) ≥ p_required,
/// n = ⌈ln α / ln p_required⌉. Promise: if all n trials succeed, "σ ≥ p_required" holds with
/// confidence `confidence`; a single failure voids it (see [`trials_needed_with_failures`]).
/// Both arguments in (0, 1).
pub fn trials_needed(p_required: f64, confidence: f64) -> Result<u64, Error> {
    let p = open_unit("p_required", p_required)?;
    let alpha = 1.0 - open_unit("confidence", confidence)?;
    let mut n = (alpha.ln() / p.ln()).ceil().max(1.0) as u64;
    // The ratio of logs may round across an integer; settle n on the bound itself.
    while cp_lower(n, n, alpha) < p {
        n += 1;
    }
    while n > 1 && cp_lower(n - 1, n - 1, alpha) >= p {
        n -= 1;
    }
    Ok(n)
}

/// Hoeffding campaign size n = ⌈ln(1/δ) / (2ε²)⌉: with n trials the empirical rate exceeds σ
/// by ε or more with probability ≤ δ (one-sided; use δ/2 for a two-sided ±ε promise). A
/// distribution-free reference; Clopper-Pearson sizes are smaller. ε and δ in (0, 1).
pub fn hoeffding_trials(epsilon: f64, delta: f64) -> Result<u64, Error> {
    let eps = open_unit("epsilon", epsilon)?;
    let delta = open_unit("delta", delta)?;
    Ok(((1.0 / delta).ln() / (2.0 * eps * eps)).ceil() as u64)
}

/// Campaign size that tolerates failures: the smallest n such that ⌊assumed_p · n⌋ successes
/// out of n give a one-sided Clopper-Pearson lower bound ≥ `p_required` at `confidence`.
///
/// Promise: if the subtask performs at `assumed_p` and the campaign observes at least the
/// expected (rounded down) successes, the bound certifies `p_required`. It is a planning
/// figure, not a power guarantee: a campaign at exactly `assumed_p` falls short of its mean
/// about half the time. Needs p_required < assumed_p < 1; searched upwards from
/// [`trials_needed`] (one incomplete-beta evaluation per candidate n, so the cost grows with
/// the answer as assumed_p approaches p_required) up to [`MAX_CAMPAIGN_TRIALS`] (error beyond).
pub fn trials_needed_with_failures(p_required: f64, confidence: f64, assumed_p: f64) -> Result<u64, Error> {
    let p = open_unit("p_required", p_required)?;
    let alpha = 1.0 - open_unit("confidence", confidence)?;
    if !(assumed_p > p && assumed_p < 1.0) {
        return Err(Error::OutOfRange { field: "assumed_p", range: "(p_required, 1)", value: assumed_p });
    }
    // A campaign with failures needs at least the zero-failure size.
    let mut n = trials_needed(p, confidence)?;
    while n <= MAX_CAMPAIGN_TRIALS {
        let s = (assumed_p * n as f64).floor() as u64;
        // lower bound ≥ p  ⇔  P_p(X ≥ s) ≤ α (the tail grows with p). Cheaper than inverting.
        if s == n || (s > 0 && reg_inc_beta(p, s as f64, (n - s + 1) as f64) <= alpha) {
            return Ok(n);
        }
        n += 1;
    }
    Err(Error::TrialLimit { field: "trials_needed_with_failures", limit: MAX_CAMPAIGN_TRIALS })
}

/// Bonferroni split: the per-claim error probability δ / claims, so that `claims` statements
/// each made at that error hold together with probability ≥ 1 − δ (any dependence between
/// them). δ in (0, 1), claims ≥ 1.
pub fn split_confidence(delta: f64, claims: usize) -> Result<f64, Error> {
    let delta = open_unit("delta", delta)?;
    if claims == 0 {
        return Err(Error::OutOfRange { field: "claims", range: "[1, ∞)", value: 0.0 });
    }
    Ok(delta / claims as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(X ≥ k) for X ~ Bin(n, p), summed term by term (no special functions).
    fn upper_tail(n: u64, k: u64, p: f64) -> f64 {
        // Log-space terms so neither p^n nor (1 − p)^n underflows for large n.
        let mut ln_choose = 0.0;
        let mut tail = 0.0;
        for j in 0..=n {
            if j > 0 {
                ln_choose += ((n - j + 1) as f64 / j as f64).ln();
            }
            if j >= k {
                tail += (ln_choose + j as f64 * p.ln() + (n - j) as f64 * (-p).ln_1p()).exp();
            }
        }
        tail
    }

    /// Brute-force lower bound: bisection on p for P_p(X ≥ s) = α.
    fn brute_lower(s: u64, n: u64, alpha: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, 1.0 - 1e-15);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if upper_tail(n, s, mid) < alpha { lo = mid } else { hi = mid }
        }
        lo
    }

    proptest::proptest! {
        #[test]
        fn clopper_pearson_is_ordered_and_monotone(n in 1_u64..400, frac in 0.0_f64..=1.0, conf in 0.5_f64..0.999) {
            let s = ((n as f64) * frac).floor() as u64;
            let two = clopper_pearson(s, n, conf, Sides::Two).unwrap();
            let rate = s as f64 / n as f64;
            proptest::prop_assert!(two.lower <= rate && rate <= two.upper);
            // A one-sided bound spends all of α on its side, so it is tighter.
            let lower = clopper_pearson(s, n, conf, Sides::Lower).unwrap().lower;
            let upper = clopper_pearson(s, n, conf, Sides::Upper).unwrap().upper;
            proptest::prop_assert!(lower >= two.lower && upper <= two.upper);
            // One more success never lowers the bound; wider confidence never narrows it.
            if s < n {
                proptest::prop_assert!(clopper_pearson(s + 1, n, conf, Sides::Lower).unwrap().lower >= lower);
            }
            let wider = clopper_pearson(s, n, 1.0 - 0.5 * (1.0 - conf), Sides::Lower).unwrap().lower;
            proptest::prop_assert!(wider <= lower);
        }
    }

    fn cp2(s: u64, n: u64) -> ConfidenceInterval {
        clopper_pearson(s, n, 0.95, Sides::Two).unwrap()
    }

    #[test]
    fn clopper_pearson_published_values() {
        let i = cp2(100, 100);
        assert_eq!(format!("{:.4}", i.lower), "0.9638");
        assert_eq!(i.upper, 1.0);
        assert!((i.lower - 0.025_f64.powf(0.01)).abs() < 1e-15);
        let i = cp2(5, 10);
        assert_eq!(
            (format!("{:.4}", i.lower), format!("{:.4}", i.upper)),
            ("0.1871".into(), "0.8129".into())
        );
        let i = cp2(0, 10);
        assert_eq!(i.lower, 0.0);
        assert_eq!(format!("{:.4}", i.upper), "0.3085");
        let one = clopper_pearson(100, 100, 0.95, Sides::Lower).unwrap();
        assert!((one.lower - 0.05_f64.powf(0.01)).abs() < 1e-15);
        // 0.8977 (0.89775 by exact rational tail sums); a commonly quoted 0.8971 is wrong.
        let l = clopper_pearson(95, 100, 0.95, Sides::Lower).unwrap().lower;
        assert_eq!(format!("{l:.4}"), "0.8977");
        assert!((l - brute_lower(95, 100, 1.0 - 0.95)).abs() < 1e-9);
    }

    #[test]
    fn clopper_pearson_matches_brute_force_tails() {
        for &n in &[1_u64, 2, 7, 30, 100, 250] {
            for s in 0..=n {
                for &alpha in &[0.05, 0.01, 0.001] {
                    let lo = clopper_pearson(s, n, 1.0 - alpha, Sides::Lower).unwrap().lower;
                    let want = if s == 0 { 0.0 } else { brute_lower(s, n, alpha) };
                    assert!((lo - want).abs() < 1e-9, "s {s} n {n} α {alpha}: {lo} vs {want}");
                    // Upper bound by symmetry: failures are successes of 1 − σ.
                    let up = clopper_pearson(s, n, 1.0 - alpha, Sides::Upper).unwrap().upper;
                    let want_up = if s == n { 1.0 } else { 1.0 - brute_lower(n - s, n, alpha) };
                    assert!((up - want_up).abs() < 1e-9, "s {s} n {n} α {alpha}: {up} vs {want_up}");
                    // Conservative rounding: the tail at the bound is at most α.
                    if s > 0 && s < n {
                        let alpha_used = 1.0 - (1.0 - alpha);
                        assert!(reg_inc_beta(lo, s as f64, (n - s + 1) as f64) <= alpha_used);
                    }
                }
            }
        }
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(matches!(
            clopper_pearson(11, 10, 0.95, Sides::Two),
            Err(Error::SuccessesExceedTrials { .. })
        ));
        for c in [0.0, 1.0, f64::NAN, -0.5] {
            assert!(matches!(clopper_pearson(1, 10, c, Sides::Two), Err(Error::OutOfRange { .. })));
            assert!(wilson(1, 10, c, Sides::Two).is_err());
            assert!(trials_needed(0.9, c).is_err());
        }
        assert_eq!(
            clopper_pearson(0, 0, 0.9, Sides::Two).unwrap(),
            ConfidenceInterval { lower: 0.0, upper: 1.0 }
        );
        assert!(trials_needed(1.0, 0.95).is_err());
        assert!(trials_needed_with_failures(0.9, 0.95, 0.9).is_err());
        assert!(split_confidence(0.05, 0).is_err());
    }

    #[test]
    fn wilson_known_values() {
        let w = wilson(5, 10, 0.95, Sides::Two).unwrap();
        assert_eq!(
            (format!("{:.4}", w.lower), format!("{:.4}", w.upper)),
            ("0.2366".into(), "0.7634".into())
        );
        let w = wilson(0, 20, 0.95, Sides::Two).unwrap();
        assert_eq!(w.lower, 0.0);
        assert_eq!(format!("{:.4}", w.upper), "0.1611");
        // Wilson is narrower than the exact interval for mid-range rates.
        let cp = cp2(30, 60);
        let w = wilson(30, 60, 0.95, Sides::Two).unwrap();
        assert!(w.lower > cp.lower && w.upper < cp.upper);
    }

    #[test]
    fn sample_sizes() {
        // ln 0.05 / ln 0.95 = 58.4 → 59; ln 0.05 / ln 0.9 = 28.4 → 29.
        assert_eq!(trials_needed(0.95, 0.95).unwrap(), 59);
        assert_eq!(trials_needed(0.9, 0.95).unwrap(), 29);
        for &(p, c) in &[(0.9, 0.95), (0.99, 0.999), (0.5, 0.5), (0.999, 0.99)] {
            let n = trials_needed(p, c).unwrap();
            assert!(clopper_pearson(n, n, c, Sides::Lower).unwrap().lower >= p);
            assert!(clopper_pearson(n - 1, n - 1, c, Sides::Lower).unwrap().lower < p);
        }
        assert_eq!(hoeffding_trials(0.05, 0.05).unwrap(), 600); // ln 20 / 0.005 = 599.1
        let n = trials_needed_with_failures(0.9, 0.95, 0.95).unwrap();
        let lb = |n: u64| {
            let s = (0.95 * n as f64).floor() as u64;
            clopper_pearson(s, n, 0.95, Sides::Lower).unwrap().lower
        };
        assert!(lb(n) >= 0.9);
        for m in 29..n {
            assert!(lb(m) < 0.9, "n {m} would already do");
        }
        assert!(n > trials_needed(0.9, 0.95).unwrap());
        assert!((split_confidence(0.05, 4).unwrap() - 0.0125).abs() < 1e-18);
    }
}
